/*
 * What one collider sample costs (issue 20): the execute breakpoint's trap, the decode of
 * the operand, arming the data breakpoint in every thread, disarming it and the sigreturn.
 * One thread stores N times to a heap block while a second one waits (the collider samples
 * only while two threads live); the store loop is the program's hot code, so nearly every
 * placement of the code breakpoint there fires.  Prints the loop's time per store.
 *
 *   LOCKWATCH_OPTIONS='collider_rate=0 trace_dir=/tmp/lw' LD_PRELOAD=build/lib/liblockwatch.so \
 *       build/bench/collider_sample          # the collider off
 *   LOCKWATCH_OPTIONS='collider_rate=10000 collider_delay_us=0 trace_dir=/tmp/lw' ...
 *
 * then (time on - time off) / fired, with fired from `lockwatch dump` (the collider record),
 * is the cost of one sample, the delay left out.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *waiter(void *arg)
{
	pthread_mutex_lock(&m);
	while (!done)
		pthread_cond_wait(&done_cv, &m);
	pthread_mutex_unlock(&m);
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000000L;
	if (n <= 0)
		n = 200000000L;
	volatile long *cell = calloc(1, sizeof *cell);
	pthread_t w;
	pthread_create(&w, NULL, waiter, NULL);
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		*cell = i;
	double t1 = now_ns();
	pthread_mutex_lock(&m);
	done = 1;
	pthread_cond_signal(&done_cv);
	pthread_mutex_unlock(&m);
	pthread_join(w, NULL);
	printf("stores: %ld, %.0f ms, %.3f ns per store\n", n, (t1 - t0) / 1e6, (t1 - t0) / n);
	return *cell == n - 1 ? 0 : 1;
}
