/*
 * Lesson, deadlock: three threads, three locks, each thread takes its own lock and then its
 * neighbour's.  With the sleeps, all three hold one lock and wait for the next: a real
 * three-way deadlock.  Without lockwatch this program hangs forever.
 *
 * Expected: lockwatch ends it within about a second with an error-level deadlock finding
 * naming all three threads and locks, and `lockwatch run` exits 66.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t lock_x = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_y = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_z = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *locks[3] = { &lock_x, &lock_y, &lock_z };

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	pthread_mutex_lock(locks[i]);
	usleep(100000);
	pthread_mutex_lock(locks[(i + 1) % 3]);
	pthread_mutex_unlock(locks[(i + 1) % 3]);
	pthread_mutex_unlock(locks[i]);
	return NULL;
}

int main(void)
{
	pthread_t t[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	puts("not reached: the workers deadlock");
	return 0;
}
