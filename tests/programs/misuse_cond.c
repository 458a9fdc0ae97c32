/* Condition-variable misuse and its correct counterparts (issue 22), one scenario per run:
 *   destroy-waited     a condvar destroyed while a thread is blocked on it (glibc's destroy
 *                      then blocks for ever: the watchdog must end the hang)
 *   destroy-signalled  destroyed after a signal woke its only waiter (clean)
 *   destroy-broadcast  destroyed after a broadcast woke its three waiters (clean)
 *   destroy-signals    destroyed after one signal per waiter, three waiters (clean)
 *   two-mutexes        two threads wait on one condvar with different mutexes at once
 *   one-mutex          two threads wait on one condvar with the same mutex (clean)
 * No sleeps: every step waits for a state the program can see. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

static pthread_cond_t cv;
static pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static int waiting1, waiting2, go;   /* under m1 (waiting1, go) or m2 (waiting2, go) */

/* Waits on cv with m until go, having said (under m) that it waits. */
static void wait_for_go(pthread_mutex_t *m, int *waiting)
{
	pthread_mutex_lock(m);
	(*waiting)++;
	while (!go)
		pthread_cond_wait(&cv, m);
	(*waiting)--;
	pthread_mutex_unlock(m);
}

static void *waiter1(void *arg)
{
	if (arg)
		pthread_barrier_wait(&start);
	wait_for_go(&m1, &waiting1);
	return NULL;
}

static void *waiter2(void *arg)
{
	if (arg)
		pthread_barrier_wait(&start);
	wait_for_go(&m2, &waiting2);
	return NULL;
}

/* Returns with m held once n threads wait on cv with it (they set *waiting under m, and
 * release m only inside the wait). */
static void until_waiting(pthread_mutex_t *m, int *waiting, int n)
{
	for (;;) {
		pthread_mutex_lock(m);
		if (*waiting == n)
			return;
		pthread_mutex_unlock(m);
		sched_yield();
	}
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	pthread_t th[3];
	int n = 1;
	pthread_cond_init(&cv, NULL);
	if (!strcmp(what, "destroy-waited")) {
		pthread_create(&th[0], NULL, waiter1, NULL);
		until_waiting(&m1, &waiting1, 1);
		pthread_mutex_unlock(&m1);
		pthread_cond_destroy(&cv);            /* blocks for ever natively */
		puts("destroyed");
		return 0;
	}
	if (!strncmp(what, "destroy-", 8)) {
		if (strcmp(what, "destroy-signalled"))
			n = 3;
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, waiter1, NULL);
		until_waiting(&m1, &waiting1, n);
		go = 1;
		if (!strcmp(what, "destroy-broadcast"))
			pthread_cond_broadcast(&cv);
		else
			for (int i = 0; i < n; i++)
				pthread_cond_signal(&cv);
		pthread_mutex_unlock(&m1);
		/* The waiters were woken; they may not have left the wait yet. */
		pthread_cond_destroy(&cv);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		puts("done");
		return 0;
	}
	int two = !strcmp(what, "two-mutexes");
	if (!two && strcmp(what, "one-mutex")) {
		fprintf(stderr, "unknown scenario '%s'\n", what);
		return 2;
	}
	/* Both threads start waiting at the same moment. */
	pthread_barrier_init(&start, NULL, 2);
	pthread_create(&th[0], NULL, waiter1, &start);
	pthread_create(&th[1], NULL, two ? waiter2 : waiter1, &start);
	if (two) {
		until_waiting(&m1, &waiting1, 1);
		until_waiting(&m2, &waiting2, 1);
		go = 1;                           /* read under m1 or m2: both held here */
	} else {
		until_waiting(&m1, &waiting1, 2);
		go = 1;
	}
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m1);
	if (two)
		pthread_mutex_unlock(&m2);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	pthread_barrier_destroy(&start);
	pthread_cond_destroy(&cv);
	puts("done");
	return 0;
}
