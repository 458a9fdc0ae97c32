/* Compute: each thread transforms an array of its own, round after round, and adds one of
 * its values to a shared total under a mutex every 64 rounds.  Code that mostly computes on
 * data of its own, with a lock now and then: what the compiler hooks' fast path costs.
 *
 * usage: compute [rounds] [threads] [elements]     (defaults: 60000, 2, 4096) */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "compute [rounds] [threads] [elements>=3]"

struct worker {
	pthread_t     thread;
	unsigned long rounds, n;
	uint64_t      seed;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t        total;          /* under lock */

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t *a = malloc(w->n * sizeof *a), *b = malloc(w->n * sizeof *b);

	if (!a || !b) {
		fprintf(stderr, "compute: out of memory\n");
		exit(2);
	}
	for (unsigned long i = 0; i < w->n; i++)
		a[i] = w->seed * (i + 1);
	b[0] = a[0];
	b[w->n - 1] = a[w->n - 1];
	for (unsigned long r = 0; r < w->rounds; r++) {
		for (unsigned long i = 1; i + 1 < w->n; i++)
			b[i] = a[i - 1] + (a[i] >> 1) + a[i + 1] * 3;
		uint64_t *t = a;
		a = b;
		b = t;
		if (r % 64 == 0) {
			pthread_mutex_lock(&lock);
			total += a[r % w->n];
			pthread_mutex_unlock(&lock);
		}
	}
	free(a);
	free(b);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long rounds = bench_arg(argc, argv, 1, 60000, 1UL << 40, USAGE);
	unsigned long threads = bench_arg(argc, argv, 2, 2, 256, USAGE);
	unsigned long n = bench_arg(argc, argv, 3, 4096, 1UL << 28, USAGE);
	struct worker *w = calloc(threads, sizeof *w);

	if (n < 3) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return 2;
	}
	if (!w)
		return 2;
	for (unsigned long t = 0; t < threads; t++) {
		w[t].rounds = rounds;
		w[t].n = n;
		w[t].seed = 0x9e3779b97f4a7c15ULL * (t + 1);
		bench_check(pthread_create(&w[t].thread, NULL, work, &w[t]), "pthread_create");
	}
	for (unsigned long t = 0; t < threads; t++)
		bench_check(pthread_join(w[t].thread, NULL), "pthread_join");
	printf("compute rounds=%lu threads=%lu elements=%lu checksum=%016" PRIx64 "\n", rounds,
	       threads, n, total);
	free(w);
	return 0;
}
