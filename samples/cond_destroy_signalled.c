/*
 * Lesson, condition variables, the fix: the same worker, and main sets `ready` and signals
 * before it destroys the condition variable.  The worker has been woken, though it may not
 * have returned from its wait yet when the destroy runs: glibc's destroy waits for it, and
 * that is correct use.
 *
 * Expected: clean, in every run.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static int waiting, ready;

static void *worker(void *arg)
{
	pthread_mutex_lock(&lock);
	waiting = 1;
	while (!ready)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return arg;
}

int main(void)
{
	pthread_t t;
	pthread_cond_init(&cond, NULL);
	pthread_create(&t, NULL, worker, NULL);
	for (;;) {                   /* until the worker waits (it releases the lock there) */
		pthread_mutex_lock(&lock);
		if (waiting)
			break;
		pthread_mutex_unlock(&lock);
		sched_yield();
	}
	ready = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&cond);         /* the worker was woken: nobody waits any more */
	pthread_join(t, NULL);
	puts("done");
	return 0;
}
