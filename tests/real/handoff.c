/* Ownership handed across threads, legally: a "baton" that is not a mutex but a flag guarded
 * by one, passed round a ring of threads with a condition variable (each waits for its turn,
 * works while holding the baton but not the mutex, then passes it on); and a binary semaphore
 * used as a lock that one thread takes and another releases (POSIX allows that for a
 * semaphore, unlike a mutex), as a pipeline stage hands a buffer downstream. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define RING 4
#define ROUNDS 300

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn;
static long shared_work;
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static long passes;

static void *ring(void *arg)
{
	int me = (int)(long)arg;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_mutex_lock(&m);
		while (turn != me)
			pthread_cond_wait(&turn_changed, &m);
		pthread_mutex_unlock(&m);
		shared_work += me + 1;          /* the baton, not the mutex, guards this */
		pthread_mutex_lock(&stats);
		passes++;
		pthread_mutex_unlock(&stats);
		pthread_mutex_lock(&m);
		turn = (me + 1) % RING;
		pthread_cond_broadcast(&turn_changed);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

/* The buffer is guarded by the binary semaphore "owned": the filler takes it and fills the
 * buffer, the drainer drains it and gives it back. */
static sem_t owned, filled;
static int buffer[16];
static long drained;

static void *filler(void *arg)
{
	for (int r = 0; r < ROUNDS; r++) {
		sem_wait(&owned);
		for (int i = 0; i < 16; i++)
			buffer[i] = r + i;
		sem_post(&filled);          /* hand the buffer over, still "locked" */
	}
	return NULL;
}

static void *drainer(void *arg)
{
	for (int r = 0; r < ROUNDS; r++) {
		sem_wait(&filled);
		for (int i = 0; i < 16; i++)
			drained += buffer[i];
		sem_post(&owned);           /* released by the thread that did not take it */
	}
	return NULL;
}

int main(void)
{
	pthread_t t[RING], f, d;
	sem_init(&owned, 0, 1);
	sem_init(&filled, 0, 0);
	for (long i = 0; i < RING; i++)
		pthread_create(&t[i], NULL, ring, (void *)i);
	pthread_create(&f, NULL, filler, NULL);
	pthread_create(&d, NULL, drainer, NULL);
	for (int i = 0; i < RING; i++)
		pthread_join(t[i], NULL);
	pthread_join(f, NULL);
	pthread_join(d, NULL);
	printf("handoff: ring work %ld passes %ld\n", shared_work, passes);
	printf("handoff: drained %ld\n", drained);
	sem_destroy(&owned);
	sem_destroy(&filled);
	return 0;
}
