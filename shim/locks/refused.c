/* Calls whose object or argument the implementation cannot take (issue 22).  The program's
 * call goes through unchanged; the shim only writes what it saw. */
#include <errno.h>

#include "locks/refused.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/locks.h"
#include "locks/misuse.h"

void lw_call_misuse(uint16_t what, uint16_t kind, const void *addr, uint64_t value,
		    uintptr_t site)
{
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		const struct lw_lock *l = lw_lock_find((uintptr_t)addr);
		bool live = l && !(__atomic_load_n(&l->flags, __ATOMIC_ACQUIRE) & LW_LOCKF_DESTROYED);
		/* glibc's destroy leaves the mutex's kind invalid on purpose: a lock of a mutex
		 * the shim saw destroyed is a use after destroy. */
		if (what == LW_MISUSE_NOT_AN_OBJECT && l && !live)
			what = LW_MISUSE_USE_AFTER_DESTROY;
		lw_misuse(t, what, kind, (uintptr_t)addr, live ? l->gen : 0, lw_site_stack(site), 0,
			  live ? l->init_stack : 0, value);
		lw_leave();
	}
	errno = saved;
}
