/*
 * Lesson, exercise 1 (withdraw), annotated: the same unlocked withdraw as bank_withdraw.c,
 * with <lockwatch.h> marking each read and write of balance.  Built and run without lockwatch, the annotations cost a load and a
 * branch each and do nothing; under lockwatch they are access records, no --watch needed.
 *
 * Run:      lockwatch run -- build/samples/bank_withdraw_annotated
 * Expected: an error-level data-race and an error-level atomicity-violation on balance,
 * as for bank_withdraw.
 */
#include <lockwatch.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

long balance = 200;

static void withdraw(long amount)
{
	LW_READ(&balance);
	if (balance >= amount) {         /* check */
		usleep(20 * 1000);
		LW_READ(&balance);
		balance -= amount;       /* act */
		LW_WRITE(&balance);
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
	LW_READ(&balance);
	printf("balance: %ld\n", balance);
	return 0;
}
