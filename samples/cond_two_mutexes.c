/*
 * Lesson, condition variables: one condition variable, "work_ready", shared by two queues
 * that each have their own mutex.  The two consumers wait on it at the same time, one with
 * queue A's mutex, the other with queue B's: POSIX leaves that undefined (a condition
 * variable is bound to one mutex while threads wait on it).
 *
 * Expected: an error-level misuse, "used condition variable work_ready with two different
 * mutexes", with the stacks of both waits; `lockwatch run` exits 66.  The fix:
 * cond_one_mutex.c.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

struct queue {
	pthread_mutex_t lock;
	int items;
	sem_t waiting;               /* posted by the consumer just before it waits */
};

static struct queue a = { PTHREAD_MUTEX_INITIALIZER, 0 }, b = { PTHREAD_MUTEX_INITIALIZER, 0 };
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;

static void *consumer(void *arg)
{
	struct queue *q = arg;
	pthread_mutex_lock(&q->lock);
	sem_post(&q->waiting);
	while (q->items == 0)
		pthread_cond_wait(&work_ready, &q->lock);   /* the bug: two mutexes, one cv */
	q->items--;
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* Returns once q's consumer waits: it posted, and its mutex is free (the wait let it go). */
static void until_waiting(struct queue *q)
{
	sem_wait(&q->waiting);
	pthread_mutex_lock(&q->lock);
	q->items++;
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
	pthread_cond_broadcast(&work_ready);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	puts("both queues served");
	return 0;
}
