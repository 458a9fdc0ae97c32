/*
 * Lesson, barriers, the fix for barrier_count_zero.c: with no jobs there is nothing to
 * synchronise, so there is no barrier; otherwise its init is checked.
 *
 * Expected: clean.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_barrier_t start;

static void *job(void *arg)
{
	pthread_barrier_wait(&start);
	return arg;
}

int main(int argc, char **argv)
{
	unsigned n = (unsigned)argc - 1;
	pthread_t t[8];
	(void)argv;
	if (n > 0) {
		int rc = pthread_barrier_init(&start, NULL, n);
		if (rc != 0) {
			fprintf(stderr, "pthread_barrier_init: %s\n", strerror(rc));
			return 1;
		}
		for (unsigned i = 0; i < n && i < 8; i++)
			pthread_create(&t[i], NULL, job, NULL);
		for (unsigned i = 0; i < n && i < 8; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&start);
	}
	printf("%u jobs\n", n);
	return 0;
}
