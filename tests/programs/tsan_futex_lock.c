/* A lock the program builds itself on a futex, annotated with ThreadSanitizer's
 * __tsan_mutex_* calls (declared weak, as a library does, so that the program runs
 * without them).  Two threads take two such locks in opposite orders: timed apart by
 * default, so the run finishes (expected: an error-level lock-order cycle); with the
 * argument "deadlock", each holds one and waits for the other's (expected: a deadlock
 * report, the process ended instead of hanging). */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

void __tsan_mutex_create(void *addr, unsigned flags) __attribute__((weak));
void __tsan_mutex_destroy(void *addr, unsigned flags) __attribute__((weak));
void __tsan_mutex_pre_lock(void *addr, unsigned flags) __attribute__((weak));
void __tsan_mutex_post_lock(void *addr, unsigned flags, int recursion) __attribute__((weak));
int __tsan_mutex_pre_unlock(void *addr, unsigned flags) __attribute__((weak));
void __tsan_mutex_post_unlock(void *addr, unsigned flags) __attribute__((weak));

#define TSAN_MUTEX_TRY_LOCK        (1u << 4)
#define TSAN_MUTEX_TRY_LOCK_FAILED (1u << 5)

/* 0 unlocked, 1 locked, 2 locked with waiters (Drepper, "Futexes Are Tricky"). */
struct futex_lock { int word; };

static void futex(int *w, int op, int val)
{
	syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void fl_init(struct futex_lock *l)
{
	l->word = 0;
	if (__tsan_mutex_create)
		__tsan_mutex_create(l, 0);
}

static int fl_trylock(struct futex_lock *l)
{
	if (__tsan_mutex_pre_lock)
		__tsan_mutex_pre_lock(l, TSAN_MUTEX_TRY_LOCK);
	int zero = 0;
	int got = __atomic_compare_exchange_n(&l->word, &zero, 1, false, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED);
	if (__tsan_mutex_post_lock)
		__tsan_mutex_post_lock(l, TSAN_MUTEX_TRY_LOCK |
				       (got ? 0 : TSAN_MUTEX_TRY_LOCK_FAILED), 0);
	return got;
}

static void fl_lock(struct futex_lock *l)
{
	if (__tsan_mutex_pre_lock)
		__tsan_mutex_pre_lock(l, 0);
	int c = 0;
	if (!__atomic_compare_exchange_n(&l->word, &c, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		if (c != 2)
			c = __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE);
		while (c != 0) {
			futex(&l->word, FUTEX_WAIT_PRIVATE, 2);
			c = __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE);
		}
	}
	if (__tsan_mutex_post_lock)
		__tsan_mutex_post_lock(l, 0, 0);
}

static void fl_unlock(struct futex_lock *l)
{
	if (__tsan_mutex_pre_unlock)
		__tsan_mutex_pre_unlock(l, 0);
	if (__atomic_fetch_sub(&l->word, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
		futex(&l->word, FUTEX_WAKE_PRIVATE, 1);
	}
	if (__tsan_mutex_post_unlock)
		__tsan_mutex_post_unlock(l, 0);
}

static void fl_destroy(struct futex_lock *l)
{
	if (__tsan_mutex_destroy)
		__tsan_mutex_destroy(l, 0);
}

static struct futex_lock lock_a, lock_b;
static int deadlock, holding, balance_a = 100, balance_b = 100;

static void transfer(struct futex_lock *first, struct futex_lock *second, int *from, int *to)
{
	fl_lock(first);
	if (deadlock) {
		/* Both threads hold their first lock before either asks for its second. */
		__atomic_add_fetch(&holding, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(&holding, __ATOMIC_ACQUIRE) < 2)
			sched_yield();
	}
	fl_lock(second);
	*from -= 10;
	*to += 10;
	fl_unlock(second);
	fl_unlock(first);
}

static void *a_then_b(void *arg)
{
	transfer(&lock_a, &lock_b, &balance_a, &balance_b);
	return NULL;
}

static void *b_then_a(void *arg)
{
	if (!deadlock)
		usleep(100 * 1000);  /* let the first transfer finish: this run does not hang */
	transfer(&lock_b, &lock_a, &balance_b, &balance_a);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	deadlock = argc > 1 && !strcmp(argv[1], "deadlock");
	fl_init(&lock_a);
	fl_init(&lock_b);
	pthread_create(&t1, NULL, a_then_b, NULL);
	pthread_create(&t2, NULL, b_then_a, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("a=%d b=%d trylock %d", balance_a, balance_b, fl_trylock(&lock_a));
	printf(" again %d\n", fl_trylock(&lock_a));
	fl_unlock(&lock_a);
	fl_destroy(&lock_a);
	fl_destroy(&lock_b);
	return 0;
}
