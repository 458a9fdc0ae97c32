/* C11 <threads.h>: a plain mtx_t locked again by its owner waits for itself forever.
 * Expected: a relock misuse and a deadlock; lockwatch ends the process with a report. */
#include <stdio.h>
#include <threads.h>

static mtx_t cache_lock;
static int cache_size;

static void cache_evict(void)
{
	mtx_lock(&cache_lock);       /* already held: never returns */
	cache_size--;
	mtx_unlock(&cache_lock);
}

static int worker(void *arg)
{
	mtx_lock(&cache_lock);
	cache_size++;
	cache_evict();
	mtx_unlock(&cache_lock);
	return 0;
}

int main(void)
{
	thrd_t t;
	int res = 0;
	mtx_init(&cache_lock, mtx_plain);
	thrd_create(&t, worker, NULL);
	thrd_join(t, &res);
	printf("not reached: size %d\n", cache_size);
	return res;
}
