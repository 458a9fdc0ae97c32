/* pthread_mutex_*: the real call first, bookkeeping after (before, for unlock). */
#include "wrap.h"

LW_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	int rc = REAL(mutex_init)(m, attr);
	if (rc == 0) {
		uint16_t flags = 0;
		int type = PTHREAD_MUTEX_DEFAULT, pshared = PTHREAD_PROCESS_PRIVATE;
		if (attr) {
			pthread_mutexattr_gettype(attr, &type);
			pthread_mutexattr_getpshared(attr, &pshared);
		}
		if (type == PTHREAD_MUTEX_RECURSIVE)
			flags |= LW_LOCKF_RECURSIVE;
		if (type == PTHREAD_MUTEX_ERRORCHECK)
			flags |= LW_LOCKF_ERRORCHECK;
		if (pshared == PTHREAD_PROCESS_SHARED)
			flags |= LW_LOCKF_PSHARED;
		lw_note_init(m, LW_LOCK_MUTEX, flags, LW_SITE());
	}
	return rc;
}

LW_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
	lw_note_destroy(m, LW_SITE());
	return REAL(mutex_destroy)(m);
}

LW_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	int rc = REAL(mutex_lock)(m);
	if (rc == 0)
		lw_note_acquired(m, LW_LOCK_MUTEX, LW_MODE_WRITE, 0, LW_SITE());
	return rc;
}

LW_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int rc = REAL(mutex_trylock)(m);
	if (rc == 0)
		lw_note_acquired(m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TRY, LW_SITE());
	return rc;
}

LW_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	int rc = REAL(mutex_timedlock)(m, abs);
	if (rc == 0)
		lw_note_acquired(m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TIMED, LW_SITE());
	return rc;
}

LW_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs)
{
	int rc = REAL(mutex_clocklock)(m, clk, abs);
	if (rc == 0)
		lw_note_acquired(m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TIMED, LW_SITE());
	return rc;
}

LW_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	lw_note_release(m);
	return REAL(mutex_unlock)(m);
}
