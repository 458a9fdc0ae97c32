/* pthread_rwlock_*: read acquisitions are shared (LW_MODE_READ), write ones exclusive. */
#include "core/defs.h"
#include "core/real.h"
#include "locks/refused.h"
#include "locks/wrap.h"

LW_EXPORT int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *attr)
{
	lw_note_reinit(l, LW_LOCK_RWLOCK, LW_SITE(), LW_CFA());   /* issue 22 */
	int rc = REAL(rwlock_init)(l, attr);
	if (rc == 0) {
		int pshared = PTHREAD_PROCESS_PRIVATE;
		if (attr)
			pthread_rwlockattr_getpshared(attr, &pshared);
		lw_note_init_at(l, LW_LOCK_RWLOCK,
				pshared == PTHREAD_PROCESS_SHARED ? LW_LOCKF_PSHARED : 0, LW_SITE(),
				LW_CFA());
	}
	return rc;
}

LW_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	lw_note_destroy(l, LW_LOCK_RWLOCK, LW_SITE());
	return REAL(rwlock_destroy)(l);
}

#define RW_ACQUIRE(call, mode, flags) LW_ACQUIRE(call, l, LW_LOCK_RWLOCK, mode, flags)

LW_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	LW_ACQUIRE_BLOCKING(REAL(rwlock_tryrdlock)(l), REAL(rwlock_rdlock)(l), l, LW_LOCK_RWLOCK,
			    LW_MODE_READ);
}

LW_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	LW_ACQUIRE_BLOCKING(REAL(rwlock_trywrlock)(l), REAL(rwlock_wrlock)(l), l, LW_LOCK_RWLOCK,
			    LW_MODE_WRITE);
}

LW_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	RW_ACQUIRE(REAL(rwlock_tryrdlock)(l), LW_MODE_READ, LW_ACQF_TRY);
}

LW_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	RW_ACQUIRE(REAL(rwlock_trywrlock)(l), LW_MODE_WRITE, LW_ACQF_TRY);
}

LW_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *abs)
{
	RW_ACQUIRE(lw_timeout_checked(REAL(rwlock_timedrdlock)(l, abs), l, LW_LOCK_RWLOCK, abs,
				      LW_SITE()),
		   LW_MODE_READ, LW_ACQF_TIMED);
}

LW_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *abs)
{
	RW_ACQUIRE(lw_timeout_checked(REAL(rwlock_timedwrlock)(l, abs), l, LW_LOCK_RWLOCK, abs,
				      LW_SITE()),
		   LW_MODE_WRITE, LW_ACQF_TIMED);
}

LW_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *abs)
{
	RW_ACQUIRE(lw_timeout_checked(REAL(rwlock_clockrdlock)(l, c, abs), l, LW_LOCK_RWLOCK,
				      abs, LW_SITE()),
		   LW_MODE_READ, LW_ACQF_TIMED);
}

LW_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *abs)
{
	RW_ACQUIRE(lw_timeout_checked(REAL(rwlock_clockwrlock)(l, c, abs), l, LW_LOCK_RWLOCK,
				      abs, LW_SITE()),
		   LW_MODE_WRITE, LW_ACQF_TIMED);
}

LW_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	LW_RELEASE(REAL(rwlock_unlock)(l), l);
}
