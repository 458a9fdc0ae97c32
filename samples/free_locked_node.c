/*
 * Lesson, object lifetime: a worker removes a node from a shared list and frees it while
 * it still holds the node's own lock (the unlock was meant to come first).  The memory of a
 * locked mutex goes back to the allocator: any later unlock, or another thread waiting on
 * the lock, touches freed memory.
 *
 * Expected: error: misuse (the free, with where the lock was taken).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct node {
	pthread_mutex_t lock;
	int value;
	struct node *next;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct node *head;

static void push(int value)
{
	struct node *n = calloc(1, sizeof *n);
	if (!n)
		exit(1);
	pthread_mutex_init(&n->lock, NULL);
	n->value = value;
	pthread_mutex_lock(&list_lock);
	n->next = head;
	head = n;
	pthread_mutex_unlock(&list_lock);
}

static void *remove_first(void *arg)
{
	pthread_mutex_lock(&list_lock);
	struct node *n = head;
	if (n)
		head = n->next;
	pthread_mutex_unlock(&list_lock);
	if (!n)
		return arg;
	pthread_mutex_lock(&n->lock);
	printf("removed %d\n", n->value);
	free(n);                     /* BUG: n->lock is still locked */
	return arg;
}

int main(void)
{
	pthread_t t;
	push(1);
	push(2);
	pthread_create(&t, NULL, remove_first, NULL);
	pthread_join(t, NULL);
	return 0;
}
