/*
 * Lesson, condition variables, the fix for cond_two_mutexes.c: each queue has its own
 * condition variable, bound to its own mutex.
 *
 * Expected: clean.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	int items;
	sem_t waiting;
};

static struct queue a = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 },
		    b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

static void *consumer(void *arg)
{
	struct queue *q = arg;
	pthread_mutex_lock(&q->lock);
	sem_post(&q->waiting);
	while (q->items == 0)
		pthread_cond_wait(&q->ready, &q->lock);
	q->items--;
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void until_waiting(struct queue *q)
{
	sem_wait(&q->waiting);
	pthread_mutex_lock(&q->lock);
	q->items++;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

int main(void)
{
	pthread_t ta, tb;
	sem_init(&a.waiting, 0, 0);
	sem_init(&b.waiting, 0, 0);
	pthread_create(&ta, NULL, consumer, &a);
	pthread_create(&tb, NULL, consumer, &b);
	until_waiting(&a);
	until_waiting(&b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	puts("both queues served");
	return 0;
}
