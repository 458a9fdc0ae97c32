/*
 * Lesson, the shared counter, fixed with a mutex: each counter += 1 holds the lock, so no
 * update is lost and the total is always 2000.
 *
 * Run:      lockwatch run -- build/samples/locked_counter
 * Expected: no finding (exit status 0).
 */
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 1000

long counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *count(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter += 1;
		pthread_mutex_unlock(&lock);
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
