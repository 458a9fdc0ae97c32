/* A pre-forking server: the parent runs threads, and forks workers while they run; a
 * pthread_atfork handler takes the parent's locks before the fork and releases them after it
 * in both processes (the child releases locks its copy of the forking thread holds), as malloc
 * and libraries with global state do.  Each worker then runs threads of its own with the
 * same locks in the same order, and reports its result through its exit status. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 3
#define THREADS 3

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static int stop;

static void prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	pthread_mutex_lock(&counter_lock);
}

static void release(void)
{
	pthread_mutex_unlock(&counter_lock);
	pthread_mutex_unlock(&registry_lock);
}

static void *bump(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&registry_lock);
		pthread_mutex_lock(&counter_lock);
		counter++;
		pthread_mutex_unlock(&counter_lock);
		pthread_mutex_unlock(&registry_lock);
	}
	return NULL;
}

static void *background(void *arg)
{
	for (;;) {
		pthread_mutex_lock(&registry_lock);
		int s = stop;
		pthread_mutex_unlock(&registry_lock);
		if (s)
			return NULL;
		bump((void *)1);
		sched_yield();
	}
}

static int worker(int k)
{
	pthread_mutex_lock(&counter_lock);
	counter = 0;
	pthread_mutex_unlock(&counter_lock);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, bump, (void *)(long)(1000 * (k + 1)));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	return (int)(counter / 1000);
}

int main(void)
{
	pthread_atfork(prepare, release, release);
	pthread_t bg;
	pthread_create(&bg, NULL, background, NULL);
	pid_t pid[WORKERS];
	for (int k = 0; k < WORKERS; k++) {
		pid[k] = fork();
		if (pid[k] == 0)
			_exit(worker(k));
	}
	int sum = 0;
	for (int k = 0; k < WORKERS; k++) {
		int st;
		waitpid(pid[k], &st, 0);
		sum += WIFEXITED(st) ? WEXITSTATUS(st) : 1000;
	}
	pthread_mutex_lock(&registry_lock);
	stop = 1;
	pthread_mutex_unlock(&registry_lock);
	pthread_join(bg, NULL);
	printf("prefork: workers %d result sum %d (want %d)\n", WORKERS, sum,
	       THREADS * (1 + 2 + 3));
	return 0;
}
