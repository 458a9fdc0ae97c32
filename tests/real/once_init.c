/* Lazy initialisation as real libraries do it: many threads race into pthread_once for a
 * chain of singletons whose init routines take locks and call pthread_once for the next one
 * (a logger's init needs the config's, which needs the allocator's), while other threads
 * already use the initialised singletons under their own locks.  Correct: every lock is taken
 * in one order (allocator, config, logger). */
#include <pthread.h>
#include <stdio.h>

#define THREADS 8

static pthread_once_t alloc_once = PTHREAD_ONCE_INIT, config_once = PTHREAD_ONCE_INIT,
		      log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t log_lock;
static int alloc_ready, config_ready, log_ready, inits;
static long alloc_used, log_lines;

static void alloc_init(void)
{
	pthread_mutex_lock(&alloc_lock);
	alloc_ready = 1;
	inits++;
	pthread_mutex_unlock(&alloc_lock);
}

static void config_init(void)
{
	pthread_once(&alloc_once, alloc_init);
	pthread_mutex_lock(&config_lock);
	pthread_mutex_lock(&alloc_lock);
	alloc_used += 64;
	pthread_mutex_unlock(&alloc_lock);
	config_ready = 1;
	inits++;
	pthread_mutex_unlock(&config_lock);
}

static void log_init(void)
{
	pthread_once(&config_once, config_init);
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&log_lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_lock(&config_lock);
	log_ready = config_ready;
	inits++;
	pthread_mutex_unlock(&config_lock);
}

static void log_line(void)
{
	pthread_once(&log_once, log_init);
	pthread_mutex_lock(&log_lock);
	pthread_mutex_lock(&log_lock);      /* recursive, as a logger calling itself */
	log_lines++;
	pthread_mutex_unlock(&log_lock);
	pthread_mutex_unlock(&log_lock);
}

static void *worker(void *arg)
{
	long me = (long)arg;
	for (int i = 0; i < 500; i++) {
		if ((me + i) % 3 == 0) {
			pthread_once(&alloc_once, alloc_init);
			pthread_mutex_lock(&alloc_lock);
			alloc_used += 8;
			pthread_mutex_unlock(&alloc_lock);
		} else {
			log_line();
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("once: inits %d ready %d%d%d\n", inits, alloc_ready, config_ready, log_ready);
	printf("once: allocated %ld log lines %ld\n", alloc_used, log_lines);
	return 0;
}
