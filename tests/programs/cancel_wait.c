/* Test program: pthread_cancel of a thread blocked in pthread_cond_wait (its cleanup handler
 * unlocks the mutex the wait re-acquired) and of one blocked in sem_wait; then the main
 * thread takes the mutex again.  Exits 0 when both threads ended cancelled. */
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t never, started;

static void unlock_m(void *arg)
{
	pthread_mutex_unlock(arg);
}

static void *cond_waiter(void *arg)
{
	pthread_mutex_lock(&m);
	sem_post(&started);
	pthread_cleanup_push(unlock_m, &m);
	for (;;)
		pthread_cond_wait(&cv, &m);
	pthread_cleanup_pop(1);
	return arg;
}

static void *sem_waiter(void *arg)
{
	sem_post(&started);
	for (;;)
		sem_wait(&never);
	return arg;
}

int main(void)
{
	pthread_t a, b;
	void *ra, *rb;
	sem_init(&never, 0, 0);
	sem_init(&started, 0, 0);
	pthread_create(&a, NULL, cond_waiter, NULL);
	pthread_create(&b, NULL, sem_waiter, NULL);
	sem_wait(&started);
	sem_wait(&started);
	usleep(50000);               /* let both block */
	pthread_cancel(a);
	pthread_cancel(b);
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	pthread_mutex_lock(&m);      /* the cancelled waiter must have let it go */
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	return ra == PTHREAD_CANCELED && rb == PTHREAD_CANCELED ? 0 : 1;
}
