/* Hook mode: race-free, and long enough to fill a small trace.  Two threads take random
 * ascending pairs of 8 mutexes and add to the counter each protects, ROUNDS times each
 * (argv[1], default 20000).  Run with max_trace_mb=1, the shim must stop writing when the
 * trace is full rather than let one thread write on into its chunk while the other's records
 * (its releases among them) are dropped, which made the analyzer report a data race on the
 * counters. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SLOTS 8

static struct {
	pthread_mutex_t lock;
	long counter;
} slots[SLOTS];
static long rounds = 20000;

static void *work(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;

	for (long n = 0; n < rounds; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned i = (unsigned)(x % SLOTS), j = (unsigned)((x >> 32) % SLOTS);
		if (i == j)
			j = (j + 1) % SLOTS;
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
	pthread_t t[2];
	long sum = 0;

	if (argc > 1)
		rounds = atol(argv[1]);
	for (int i = 0; i < SLOTS; i++)
		pthread_mutex_init(&slots[i].lock, NULL);
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, work, (void *)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SLOTS; i++)
		sum += slots[i].counter;
	printf("sum %ld (expected %ld)\n", sum, 2 * 3 * rounds);
	return sum == 2 * 3 * rounds ? 0 : 1;
}
