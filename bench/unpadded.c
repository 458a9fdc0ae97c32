/* 16 mutexes in one plain array with their counters beside them, not padded: several
 * mutexes share a cache line, so any per-lock state a tool writes bounces between CPUs. */
/*
 * usage: unpadded [rounds] [threads]
 *
 * Each of `threads` threads (default 2) does `rounds` rounds (default 3000000) of: pick
 * i < j among 16 mutexes with a per-thread xorshift PRNG, lock m[i] then m[j], bump the two
 * counters beside them, unlock m[j], unlock m[i].  Ascending order: no deadlock.  Prints
 * one checksum line (it depends on the arguments only).  Exit status 0, or 2 on a bad
 * argument or a failed call.
 */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "unpadded [rounds] [threads]"
#define N_LOCKS 16

/* A plain array: a mutex (40 bytes) and its counter, 48 bytes a slot, no alignment. */
static struct {
	pthread_mutex_t lock;
	uint64_t        counter;
} slots[N_LOCKS];

struct worker {
	pthread_t     thread;
	uint64_t      seed;
	unsigned long rounds;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t x = w->seed;

	for (unsigned long n = 0; n < w->rounds; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned i = (unsigned)(x % N_LOCKS), j = (unsigned)((x >> 32) % (N_LOCKS - 1));
		if (j >= i)
			j++;
		if (j < i) {
			unsigned t = i;
			i = j;
			j = t;
		}
		pthread_mutex_lock(&slots[i].lock);
		pthread_mutex_lock(&slots[j].lock);
		slots[i].counter += 1;
		slots[j].counter += 2;
		pthread_mutex_unlock(&slots[j].lock);
		pthread_mutex_unlock(&slots[i].lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long rounds = bench_arg(argc, argv, 1, 3000000, 1UL << 40, USAGE);
	unsigned long threads = bench_arg(argc, argv, 2, 2, 64, USAGE);
	struct worker w[64];
	uint64_t checksum = 0;

	for (int k = 0; k < N_LOCKS; k++)
		bench_check(pthread_mutex_init(&slots[k].lock, NULL), "pthread_mutex_init");
	for (unsigned long t = 0; t < threads; t++) {
		w[t].seed = 0x9e3779b97f4a7c15ULL * (t + 1);
		w[t].rounds = rounds;
		bench_check(pthread_create(&w[t].thread, NULL, work, &w[t]), "pthread_create");
	}
	for (unsigned long t = 0; t < threads; t++)
		bench_check(pthread_join(w[t].thread, NULL), "pthread_join");
	for (int k = 0; k < N_LOCKS; k++) {
		checksum = checksum * 1099511628211ULL + slots[k].counter;
		pthread_mutex_destroy(&slots[k].lock);
	}
	printf("unpadded rounds=%lu threads=%lu checksum=%016" PRIx64 "\n", rounds, threads,
	       checksum);
	return 0;
}
