/* A completion semaphore per request: the requester inits it to 0, hands the request to a
 * worker, waits on it and destroys it; the worker posts it.  After each request the
 * requester takes the mutex `stats`.  usage: sem_requests REQUESTS.  Prints the total;
 * exit status 0. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

struct request {
	unsigned long in, out;
	sem_t done;
};

static sem_t work;
static struct request *slot;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static unsigned long requests, total;

static void *worker(void *arg)
{
	for (unsigned long n = 0; n < requests; n++) {
		while (sem_wait(&work) != 0)
			;
		struct request *r = slot;
		r->out = r->in * 3 + 1;
		sem_post(&r->done);
	}
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t w;

	requests = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	sem_init(&work, 0, 0);
	pthread_create(&w, NULL, worker, NULL);
	for (unsigned long n = 0; n < requests; n++) {
		struct request r = { .in = n };

		sem_init(&r.done, 0, 0);
		slot = &r;
		sem_post(&work);
		while (sem_wait(&r.done) != 0)
			;
		sem_destroy(&r.done);
		pthread_mutex_lock(&stats);
		total += r.out;
		pthread_mutex_unlock(&stats);
	}
	pthread_join(w, NULL);
	sem_destroy(&work);
	printf("total %lu\n", total);
	return 0;
}
