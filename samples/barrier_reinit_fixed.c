/*
 * Lesson, barriers, the fix of barrier_reinit.c: each batch destroys its barrier once every
 * worker has passed it, so the next batch's init starts a new barrier.
 *
 * Expected: clean.
 */
#include <pthread.h>
#include <stdio.h>

#define WORKERS 3

static pthread_barrier_t phase;

static void *worker(void *arg)
{
	pthread_barrier_wait(&phase);
	return arg;
}

static void batch(void)
{
	pthread_t t[WORKERS];
	pthread_barrier_init(&phase, NULL, WORKERS + 1);
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	pthread_barrier_wait(&phase);
	pthread_barrier_destroy(&phase);   /* the round is complete: nobody waits on it */
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	batch();
	batch();
	puts("two batches done");
	return 0;
}
