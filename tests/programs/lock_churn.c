/* Many heap locks created and destroyed across threads, the way OpenSSL does it (issue 18):
 * each thread, in rounds, allocates objects of a size that changes from round to round, each
 * with a rwlock and some with a mutex, takes them, destroys them, reallocs some and
 * initialises a lock again in the moved block, and frees them.  Over the run, tens of
 * thousands of distinct heap addresses hold a lock, a few thousand at a time, in one malloc
 * arena per thread (glibc aligns the arenas to 64 MB, so the threads' locks lie at the same
 * offsets).  Correct: no lock table full, no finding.
 *
 * With "invert" as fourth argument, thread 0 then initialises two mutexes in its churned
 * heap, and two more threads take them in opposite orders, the second 100 ms later (so that
 * this run does not hang): one lock-order inversion, which must still be found among the
 * taken-again table slots.
 *
 * Usage: lock_churn [threads [rounds [objects [invert]]]] (default 4 24 2000). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int rounds = 24, objects = 2000;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long total;
static int invert;
static pthread_mutex_t *pair[2];

struct obj {
	pthread_rwlock_t rw;
	pthread_mutex_t m;           /* initialised in some objects only */
	unsigned long value;
};

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct obj **o = calloc((size_t)objects, sizeof *o);
	unsigned long sum = 0;
	if (!o)
		return NULL;
	for (int r = 0; r < rounds; r++) {
		/* Sizes from 96 to 464 bytes, another order in each thread, and a lock that is
		 * not always at the start of its block. */
		size_t size = 96 + 16 * (size_t)((r * 7 + id * 5) % 24);
		size_t off = (size_t)(r % 3) * 16;
		for (int i = 0; i < objects; i++) {
			char *block = malloc(size + off);
			if (!block)
				abort();
			o[i] = (struct obj *)(void *)(block + off);
			pthread_rwlock_init(&o[i]->rw, NULL);
			if (i % 3 == 0)
				pthread_mutex_init(&o[i]->m, NULL);
			o[i]->value = (unsigned long)i;
		}
		for (int i = 0; i < objects; i++) {
			pthread_rwlock_wrlock(&o[i]->rw);
			o[i]->value += (unsigned long)r;
			pthread_rwlock_unlock(&o[i]->rw);
			pthread_rwlock_rdlock(&o[i]->rw);
			sum += o[i]->value;
			if (i % 3 == 0) {
				pthread_mutex_lock(&o[i]->m);
				o[i]->value++;
				pthread_mutex_unlock(&o[i]->m);
			}
			pthread_rwlock_unlock(&o[i]->rw);
		}
		for (int i = 0; i < objects; i++) {
			char *block = (char *)o[i] - off;
			pthread_rwlock_destroy(&o[i]->rw);
			if (i % 3 == 0)
				pthread_mutex_destroy(&o[i]->m);
			if (i % 4 == 1) {
				/* Moved, and a lock initialised again in the new block. */
				char *moved = realloc(block, size + off + 512);
				if (!moved)
					abort();
				struct obj *n = (struct obj *)(void *)(moved + off);
				pthread_mutex_init(&n->m, NULL);
				pthread_mutex_lock(&n->m);
				sum += n->value;
				pthread_mutex_unlock(&n->m);
				pthread_mutex_destroy(&n->m);
				block = moved;
			}
			free(block);
		}
	}
	free(o);
	if (invert && id == 0) {
		for (int i = 0; i < 2; i++) {
			pair[i] = malloc(sizeof *pair[i]);
			if (!pair[i])
				abort();
			pthread_mutex_init(pair[i], NULL);
		}
	}
	pthread_mutex_lock(&total_lock);
	total += sum;
	pthread_mutex_unlock(&total_lock);
	return NULL;
}

static void *take_pair(void *arg)
{
	int first = (int)(uintptr_t)arg;
	if (first) {
		struct timespec later = { 0, 100 * 1000 * 1000 };
		nanosleep(&later, NULL);
	}
	pthread_mutex_lock(pair[first]);
	pthread_mutex_lock(pair[!first]);
	pthread_mutex_unlock(pair[!first]);
	pthread_mutex_unlock(pair[first]);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	if (argc > 2)
		rounds = atoi(argv[2]);
	if (argc > 3)
		objects = atoi(argv[3]);
	invert = argc > 4 && !strcmp(argv[4], "invert");
	if (threads < 1 || threads > 64 || rounds < 1 || objects < 1)
		return 2;
	pthread_t t[64];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) != 0)
			return 1;
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	pthread_t p[2];
	for (int i = 0; invert && i < 2; i++)
		if (pthread_create(&p[i], NULL, take_pair, (void *)(uintptr_t)i) != 0)
			return 1;
	for (int i = 0; invert && i < 2; i++)
		pthread_join(p[i], NULL);
	printf("lock_churn: %d threads, %d rounds of %d objects, sum %lu\n", threads, rounds,
	       objects, total);
	return 0;
}
