/*
 * Lesson, the shared counter, fixed with a C11 atomic: atomic_fetch_add is one indivisible
 * read-modify-write (a LOCK-prefixed instruction on x86-64), so no update is lost and the
 * total is always 2000, without a lock.
 *
 * Run:      lockwatch run -- build/samples/atomic_counter
 * Expected: no finding (exit status 0): lockwatch sees that the watched instruction is
 * atomic, and atomic accesses do not race.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define ROUNDS 1000

atomic_long counter;

static void *count(void *arg)
{
	for (int i = 0; i < ROUNDS; i++)
		atomic_fetch_add(&counter, 1);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, count, NULL);
	pthread_create(&t2, NULL, count, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("counter: %ld (expected %d)\n", atomic_load(&counter), 2 * ROUNDS);
	return 0;
}
