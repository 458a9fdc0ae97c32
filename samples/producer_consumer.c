/*
 * Lesson, producer-consumer: a bounded queue (capacity 5) between two producers and two
 * consumers.  A full queue makes producers wait, an empty one makes consumers wait (one
 * mutex, two condition variables).  When the producers are done, main puts one poison pill
 * per consumer in the queue: a consumer that takes a pill stops.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <stdio.h>

#define CAPACITY      5
#define N_PRODUCERS   2
#define N_CONSUMERS   2
#define ITEMS_EACH    200
#define POISON_PILL   (-1)

struct queue {
	int items[CAPACITY];
	int head, count;
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
};

static struct queue q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.not_full = PTHREAD_COND_INITIALIZER,
	.not_empty = PTHREAD_COND_INITIALIZER,
};

static void put(struct queue *qu, int item)
{
	pthread_mutex_lock(&qu->lock);
	while (qu->count == CAPACITY)
		pthread_cond_wait(&qu->not_full, &qu->lock);
	qu->items[(qu->head + qu->count) % CAPACITY] = item;
	qu->count++;
	pthread_cond_signal(&qu->not_empty);
	pthread_mutex_unlock(&qu->lock);
}

static int get(struct queue *qu)
{
	int item;

	pthread_mutex_lock(&qu->lock);
	while (qu->count == 0)
		pthread_cond_wait(&qu->not_empty, &qu->lock);
	item = qu->items[qu->head];
	qu->head = (qu->head + 1) % CAPACITY;
	qu->count--;
	pthread_cond_signal(&qu->not_full);
	pthread_mutex_unlock(&qu->lock);
	return item;
}

static void *producer(void *arg)
{
	for (int i = 1; i <= ITEMS_EACH; i++)
		put(&q, i);
	return arg;
}

static void *consumer(void *arg)
{
	long *consumed = arg;

	for (;;) {
		int item = get(&q);
		if (item == POISON_PILL)
			break;
		(*consumed)++;
	}
	return NULL;
}

int main(void)
{
	pthread_t prod[N_PRODUCERS], cons[N_CONSUMERS];
	long consumed[N_CONSUMERS] = { 0 };
	long total = 0;

	for (int i = 0; i < N_CONSUMERS; i++)
		pthread_create(&cons[i], NULL, consumer, &consumed[i]);
	for (int i = 0; i < N_PRODUCERS; i++)
		pthread_create(&prod[i], NULL, producer, NULL);
	for (int i = 0; i < N_PRODUCERS; i++)
		pthread_join(prod[i], NULL);
	for (int i = 0; i < N_CONSUMERS; i++)
		put(&q, POISON_PILL);           /* one pill per consumer */
	for (int i = 0; i < N_CONSUMERS; i++) {
		pthread_join(cons[i], NULL);
		total += consumed[i];
	}
	printf("consumed %ld of %d items\n", total, N_PRODUCERS * ITEMS_EACH);
	return total == N_PRODUCERS * ITEMS_EACH ? 0 : 1;
}
