/*
 * Lesson, the shared counter, annotated: race_counter.c with <lockwatch.h> marking the
 * load and the store that counter += 1 is made of.
 *
 * Run:      lockwatch run -- build/samples/race_counter_annotated
 * Expected: an error-level data-race on counter.
 */
#include <lockwatch.h>
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 1000

long counter;

static void *count(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		LW_READ(&counter);
		counter += 1;
		LW_WRITE(&counter);
	}
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
