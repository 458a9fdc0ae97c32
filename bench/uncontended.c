/* Uncontended lock/unlock: each thread locks and unlocks its own mutex in a tight loop. */
/*
 * usage: uncontended [iterations] [threads]
 *
 * Each of `threads` threads (default 1) does `iterations` rounds (default 10000000) of
 * lock, increment, unlock on a mutex nobody else touches: the cost of the wrappers' fast
 * path, with no blocking and nothing held (no dependency to record).  Prints one checksum
 * line that depends on the arguments only.  Exit status 0, or 2 on a bad argument.
 */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "uncontended [iterations] [threads]"

struct worker {
	pthread_t       thread;
	pthread_mutex_t lock;
	uint64_t        counter;
	unsigned long   iterations;
} __attribute__((aligned(64)));

static void *work(void *arg)
{
	struct worker *w = arg;

	for (unsigned long n = 0; n < w->iterations; n++) {
		pthread_mutex_lock(&w->lock);
		w->counter += n & 7;
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long iterations = bench_arg(argc, argv, 1, 10000000UL, 1UL << 40, USAGE);
	unsigned long threads = bench_arg(argc, argv, 2, 1, 256, USAGE);
	struct worker *w = aligned_alloc(64, threads * sizeof(*w));
	uint64_t sum = 0;

	if (!w)
		return 2;
	for (unsigned long t = 0; t < threads; t++) {
		w[t].counter = 0;
		w[t].iterations = iterations;
		bench_check(pthread_mutex_init(&w[t].lock, NULL), "pthread_mutex_init");
		bench_check(pthread_create(&w[t].thread, NULL, work, &w[t]), "pthread_create");
	}
	for (unsigned long t = 0; t < threads; t++) {
		bench_check(pthread_join(w[t].thread, NULL), "pthread_join");
		sum += w[t].counter;
		pthread_mutex_destroy(&w[t].lock);
	}
	printf("uncontended iterations=%lu threads=%lu checksum=%016" PRIx64 "\n", iterations,
	       threads, sum);
	free(w);
	return 0;
}
