/* A spin lock the program builds itself on an atomic flag, shown to lockwatch with the
 * LW_MUTEX_* macros of <lockwatch.h>.  Two threads take two such locks in opposite orders,
 * timed apart so that the run finishes (expected: an error-level lock-order cycle); with
 * the argument "self", a thread takes one it holds (expected: a relock and a deadlock
 * report, the process ended instead of spinning forever).  Runs unchanged without
 * lockwatch. */
#include <lockwatch.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct spin { int taken; };

static void spin_lock(struct spin *s)
{
	LW_MUTEX_PRE_LOCK(s, 0);
	while (__atomic_exchange_n(&s->taken, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	LW_MUTEX_POST_LOCK(s, 0);
}

static int spin_trylock(struct spin *s)
{
	LW_MUTEX_PRE_TRYLOCK(s, 0);
	int ok = !__atomic_exchange_n(&s->taken, 1, __ATOMIC_ACQUIRE);
	LW_MUTEX_POST_TRYLOCK(s, 0, ok);
	return ok;
}

static void spin_unlock(struct spin *s)
{
	LW_MUTEX_PRE_UNLOCK(s, 0);
	__atomic_store_n(&s->taken, 0, __ATOMIC_RELEASE);
	LW_MUTEX_POST_UNLOCK(s, 0);
}

static struct spin lock_a, lock_b;
static int total;

static void *a_then_b(void *arg)
{
	spin_lock(&lock_a);
	spin_lock(&lock_b);
	total++;
	spin_unlock(&lock_b);
	spin_unlock(&lock_a);
	return NULL;
}

static void *b_then_a(void *arg)
{
	usleep(100 * 1000);          /* let the first finish: this run does not hang */
	spin_lock(&lock_b);
	spin_lock(&lock_a);
	total++;
	spin_unlock(&lock_a);
	spin_unlock(&lock_b);
	return NULL;
}

static void *relock(void *arg)
{
	spin_lock(&lock_a);
	spin_lock(&lock_a);          /* already held: spins forever */
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	LW_MUTEX_CREATE(&lock_a, 0);
	LW_MUTEX_CREATE(&lock_b, 0);
	if (argc > 1 && !strcmp(argv[1], "self")) {
		pthread_create(&t1, NULL, relock, NULL);
		pthread_join(t1, NULL);
		return 1;
	}
	pthread_create(&t1, NULL, a_then_b, NULL);
	pthread_create(&t2, NULL, b_then_a, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("total %d, trylock %d", total, spin_trylock(&lock_a));
	printf(" again %d\n", spin_trylock(&lock_a));
	spin_unlock(&lock_a);
	LW_MUTEX_DESTROY(&lock_a);
	LW_MUTEX_DESTROY(&lock_b);
	return 0;
}
