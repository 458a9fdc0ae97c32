/*
 * Lesson, object lifetime, the fix for mutex_reinit_locked.c: reset() takes the cache's
 * mutex and clears the entries under it; the mutex is initialised once, at start-up, and
 * never again.
 *
 * Expected: clean.
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
	pthread_mutex_lock(&c->lock);         /* waits for the reader */
	memset(c->entries, 0, sizeof c->entries);
	c->n = 0;
	pthread_mutex_unlock(&c->lock);
}

static void *reader(void *arg)
{
	pthread_mutex_lock(&cache.lock);
	sem_post(&reading);
	sem_wait(&done_reading);
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
	sem_post(&done_reading);
	reset(&cache);
	pthread_join(t, NULL);
	printf("entries: %d\n", cache.n);
	return 0;
}
