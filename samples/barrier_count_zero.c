/*
 * Lesson, barriers: a barrier sized by the number of jobs, which is 0 this time.
 * pthread_barrier_init refuses a count of 0 (EINVAL, as POSIX says it must), the program
 * does not check, and the barrier stays uninitialised (any wait or destroy of it would be
 * undefined: glibc divides by its count).  This run uses it no further.
 *
 * Expected: a warning-level misuse, "initialised barrier start with a count of 0; the call
 * failed with EINVAL"; exit status 0.  The fix: barrier_count_checked.c.
 */
#include <pthread.h>
#include <stdio.h>

static pthread_barrier_t start;

static void *job(void *arg)
{
	pthread_barrier_wait(&start);
	return arg;
}

int main(int argc, char **argv)
{
	unsigned n = (unsigned)argc - 1;      /* one job per argument: none here */
	pthread_t t[8];
	(void)argv;
	pthread_barrier_init(&start, NULL, n);   /* the bug: unchecked, and n may be 0 */
	for (unsigned i = 0; i < n && i < 8; i++)
		pthread_create(&t[i], NULL, job, NULL);
	for (unsigned i = 0; i < n && i < 8; i++)
		pthread_join(t[i], NULL);
	printf("%u jobs\n", n);
	return 0;
}
