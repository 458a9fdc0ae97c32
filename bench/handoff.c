/* Handoff: a producer and a consumer pass a 4 KiB buffer through one slot under a mutex. */
/*
 * usage: handoff [rounds] [bytes]
 *
 * The producer fills a buffer of its own with memset, waits (a condition variable) until
 * the slot is empty, copies the buffer into it with memcpy, and signals; the consumer waits
 * until the slot is full, copies it out with memcpy, and signals; `rounds` times (default
 * 20000), with buffers of `bytes` bytes (default 4096).  This is where a tool that watches
 * memory pays for bulk data handed between threads: every round copies the slot in and
 * out, under the lock.  Prints one checksum line.  Exit status 0, or 2 on a bad argument
 * or a failed call.
 */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "handoff [rounds] [bytes]"

static unsigned char *slot;
static size_t size;
static unsigned long rounds;
static int full;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg)
{
	unsigned char *buf = malloc(size);

	(void)arg;
	if (!buf) {
		fprintf(stderr, "handoff: out of memory\n");
		exit(2);
	}
	for (unsigned long r = 0; r < rounds; r++) {
		memset(buf, (int)(r & 0xff), size);
		buf[r % size] = (unsigned char)(r >> 8);
		pthread_mutex_lock(&lock);
		while (full)
			pthread_cond_wait(&changed, &lock);
		memcpy(slot, buf, size);
		full = 1;
		pthread_cond_signal(&changed);
		pthread_mutex_unlock(&lock);
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	uint64_t sum = 0;
	unsigned char *out;

	rounds = bench_arg(argc, argv, 1, 20000, 1UL << 40, USAGE);
	size = bench_arg(argc, argv, 2, 4096, 1UL << 24, USAGE);
	slot = malloc(size);
	out = malloc(size);
	if (!slot || !out)
		return 2;
	bench_check(pthread_create(&t, NULL, producer, NULL), "pthread_create");
	for (unsigned long r = 0; r < rounds; r++) {
		pthread_mutex_lock(&lock);
		while (!full)
			pthread_cond_wait(&changed, &lock);
		memcpy(out, slot, size);
		full = 0;
		pthread_cond_signal(&changed);
		pthread_mutex_unlock(&lock);
		sum = sum * 1099511628211ULL + out[r % size] + out[(r * 7) % size];
	}
	bench_check(pthread_join(t, NULL), "pthread_join");
	printf("handoff rounds=%lu bytes=%zu checksum=%016" PRIx64 "\n", rounds, size, sum);
	free(slot);
	free(out);
	return 0;
}
