/* Internal interfaces of the access sources: hardware watchpoints and annotations. */
#ifndef LW_WATCH_H
#define LW_WATCH_H

#include <stdint.h>
#include <stdbool.h>
#include "lw_trace_format.h"
#include "core/defs.h"
#include "core/threads.h"

/* x86-64 has four debug registers: at most four variables can be watched at once. */
#define LW_WATCH_MAX   4
#define LW_WATCH_NAME  128
/* sig_data of our events: a tag in the high bits, the watch index in the low ones, so a
 * program's own perf events with sigtrap are told apart from ours. */
#define LW_WATCH_TAG   0x4c57574100000000ull   /* "LWWA" */

/* One watched variable.  Filled in by lw_watch_arm before any thread but the main one
 * exists; read-only afterwards except for last_value (atomic), so the SIGTRAP handler may
 * read it without a lock. */
struct lw_watch {
	char name[LW_WATCH_NAME];    /* as the user wrote it */
	uintptr_t addr;              /* first watched byte */
	uint32_t len;                /* 1, 2, 4 or 8: what the debug register covers */
	uint32_t var_size;           /* the symbol's size (0 for 0xADDR:SIZE: SIZE) */
	int fd;                      /* the perf event, -1 when not armed */
	int armed;
	uint64_t last_value;         /* atomic: the value after the last hit, in any thread */
};

LW_HIDDEN extern struct lw_watch lw_watches[LW_WATCH_MAX];
LW_HIDDEN extern int lw_n_watches;           /* entries of lw_watches in use */

/* Resolves name (a variable) in the ELF symbol tables (.symtab, then .dynsym) of every
 * loaded object, the program first.  Returns 0 and fills *addr, *size and module (the
 * file's path, truncated to module_len) on success; -ENOENT when no object defines a data
 * symbol of that name; -EINVAL when the name is a thread-local variable. */
LW_HIDDEN int lw_symbol_lookup(const char *name, uintptr_t *addr, uint64_t *size,
			       char *module, size_t module_len);

/* Returns true when a loaded object other than the shim refers to the lockwatch.h
 * annotation functions (their names are in its dynamic string table). */
LW_HIDDEN bool lw_annotations_referenced(void);

/* How one trapped instruction touched the watched bytes: LW_ACCESS_* flags, or 0 when the
 * instruction could not be decoded with confidence.  pc is the address just after the
 * instruction (where a data breakpoint leaves the thread); gregs are the thread's
 * registers after it ran (ucontext_t's gregs); [lo, hi) are the watched bytes.  When
 * decoded, [*at, *at + *len) are the watched bytes the instruction touched (issue 21: two
 * threads writing two different bytes of a watched word are no race). */
LW_HIDDEN unsigned lw_decode_access(uintptr_t pc, const long long *gregs, uintptr_t lo,
				    uintptr_t hi, uintptr_t *at, unsigned *len);
/* Tells the decoder where code may be read: [lo, hi) of every executable segment. */
LW_HIDDEN void lw_decode_add_text(uintptr_t lo, uintptr_t hi);

/* Reads the watched bytes of w through the kernel (a plain load would trap again).
 * Returns true and the value, zero-extended; false when it cannot be read. */
LW_HIDDEN bool lw_watch_read(const struct lw_watch *w, uint64_t *value);

/* Installs the SIGTRAP handler (once).  Returns 0 or a negative errno. */
LW_HIDDEN int lw_trap_install(void);

/* Returns the stack id for an access at pc by the calling thread (thread cache, then the
 * process-wide site table).  The caller holds lw_guard. */
LW_HIDDEN uint32_t lw_access_stack(struct lw_thread *t, uintptr_t pc);

/* Whether a loaded object calls the compiler hooks; after the options, in lw_access_configure. */
LW_HIDDEN bool lw_hooks_referenced(void);
/* Adds the value of a watch= option (names or 0xADDR:SIZE, comma-separated). */
LW_HIDDEN void lw_watch_set_spec(const char *val);
/* After the options: forces the full level when a watch is asked for or a loaded object
 * uses the lockwatch.h annotations. */
LW_HIDDEN void lw_access_configure(void);
/* With the trace open, in the only thread: resolves and arms the watchpoints, writes their
 * WATCH records; says on stderr what it could not watch.  Never fails. */
LW_HIDDEN void lw_watch_arm(void);
/* In a fork() child with its own trace: writes the WATCH records again. */
LW_HIDDEN void lw_watch_after_fork(void);

#endif
