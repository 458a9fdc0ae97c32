/* pthread_spin_*: exclusive locks, like mutexes. */
#include "core/defs.h"
#include "core/real.h"
#include "locks/wrap.h"

LW_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
	lw_note_reinit((const void *)s, LW_LOCK_SPIN, LW_SITE(), LW_CFA());   /* issue 22 */
	int rc = REAL(spin_init)(s, pshared);
	if (rc == 0)
		lw_note_init_at((const void *)s, LW_LOCK_SPIN,
				pshared == PTHREAD_PROCESS_SHARED ? LW_LOCKF_PSHARED : 0, LW_SITE(),
				LW_CFA());
	return rc;
}

LW_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s)
{
	lw_note_destroy((const void *)s, LW_LOCK_SPIN, LW_SITE());
	return REAL(spin_destroy)(s);
}

LW_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
	LW_ACQUIRE_BLOCKING(REAL(spin_trylock)(s), REAL(spin_lock)(s), s, LW_LOCK_SPIN,
			    LW_MODE_WRITE);
}

LW_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
	LW_ACQUIRE(REAL(spin_trylock)(s), s, LW_LOCK_SPIN, LW_MODE_WRITE, LW_ACQF_TRY);
}

LW_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
	LW_RELEASE(REAL(spin_unlock)(s), s);
}
