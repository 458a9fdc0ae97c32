/* Correct locking of locks the shim cannot record (issue 18).  600 spinlocks packed 4 bytes
 * apart in one page share 75 of the lock table's home slots: the run they fill passes the
 * probe limit, so the shim's table is "full" for the last ones and for a mutex amid them
 * (initialised after them).  Then, all correct:
 *   1. the mutex is locked, waited on with a condition variable (the wait times out at
 *      once) and unlocked;
 *   2. the last spinlock is locked and unlocked;
 *   3. the mutex is locked, a third of the spinlocks are destroyed (their slots, in the
 *      mutex's run, free up, so the shim can record the mutex when it is unlocked), and it
 *      is unlocked.
 * No finding may come of it: an unlock or a wait whose acquisition the shim could not record
 * is not misuse. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define N_SPIN 600

static struct {
	pthread_spinlock_t a[N_SPIN / 2];
	pthread_mutex_t m;
	pthread_spinlock_t b[N_SPIN / 2];
} packed __attribute__((aligned(4096)));
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static pthread_spinlock_t *spin(int i)
{
	return i < N_SPIN / 2 ? &packed.a[i] : &packed.b[i - N_SPIN / 2];
}

int main(void)
{
	for (int i = 0; i < N_SPIN; i++)
		if (pthread_spin_init(spin(i), PTHREAD_PROCESS_PRIVATE) != 0)
			return 1;
	pthread_mutex_init(&packed.m, NULL);

	struct timespec past = { 0, 0 };
	pthread_mutex_lock(&packed.m);
	int rc = pthread_cond_timedwait(&cv, &packed.m, &past);
	pthread_mutex_unlock(&packed.m);

	pthread_spin_lock(spin(N_SPIN - 1));
	pthread_spin_unlock(spin(N_SPIN - 1));

	pthread_mutex_lock(&packed.m);
	for (int i = N_SPIN / 6; i < N_SPIN / 2; i++)
		pthread_spin_destroy(spin(i));
	pthread_mutex_unlock(&packed.m);

	for (int i = 0; i < N_SPIN; i++)
		if (i < N_SPIN / 6 || i >= N_SPIN / 2)
			pthread_spin_destroy(spin(i));
	pthread_mutex_destroy(&packed.m);
	printf("table_full: wait %s\n", rc == ETIMEDOUT ? "timed out" : "returned");
	return 0;
}
