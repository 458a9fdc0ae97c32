/* Lock-heavy benchmark: threads taking nested pairs of mutexes in a consistent order. */
/*
 * usage: lockheavy [iterations] [threads] [mutexes]
 *
 * Each of `threads` threads (default 2) does `iterations` rounds (default 1000000) of:
 * pick i < j among `mutexes` mutexes (default 16) with a per-thread xorshift PRNG, lock
 * m[i], lock m[j], bump the two counters they protect, unlock m[j], unlock m[i].  The order
 * is always ascending, so the program cannot deadlock and a correct detector reports
 * nothing.  The only output is one line with a checksum of the counters; it depends on the
 * arguments only (the PRNG seeds are fixed and addition commutes), so two runs, native or
 * under a tool, can be compared.  Exit status: 0, or 2 on a bad argument or a failed call.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ITERATIONS 1000000UL
#define DEFAULT_THREADS    2UL
#define DEFAULT_MUTEXES    16UL

/* One mutex and the counter it protects, on its own cache line. */
struct slot {
	pthread_mutex_t lock;
	uint64_t        counter;
} __attribute__((aligned(64)));

struct worker {
	pthread_t     thread;
	uint64_t      seed;
	unsigned long iterations;
};

static struct slot  *slots;
static unsigned long n_slots;

/* xorshift64: cheap, and deterministic per thread. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t state = w->seed;

	for (unsigned long n = 0; n < w->iterations; n++) {
		uint64_t r = next_random(&state);
		unsigned long i = (unsigned long)(r % n_slots);
		unsigned long j = (unsigned long)((r >> 32) % (n_slots - 1));

		if (j >= i)
			j++;
		if (j < i) {
			unsigned long t = i;
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

/* Parses argv[index] as a positive number, or returns def when it is absent.  Returns 0 on
 * a malformed or out-of-range value. */
static unsigned long arg_number(int argc, char **argv, int index, unsigned long def,
				unsigned long max)
{
	char *end;
	unsigned long v;

	if (argc <= index)
		return def;
	errno = 0;
	v = strtoul(argv[index], &end, 10);
	if (errno != 0 || end == argv[index] || *end != '\0' || argv[index][0] == '-' || v > max)
		return 0;
	return v;
}

int main(int argc, char **argv)
{
	unsigned long iterations = arg_number(argc, argv, 1, DEFAULT_ITERATIONS, 1UL << 40);
	unsigned long threads = arg_number(argc, argv, 2, DEFAULT_THREADS, 4096);
	struct worker *workers;
	uint64_t checksum = 0;
	int err;

	n_slots = arg_number(argc, argv, 3, DEFAULT_MUTEXES, 1UL << 20);
	if (argc > 4 || iterations == 0 || threads == 0 || n_slots < 2) {
		fprintf(stderr, "usage: lockheavy [iterations>0] [threads>0] [mutexes>=2]\n");
		return 2;
	}
	slots = aligned_alloc(64, n_slots * sizeof(*slots));
	workers = calloc(threads, sizeof(*workers));
	if (slots == NULL || workers == NULL) {
		fprintf(stderr, "lockheavy: out of memory\n");
		return 2;
	}
	for (unsigned long k = 0; k < n_slots; k++) {
		slots[k].counter = 0;
		err = pthread_mutex_init(&slots[k].lock, NULL);
		if (err != 0) {
			fprintf(stderr, "lockheavy: pthread_mutex_init: %s\n", strerror(err));
			return 2;
		}
	}
	for (unsigned long t = 0; t < threads; t++) {
		workers[t].seed = 0x9e3779b97f4a7c15ULL * (t + 1);
		workers[t].iterations = iterations;
		err = pthread_create(&workers[t].thread, NULL, work, &workers[t]);
		if (err != 0) {
			fprintf(stderr, "lockheavy: pthread_create: %s\n", strerror(err));
			return 2;
		}
	}
	for (unsigned long t = 0; t < threads; t++) {
		err = pthread_join(workers[t].thread, NULL);
		if (err != 0) {
			fprintf(stderr, "lockheavy: pthread_join: %s\n", strerror(err));
			return 2;
		}
	}
	for (unsigned long k = 0; k < n_slots; k++) {
		checksum = checksum * 1099511628211ULL + slots[k].counter;
		pthread_mutex_destroy(&slots[k].lock);
	}
	printf("lockheavy iterations=%lu threads=%lu mutexes=%lu checksum=%016" PRIx64 "\n",
	       iterations, threads, n_slots, checksum);
	free(workers);
	free(slots);
	return 0;
}
