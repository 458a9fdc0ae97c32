/*
 * Lesson, exercise 5 (transfer): two transfers between accounts a and b.  One takes
 * lock_a then lock_b, the other lock_b then lock_a.  The two transfers are timed apart so
 * this run finishes, but with an unlucky schedule each would hold one lock and wait for the
 * other forever.
 *
 * Expected: lockwatch reports one error-level lock-order-cycle: lock_a -> lock_b -> lock_a.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int balance_a = 1000, balance_b = 1000;

static void *transfer_a_to_b(void *arg)
{
	int amount = *(int *)arg;
	pthread_mutex_lock(&lock_a);
	pthread_mutex_lock(&lock_b);
	balance_a -= amount;
	balance_b += amount;
	pthread_mutex_unlock(&lock_b);
	pthread_mutex_unlock(&lock_a);
	return NULL;
}

static void *transfer_b_to_a(void *arg)
{
	int amount = *(int *)arg;
	usleep(100 * 1000);          /* let the first transfer finish: this run does not hang */
	pthread_mutex_lock(&lock_b);
	pthread_mutex_lock(&lock_a);
	balance_b -= amount;
	balance_a += amount;
	pthread_mutex_unlock(&lock_a);
	pthread_mutex_unlock(&lock_b);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	int x = 100, y = 50;
	pthread_create(&t1, NULL, transfer_a_to_b, &x);
	pthread_create(&t2, NULL, transfer_b_to_a, &y);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("a=%d b=%d\n", balance_a, balance_b);
	return 0;
}
