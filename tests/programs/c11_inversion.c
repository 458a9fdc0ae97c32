/* C11 <threads.h>: two threads take two mtx_t in opposite orders, timed apart so that this
 * run finishes.  Expected: an error-level lock-order cycle between lock_a and lock_b. */
#include <stdio.h>
#include <threads.h>
#include <time.h>

static mtx_t lock_a, lock_b;
static int balance_a = 100, balance_b = 100;

static int a_then_b(void *arg)
{
	mtx_lock(&lock_a);
	mtx_lock(&lock_b);
	balance_a -= *(int *)arg;
	balance_b += *(int *)arg;
	mtx_unlock(&lock_b);
	mtx_unlock(&lock_a);
	return 0;
}

static int b_then_a(void *arg)
{
	struct timespec later = { 0, 100 * 1000 * 1000 };
	thrd_sleep(&later, NULL);    /* let the first transfer finish: this run does not hang */
	mtx_lock(&lock_b);
	mtx_lock(&lock_a);
	balance_b -= *(int *)arg;
	balance_a += *(int *)arg;
	mtx_unlock(&lock_a);
	mtx_unlock(&lock_b);
	return 0;
}

int main(void)
{
	thrd_t t1, t2;
	int x = 10, y = 20;
	mtx_init(&lock_a, mtx_plain);
	mtx_init(&lock_b, mtx_plain);
	thrd_create(&t1, a_then_b, &x);
	thrd_create(&t2, b_then_a, &y);
	thrd_join(t1, NULL);
	thrd_join(t2, NULL);
	printf("a=%d b=%d\n", balance_a, balance_b);
	mtx_destroy(&lock_a);
	mtx_destroy(&lock_b);
	return 0;
}
