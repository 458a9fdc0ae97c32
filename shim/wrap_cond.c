/* pthread_cond_* (the GLIBC_2.3.2 ABI): a wait releases the mutex and takes it again. */
#include "wrap.h"

/* Takes the mutex out of the held set for the wait.  Returns whether it was held. */
static bool wait_begin(pthread_mutex_t *m, struct lw_held_ent *saved)
{
	int e = errno;
	bool held = false;
	struct lw_thread *t = lw_enter();
	if (t) {
		struct lw_held_ent *h = lw_held_find(t, m);
		if (h) {
			*saved = *h;
			held = true;
			/* A recursive mutex is released whole by the wait. */
			h->count = 1;
			lw_released(t, m);
		}
		lw_leave();
	}
	errno = e;
	return held;
}

static void wait_end(pthread_mutex_t *m, bool held, const struct lw_held_ent *saved, uintptr_t site)
{
	if (!held)
		return;
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_acquired(t, m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_COND_REACQ, site);
		struct lw_held_ent *h = lw_held_find(t, m);
		if (h)
			h->count = saved->count;
		lw_leave();
	}
	errno = e;
}

LW_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	struct lw_held_ent saved;
	bool held = wait_begin(m, &saved);
	int rc = REAL(cond_wait)(c, m);
	wait_end(m, held, &saved, LW_SITE());
	return rc;
}

LW_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
	struct lw_held_ent saved;
	bool held = wait_begin(m, &saved);
	int rc = REAL(cond_timedwait)(c, m, abs);
	wait_end(m, held, &saved, LW_SITE());
	return rc;
}

LW_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
				     const struct timespec *abs)
{
	struct lw_held_ent saved;
	bool held = wait_begin(m, &saved);
	int rc = REAL(cond_clockwait)(c, m, clk, abs);
	wait_end(m, held, &saved, LW_SITE());
	return rc;
}

LW_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	return REAL(cond_signal)(c);
}

LW_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	return REAL(cond_broadcast)(c);
}
