/* Many locks: 100k heap mutexes, walked in nested ascending pairs by two threads. */
/*
 * usage: manylocks [rounds] [mutexes] [threads]
 *
 * Initialises `mutexes` mutexes (default 100000) in one heap array.  Each of `threads`
 * threads (default 2) does `rounds` passes (default 50); a pass locks m[i] then m[i+1] for
 * every i, starting at a per-thread offset, so the order is always ascending and the
 * program cannot deadlock.  This stresses the shim's lock table and the number of distinct
 * dependencies (one per pair), which a dependencies-level trace records once each.  Prints
 * one checksum line.  Exit status 0, or 2 on a bad argument or a failed call.
 */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "manylocks [rounds] [mutexes>=2] [threads]"

struct slot {
	pthread_mutex_t lock;
	uint64_t        counter;
};

struct worker {
	pthread_t     thread;
	unsigned long first, rounds;
};

static struct slot  *slots;
static unsigned long n_slots;

static void *work(void *arg)
{
	struct worker *w = arg;

	for (unsigned long r = 0; r < w->rounds; r++) {
		for (unsigned long k = 0; k + 1 < n_slots; k++) {
			unsigned long i = (w->first + k) % (n_slots - 1);

			pthread_mutex_lock(&slots[i].lock);
			pthread_mutex_lock(&slots[i + 1].lock);
			slots[i].counter += 1;
			slots[i + 1].counter += 3;
			pthread_mutex_unlock(&slots[i + 1].lock);
			pthread_mutex_unlock(&slots[i].lock);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long rounds = bench_arg(argc, argv, 1, 50, 1UL << 30, USAGE);
	unsigned long threads = bench_arg(argc, argv, 3, 2, 64, USAGE);
	struct worker w[64];
	uint64_t sum = 0;

	n_slots = bench_arg(argc, argv, 2, 100000, 1UL << 24, USAGE);
	if (n_slots < 2) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return 2;
	}
	slots = calloc(n_slots, sizeof(*slots));
	if (!slots)
		return 2;
	for (unsigned long i = 0; i < n_slots; i++)
		bench_check(pthread_mutex_init(&slots[i].lock, NULL), "pthread_mutex_init");
	for (unsigned long t = 0; t < threads; t++) {
		w[t].first = t * (n_slots / threads);
		w[t].rounds = rounds;
		bench_check(pthread_create(&w[t].thread, NULL, work, &w[t]), "pthread_create");
	}
	for (unsigned long t = 0; t < threads; t++)
		bench_check(pthread_join(w[t].thread, NULL), "pthread_join");
	for (unsigned long i = 0; i < n_slots; i++) {
		sum = sum * 1099511628211ULL + slots[i].counter;
		pthread_mutex_destroy(&slots[i].lock);
	}
	printf("manylocks rounds=%lu mutexes=%lu threads=%lu checksum=%016" PRIx64 "\n", rounds,
	       n_slots, threads, sum);
	free(slots);
	return 0;
}
