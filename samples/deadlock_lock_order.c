/*
 * Lesson, deadlock: two threads, two locks, taken in opposite orders.  Thread 1 takes lock1
 * and sleeps; thread 2 takes lock2 and sleeps; then each asks for the lock the other holds.
 * Neither can go on: without lockwatch this program hangs forever.
 *
 * Expected: the shim sees the wait-for cycle while it happens, writes a deadlock finding
 * (both threads, the lock each holds and the lock each waits for) and ends the program:
 * `lockwatch run` reports error: deadlock and exits 66 within a few seconds.
 * The fix is lock_ordering_fixed.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t lock1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock2 = PTHREAD_MUTEX_INITIALIZER;

static void *thread1(void *arg)
{
	pthread_mutex_lock(&lock1);
	printf("thread 1 holds lock1, wants lock2\n");
	fflush(stdout);
	usleep(100 * 1000);
	pthread_mutex_lock(&lock2);             /* waits for thread 2 forever */
	printf("thread 1 holds both\n");
	pthread_mutex_unlock(&lock2);
	pthread_mutex_unlock(&lock1);
	return arg;
}

static void *thread2(void *arg)
{
	pthread_mutex_lock(&lock2);
	printf("thread 2 holds lock2, wants lock1\n");
	fflush(stdout);
	usleep(100 * 1000);
	pthread_mutex_lock(&lock1);             /* waits for thread 1 forever */
	printf("thread 2 holds both\n");
	pthread_mutex_unlock(&lock1);
	pthread_mutex_unlock(&lock2);
	return arg;
}

int main(void)
{
	pthread_t t1, t2;

	pthread_create(&t1, NULL, thread1, NULL);
	pthread_create(&t2, NULL, thread2, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("done (not reached)\n");
	return 0;
}
