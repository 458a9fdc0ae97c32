/* Test program: a thread-per-request server.  argv[1] (default 300) requests, each served
 * by its own thread, four at a time (created, then joined).  Every request locks lock_a,
 * then lock_b; the request numbered argv[2] (default: none) locks them the other way round,
 * after every earlier request has been joined and before any later one starts, so the run
 * never deadlocks but its lock order has a cycle.  Prints "requests N" and exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;
static long served, invert_at = -1;

static void *request(void *arg)
{
	long n = (long)arg;
	pthread_mutex_t *first = n == invert_at ? &lock_b : &lock_a;
	pthread_mutex_t *second = n == invert_at ? &lock_a : &lock_b;
	pthread_mutex_lock(first);
	pthread_mutex_lock(second);
	served++;
	pthread_mutex_unlock(second);
	pthread_mutex_unlock(first);
	return NULL;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 300;
	if (argc > 2)
		invert_at = atol(argv[2]);
	for (long done = 0; done < count;) {
		pthread_t t[4];
		int k = 0;
		/* The inverted request runs alone. */
		for (; k < 4 && done + k < count; k++) {
			if (k > 0 && (done + k == invert_at || done + k - 1 == invert_at))
				break;
			if (pthread_create(&t[k], NULL, request, (void *)(done + k)) != 0)
				return 1;
		}
		for (int i = 0; i < k; i++)
			pthread_join(t[i], NULL);
		done += k;
	}
	printf("requests %ld\n", served);
	return served == count ? 0 : 1;
}
