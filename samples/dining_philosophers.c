/*
 * Lesson, deadlock: five philosophers, five forks.  Each takes the fork on the left, then
 * the one on the right.  Here they eat one after another (each waits for the previous to
 * finish), so this run ends; but if all five picked up their left fork at once, each would
 * wait for the right one forever: the lock-order graph is a 5-cycle.
 *
 * Expected: one error-level lock-order-cycle through fork_0 ... fork_4.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define N 5

static pthread_mutex_t fork_0 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fork_1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fork_2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fork_3 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fork_4 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *forks[N] = { &fork_0, &fork_1, &fork_2, &fork_3, &fork_4 };
static sem_t turn[N];                    /* the staggering: philosopher i eats after i-1 */
static int meals[N];

static void *philosopher(void *arg)
{
	int i = (int)(long)arg;
	sem_wait(&turn[i]);
	pthread_mutex_lock(forks[i]);            /* left */
	pthread_mutex_lock(forks[(i + 1) % N]);  /* right */
	meals[i]++;
	pthread_mutex_unlock(forks[(i + 1) % N]);
	pthread_mutex_unlock(forks[i]);
	if (i + 1 < N)
		sem_post(&turn[i + 1]);
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	for (int i = 0; i < N; i++)
		sem_init(&turn[i], 0, i == 0);
	for (long i = 0; i < N; i++)
		pthread_create(&t[i], NULL, philosopher, (void *)i);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	printf("meals: %d %d %d %d %d\n", meals[0], meals[1], meals[2], meals[3], meals[4]);
	return 0;
}
