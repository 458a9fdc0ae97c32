/*
 * Lesson, lock ordering at scale: two threads each hold 500 locks at once, always taken in
 * the same (increasing) order, and release them in reverse.
 *
 * Expected: no findings.  (lockwatch has no fixed limit on the locks a thread holds.)
 */
#include <pthread.h>
#include <stdio.h>

#define N 500

static pthread_mutex_t locks[N];
static long total;

static void *take_all(void *arg)
{
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			pthread_mutex_lock(&locks[i]);
		total++;
		for (int i = N - 1; i >= 0; i--)
			pthread_mutex_unlock(&locks[i]);
	}
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	for (int i = 0; i < N; i++)
		pthread_mutex_init(&locks[i], NULL);
	pthread_create(&t1, NULL, take_all, NULL);
	pthread_create(&t2, NULL, take_all, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("total=%ld\n", total);
	return 0;
}
