/*
 * Lesson, barriers: a phase barrier set up by a start() function that the program calls once
 * per batch.  The second call initialises the barrier again without destroying it first:
 * undefined behaviour (POSIX), harmless-looking in this run.
 *
 * Expected: an error-level misuse, "initialised barrier phase again, which was initialised
 * and not destroyed", with the stack of the second init and that of the first; `lockwatch
 * run` exits 66.  The fix: barrier_reinit_fixed.c.
 */
#include <pthread.h>
#include <stdio.h>

#define WORKERS 3

static pthread_barrier_t phase;

static void *worker(void *arg)
{
	pthread_barrier_wait(&phase);   /* everyone ready */
	return arg;
}

static void start(void)
{
	pthread_barrier_init(&phase, NULL, WORKERS + 1);   /* the bug: no destroy before */
}

static void batch(void)
{
	pthread_t t[WORKERS];
	start();
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	pthread_barrier_wait(&phase);
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
