/*
 * Lesson, ending a program: main calls exit() from inside a critical section (an error
 * path that forgot the unlock).  The behaviour is defined: the process ends, and nothing
 * waits for the lock any more; but an exit handler that takes the same lock would hang.
 *
 * Expected: warning: misuse (the thread ended the process holding the lock); exit status 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static int config_loaded;

int main(void)
{
	pthread_mutex_lock(&config_lock);
	config_loaded = 1;
	printf("config loaded: %d\n", config_loaded);
	exit(0);                     /* leaves with config_lock held */
}
