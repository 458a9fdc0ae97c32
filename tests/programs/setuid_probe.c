/* Test program: says whether liblockwatch.so is loaded in this process ("shim loaded" or
 * "shim absent" on stdout), then locks a mutex in a thread.  Exits 0. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *work(void *arg)
{
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return arg;
}

int main(void)
{
	pthread_t t;
	printf("shim %s\n", dlsym(RTLD_DEFAULT, "lockwatch_shim_version") ? "loaded" : "absent");
	fflush(stdout);
	pthread_create(&t, NULL, work, NULL);
	pthread_join(t, NULL);
	return 0;
}
