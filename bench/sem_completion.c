/* Semaphores: a completion semaphore per request, posted by a worker. */
/*
 * usage: sem_completion [requests]
 *
 * Two requester threads each send `requests` requests (default 50000) to one worker thread.
 * A request lives on its requester's stack with its own semaphore (sem_init to 0); the
 * requester pushes it on a list under the mutex `queue_lock`, posts the counting semaphore
 * `work`, waits on the request's semaphore, destroys it, and adds the result to a total
 * under the mutex `stats`.  The worker waits on `work`, pops a request under `queue_lock`,
 * computes and posts the request's semaphore: signalling, posted by a thread that did not
 * wait on it.  Prints one checksum line.  Exit status 0, or 2 on a bad argument or a failed
 * call.
 */
#include <pthread.h>
#include <semaphore.h>
#include "bench_common.h"

#define USAGE "sem_completion [requests]"
#define REQUESTERS 2

struct request {
	struct request *next;
	uint64_t in, out;
	sem_t done;
};

static sem_t work;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static struct request *pending;
static unsigned long requests;
static uint64_t total;

static void *worker(void *arg)
{
	for (unsigned long n = 0; n < REQUESTERS * requests; n++) {
		while (sem_wait(&work) != 0)
			;
		pthread_mutex_lock(&queue_lock);
		struct request *r = pending;
		pending = r->next;
		pthread_mutex_unlock(&queue_lock);
		r->out = r->in * 2654435761u + 1;
		sem_post(&r->done);
	}
	return arg;
}

static void *requester(void *arg)
{
	uint64_t base = (uintptr_t)arg;

	for (unsigned long n = 0; n < requests; n++) {
		struct request r = { .in = base + n };

		if (sem_init(&r.done, 0, 0) != 0) {
			perror("sem_init");
			exit(2);
		}
		pthread_mutex_lock(&queue_lock);
		r.next = pending;
		pending = &r;
		pthread_mutex_unlock(&queue_lock);
		sem_post(&work);
		while (sem_wait(&r.done) != 0)
			;
		sem_destroy(&r.done);
		pthread_mutex_lock(&stats);
		total += r.out;
		pthread_mutex_unlock(&stats);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t w, q[REQUESTERS];

	requests = bench_arg(argc, argv, 1, 50000, 1UL << 40, USAGE);
	if (sem_init(&work, 0, 0)) {
		perror("sem_init");
		return 2;
	}
	bench_check(pthread_create(&w, NULL, worker, NULL), "pthread_create");
	for (uintptr_t i = 0; i < REQUESTERS; i++)
		bench_check(pthread_create(&q[i], NULL, requester, (void *)(i << 40)),
			    "pthread_create");
	for (int i = 0; i < REQUESTERS; i++)
		bench_check(pthread_join(q[i], NULL), "pthread_join");
	bench_check(pthread_join(w, NULL), "pthread_join");
	sem_destroy(&work);
	printf("sem_completion requests=%lu checksum=%016" PRIx64 "\n", requests, total);
	return 0;
}
