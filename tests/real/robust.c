/* A robust, process-shared mutex in shared memory, as databases keep in their lock files:
 * a child takes it and dies without releasing it; the next locker gets EOWNERDEAD, repairs
 * the state, marks the mutex consistent and goes on.  Then two processes with two threads each
 * use it normally.  Legal, and no deadlock: the dead owner's lock is recovered. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t lock;
	long counter;
	int recovered;
};

static struct shared *sh;

static int lock_robust(void)
{
	int r = pthread_mutex_lock(&sh->lock);
	if (r == EOWNERDEAD) {
		sh->recovered++;
		sh->counter = sh->counter / 1000 * 1000;    /* "repair" a half-done update */
		pthread_mutex_consistent(&sh->lock);
		r = 0;
	}
	return r;
}

static void *work(void *arg)
{
	for (int i = 0; i < 500; i++) {
		if (lock_robust() != 0)
			return (void *)1;
		sh->counter++;
		pthread_mutex_unlock(&sh->lock);
	}
	return NULL;
}

static int run_threads(void)
{
	pthread_t t[2];
	void *res[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, work, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], &res[i]);
	return res[0] || res[1];
}

int main(void)
{
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&sh->lock, &a);
	pthread_mutexattr_destroy(&a);

	pid_t p = fork();
	if (p == 0) {
		pthread_mutex_lock(&sh->lock);
		sh->counter += 7;                           /* dies mid-update, lock held */
		_exit(0);
	}
	waitpid(p, NULL, 0);
	if (lock_robust() != 0)
		return 1;
	pthread_mutex_unlock(&sh->lock);

	p = fork();
	if (p == 0)
		_exit(run_threads());
	int bad = run_threads();
	int st;
	waitpid(p, &st, 0);
	bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	printf("robust: recovered %d counter %ld failed %d\n", sh->recovered, sh->counter, bad);
	pthread_mutex_destroy(&sh->lock);
	return 0;
}
