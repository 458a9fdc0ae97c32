/* Test program: thousands of threads.  argv[1] (default 5000) joinable threads, created and
 * joined in batches by four creator threads, each taking a nested pair of locks; then 500
 * detached threads, whose end is awaited through a counter.  Exits 0 when every thread
 * ran. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER, inner = PTHREAD_MUTEX_INITIALIZER;
static long ran;
static int detached_done;

static void *work(void *arg)
{
	pthread_mutex_lock(&outer);
	pthread_mutex_lock(&inner);
	__atomic_add_fetch(&ran, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&inner);
	pthread_mutex_unlock(&outer);
	return arg;
}

static void *detached(void *arg)
{
	work(arg);
	__atomic_add_fetch(&detached_done, 1, __ATOMIC_SEQ_CST);
	return arg;
}

/* Creates and joins its share of the threads in batches of 25: four creators at once, so
 * that new threads often start (and claim the shim's per-thread state) together. */
static void *creator(void *arg)
{
	int n = (int)(long)arg;
	pthread_t t[25];
	for (int done = 0; done < n; done += 25) {
		int k = n - done < 25 ? n - done : 25;
		for (int i = 0; i < k; i++)
			if (pthread_create(&t[i], NULL, work, NULL) != 0)
				abort();
		for (int i = 0; i < k; i++)
			pthread_join(t[i], NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5000;
	pthread_t c[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&c[i], NULL, creator, (void *)(long)(n / 4 + (i < n % 4)));
	for (int i = 0; i < 4; i++)
		pthread_join(c[i], NULL);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 500; i++) {
		pthread_t d;
		if (pthread_create(&d, &attr, detached, NULL) != 0)
			return 1;
		if (i % 50 == 49)
			while (__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST) < i + 1)
				sched_yield();
	}
	while (__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST) < 500)
		sched_yield();
	printf("many_threads: %ld\n", ran);
	return ran == n + 500 ? 0 : 1;
}
