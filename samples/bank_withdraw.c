/*
 * Lesson, exercise 1 (withdraw), as written: two threads each withdraw 200 from a balance
 * of 200 with no lock at all.  Each checks the balance, works a little (the usleep), then
 * subtracts.  Both pass the check before either subtracts, so the account ends at -200.
 *
 * Run it with no source change:  lockwatch run -- build/samples/bank_withdraw
 * Expected: an error-level data-race on balance (the unlocked reads and writes of the two
 * threads) and an error-level atomicity-violation on balance (check, then act, with the
 * other thread's write in between).
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

long balance = 200;

static void withdraw(long amount)
{
	if (balance >= amount) {         /* check */
		usleep(20 * 1000);       /* the other thread checks meanwhile */
		balance -= amount;       /* act */
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
