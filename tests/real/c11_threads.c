/* A correct C11 <threads.h> program: plain, recursive and timed mtx_t, a cnd_t bounded
 * buffer, call_once and tss_t, threads joined with their results.  The output depends only on
 * the arithmetic. */
#include <stdio.h>
#include <threads.h>
#include <time.h>

#define WORKERS 4
#define ITEMS 2000
#define SLOTS 8

static mtx_t count_lock;
static long count;
static mtx_t rec_lock;
static long rec_total;
static mtx_t timed_lock;
static long timed_total;
static once_flag once = ONCE_FLAG_INIT;
static int base;
static tss_t key;

static mtx_t buf_lock;
static cnd_t not_full, not_empty;
static int buf[SLOTS], head, len;
static long consumed_sum;

static void init_base(void)
{
	base = 7;
}

static void rec(int depth)
{
	mtx_lock(&rec_lock);
	rec_total++;
	if (depth)
		rec(depth - 1);
	mtx_unlock(&rec_lock);
}

static int worker(void *arg)
{
	long me = (long)arg;
	call_once(&once, init_base);
	tss_set(key, (void *)(me + 1));
	for (int i = 0; i < ITEMS; i++) {
		mtx_lock(&count_lock);
		count += base;
		if (i % 100 == 0) {
			mtx_lock(&rec_lock);    /* nested: count_lock, then rec_lock, always */
			rec_total++;
			mtx_unlock(&rec_lock);
		}
		mtx_unlock(&count_lock);
	}
	for (int i = 0; i < 100; i++)
		rec(2);
	struct timespec ts;
	timespec_get(&ts, TIME_UTC);
	ts.tv_sec += 60;
	for (int i = 0; i < 100; i++) {
		if (mtx_timedlock(&timed_lock, &ts) != thrd_success)
			return -1;
		timed_total++;
		mtx_unlock(&timed_lock);
	}
	return (int)(long)tss_get(key);
}

static int producer(void *arg)
{
	for (int i = 1; i <= ITEMS; i++) {
		mtx_lock(&buf_lock);
		while (len == SLOTS)
			cnd_wait(&not_full, &buf_lock);
		buf[(head + len++) % SLOTS] = i;
		cnd_signal(&not_empty);
		mtx_unlock(&buf_lock);
	}
	return 0;
}

static int consumer(void *arg)
{
	for (;;) {
		mtx_lock(&buf_lock);
		while (len == 0)
			cnd_wait(&not_empty, &buf_lock);
		int v = buf[head];
		head = (head + 1) % SLOTS;
		len--;
		if (v > 0)
			consumed_sum += v;
		cnd_signal(&not_full);
		mtx_unlock(&buf_lock);
		if (v < 0)
			return 0;
	}
}

int main(void)
{
	if (mtx_init(&count_lock, mtx_plain) != thrd_success ||
	    mtx_init(&rec_lock, mtx_plain | mtx_recursive) != thrd_success ||
	    mtx_init(&timed_lock, mtx_timed) != thrd_success ||
	    mtx_init(&buf_lock, mtx_plain) != thrd_success ||
	    cnd_init(&not_full) != thrd_success || cnd_init(&not_empty) != thrd_success ||
	    tss_create(&key, NULL) != thrd_success)
		return 1;

	thrd_t w[WORKERS], p, c[2];
	for (long i = 0; i < WORKERS; i++)
		thrd_create(&w[i], worker, (void *)i);
	thrd_create(&p, producer, NULL);
	for (int i = 0; i < 2; i++)
		thrd_create(&c[i], consumer, NULL);

	int ressum = 0;
	for (int i = 0; i < WORKERS; i++) {
		int res;
		thrd_join(w[i], &res);
		ressum += res;
	}
	thrd_join(p, NULL);
	for (int i = 0; i < 2; i++) {
		mtx_lock(&buf_lock);
		while (len == SLOTS)
			cnd_wait(&not_full, &buf_lock);
		buf[(head + len++) % SLOTS] = -1;
		cnd_signal(&not_empty);
		mtx_unlock(&buf_lock);
	}
	for (int i = 0; i < 2; i++)
		thrd_join(c[i], NULL);

	printf("c11: count %ld\n", count);
	printf("c11: recursive %ld timed %ld\n", rec_total, timed_total);
	printf("c11: worker results %d\n", ressum);
	printf("c11: consumed %ld\n", consumed_sum);
	mtx_destroy(&count_lock);
	mtx_destroy(&rec_lock);
	mtx_destroy(&timed_lock);
	mtx_destroy(&buf_lock);
	cnd_destroy(&not_full);
	cnd_destroy(&not_empty);
	tss_delete(key);
	return 0;
}
