/*
 * Lesson, exercise 1, fixed: the check and the act are one critical section, so the second
 * thread sees the first one's withdrawal and is refused.  The account ends at 0.
 *
 * Run:      lockwatch run -- build/samples/bank_withdraw_fixed
 * Expected: no finding (exit status 0).
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

long balance = 200;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void withdraw(long amount)
{
	pthread_mutex_lock(&lock);
	if (balance >= amount) {         /* check ... */
		usleep(20 * 1000);
		balance -= amount;       /* ... and act, under one lock */
	}
	pthread_mutex_unlock(&lock);
}

static void *customer(void *arg)
{
	withdraw(*(long *)arg);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	long amount = 200;
	pthread_create(&t1, NULL, customer, &amount);
	pthread_create(&t2, NULL, customer, &amount);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("balance: %ld\n", balance);
	return 0;
}
