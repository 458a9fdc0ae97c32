/* A barrier built of a mutex and semaphores (libgomp's old design): the last thread to arrive
 * waits once on `arrived` for each other thread, posts `release` once for each, and waits on
 * `left` until the last one has gone; the others post `arrived`, wait on `release`, and the
 * last to leave posts `left`.  A thread waits on `arrived` in the rounds it arrives last and
 * posts it in the others, so a semaphore it waited on is one it later posts: but the others
 * post it too, without waiting on it.  It signals; it is not a lock, and nothing here can
 * deadlock. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define THREADS 3
#define ROUNDS  20

static pthread_mutex_t enter = PTHREAD_MUTEX_INITIALIZER, leave = PTHREAD_MUTEX_INITIALIZER;
static sem_t arrived, release, left;
static unsigned count;
static long work[THREADS];

static void barrier_wait(void)
{
	pthread_mutex_lock(&enter);
	if (++count == THREADS) {
		unsigned n = --count;
		for (unsigned i = 0; i < n; i++)
			sem_wait(&arrived);
		for (unsigned i = 0; i < n; i++)
			sem_post(&release);
		sem_wait(&left);
		pthread_mutex_unlock(&enter);
	} else {
		pthread_mutex_unlock(&enter);
		sem_post(&arrived);
		sem_wait(&release);
		pthread_mutex_lock(&leave);
		unsigned n = --count;
		pthread_mutex_unlock(&leave);
		if (n == 0)
			sem_post(&left);
	}
}

static void *worker(void *arg)
{
	long me = (long)arg;
	for (int r = 0; r < ROUNDS; r++) {
		work[me] += r;
		barrier_wait();
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	sem_init(&arrived, 0, 0);
	sem_init(&release, 0, 0);
	sem_init(&left, 0, 0);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("%ld %ld %ld\n", work[0], work[1], work[2]);
	return 0;
}
