/*
 * Lesson, barriers, the fix for barrier_destroy_waited.c: main takes its part in the round,
 * and destroys the barrier once the worker, joined, can no longer be in it.
 *
 * Expected: clean.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

static pthread_barrier_t start;
static sem_t arriving;

static void *worker(void *arg)
{
	sem_post(&arriving);
	pthread_barrier_wait(&start);
	return arg;
}

int main(void)
{
	pthread_t t;
	pthread_barrier_init(&start, NULL, 2);
	sem_init(&arriving, 0, 0);
	pthread_create(&t, NULL, worker, NULL);
	sem_wait(&arriving);
	pthread_barrier_wait(&start);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&start);
	puts("done");
	return 0;
}
