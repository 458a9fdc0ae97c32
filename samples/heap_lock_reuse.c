/*
 * Lesson, lock identity: a heap-allocated lock is destroyed and freed, and a new lock is
 * initialised at the same address.  The first thread nests registry_lock then the old lock;
 * the second nests the new lock then registry_lock.  They are two different locks that
 * happen to share an address, so there is no deadlock.
 *
 * Expected: no error.  (A tool that identifies locks by address alone reports a cycle; the
 * shared init site may still earn a lock-class warning.)
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t registered, finished;

struct session {
	pthread_mutex_t lock;
	int id;
};

static struct session *session_open(int id)
{
	struct session *s = malloc(sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	s->id = id;
	return s;
}

static void session_close(struct session *s)
{
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void *register_session(void *arg)
{
	struct session *s = arg;
	pthread_mutex_lock(&registry_lock);
	pthread_mutex_lock(&s->lock);
	s->id++;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&registry_lock);
	sem_post(&registered);
	sem_wait(&finished);         /* stays alive while the second thread runs */
	return NULL;
}

static void *flush_session(void *arg)
{
	struct session *s = arg;
	pthread_mutex_lock(&s->lock);
	pthread_mutex_lock(&registry_lock);
	s->id++;
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	sem_init(&registered, 0, 0);
	sem_init(&finished, 0, 0);
	struct session *a = session_open(1);
	pthread_create(&t1, NULL, register_session, a);
	sem_wait(&registered);
	void *where = a;
	session_close(a);
	struct session *b = session_open(2);   /* malloc hands the same block back */
	pthread_create(&t2, NULL, flush_session, b);
	pthread_join(t2, NULL);
	sem_post(&finished);
	pthread_join(t1, NULL);
	printf("reused address: %s\n", (void *)b == where ? "yes" : "no");
	session_close(b);
	return 0;
}
