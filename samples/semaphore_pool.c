/*
 * Lesson, semaphores: a pool of 3 connections shared by 10 threads.  A counting semaphore
 * initialised to 3 lets at most three threads use the pool at once; the others wait in
 * sem_wait() until one of the three posts.  The program checks that no more than three
 * were ever inside.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <unistd.h>

#define POOL_SIZE 3
#define N_THREADS 10

static sem_t pool;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int inside, most_inside;

static void *use_connection(void *arg)
{
	sem_wait(&pool);                        /* take one of the three connections */
	pthread_mutex_lock(&stats_lock);
	if (++inside > most_inside)
		most_inside = inside;
	pthread_mutex_unlock(&stats_lock);

	usleep(20 * 1000);                      /* "use" it */

	pthread_mutex_lock(&stats_lock);
	inside--;
	pthread_mutex_unlock(&stats_lock);
	sem_post(&pool);                        /* give it back */
	return arg;
}

int main(void)
{
	pthread_t t[N_THREADS];

	sem_init(&pool, 0, POOL_SIZE);
	for (int i = 0; i < N_THREADS; i++)
		pthread_create(&t[i], NULL, use_connection, NULL);
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(t[i], NULL);
	sem_destroy(&pool);
	printf("at most %d of %d threads used the pool at once (limit %d)\n", most_inside,
	       N_THREADS, POOL_SIZE);
	return most_inside <= POOL_SIZE ? 0 : 1;
}
