/*
 * Lesson, condition variables: a condition variable destroyed while a thread still waits on
 * it.  The worker waits for `ready`; main forgets to set it and signal, and destroys the
 * condition variable.  glibc's pthread_cond_destroy waits for the waiters to wake, so the
 * program hangs for ever.
 *
 * Expected: lockwatch reports the misuse (destroyed while threads were waiting on it), sees
 * that every thread is blocked (the worker in its wait, main in the destroy), ends the process
 * with an error-level deadlock (a hang), and `lockwatch run` exits 66.
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
		int w = waiting;
		pthread_mutex_unlock(&lock);
		if (w)
			break;
		sched_yield();
	}
	pthread_cond_destroy(&cond);         /* the bug: ready = 1 and a signal first */
	pthread_join(t, NULL);
	puts("done");
	return 0;
}
