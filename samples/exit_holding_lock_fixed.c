/*
 * Lesson, ending a program, the fix for exit_holding_lock.c: the critical section ends
 * before the program does, so an exit handler may take the lock.
 *
 * Expected: clean; exit status 0.
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
	pthread_mutex_unlock(&config_lock);
	exit(0);
}
