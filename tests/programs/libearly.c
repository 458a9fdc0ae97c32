/* Test library: its constructor locks a mutex and starts a thread, possibly before the
 * shim's own constructor has run. */
#include <pthread.h>

static pthread_mutex_t early = PTHREAD_MUTEX_INITIALIZER;
static int early_count;

static void *early_thread(void *arg)
{
	pthread_mutex_lock(&early);
	early_count++;
	pthread_mutex_unlock(&early);
	return arg;
}

__attribute__((constructor)) static void early_init(void)
{
	pthread_t t;
	pthread_mutex_lock(&early);
	early_count++;
	pthread_mutex_unlock(&early);
	if (pthread_create(&t, NULL, early_thread, NULL) == 0)
		pthread_join(t, NULL);
}

int early_value(void)
{
	return early_count;
}
