/* Two threads each take mutex a, then b, and update a global counter with both held: no
 * race (issue 21: hook mode reported the first thread's write as holding no lock). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&a);
		pthread_mutex_lock(&b);
		counter++;
		pthread_mutex_unlock(&b);
		pthread_mutex_unlock(&a);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	pthread_t t1, t2;
	pthread_create(&t1, NULL, worker, (void *)n);
	pthread_create(&t2, NULL, worker, (void *)n);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("counter: %ld\n", counter);
	return counter == 2 * n ? 0 : 1;
}
