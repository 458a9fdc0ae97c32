/* Test program: the parent forks; the child inverts lock_p/lock_q across two threads, so the
 * cycle is only in the child's own trace. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock_p = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_q = PTHREAD_MUTEX_INITIALIZER;

static void *p_then_q(void *arg)
{
	pthread_mutex_lock(&lock_p);
	pthread_mutex_lock(&lock_q);
	pthread_mutex_unlock(&lock_q);
	pthread_mutex_unlock(&lock_p);
	return arg;
}

static void *q_then_p(void *arg)
{
	usleep(50000);
	pthread_mutex_lock(&lock_q);
	pthread_mutex_lock(&lock_p);
	pthread_mutex_unlock(&lock_p);
	pthread_mutex_unlock(&lock_q);
	return arg;
}

int main(void)
{
	/* The parent holds a lock across fork: the child inherits it held. */
	pthread_mutex_lock(&lock_p);
	pid_t pid = fork();
	pthread_mutex_unlock(&lock_p);
	if (pid == 0) {
		pthread_t a, b;
		pthread_create(&a, NULL, p_then_q, NULL);
		pthread_create(&b, NULL, q_then_p, NULL);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
