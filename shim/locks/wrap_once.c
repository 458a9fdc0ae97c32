/* pthread_once: its init routine happens before every return from pthread_once on the same
 * control, in every thread (issue 20: automatic watching sees a table the routine fills and
 * the threads that read it afterwards; without this order they would seem to race).  In the
 * ordered trace the routine's end is a release on the control (LW_SYNC_SEM_POST) and each
 * return an acquisition of it (LW_SYNC_COND_WAKE): the replay's plain release and acquire. */
#include <errno.h>
#include "core/defs.h"
#include "core/real.h"
#include "locks/wrap.h"

/* The routine the calling thread's innermost pthread_once runs, for the trampoline. */
static __thread struct lw_once_call {
	pthread_once_t *control;
	void (*routine)(void);
} cur __attribute__((tls_model("initial-exec")));

static void note(uint16_t op, pthread_once_t *o, uintptr_t site)
{
	if (!lw_order_recorded())
		return;
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_sync(t, op, (uintptr_t)o, 0, site);
		lw_leave();
	}
	errno = e;
}

/* Runs the routine, then releases the control.  A routine that calls pthread_once for
 * another control changes cur: both are read first. */
static void trampoline(void)
{
	struct lw_once_call c = cur;
	c.routine();
	note(LW_SYNC_SEM_POST, c.control, 0);
}

LW_EXPORT int pthread_once(pthread_once_t *o, void (*routine)(void))
{
	if (!lw_order_recorded() || LW_UNLIKELY(lw_guard))
		return REAL(once)(o, routine);
	struct lw_once_call saved = cur;
	cur.control = o;
	cur.routine = routine;
	int rc = REAL(once)(o, trampoline);
	cur = saved;
	note(LW_SYNC_COND_WAKE, o, LW_SITE());
	return rc;
}
