/* Calls that the mutex refuses, and a join that was cancelled: defined behaviour that a
 * program may rely on.  An error-checking mutex relocked by its owner (EDEADLK), and unlocked
 * by a thread that does not own it or while unlocked (EPERM); a recursive and a robust
 * mutex unlocked by a non-owner (EPERM); a thread cancelled while it waits in pthread_join,
 * after which main joins the target itself (it stays joinable).  Exit status 0 when every
 * call returned what POSIX says, else the number of the check that failed. */
#define _GNU_SOURCE          /* PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

static pthread_mutex_t checked, recursive, robust;
static pthread_mutex_t static_checked = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static sem_t locked, may_unlock, target_may_end, joining;
static pthread_t target;

/* Locks each mutex, lets main try to unlock them, then unlocks them itself. */
static void *owner(void *arg)
{
	pthread_mutex_lock(&checked);
	pthread_mutex_lock(&recursive);
	pthread_mutex_lock(&robust);
	sem_post(&locked);
	sem_wait(&may_unlock);
	pthread_mutex_unlock(&robust);
	pthread_mutex_unlock(&recursive);
	pthread_mutex_unlock(&checked);
	return arg;
}

static void *target_thread(void *arg)
{
	sem_wait(&target_may_end);
	return arg;
}

static void *joiner(void *arg)
{
	sem_post(&joining);
	pthread_join(target, NULL);         /* cancelled while it waits */
	return arg;
}

static int init_mutex(pthread_mutex_t *m, int type, int robustness)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutexattr_setrobust(&a, robustness);
	int rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

int main(void)
{
	pthread_t o, j;
	void *ret;

	if (init_mutex(&checked, PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_STALLED) ||
	    init_mutex(&recursive, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_STALLED) ||
	    init_mutex(&robust, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST))
		return 1;
	sem_init(&locked, 0, 0);
	sem_init(&may_unlock, 0, 0);
	sem_init(&target_may_end, 0, 0);
	sem_init(&joining, 0, 0);

	/* The owner's relock is refused. */
	if (pthread_mutex_lock(&checked) != 0 || pthread_mutex_lock(&checked) != EDEADLK)
		return 2;
	if (pthread_mutex_unlock(&checked) != 0 || pthread_mutex_unlock(&checked) != EPERM)
		return 3;
	if (pthread_mutex_lock(&static_checked) != 0 ||
	    pthread_mutex_lock(&static_checked) != EDEADLK ||
	    pthread_mutex_unlock(&static_checked) != 0)
		return 4;

	/* A non-owner's unlock is refused. */
	pthread_create(&o, NULL, owner, NULL);
	sem_wait(&locked);
	if (pthread_mutex_unlock(&checked) != EPERM)
		return 5;
	if (pthread_mutex_unlock(&recursive) != EPERM)
		return 6;
	if (pthread_mutex_unlock(&robust) != EPERM)
		return 7;
	sem_post(&may_unlock);
	if (pthread_join(o, NULL) != 0)
		return 8;

	/* A cancelled join is no join: the target stays joinable. */
	pthread_create(&target, NULL, target_thread, NULL);
	pthread_create(&j, NULL, joiner, NULL);
	sem_wait(&joining);
	if (pthread_cancel(j) != 0 || pthread_join(j, &ret) != 0 || ret != PTHREAD_CANCELED)
		return 9;
	sem_post(&target_may_end);
	if (pthread_join(target, NULL) != 0)
		return 10;
	puts("refused calls: all as POSIX says");
	return 0;
}
