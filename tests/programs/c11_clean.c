/* C11 <threads.h> used correctly: a producer and a consumer on a mtx_t and two cnd_t, a
 * recursive mtx_t, trylock and timedlock, thrd_create/thrd_join with the threads' int
 * results, a detached thread (left waiting), thrd_exit.  Expected: no finding, the same output as without
 * lockwatch. */
#include <stdio.h>
#include <threads.h>
#include <time.h>

#define ITEMS 1000
#define SLOTS 4

static mtx_t lock, rec, det_lock;
static cnd_t not_full, not_empty, det_done, never;
static int ring[SLOTS], head, count, det_finished;

static int producer(void *arg)
{
	for (int i = 1; i <= ITEMS; i++) {
		mtx_lock(&lock);
		while (count == SLOTS)
			cnd_wait(&not_full, &lock);
		ring[(head + count++) % SLOTS] = i;
		cnd_signal(&not_empty);
		mtx_unlock(&lock);
	}
	return 7;
}

static int consumer(void *arg)
{
	long sum = 0;
	for (int i = 1; i <= ITEMS; i++) {
		mtx_lock(&lock);
		while (count == 0)
			cnd_wait(&not_empty, &lock);
		sum += ring[head];
		head = (head + 1) % SLOTS;
		count--;
		cnd_broadcast(&not_full);
		mtx_unlock(&lock);
	}
	*(long *)arg = sum;
	thrd_exit(9);
}

static int depth(int n)
{
	mtx_lock(&rec);
	int d = n > 0 ? 1 + depth(n - 1) : 0;
	mtx_unlock(&rec);
	return d;
}

static int detached(void *arg)
{
	mtx_lock(&det_lock);
	det_finished = 1;
	cnd_signal(&det_done);
	/* Waits until the process ends: a thread nobody joins must not be ending while the
	 * process does, or its last records may miss the trace. */
	for (;;)
		cnd_wait(&never, &det_lock);
	return 0;
}

int main(void)
{
	thrd_t p, c, d;
	long sum = 0;
	int rp = 0, rc = 0;
	mtx_init(&lock, mtx_plain);
	mtx_init(&rec, mtx_plain | mtx_recursive);
	mtx_init(&det_lock, mtx_timed);
	cnd_init(&not_full);
	cnd_init(&not_empty);
	cnd_init(&det_done);
	cnd_init(&never);
	thrd_create(&p, producer, NULL);
	thrd_create(&c, consumer, &sum);
	thrd_join(p, &rp);
	thrd_join(c, &rc);
	printf("sum %ld, results %d %d\n", sum, rp, rc);
	printf("depth %d\n", depth(5));

	struct timespec until;
	timespec_get(&until, TIME_UTC);
	until.tv_sec += 10;
	printf("timedlock %d\n", mtx_timedlock(&det_lock, &until) == thrd_success);
	thrd_create(&d, detached, NULL);
	thrd_detach(d);
	while (!det_finished)
		cnd_timedwait(&det_done, &det_lock, &until);
	mtx_unlock(&det_lock);
	printf("trylock %d", mtx_trylock(&lock) == thrd_success);
	printf(" again %d\n", mtx_trylock(&lock) == thrd_busy);
	mtx_unlock(&lock);

	cnd_destroy(&not_full);
	cnd_destroy(&not_empty);
	cnd_destroy(&det_done);
	mtx_destroy(&lock);
	mtx_destroy(&rec);
	return 0;
}
