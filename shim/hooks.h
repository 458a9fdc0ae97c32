/* The compiler hooks' way into the shim's access filter (hooks.c), for the hook interfaces
 * defined outside hooks.c (hooks_tsan.c: ThreadSanitizer's). */
#ifndef LW_HOOKS_H
#define LW_HOOKS_H

#include <stdbool.h>
#include <stdint.h>
#include "lw_shim.h"

/* A plain access of size bytes at addr (LW_ACCESS_READ or LW_ACCESS_WRITE) by the code at pc:
 * the hooks' inline fast path, then the filter.  Records nothing before the shim is ready or
 * inside the shim; can't fail; leaves errno as it found it. */
LW_HIDDEN void lw_hook_access(uintptr_t addr, unsigned size, unsigned flags, uintptr_t pc);

/* An atomic access (flags with LW_ACCESS_ATOMIC): straight to the filter, as the
 * __lockwatch_cov_atomic_* hooks do.  Same guarantees. */
LW_HIDDEN void lw_hook_atomic(uintptr_t addr, unsigned size, unsigned flags, uintptr_t pc);

/* Whether ThreadSanitizer's own runtime is loaded (its __tsan_* entry points and ours cannot
 * both serve the program). */
LW_HIDDEN bool lw_tsan_runtime_loaded(void);

#endif
