/* Data written and read only under one mutex by two threads: no race, every run (issue 21:
 * hook mode reported one in most runs).  The producer's first access to memory is its write
 * of `data`, inside its first critical section of a mutex the consumer already took; the
 * consumer reads `data` later, in a critical section of its own.  Then two other threads
 * count under the same mutex. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long flag;
static long data;
static long counter;

static void *producer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	data = 42;
	flag = 1;
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *consumer(void *arg)
{
	long seen = 0;
	while (!seen) {
		pthread_mutex_lock(&m);
		seen = flag;
		pthread_mutex_unlock(&m);
	}
	pthread_mutex_lock(&m);
	*(long *)arg = data;
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *count(void *arg)
{
	for (long i = 0; i < (long)arg; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100, v = 0;
	pthread_t t1, t2;
	pthread_create(&t1, NULL, consumer, &v);
	pthread_create(&t2, NULL, producer, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_create(&t1, NULL, count, (void *)n);
	pthread_create(&t2, NULL, count, (void *)n);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("data: %ld, counter: %ld\n", v, counter);
	return v == 42 && counter == 2 * n ? 0 : 1;
}
