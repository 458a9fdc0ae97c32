/* A release/acquire hand-off on the heap and a relaxed statistic (issue 20): race-free in C11,
 * but x86 compiles every one of these atomics to a plain mov.  The collider may catch two of
 * those moves together; it must never call that an error. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
struct box { long data; atomic_int ready; atomic_long stat; };
static void *producer(void *arg)
{
	struct box *b = arg;
	for (int r = 0; r < 200000; r++)
		atomic_store_explicit(&b->stat, r, memory_order_relaxed);
	b->data = 42;
	atomic_store_explicit(&b->ready, 1, memory_order_release);
	return NULL;
}
static void *consumer(void *arg)
{
	struct box *b = arg;
	long seen = 0;
	while (!atomic_load_explicit(&b->ready, memory_order_acquire))
		seen += atomic_load_explicit(&b->stat, memory_order_relaxed) & 1;
	printf("%ld %ld\n", b->data, seen > -1 ? 0L : 1L);
	return NULL;
}
int main(void)
{
	struct box *b = calloc(1, sizeof *b);
	pthread_t p, c;
	pthread_create(&c, NULL, consumer, b);
	pthread_create(&p, NULL, producer, b);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	free(b);
	return 0;
}
