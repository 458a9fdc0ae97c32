/* A correct program with a spin lock of its own: a plain int taken with __atomic_exchange_n
 * (xchg) and released with a release store (a plain mov on x86-64), waited on with relaxed
 * loads (plain movs), guarding two plain globals.  The lock's DWARF type is int, so only the
 * instructions show that it is atomic.  No race: lockwatch must report no error with its
 * defaults (automatic watching and the collider). */
#include <pthread.h>
#include <stdio.h>

static int spin;
static long counter;
static long odd;

static void lock(void)
{
	while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&spin, __ATOMIC_RELAXED))
			;
}

static void unlock(void)
{
	__atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
}

static void *worker(void *arg)
{
	for (int i = 0; i < 300000; i++) {
		lock();
		counter++;
		odd += counter & 1;
		unlock();
	}
	return arg;
}

int main(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("%ld %ld\n", counter, odd);
	return 0;
}
