/*
 * Lesson, exercise 2: three producers put the numbers 1..1000 each into a shared bounded
 * buffer; two consumers take them out and add them up.  The buffer is the classic
 * semaphore version: `empty` counts free slots, `full` counts filled ones, and a mutex
 * guards the indexes.  The semaphores are signals (one thread waits, another posts), not
 * locks, so they must not look like a lock-order cycle.  The total must be 3 * 500500.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define N_PRODUCERS 3
#define N_CONSUMERS 2
#define PER_PRODUCER 1000
#define SLOTS 8
#define DONE 0                                  /* a consumer stops on it */

static int buffer[SLOTS];
static int in, out;
static sem_t empty, full;
static pthread_mutex_t indexes = PTHREAD_MUTEX_INITIALIZER;

static void put(int v)
{
	sem_wait(&empty);
	pthread_mutex_lock(&indexes);
	buffer[in] = v;
	in = (in + 1) % SLOTS;
	pthread_mutex_unlock(&indexes);
	sem_post(&full);
}

static int take(void)
{
	int v;

	sem_wait(&full);
	pthread_mutex_lock(&indexes);
	v = buffer[out];
	out = (out + 1) % SLOTS;
	pthread_mutex_unlock(&indexes);
	sem_post(&empty);
	return v;
}

static void *producer(void *arg)
{
	for (int i = 1; i <= PER_PRODUCER; i++)
		put(i);
	return arg;
}

static void *consumer(void *arg)
{
	long *sum = arg;

	for (int v; (v = take()) != DONE;)
		*sum += v;
	return NULL;
}

int main(void)
{
	pthread_t p[N_PRODUCERS], c[N_CONSUMERS];
	long sums[N_CONSUMERS] = { 0 }, total = 0;
	long expected = (long)N_PRODUCERS * PER_PRODUCER * (PER_PRODUCER + 1) / 2;

	sem_init(&empty, 0, SLOTS);
	sem_init(&full, 0, 0);
	for (int i = 0; i < N_CONSUMERS; i++)
		pthread_create(&c[i], NULL, consumer, &sums[i]);
	for (int i = 0; i < N_PRODUCERS; i++)
		pthread_create(&p[i], NULL, producer, NULL);
	for (int i = 0; i < N_PRODUCERS; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < N_CONSUMERS; i++)
		put(DONE);
	for (int i = 0; i < N_CONSUMERS; i++) {
		pthread_join(c[i], NULL);
		total += sums[i];
	}
	sem_destroy(&full);
	sem_destroy(&empty);
	printf("total %ld (expected %ld)\n", total, expected);
	return total == expected ? 0 : 1;
}
