/* Turning addresses from a trace into functions, source lines and data symbol names. */
#ifndef LW_SYMBOLIZE_H
#define LW_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "trace/data_members.h"

struct lw_module;
struct lw_symbolizer;

/* A resolved code address.  Strings belong to the symbolizer; NULL when unknown. */
struct lw_sym_frame {
	uint64_t    pc;              /* as recorded */
	const char *function;        /* symbol name */
	const char *file;            /* source file */
	int         line;            /* 0 when unknown */
	const char *module;          /* basename of the module's path */
	uint64_t    module_offset;   /* pc - module base (when module != NULL) */
};

/* Makes a symbolizer for a process's module map (copied).  Never NULL; modules whose file is
 * missing or whose build-id differs from the trace's are known by name only. */
struct lw_symbolizer *lw_symbolizer_new(const struct lw_module *mods, size_t n);
void lw_symbolizer_free(struct lw_symbolizer *s);

/* Resolves a code address.  A return address (every stack frame) is looked up at pc - 1; a
 * function address (a thread's start routine) at pc.  Results are cached per pc.  Cannot fail:
 * what is unknown is left NULL. */
void lw_symbolize_pc(struct lw_symbolizer *s, uint64_t pc, bool return_address,
		     struct lw_sym_frame *out);

/* Names a data address after the ELF object symbol containing it ("lock_a", "accounts+64").
 * Returns true and fills buf, or false when no trusted symbol contains addr.  If symbol and
 * module are not NULL they receive the bare symbol and the module path (owned by s). */
bool lw_symbolize_data(struct lw_symbolizer *s, uint64_t addr, char *buf, size_t len,
		       const char **symbol, const char **module);
/* The same; with element0, the start of an array is named as its element 0 ("L[0]", as the
 * next is "L[1]": a lock in an array of locks), not after the array. */
bool lw_symbolize_data_ex(struct lw_symbolizer *s, uint64_t addr, bool element0, char *buf,
			  size_t len, const char **symbol, const char **module);

/* Whether addr lies in an atomic object (C11 _Atomic, C++ std::atomic) of a global's DWARF
 * type: LW_DATA_ATOMIC_UNKNOWN for memory no symbol with a type covers (the heap, a stack). */
enum lw_data_atomicity lw_symbolize_data_atomic(struct lw_symbolizer *s, uint64_t addr);

/* Whether the module holding addr has a global holding an atomic object (its name into
 * name). */
bool lw_symbolize_module_atomic(struct lw_symbolizer *s, uint64_t addr, char *name, size_t len);

/* True if the frame lies in libc's or libpthread's pthread_/sem_ functions. */
bool lw_frame_is_libc_sync(const struct lw_sym_frame *f);

#endif
