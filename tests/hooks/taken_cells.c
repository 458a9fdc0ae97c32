/* Hook mode: a location taken from an owner that is stamping it at that very moment
 * (shim/access/hooks.c, "Owners' plain stores").  For each of TRIALS rounds, a new thread O takes
 * its own mutex around x[k]++ again and again, so that its cell of x[k] is stamped twice a
 * round, with the owner's plain stores; thread T writes x[k] once, at a moment that falls
 * somewhere in O's loop, and then tells O (a C11 release store).  O, once told, reads x[k]
 * once more with a 2-byte load, the program's only one.  T's write made x[k] shared, so that
 * read must be in the trace: one per round.  Had O's stamp landed over T's taking of the
 * cell, O would own x[k] again, and the read would be left out.
 * T's writes race with O's increments: the data races are real.  Prints "sum: N".  Exit
 * status 0. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#define TRIALS 64

static long x[TRIALS];
static atomic_int hammering, written;
static long sum;                   /* main's, after each join */

static void *owner(void *arg)
{
	int k = (int)(long)arg;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	unsigned long n = 0;

	x[k] = 0;
	atomic_store_explicit(&hammering, k + 1, memory_order_release);
	do {
		pthread_mutex_lock(&m);
		x[k]++;
		pthread_mutex_unlock(&m);
	} while ((++n & 63) || atomic_load_explicit(&written, memory_order_acquire) <= k);
	return (void *)(long)*(volatile short *)&x[k];
}

static void *taker(void *arg)
{
	(void)arg;
	for (int k = 0; k < TRIALS; k++) {
		while (atomic_load_explicit(&hammering, memory_order_acquire) <= k)
			sched_yield();
		/* A different moment of O's loop each round. */
		for (volatile int d = 0; d < (k * 37) % 500; d++)
			;
		x[k] = 1;
		atomic_store_explicit(&written, k + 1, memory_order_release);
	}
	return NULL;
}

int main(void)
{
	pthread_t t, o;
	void *r;

	pthread_create(&t, NULL, taker, NULL);
	for (long k = 0; k < TRIALS; k++) {
		pthread_create(&o, NULL, owner, (void *)k);
		pthread_join(o, &r);
		sum += (long)r;
	}
	pthread_join(t, NULL);
	printf("sum: %ld\n", sum);
	return 0;
}
