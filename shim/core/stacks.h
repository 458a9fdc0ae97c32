/* Stacks and the module map (stacks.c), and the fork handlers of both. */
#ifndef LW_CORE_STACKS_H
#define LW_CORE_STACKS_H

#include <link.h>
#include <stdint.h>

#include "core/defs.h"

/* Returns the stack id for a call site (the return address into the program), capturing the
 * stack the first time the site is seen.  Returns 0 when no stack can be had. */
LW_HIDDEN uint32_t lw_site_stack(uintptr_t site);
/* Captures the current stack unconditionally; returns its id or 0. */
LW_HIDDEN uint32_t lw_stack_capture(void);
LW_HIDDEN void lw_modules_init(void);
/* The addresses a loaded object's PT_LOAD segments span, [*lo, *hi); *hi is 0 when it has
 * none.  For dl_iterate_phdr callbacks. */
LW_HIDDEN void lw_module_extent(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);
LW_HIDDEN void lw_stacks_reset_after_fork(void);
LW_HIDDEN void lw_fork_prepare(void);
LW_HIDDEN void lw_fork_parent(void);
LW_HIDDEN void lw_fork_child(void);

#endif
