/*
 * Lesson, deadlock, the fix: lock ordering.  The same two threads with the same sleeps as
 * deadlock_lock_order.c, but both take lock1 before lock2.  Whoever gets lock1 first also
 * gets lock2; the other waits for lock1 and then proceeds.  No cycle, no deadlock.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t lock1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock2 = PTHREAD_MUTEX_INITIALIZER;
static int shared_a, shared_b;

static void *worker(void *arg)
{
	int id = (int)(long)arg;

	pthread_mutex_lock(&lock1);             /* always lock1 first ... */
	usleep(50 * 1000);
	pthread_mutex_lock(&lock2);             /* ... then lock2 */
	shared_a += id;
	shared_b -= id;
	pthread_mutex_unlock(&lock2);
	pthread_mutex_unlock(&lock1);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;

	pthread_create(&t1, NULL, worker, (void *)1L);
	pthread_create(&t2, NULL, worker, (void *)2L);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("a=%d b=%d\n", shared_a, shared_b);
	return 0;
}
