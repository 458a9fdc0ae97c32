/* Names a byte inside a global variable after its DWARF type (data_members.c). */
#ifndef LW_DATA_MEMBERS_H
#define LW_DATA_MEMBERS_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A module's variables with static addresses and their types. */
struct lw_data_members;

/* Indexes mod's variables (a walk of its DWARF, so only when a name is needed).  Never
 * fails: without DWARF (or mod NULL) the index is empty and names nothing. */
struct lw_data_members *lw_data_members_new(Dwfl_Module *mod);
void lw_data_members_free(struct lw_data_members *dm);

/* The path from the variable at var_addr (in the module's placed addresses) to the byte off
 * bytes into it, into buf: ".values[5]" for a member's element, "[1].lock", ".x+2" inside a
 * scalar member.  Returns false, buf unspecified, when the module has no type for a
 * variable there, when the type says nothing of that byte, or when buf is too small. */
bool lw_data_member(struct lw_data_members *dm, uint64_t var_addr, uint64_t off, char *buf,
		    size_t len);
/* The name of the static variable of a function at var_addr, "func::name", into buf (the
 * symbol table calls it "name.0").  Returns false, buf unspecified, when the variable there
 * is not a function's static (or has no DWARF), or when buf is too small. */
/* Whether the byte off bytes into the variable at var_addr belongs to an atomic object
 * (C11 _Atomic, C++ std::atomic): then every access the language makes to it is an atomic
 * operation, whatever instruction x86 compiles it to.  UNKNOWN without DWARF for it. */
enum lw_data_atomicity { LW_DATA_ATOMIC_UNKNOWN, LW_DATA_NOT_ATOMIC, LW_DATA_ATOMIC };
enum lw_data_atomicity lw_data_atomic(struct lw_data_members *dm, uint64_t var_addr,
				      uint64_t off);
/* Whether any variable with a static address in the module holds an atomic object (in
 * itself, a member or an element); its name into buf.  Issue 20: such a variable may order
 * accesses when automatic watching did not watch it. */
bool lw_data_any_atomic(struct lw_data_members *dm, char *name, size_t len);
bool lw_data_static_name(struct lw_data_members *dm, uint64_t var_addr, char *buf, size_t len);

#endif
