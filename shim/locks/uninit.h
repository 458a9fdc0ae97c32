/* Objects used but never initialised, and inits the implementation refused (uninit.c). */
#ifndef LW_LOCKS_UNINIT_H
#define LW_LOCKS_UNINIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/defs.h"
#include "locks/locks.h"

struct lw_thread;

/* What a NOT_INITIALISED misuse's value says the program did. */
#define LW_UNINIT_WAIT    1
#define LW_UNINIT_POST    2
#define LW_UNINIT_DESTROY 3

/* An init the implementation refused with EINVAL (arg: the count or value passed): writes
 * the warning, and remembers where, for a later use of the object. */
LW_HIDDEN void lw_init_refused(struct lw_thread *t, const void *addr, uint16_t kind, uint64_t arg,
			       uintptr_t site);
/* A successful init at addr: a refused one there is forgotten. */
LW_HIDDEN void lw_init_accepted(const void *addr);
/* A successful init went by that the shim could not record: from now on an object the shim
 * does not know may be one of its, and is never called uninitialised. */
LW_HIDDEN void lw_init_unrecorded(void);
/* The object at addr, of which the shim knows no init, is used (op: LW_UNINIT_*): writes a
 * NOT_INITIALISED misuse when its init was refused, or when the shim is sure no init
 * happened (every init since the process began went through it, and the memory is not
 * shared with another process).  Registers the object, so that it is said once.  Returns
 * whether it wrote the misuse. */
LW_HIDDEN bool lw_uninit_report(struct lw_thread *t, const void *addr, uint16_t kind, uint64_t op,
				uintptr_t site);
/* A semaphore is waited on or posted (op); the caller has entered the shim (t).  Cheap when
 * the semaphore is known. */
LW_HIDDEN void lw_sem_used_slow(struct lw_thread *t, const void *s, uint64_t op, uintptr_t site);
static inline void lw_sem_used(struct lw_thread *t, const void *s, uint64_t op, uintptr_t site)
{
	struct lw_lock *tab = lw_lock_table;
	if (LW_LIKELY(tab != NULL && __atomic_load_n(&tab[slot_of((uintptr_t)s)].addr,
						     __ATOMIC_RELAXED) == (uintptr_t)s))
		return;
	lw_sem_used_slow(t, s, op, site);
}

#endif
