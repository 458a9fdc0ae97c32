/* A process that ends while its threads are busy, as many real programs do: main returns
 * (exit runs the atexit handlers, which take a lock the workers use) while a worker is
 * blocked in pthread_cond_wait, another holds a mutex and waits in a read() that never
 * returns, and a third spins on a lock-protected flag.  Legal: exit ends every thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t flag_lock = PTHREAD_MUTEX_INITIALIZER;
static int started, flag;
static int pipefd[2];

static void *sleeper(void *arg)
{
	pthread_mutex_lock(&m);
	started++;
	for (;;)
		pthread_cond_wait(&never, &m);
	return NULL;
}

static void *holder(void *arg)
{
	char c;
	pthread_mutex_lock(&io_lock);
	pthread_mutex_lock(&m);
	started++;
	pthread_mutex_unlock(&m);
	ssize_t n = read(pipefd[0], &c, 1);       /* never returns: nobody writes */
	pthread_mutex_unlock(&io_lock);
	return (void *)n;
}

static void *spinner(void *arg)
{
	pthread_mutex_lock(&m);
	started++;
	pthread_mutex_unlock(&m);
	for (;;) {
		pthread_mutex_lock(&flag_lock);
		int f = flag;
		pthread_mutex_unlock(&flag_lock);
		if (f)
			return NULL;
		sched_yield();
	}
}

static void at_exit(void)
{
	pthread_mutex_lock(&flag_lock);
	flag = 2;
	pthread_mutex_unlock(&flag_lock);
	printf("exit: handlers ran\n");
}

int main(void)
{
	pthread_t t[3];
	if (pipe(pipefd) != 0)
		return 1;
	atexit(at_exit);
	pthread_create(&t[0], NULL, sleeper, NULL);
	pthread_create(&t[1], NULL, holder, NULL);
	pthread_create(&t[2], NULL, spinner, NULL);
	for (;;) {
		pthread_mutex_lock(&m);
		int s = started;
		pthread_mutex_unlock(&m);
		if (s == 3)
			break;
		usleep(1000);
	}
	printf("exit: three threads busy\n");
	return 3;                               /* a status of its own, kept under lockwatch */
}
