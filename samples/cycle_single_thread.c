/*
 * Lesson, lock ordering, a cycle that cannot deadlock: one thread takes lock_a then lock_b,
 * and later lock_b then lock_a.  A thread cannot wait for itself across two separate
 * critical sections, so no schedule deadlocks as long as no other thread joins in.
 *
 * Expected: a warning-level lock-order-cycle, reason single-thread.  (ThreadSanitizer and
 * Helgrind call this an error.)
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int value;

int main(void)
{
	pthread_mutex_lock(&lock_a);
	pthread_mutex_lock(&lock_b);
	value++;
	pthread_mutex_unlock(&lock_b);
	pthread_mutex_unlock(&lock_a);

	pthread_mutex_lock(&lock_b);
	pthread_mutex_lock(&lock_a);
	value++;
	pthread_mutex_unlock(&lock_a);
	pthread_mutex_unlock(&lock_b);
	printf("value=%d\n", value);
	return 0;
}
