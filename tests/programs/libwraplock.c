/* Test library (wrapper_classes.c): a lock constructor like OpenSSL's CRYPTO_THREAD_lock_new,
 * so that every lock its callers make is initialised at one call site in here. */
#include <pthread.h>
#include <stdlib.h>

pthread_mutex_t *wrap_lock_new(void)
{
	pthread_mutex_t *m = malloc(sizeof *m);
	if (m)
		pthread_mutex_init(m, NULL);
	return m;
}
