/*
 * Lesson, object lifetime: a cache whose reset() "starts over" by initialising its mutex
 * again, while a reader holds it.  POSIX leaves an init of a locked mutex undefined: with
 * glibc the reader's later unlock releases a mutex that some other thread may have taken
 * since, and mutual exclusion is gone.
 *
 * Expected: an error-level misuse, "initialised mutex ... again while thread T2 held it",
 * with the init's stack and where the reader locked it; `lockwatch run` exits 66.  The fix:
 * mutex_reset_fixed.c.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

struct cache {
	pthread_mutex_t lock;
	int entries[16];
	int n;
};

static struct cache cache;
static sem_t reading, done_reading;

static void reset(struct cache *c)
{
	pthread_mutex_init(&c->lock, NULL);   /* the bug: the mutex may be held */
	memset(c->entries, 0, sizeof c->entries);
	c->n = 0;
}

static void *reader(void *arg)
{
	pthread_mutex_lock(&cache.lock);
	sem_post(&reading);
	sem_wait(&done_reading);              /* a long lookup, while main resets */
	int n = cache.n;
	pthread_mutex_unlock(&cache.lock);
	return (void *)(long)n;
}

int main(void)
{
	pthread_t t;
	pthread_mutex_init(&cache.lock, NULL);
	cache.n = 3;
	sem_init(&reading, 0, 0);
	sem_init(&done_reading, 0, 0);
	pthread_create(&t, NULL, reader, NULL);
	sem_wait(&reading);
	reset(&cache);
	sem_post(&done_reading);
	pthread_join(t, NULL);
	printf("entries: %d\n", cache.n);
	return 0;
}
