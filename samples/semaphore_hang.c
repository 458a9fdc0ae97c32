/*
 * Lesson, semaphores: a request/reply hand-off where each side waits for the other to go
 * first.  The client waits for `reply` before posting `request`; the server waits for
 * `request` before posting `reply`.  Both wait forever; no lock is involved, so no lock-order
 * tool sees it.
 *
 * Expected: lockwatch notices that every thread is blocked and nothing can wake them, ends
 * the process with an error-level deadlock (a hang, with every thread's stack), and
 * `lockwatch run` exits 66.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

static sem_t request, reply;

static void *server(void *arg)
{
	sem_wait(&request);
	sem_post(&reply);
	return arg;
}

static void *client(void *arg)
{
	sem_wait(&reply);            /* the bug: should post request first */
	sem_post(&request);
	return arg;
}

int main(void)
{
	pthread_t s, c;
	sem_init(&request, 0, 0);
	sem_init(&reply, 0, 0);
	pthread_create(&s, NULL, server, NULL);
	pthread_create(&c, NULL, client, NULL);
	pthread_join(c, NULL);
	pthread_join(s, NULL);
	puts("not reached");
	return 0;
}
