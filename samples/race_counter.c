/*
 * Lesson, the shared counter: two threads each run counter += 1 a thousand times with no
 * lock.  The += is a load, an add and a store; two threads interleaving them lose updates,
 * so the total can come out below 2000.
 *
 * Run:      lockwatch run -- build/samples/race_counter
 * Expected: an error-level data-race on counter.
 */
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 1000

long counter;

static void *count(void *arg)
{
	for (int i = 0; i < ROUNDS; i++)
		counter += 1;
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, count, NULL);
	pthread_create(&t2, NULL, count, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("counter: %ld (expected %d)\n", counter, 2 * ROUNDS);
	return 0;
}
