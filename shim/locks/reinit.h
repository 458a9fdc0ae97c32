/* An init of a lock that is initialised, not destroyed, and not in use (reinit.c, issue 22). */
#ifndef LW_LOCKS_REINIT_H
#define LW_LOCKS_REINIT_H

#include <stdint.h>

#include "core/defs.h"

struct lw_thread;

/* The frame the calling wrapper was called from (its caller's stack pointer at the call):
 * evaluated in the exported wrapper itself. */
#define LW_CFA() ((uintptr_t)__builtin_dwarf_cfa())

/* Before the real *_init of the lock at addr: writes LW_MISUSE_REINIT_LIVE when its current
 * generation was started by an init call and is neither destroyed nor in use, and either the
 * lock lives in the executable's image (its storage never ends) or both inits come from one
 * frame (same thread, same caller frame, another call site: a stack lock whose frame did not
 * end between them).  A condvar's init while a thread waits on it is LW_MISUSE_REINIT_WAITED
 * (pthread's mutexes, rwlocks and spinlocks are checked for that in acquire.c). */
LW_HIDDEN void lw_reinit_check(struct lw_thread *t, const void *addr, uint16_t kind,
			       uintptr_t site, uintptr_t cfa);
/* After a successful init: remembers where it was called from (lossy: a table of slots). */
LW_HIDDEN void lw_reinit_noted(struct lw_thread *t, const void *addr, uintptr_t site,
			       uintptr_t cfa);

#endif
