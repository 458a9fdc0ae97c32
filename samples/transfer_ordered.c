/*
 * Lesson, exercise 5, the fix: every transfer takes the two account locks in one global
 * order (lower account number first), whatever the direction of the transfer.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <stdio.h>

struct account {
	int id;
	int balance;
	pthread_mutex_t lock;
};

static struct account acct_a = { 1, 1000, PTHREAD_MUTEX_INITIALIZER };
static struct account acct_b = { 2, 1000, PTHREAD_MUTEX_INITIALIZER };

static void transfer(struct account *from, struct account *to, int amount)
{
	struct account *first = from->id < to->id ? from : to;
	struct account *second = from->id < to->id ? to : from;
	pthread_mutex_lock(&first->lock);
	pthread_mutex_lock(&second->lock);
	from->balance -= amount;
	to->balance += amount;
	pthread_mutex_unlock(&second->lock);
	pthread_mutex_unlock(&first->lock);
}

static void *a_to_b(void *arg)
{
	for (int i = 0; i < 1000; i++)
		transfer(&acct_a, &acct_b, 1);
	return arg;
}

static void *b_to_a(void *arg)
{
	for (int i = 0; i < 1000; i++)
		transfer(&acct_b, &acct_a, 1);
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, a_to_b, NULL);
	pthread_create(&t2, NULL, b_to_a, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("a=%d b=%d total=%d\n", acct_a.balance, acct_b.balance,
	       acct_a.balance + acct_b.balance);
	return 0;
}
