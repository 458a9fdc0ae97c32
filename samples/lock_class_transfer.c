/*
 * Lesson, exercise 5 generalised: transfer(from, to) locks from->lock then to->lock, for
 * accounts in an array.  This run makes the transfers 0->1 and 2->1 at the same time: no
 * two of them can deadlock, because account 1 is always taken second.  But the code has no
 * lock order at all: transfers 0->1 and 1->0 running together would deadlock.  lockwatch
 * groups the account locks into one class (they were all initialised at the same place)
 * and sees instances of that class nested in both directions (lower address first, and
 * higher address first), even though the two instances that would deadlock never met.
 *
 * Expected: a warning-level lock-order-cycle, reason lock-class.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct account {
	pthread_mutex_t lock;
	int balance;
};

static struct account *account_new(int balance)
{
	struct account *a = malloc(sizeof *a);
	pthread_mutex_init(&a->lock, NULL);
	a->balance = balance;
	return a;
}

static void transfer(struct account *from, struct account *to, int amount)
{
	pthread_mutex_lock(&from->lock);
	pthread_mutex_lock(&to->lock);
	from->balance -= amount;
	to->balance += amount;
	pthread_mutex_unlock(&to->lock);
	pthread_mutex_unlock(&from->lock);
}

struct job { struct account *from, *to; };

static void *run_transfer(void *arg)
{
	struct job *j = arg;
	transfer(j->from, j->to, 10);
	return NULL;
}

int main(void)
{
	struct account *acct[3];
	for (int i = 0; i < 3; i++)
		acct[i] = account_new(100);
	struct job jobs[2] = { { acct[0], acct[1] }, { acct[2], acct[1] } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, run_transfer, &jobs[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("balances: %d %d %d\n", acct[0]->balance, acct[1]->balance, acct[2]->balance);
	return 0;
}
