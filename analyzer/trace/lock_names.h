/* Naming locks for reports and grouping them into lock classes. */
#ifndef LW_LOCK_NAMES_H
#define LW_LOCK_NAMES_H

#include <stdbool.h>

#include "trace/model.h"
#include "trace/symbolize.h"

/* Gives every lock a name and a class (lw_lock.name, .global, .cls; lw_model.classes).
 * Globals are named by their ELF symbol ("lock_a", "accounts+64") and classed by symbol;
 * other locks are named and classed by their init site, or first-use site for statically
 * initialised ones.  Cannot fail. */
void lw_name_locks(struct lw_model *m);

/* Resolves the first frame of a stack that is not inside libc's pthread functions.
 * Returns false if the stack is unknown or empty. */
bool lw_stack_site(struct lw_model *m, uint32_t proc, uint32_t stack_id, struct lw_sym_frame *out);

/* Formats a frame as "func (file:line)", "func (module+0xoff)", "module+0xoff" or "0xpc". */
void lw_frame_format(const struct lw_sym_frame *f, char *buf, size_t len);

#endif
