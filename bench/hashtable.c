/* A hash table with a lock embedded in each bucket: the shape of a server's object cache. */
/*
 * usage: hashtable [operations] [threads] [buckets]
 *
 * A table of `buckets` buckets (default 4096), each a mutex beside its chain head, in one
 * plain array.  Each of `threads` threads (default 2) does `operations` operations (default
 * 2000000): a key from a per-thread xorshift PRNG over 65536 keys; under the key's bucket
 * lock, look it up and bump its count, or insert it (from the thread's own preallocated
 * pool) when absent.  Prints one checksum line: the sum over entries of key * count, which
 * depends on the arguments only.  Exit status 0, or 2 on a bad argument or a failed call.
 */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "hashtable [operations] [threads] [buckets]"
#define N_KEYS 65536u

struct entry {
	struct entry *next;
	uint32_t      key;
	uint64_t      count;
};

struct bucket {
	pthread_mutex_t lock;
	struct entry   *head;
};

struct worker {
	pthread_t     thread;
	uint64_t      seed;
	unsigned long ops;
	struct entry *pool;
	unsigned long used;
};

static struct bucket *table;
static unsigned long n_buckets;

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t x = w->seed;

	for (unsigned long n = 0; n < w->ops; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t key = (uint32_t)(x >> 20) % N_KEYS;
		struct bucket *b = &table[(key * 2654435761u) % n_buckets];
		pthread_mutex_lock(&b->lock);
		struct entry *e = b->head;
		while (e && e->key != key)
			e = e->next;
		if (e) {
			e->count++;
		} else {
			e = &w->pool[w->used++];
			e->key = key;
			e->count = 1;
			e->next = b->head;
			b->head = e;
		}
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long ops = bench_arg(argc, argv, 1, 2000000, 1UL << 40, USAGE);
	unsigned long threads = bench_arg(argc, argv, 2, 2, 64, USAGE);
	n_buckets = bench_arg(argc, argv, 3, 4096, 1UL << 24, USAGE);
	struct worker w[64];
	uint64_t checksum = 0;

	table = calloc(n_buckets, sizeof(*table));
	if (table == NULL) {
		fprintf(stderr, "hashtable: out of memory\n");
		return 2;
	}
	for (unsigned long k = 0; k < n_buckets; k++)
		bench_check(pthread_mutex_init(&table[k].lock, NULL), "pthread_mutex_init");
	for (unsigned long t = 0; t < threads; t++) {
		w[t].seed = 0x9e3779b97f4a7c15ULL * (t + 1);
		w[t].ops = ops;
		w[t].used = 0;
		/* At most N_KEYS distinct keys: a thread never inserts more. */
		w[t].pool = calloc(ops < N_KEYS ? ops : N_KEYS, sizeof(struct entry));
		if (w[t].pool == NULL) {
			fprintf(stderr, "hashtable: out of memory\n");
			return 2;
		}
		bench_check(pthread_create(&w[t].thread, NULL, work, &w[t]), "pthread_create");
	}
	for (unsigned long t = 0; t < threads; t++)
		bench_check(pthread_join(w[t].thread, NULL), "pthread_join");
	for (unsigned long k = 0; k < n_buckets; k++) {
		for (struct entry *e = table[k].head; e; e = e->next)
			checksum += (uint64_t)e->key * e->count;
		pthread_mutex_destroy(&table[k].lock);
	}
	printf("hashtable operations=%lu threads=%lu buckets=%lu checksum=%016" PRIx64 "\n", ops,
	       threads, n_buckets, checksum);
	for (unsigned long t = 0; t < threads; t++)
		free(w[t].pool);
	free(table);
	return 0;
}
