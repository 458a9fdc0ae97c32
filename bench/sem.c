/* Semaphores: a ping-pong between two threads, and a binary semaphore used as a lock. */
/*
 * usage: sem [iterations]
 *
 * Thread A posts `ping` and waits on `pong`; thread B waits on `ping` and posts `pong`
 * (signalling: posted by the thread that did not wait).  Inside each step both threads also
 * take a binary semaphore `guard` with sem_wait/sem_post around a shared counter (a
 * semaphore used as a lock, which lockwatch records as SEM_LOCKLIKE), and take the mutex
 * `order` while holding it.  `iterations` steps (default 50000).  Prints one checksum
 * line.  Exit status 0, or 2 on a bad argument or a failed call.
 */
#include <pthread.h>
#include <semaphore.h>
#include "bench_common.h"

#define USAGE "sem [iterations]"

static sem_t ping, pong, guard;
static pthread_mutex_t order = PTHREAD_MUTEX_INITIALIZER;
static unsigned long iterations;
static uint64_t counter;

static void critical(uint64_t add)
{
	sem_wait(&guard);
	pthread_mutex_lock(&order);
	counter += add;
	pthread_mutex_unlock(&order);
	sem_post(&guard);
}

static void *pinger(void *arg)
{
	for (unsigned long n = 0; n < iterations; n++) {
		sem_post(&ping);
		critical(1);
		sem_wait(&pong);
	}
	return arg;
}

static void *ponger(void *arg)
{
	for (unsigned long n = 0; n < iterations; n++) {
		sem_wait(&ping);
		critical(2);
		sem_post(&pong);
	}
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	iterations = bench_arg(argc, argv, 1, 50000, 1UL << 40, USAGE);
	if (sem_init(&ping, 0, 0) || sem_init(&pong, 0, 0) || sem_init(&guard, 0, 1)) {
		perror("sem_init");
		return 2;
	}
	bench_check(pthread_create(&a, NULL, pinger, NULL), "pthread_create");
	bench_check(pthread_create(&b, NULL, ponger, NULL), "pthread_create");
	bench_check(pthread_join(a, NULL), "pthread_join");
	bench_check(pthread_join(b, NULL), "pthread_join");
	sem_destroy(&ping);
	sem_destroy(&pong);
	sem_destroy(&guard);
	printf("sem iterations=%lu checksum=%016" PRIx64 "\n", iterations, counter);
	return 0;
}
