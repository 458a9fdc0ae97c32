/* Hook mode: a spin lock built of C11 atomics (a compare-and-swap loop to take it, a release
 * store to give it back) guards a counter: race-free.  The holder sleeps inside the lock now
 * and then, so the others spin for milliseconds at a time. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#define THREADS 3
#define ROUNDS  200

static atomic_int word;
static long counter;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		int expected = 0;
		while (!atomic_compare_exchange_weak_explicit(&word, &expected, 1,
							      memory_order_acquire,
							      memory_order_relaxed))
			expected = 0;
		counter++;
		if (i % 50 == 0)
			usleep(2000);
		atomic_store_explicit(&word, 0, memory_order_release);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("counter %ld\n", counter);
	return counter == THREADS * ROUNDS ? 0 : 1;
}
