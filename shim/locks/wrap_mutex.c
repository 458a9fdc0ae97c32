/* pthread_mutex_*: look up before the real call, commit after it succeeded. */
#include "core/defs.h"
#include "core/options.h"
#include "core/real.h"
#include "locks/refused.h"
#include "locks/wrap.h"

LW_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	lw_note_reinit(m, LW_LOCK_MUTEX, LW_SITE(), LW_CFA());   /* issue 22 */
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
		lw_note_init_at(m, LW_LOCK_MUTEX, flags, LW_SITE(), LW_CFA());
	} else if (rc != 0 && attr) {
		lw_call_misuse(LW_MISUSE_ATTR_REFUSED, LW_LOCK_MUTEX, m, (uint64_t)rc, LW_SITE());
	}
	return rc;
}

LW_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
	lw_note_destroy(m, LW_LOCK_MUTEX, LW_SITE());
	return REAL(mutex_destroy)(m);
}

/* The full level writes records inside critical sections, which makes them several times
 * longer than the program's own, and a busy mutex then sends its waiter to sleep in the
 * kernel far more often than without the shim.  So at the full level a mutex found busy is
 * watched for a short while (LW_MUTEX_SPINS tries, each after up to 32 pauses while its
 * lock word says taken) before the blocking call, as glibc's adaptive mutexes do.  What
 * the program sees is the same: the mutex, taken a little later or without a sleep. */
#define LW_MUTEX_SPINS 16

static int trylock_spinning(pthread_mutex_t *m)
{
	int rc = REAL(mutex_trylock)(m);
	if (rc != EBUSY || LW_LIKELY(!lw_order_recorded()))
		return rc;
	for (int i = 0; i < LW_MUTEX_SPINS && rc == EBUSY; i++) {
		for (int k = 0; k < 32 && __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED); k++)
			__builtin_ia32_pause();
		rc = REAL(mutex_trylock)(m);
	}
	return rc;
}

/* Issue 22: a lock call on memory that holds no mutex goes straight through (glibc refuses
 * it with EINVAL, or worse), after the misuse is written. */
#define LW_MUTEX_CHECKED(m, op, call) do { \
		if (LW_UNLIKELY(lw_mutex_bogus(m))) { \
			lw_call_misuse(LW_MISUSE_NOT_AN_OBJECT, LW_LOCK_MUTEX, (m), (op), LW_SITE()); \
			return (call); \
		} \
	} while (0)

LW_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	LW_MUTEX_CHECKED(m, LW_UNINIT_LOCK, REAL(mutex_lock)(m));
	LW_ACQUIRE_BLOCKING(trylock_spinning(m), REAL(mutex_lock)(m), m, LW_LOCK_MUTEX,
			    LW_MODE_WRITE);
}

LW_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	LW_MUTEX_CHECKED(m, LW_UNINIT_LOCK, REAL(mutex_trylock)(m));
	LW_ACQUIRE(REAL(mutex_trylock)(m), m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TRY);
}

LW_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	LW_MUTEX_CHECKED(m, LW_UNINIT_LOCK, REAL(mutex_timedlock)(m, abs));
	LW_ACQUIRE(lw_timeout_checked(REAL(mutex_timedlock)(m, abs), m, LW_LOCK_MUTEX, abs,
				      LW_SITE()),
		   m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TIMED);
}

LW_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs)
{
	LW_MUTEX_CHECKED(m, LW_UNINIT_LOCK, REAL(mutex_clocklock)(m, clk, abs));
	LW_ACQUIRE(lw_timeout_checked(REAL(mutex_clocklock)(m, clk, abs), m, LW_LOCK_MUTEX, abs,
				      LW_SITE()),
		   m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TIMED);
}

/* An unlock by a thread that does not own a mutex that checks its owner: the real call
 * first, then either the refusal it returned (a warning: the program may rely on it) or,
 * should it have succeeded after all, the usual release bookkeeping. */
static int unlock_not_owner(pthread_mutex_t *m, uintptr_t site)
{
	int rc = REAL(mutex_unlock)(m);
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		if (rc != 0)
			lw_unlock_refused(t, m, rc, site);
		else
			lw_release_checked(t, m, site);
		lw_leave();
	}
	errno = saved;
	return rc;
}

LW_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	LW_MUTEX_CHECKED(m, LW_UNINIT_UNLOCK, REAL(mutex_unlock)(m));
	struct lw_thread *self = lw_self;
	if (LW_UNLIKELY(self != NULL && !lw_guard &&
			__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) != self->os_tid) &&
	    lw_mutex_checks_owner(m))
		return unlock_not_owner(m, LW_SITE());
	LW_RELEASE(REAL(mutex_unlock)(m), m);
}
