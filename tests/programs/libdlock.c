/* Test library, loaded with dlopen: two threads take its two mutexes in opposite orders,
 * concurrently but 50 ms apart (an inversion that could deadlock, but does not here). */
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t dl_first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t dl_second = PTHREAD_MUTEX_INITIALIZER;

static void *dl_first_then_second(void *arg)
{
	pthread_mutex_lock(&dl_first);
	pthread_mutex_lock(&dl_second);
	pthread_mutex_unlock(&dl_second);
	pthread_mutex_unlock(&dl_first);
	return arg;
}

static void *dl_second_then_first(void *arg)
{
	usleep(50000);
	pthread_mutex_lock(&dl_second);
	pthread_mutex_lock(&dl_first);
	pthread_mutex_unlock(&dl_first);
	pthread_mutex_unlock(&dl_second);
	return arg;
}

/* Runs both orders in two threads that could overlap; returns 0. */
int dl_invert(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, dl_first_then_second, NULL);
	pthread_create(&b, NULL, dl_second_then_first, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
