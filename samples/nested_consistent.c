/*
 * Lesson, lock ordering: four threads and four locks, always nested in one order
 * (config < cache < index < log), sometimes skipping levels.  No order is ever reversed, so
 * no schedule can deadlock.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t index_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *order[] = { &config_lock, &cache_lock, &index_lock, &log_lock };
static long work[4];

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < 2000; i++) {
		/* Take a subset of the locks, always in increasing order. */
		int mask = (i + id) % 15 + 1;
		for (int k = 0; k < 4; k++)
			if (mask & (1 << k))
				pthread_mutex_lock(order[k]);
		work[id]++;
		for (int k = 3; k >= 0; k--)
			if (mask & (1 << k))
				pthread_mutex_unlock(order[k]);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("work=%ld\n", work[0] + work[1] + work[2] + work[3]);
	return 0;
}
