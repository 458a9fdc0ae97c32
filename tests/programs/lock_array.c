/* Test program: two lock-order inversions, one between elements 0 and 1 of a global array
 * of mutexes, one between element 2 and a mutex that is a static of function
 * take_with_static.  The threads are joined one after the other, so nothing deadlocks.
 * Exits 0. */
#include <pthread.h>

pthread_mutex_t L[3] = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
			 PTHREAD_MUTEX_INITIALIZER };

static void take_with_static(int static_first)
{
	static pthread_mutex_t s = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t *a = static_first ? &s : &L[2], *b = static_first ? &L[2] : &s;
	pthread_mutex_lock(a);
	pthread_mutex_lock(b);
	pthread_mutex_unlock(b);
	pthread_mutex_unlock(a);
}

static void *forward(void *arg)
{
	pthread_mutex_lock(&L[0]);
	pthread_mutex_lock(&L[1]);
	pthread_mutex_unlock(&L[1]);
	pthread_mutex_unlock(&L[0]);
	take_with_static(1);
	return arg;
}

static void *backward(void *arg)
{
	pthread_mutex_lock(&L[1]);
	pthread_mutex_lock(&L[0]);
	pthread_mutex_unlock(&L[0]);
	pthread_mutex_unlock(&L[1]);
	take_with_static(0);
	return arg;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, forward, NULL);
	pthread_join(a, NULL);
	pthread_create(&b, NULL, backward, NULL);
	pthread_join(b, NULL);
	return 0;
}
