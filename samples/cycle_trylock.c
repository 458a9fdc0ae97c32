/*
 * Lesson, deadlock avoidance by backing off: one thread takes lock_a then lock_b; the other
 * holds lock_b and only *tries* lock_a, releasing lock_b and retrying when it is busy.  The
 * second thread never waits while holding lock_b, so there is no deadlock.
 *
 * Expected: a warning-level lock-order-cycle, reason trylock.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int value;

static void *a_then_b(void *arg)
{
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&lock_a);
		pthread_mutex_lock(&lock_b);
		value++;
		pthread_mutex_unlock(&lock_b);
		pthread_mutex_unlock(&lock_a);
	}
	return arg;
}

static void *b_then_try_a(void *arg)
{
	for (int i = 0; i < 1000;) {
		pthread_mutex_lock(&lock_b);
		if (pthread_mutex_trylock(&lock_a) == 0) {
			value--;
			i++;
			pthread_mutex_unlock(&lock_a);
		}
		pthread_mutex_unlock(&lock_b);
		sched_yield();
	}
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, a_then_b, NULL);
	pthread_create(&t2, NULL, b_then_try_a, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("value=%d\n", value);
	return 0;
}
