/*
 * Lesson, barriers: a start barrier for two threads, main and one worker.  main decides to
 * give up and destroys the barrier instead of waiting on it, while the worker waits there
 * for the round main will never complete.  glibc's pthread_barrier_destroy waits for the
 * round to end, so the program hangs for ever (had the worker come a little later, it would
 * wait on a destroyed barrier, and hang the same).
 *
 * Expected: an error-level misuse (the barrier destroyed while a thread waits on it, or a
 * wait on it after its destroy) and an error-level deadlock: every thread is blocked, and
 * lockwatch ends the process instead of letting it hang; `lockwatch run` exits 66.  The fix:
 * barrier_destroy_after_round.c.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

static pthread_barrier_t start;
static sem_t arriving;

static void *worker(void *arg)
{
	sem_post(&arriving);
	pthread_barrier_wait(&start);
	return arg;
}

int main(void)
{
	pthread_t t;
	pthread_barrier_init(&start, NULL, 2);
	sem_init(&arriving, 0, 0);
	pthread_create(&t, NULL, worker, NULL);
	sem_wait(&arriving);
	pthread_barrier_destroy(&start);      /* the bug: the worker waits for main */
	pthread_join(t, NULL);
	puts("done");
	return 0;
}
