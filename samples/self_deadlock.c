/*
 * Lesson, deadlock with one thread: a helper that takes the cache lock is called by code
 * that already holds it.  A default (non-recursive) mutex locked twice by its owner waits
 * for itself forever.
 *
 * Expected: an error-level misuse (relock of a non-recursive mutex) and an error-level
 * deadlock (the thread waits for a lock it holds); lockwatch ends the process within about
 * a second and `lockwatch run` exits 66 instead of hanging.
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static int cache_size;

static void cache_evict(void)
{
	pthread_mutex_lock(&cache_lock);
	cache_size--;
	pthread_mutex_unlock(&cache_lock);
}

static void cache_insert(void)
{
	pthread_mutex_lock(&cache_lock);
	cache_size++;
	if (cache_size > 0)
		cache_evict();           /* already holds cache_lock */
	pthread_mutex_unlock(&cache_lock);
}

int main(void)
{
	cache_insert();
	printf("not reached: size %d\n", cache_size);
	return 0;
}
