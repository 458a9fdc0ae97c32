/*
 * Two threads lock N stripes (argument, default 8), one in ascending order and one in
 * descending order, each holding every stripe it took until it has all of them.  Any two
 * stripes form a blocking inversion that can deadlock; the many longer cycles through three
 * or more stripes cannot (each needs a third thread).  Both threads are started together, but
 * the second waits on a semaphore the first posts when it is done, so this run never
 * deadlocks (a semaphore used as a signal orders nothing the cycle analysis relies on).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_STRIPES 64

static pthread_mutex_t stripe[MAX_STRIPES];
static int n_stripes = 8;
static sem_t first_done;

static void *ascending(void *arg)
{
	(void)arg;
	for (int i = 0; i < n_stripes; i++)
		pthread_mutex_lock(&stripe[i]);
	for (int i = n_stripes - 1; i >= 0; i--)
		pthread_mutex_unlock(&stripe[i]);
	sem_post(&first_done);
	return NULL;
}

static void *descending(void *arg)
{
	(void)arg;
	while (sem_wait(&first_done) != 0)
		;
	for (int i = n_stripes - 1; i >= 0; i--)
		pthread_mutex_lock(&stripe[i]);
	for (int i = 0; i < n_stripes; i++)
		pthread_mutex_unlock(&stripe[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, d;

	if (argc > 1)
		n_stripes = atoi(argv[1]);
	if (n_stripes < 2 || n_stripes > MAX_STRIPES)
		return 2;
	for (int i = 0; i < n_stripes; i++)
		pthread_mutex_init(&stripe[i], NULL);
	sem_init(&first_done, 0, 0);
	pthread_create(&a, NULL, ascending, NULL);
	pthread_create(&d, NULL, descending, NULL);
	pthread_join(a, NULL);
	pthread_join(d, NULL);
	printf("%d stripes locked both ways\n", n_stripes);
	return 0;
}
