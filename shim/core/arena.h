/* Memory without malloc, and the spin flag of the shim's rare slow paths (arena.c). */
#ifndef LW_CORE_ARENA_H
#define LW_CORE_ARENA_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/defs.h"

/* Returns zeroed memory from mmap, or NULL.  Never freed. */
LW_HIDDEN void *lw_arena_alloc(size_t size);
LW_HIDDEN void *lw_map_anon(size_t size);

/* A spin flag for the shim's rare slow paths; never held across a real blocking call. */
typedef struct { int v; } lw_spin_t;
LW_HIDDEN void lw_spin_lock(lw_spin_t *s);
LW_HIDDEN bool lw_spin_trylock(lw_spin_t *s);
LW_HIDDEN void lw_spin_unlock(lw_spin_t *s);

/* Step `spins` (from 0) of a busy wait for another thread that is a few instructions from
 * done: a pause, then, past 64 steps (it was preempted there), the CPU given up. */
static inline void lw_spin_wait(unsigned spins)
{
	if (spins > 64)
		sched_yield();
	else
		__builtin_ia32_pause();
}

#endif
