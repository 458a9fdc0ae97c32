/* Test program: a helper that takes two locks in order is called first from main (on c
 * and d), then from thread forward (on a and b); thread backward takes b then a, alongside
 * forward (a lock-order inversion that can deadlock, which a barrier keeps from happening).
 * The inversion's stacks must show forward's path, not main's.  Exits 0. */
#include <pthread.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t c = PTHREAD_MUTEX_INITIALIZER, d = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t turn;

static __attribute__((noinline)) void helper(pthread_mutex_t *x, pthread_mutex_t *y)
{
	pthread_mutex_lock(x);
	pthread_mutex_lock(y);
	pthread_mutex_unlock(y);
	pthread_mutex_unlock(x);
}

static void *forward(void *arg)
{
	helper(&a, &b);
	pthread_barrier_wait(&turn);
	return arg;
}

static void *backward(void *arg)
{
	pthread_barrier_wait(&turn);
	pthread_mutex_lock(&b);
	pthread_mutex_lock(&a);
	pthread_mutex_unlock(&a);
	pthread_mutex_unlock(&b);
	return arg;
}

int main(void)
{
	helper(&c, &d);
	pthread_barrier_init(&turn, NULL, 2);
	pthread_t f, k;
	pthread_create(&f, NULL, forward, NULL);
	pthread_create(&k, NULL, backward, NULL);
	pthread_join(f, NULL);
	pthread_join(k, NULL);
	return 0;
}
