/* sem_*: a semaphore a thread waits on and later posts is used as a lock; the analyzer
 * decides from the SEM_LOCKLIKE records.  sem_post stays async-signal-safe: no stack
 * capture for a site already seen, no malloc, no lock but the trace's own atomics. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include "core/defs.h"
#include "core/real.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/locks.h"
#include "locks/misuse.h"
#include "locks/refused.h"
#include "locks/uninit.h"
#include "locks/wrap.h"

LW_EXPORT int sem_init(sem_t *s, int pshared, unsigned value)
{
	int rc = REAL(sem_init)(s, pshared, value);
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		if (rc == 0) {
			lw_lock_new_gen(s, LW_LOCK_SEM, pshared ? LW_LOCKF_PSHARED : 0, LW_SITE());
			lw_init_accepted(s);
		} else if (e == EINVAL && value > SEM_VALUE_MAX) {
			lw_init_refused(t, s, LW_LOCK_SEM, value, LW_SITE());
		}
		lw_leave();
	} else if (rc == 0) {
		lw_init_unrecorded();
	}
	errno = e;
	return rc;
}

/* A wait on a semaphore: is it one the shim knows an init of?  Keeps errno. */
static inline void sem_wait_used(const void *s, uintptr_t site)
{
	/* Issue 22: a semaphore the shim knows, whose memory no longer holds one. */
	if (LW_UNLIKELY(lw_sem_bogus(s)) && lw_lock_find((uintptr_t)s))
		lw_call_misuse(LW_MISUSE_NOT_AN_OBJECT, LW_LOCK_SEM, s, LW_UNINIT_WAIT, site);
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_sem_used(t, s, LW_UNINIT_WAIT, site);
		lw_leave();
	}
	errno = e;
}

LW_EXPORT int sem_destroy(sem_t *s)
{
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_sem_destroying(t, s, LW_SITE());
		lw_leave();
	}
	return REAL(sem_destroy)(s);
}

LW_EXPORT int sem_wait(sem_t *s)
{
	/* Try first, like the other blocking acquisitions; sem_trywait's EAGAIN must not
	 * leak into the program's errno. */
	sem_wait_used(s, LW_SITE());
	struct lw_acq a;
	if (!lw_acq_begin(&a, s, LW_LOCK_SEM, LW_MODE_WRITE, 0, LW_SITE()))
		return REAL(sem_wait)(s);
	int saved = errno;
	int rc = REAL(sem_trywait)(s);
	if (rc != 0 && errno == EAGAIN) {
		errno = saved;
		lw_acq_blocking(&a);
		rc = REAL(sem_wait)(s);
		lw_wait_end(a.t);
	}
	if (rc == 0)
		lw_acq_end(&a);
	return rc;
}

LW_EXPORT int sem_trywait(sem_t *s)
{
	sem_wait_used(s, LW_SITE());
	LW_ACQUIRE(REAL(sem_trywait)(s), s, LW_LOCK_SEM, LW_MODE_WRITE, LW_ACQF_TRY);
}

LW_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs)
{
	sem_wait_used(s, LW_SITE());
	LW_ACQUIRE(lw_sem_timeout_checked(REAL(sem_timedwait)(s, abs), s, LW_LOCK_SEM, abs,
					  LW_SITE()),
		   s, LW_LOCK_SEM, LW_MODE_WRITE, LW_ACQF_TIMED);
}

LW_EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abs)
{
	sem_wait_used(s, LW_SITE());
	LW_ACQUIRE(lw_sem_timeout_checked(REAL(sem_clockwait)(s, clk, abs), s, LW_LOCK_SEM, abs,
					  LW_SITE()),
		   s, LW_LOCK_SEM, LW_MODE_WRITE, LW_ACQF_TIMED);
}

LW_EXPORT int sem_post(sem_t *s)
{
	if (LW_UNLIKELY(lw_sem_bogus(s)) && lw_lock_find((uintptr_t)s))   /* issue 22 */
		lw_call_misuse(LW_MISUSE_NOT_AN_OBJECT, LW_LOCK_SEM, s, LW_UNINIT_POST, LW_SITE());
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_sem_used(t, s, LW_UNINIT_POST, LW_SITE());
		if (LW_UNLIKELY(lw_lock_flags((uintptr_t)s) & LW_LOCKF_DESTROYED))
			lw_misuse(t, LW_MISUSE_USE_AFTER_DESTROY, LW_LOCK_SEM, (uintptr_t)s, 0, 0, 0, 0, 0);
		lw_sem_posted(t, s);
		lw_sync(t, LW_SYNC_SEM_POST, (uintptr_t)s, 0, 0);
		lw_leave();
	}
	errno = saved;
	int rc = REAL(sem_post)(s);
	if (rc != 0 && errno == EOVERFLOW && t) {
		saved = errno;
		if (lw_enter()) {
			lw_misuse(t, LW_MISUSE_SEM_OVERFLOW, LW_LOCK_SEM, (uintptr_t)s, 0, 0, 0, 0,
				  SEM_VALUE_MAX);
			lw_leave();
		}
		errno = saved;
	}
	return rc;
}

LW_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
	sem_t *s;
	if (oflag & O_CREAT) {
		va_list ap;
		va_start(ap, oflag);
		mode_t mode = va_arg(ap, mode_t);
		unsigned value = va_arg(ap, unsigned);
		va_end(ap);
		s = REAL(sem_open)(name, oflag, mode, value);
	} else {
		s = REAL(sem_open)(name, oflag);
	}
	if (s != SEM_FAILED) {
		int saved = errno;
		/* The same name opened twice maps to the same address: one lock, not two. */
		if (lw_enter()) {
			struct lw_lock *l = lw_lock_get(s, LW_LOCK_SEM, LW_SITE());
			if (l)
				l->flags |= LW_LOCKF_NAMED_SEM;
			lw_leave();
		}
		errno = saved;
	}
	return s;
}

LW_EXPORT int sem_close(sem_t *s)
{
	return REAL(sem_close)(s);
}
