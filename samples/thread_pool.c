/*
 * Lesson, thread pool: four worker threads serve a queue of tasks.  main submits 100 tasks,
 * waits until all are done, then shuts the pool down: it sets a flag and wakes every worker,
 * which see the flag and an empty queue and return.  One lock guards the queue, the results
 * and the flag; no task runs while it is held.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#define N_WORKERS 4
#define N_TASKS   100

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work_ready, all_done;
	int tasks[N_TASKS];
	int next, submitted, done;
	long results;
	bool shutting_down;
	pthread_t workers[N_WORKERS];
};

static struct pool pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work_ready = PTHREAD_COND_INITIALIZER,
	.all_done = PTHREAD_COND_INITIALIZER,
};

/* The task: the sum of squares 1..n. */
static long run_task(int n)
{
	long s = 0;

	for (long i = 1; i <= n; i++)
		s += i * i;
	return s;
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->next == p->submitted && !p->shutting_down)
			pthread_cond_wait(&p->work_ready, &p->lock);
		if (p->next == p->submitted) {          /* shutting down, nothing left */
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		int n = p->tasks[p->next++];
		pthread_mutex_unlock(&p->lock);

		long r = run_task(n);                   /* outside the lock */

		pthread_mutex_lock(&p->lock);
		p->results += r;
		if (++p->done == p->submitted)
			pthread_cond_signal(&p->all_done);
		pthread_mutex_unlock(&p->lock);
	}
}

static void submit(struct pool *p, int n)
{
	pthread_mutex_lock(&p->lock);
	p->tasks[p->submitted++] = n;
	pthread_cond_signal(&p->work_ready);
	pthread_mutex_unlock(&p->lock);
}

int main(void)
{
	long expected = 0;

	for (int i = 0; i < N_WORKERS; i++)
		pthread_create(&pool.workers[i], NULL, worker, &pool);
	for (int i = 0; i < N_TASKS; i++) {
		submit(&pool, i + 1);
		expected += run_task(i + 1);
	}
	pthread_mutex_lock(&pool.lock);
	while (pool.done < N_TASKS)
		pthread_cond_wait(&pool.all_done, &pool.lock);
	pool.shutting_down = true;
	pthread_cond_broadcast(&pool.work_ready);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < N_WORKERS; i++)
		pthread_join(pool.workers[i], NULL);
	printf("%d tasks done, results %ld (expected %ld)\n", pool.done, pool.results, expected);
	return pool.results == expected ? 0 : 1;
}
