/*
 * Lesson, deadlock avoidance with timeouts: one thread takes lock_a then lock_b; the other
 * holds lock_b and waits for lock_a with pthread_mutex_timedlock, giving up after 50 ms.  An
 * unlucky schedule stalls it for 50 ms, but it cannot wait forever.
 *
 * Expected: a warning-level lock-order-cycle, reason timed-lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int value, timeouts;

static void *a_then_b(void *arg)
{
	pthread_mutex_lock(&lock_a);
	pthread_mutex_lock(&lock_b);
	value++;
	pthread_mutex_unlock(&lock_b);
	pthread_mutex_unlock(&lock_a);
	return arg;
}

static void *b_then_timed_a(void *arg)
{
	usleep(50000);
	pthread_mutex_lock(&lock_b);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += 50 * 1000 * 1000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if (pthread_mutex_timedlock(&lock_a, &deadline) == 0) {
		value--;
		pthread_mutex_unlock(&lock_a);
	} else {
		timeouts++;
	}
	pthread_mutex_unlock(&lock_b);
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, a_then_b, NULL);
	pthread_create(&t2, NULL, b_then_timed_a, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("value=%d timeouts=%d\n", value, timeouts);
	return 0;
}
