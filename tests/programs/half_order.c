/* Takes two global mutexes in one order only: "ab" (lock_a, then lock_b) or "ba".  Two runs
 * with different arguments hold the two halves of a lock-order cycle; lockwatch report on
 * both runs' traces finds it (tests/integration/test_report_options.c).  "both": one thread
 * takes them in both orders, a cycle that cannot deadlock (a warning). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void nest(pthread_mutex_t *first, pthread_mutex_t *second)
{
	pthread_mutex_lock(first);
	pthread_mutex_lock(second);
	pthread_mutex_unlock(second);
	pthread_mutex_unlock(first);
}

static void *worker(void *arg)
{
	int mode = *(int *)arg;

	if (mode != 1)
		nest(&lock_a, &lock_b);
	if (mode != 0)
		nest(&lock_b, &lock_a);
	return NULL;
}

int main(int argc, char **argv)
{
	int mode;                    /* 0: ab, 1: ba, 2: both */
	pthread_t t;

	if (argc < 2 || (strcmp(argv[1], "ab") && strcmp(argv[1], "ba") &&
			 strcmp(argv[1], "both"))) {
		fprintf(stderr, "usage: half_order ab|ba|both\n");
		return 2;
	}
	mode = !strcmp(argv[1], "ab") ? 0 : !strcmp(argv[1], "ba") ? 1 : 2;
	pthread_create(&t, NULL, worker, &mode);
	pthread_join(t, NULL);
	return 0;
}
