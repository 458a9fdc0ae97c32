/* Thread cancellation as worker pools use it to shut down: workers wait on a condition
 * variable (a cancellation point) with a cleanup handler that releases the mutex, which
 * pthread_cond_wait has taken back when a cancelled thread runs its handlers; others are
 * cancelled inside a read() or while sleeping with no lock held, or with cancellation
 * deferred around a critical section.  The main thread cancels and joins them all. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define WAITERS 4

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static int waiting, jobs, done_jobs;
static int pipefd[2];

static void unlock_m(void *arg)
{
	pthread_mutex_unlock(&m);
}

static void *waiter(void *arg)
{
	pthread_mutex_lock(&m);
	pthread_cleanup_push(unlock_m, NULL);
	for (;;) {
		waiting++;
		pthread_cond_broadcast(&work_ready);
		while (jobs == 0)
			pthread_cond_wait(&work_ready, &m);   /* cancelled here, holding m again */
		waiting--;
		jobs--;
		pthread_mutex_lock(&stats);
		done_jobs++;
		pthread_mutex_unlock(&stats);
	}
	pthread_cleanup_pop(1);
	return NULL;
}

static void *reader(void *arg)
{
	char c;
	for (;;) {
		int old;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		pthread_mutex_lock(&stats);
		done_jobs += 0;
		pthread_mutex_unlock(&stats);
		pthread_setcancelstate(old, NULL);
		if (read(pipefd[0], &c, 1) <= 0)              /* cancelled here, no lock held */
			return NULL;
	}
}

int main(void)
{
	pthread_t w[WAITERS], r;
	if (pipe(pipefd) != 0)
		return 1;
	for (int i = 0; i < WAITERS; i++)
		pthread_create(&w[i], NULL, waiter, NULL);
	pthread_create(&r, NULL, reader, NULL);

	pthread_mutex_lock(&m);
	for (int round = 0; round < 50; round++) {
		while (waiting < WAITERS || jobs > 0)
			pthread_cond_wait(&work_ready, &m);
		jobs = 2;
		pthread_cond_broadcast(&work_ready);
	}
	while (waiting < WAITERS || jobs > 0)
		pthread_cond_wait(&work_ready, &m);
	pthread_mutex_unlock(&m);

	int cancelled = 0;
	for (int i = 0; i < WAITERS; i++) {
		void *res;
		pthread_cancel(w[i]);
		pthread_join(w[i], &res);
		cancelled += res == PTHREAD_CANCELED;
	}
	void *res;
	pthread_cancel(r);
	pthread_join(r, &res);
	cancelled += res == PTHREAD_CANCELED;
	pthread_mutex_lock(&m);                               /* free again: handlers ran */
	pthread_mutex_unlock(&m);
	printf("cancel: jobs done %d, threads cancelled %d\n", done_jobs, cancelled);
	return 0;
}
