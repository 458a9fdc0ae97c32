/*
 * Lesson, lock ordering, a gate lock: two threads take lock_a and lock_b in opposite orders,
 * but both only ever do so while holding big_lock.  Only one of them can be inside at a
 * time, so the inversion cannot deadlock.
 *
 * Expected: a warning-level lock-order-cycle, reason gate-lock (naming big_lock).
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int value;

static void *a_then_b(void *arg)
{
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&big_lock);
		pthread_mutex_lock(&lock_a);
		pthread_mutex_lock(&lock_b);
		value++;
		pthread_mutex_unlock(&lock_b);
		pthread_mutex_unlock(&lock_a);
		pthread_mutex_unlock(&big_lock);
	}
	return arg;
}

static void *b_then_a(void *arg)
{
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&big_lock);
		pthread_mutex_lock(&lock_b);
		pthread_mutex_lock(&lock_a);
		value--;
		pthread_mutex_unlock(&lock_a);
		pthread_mutex_unlock(&lock_b);
		pthread_mutex_unlock(&big_lock);
	}
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, a_then_b, NULL);
	pthread_create(&t2, NULL, b_then_a, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("value=%d\n", value);
	return 0;
}
