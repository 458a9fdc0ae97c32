/*
 * Lesson, exercise 1, first attempt at a fix: the check and the act each hold the lock,
 * but separately.  No access is unlocked any more, so there is no data race, and yet both
 * threads can still pass the check before either subtracts: the account ends at -200.
 * ThreadSanitizer and Helgrind are silent here.
 *
 * Run:      lockwatch run -- build/samples/bank_withdraw_split
 * Expected: an error-level atomicity-violation on balance (the check and the act are in
 * two critical sections, and the other thread's write falls between them); no data-race.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

long balance = 200;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void withdraw(long amount)
{
	pthread_mutex_lock(&lock);
	bool enough = balance >= amount;         /* check */
	pthread_mutex_unlock(&lock);
	if (enough) {
		usleep(20 * 1000);               /* the other thread checks meanwhile */
		pthread_mutex_lock(&lock);
		balance -= amount;               /* act */
		pthread_mutex_unlock(&lock);
	}
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
