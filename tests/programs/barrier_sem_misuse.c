/* Barrier and semaphore misuse (issue 22), one scenario a run (argv[1]), each with its
 * correct counterpart ("-ok").  A scenario that needs a thread inside pthread_barrier_wait
 * waits until the kernel says it sleeps in futex(2): no sleep decides a verdict. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_barrier_t bar;
static sem_t sem;
/* Atomic: the main thread spins on it (a plain flag would be a data race, which the
 * collider of issue 20 reports with no option). */
static pid_t waiter_tid;

static void *waiter(void *arg)
{
	(void)arg;
	__atomic_store_n(&waiter_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&bar);
	return NULL;
}

/* Returns once thread tid sleeps in futex(2) (its barrier wait). */
static void until_in_futex(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (;;) {
		char buf[64] = "";
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		if (atoi(buf) == SYS_futex)
			return;
		sched_yield();
	}
}

static pthread_t start_waiter(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, waiter, NULL) != 0)
		exit(3);
	while (!__atomic_load_n(&waiter_tid, __ATOMIC_SEQ_CST))
		sched_yield();
	until_in_futex(__atomic_load_n(&waiter_tid, __ATOMIC_SEQ_CST));
	return t;
}

static int check(int rc, int want, const char *what)
{
	if (rc != want) {
		fprintf(stderr, "%s: %d, not %d\n", what, rc, want);
		exit(4);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	if (!strcmp(s, "barrier-count0")) {
		/* Refused as POSIX says: a warning. */
		check(pthread_barrier_init(&bar, NULL, 0), EINVAL, "init 0");
	} else if (!strcmp(s, "barrier-count0-ok")) {
		check(pthread_barrier_init(&bar, NULL, 1), 0, "init 1");
		pthread_barrier_wait(&bar);
		check(pthread_barrier_destroy(&bar), 0, "destroy");
	} else if (!strcmp(s, "barrier-twice")) {
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init");
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init again");
	} else if (!strcmp(s, "barrier-twice-ok")) {
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init");
		check(pthread_barrier_destroy(&bar), 0, "destroy");
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init again");
		check(pthread_barrier_destroy(&bar), 0, "destroy again");
	} else if (!strcmp(s, "barrier-reinit-waited")) {
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init");
		start_waiter();
		/* The waiter stays blocked: the process ends with it. */
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init again");
		_exit(0);
	} else if (!strcmp(s, "barrier-reinit-waited-ok") ||
		   !strcmp(s, "barrier-destroy-waited-ok")) {
		/* Every round complete before the barrier is initialised again or destroyed,
		 * however far the waiter got out of its wait. */
		for (int i = 0; i < 50; i++) {
			check(pthread_barrier_init(&bar, NULL, 2), 0, "init");
			__atomic_store_n(&waiter_tid, 0, __ATOMIC_SEQ_CST);
			pthread_t t;
			if (pthread_create(&t, NULL, waiter, NULL) != 0)
				return 3;
			pthread_barrier_wait(&bar);
			if (s[8] == 'd')
				check(pthread_barrier_destroy(&bar), 0, "destroy");
			pthread_join(t, NULL);
			if (s[8] == 'r')
				check(pthread_barrier_destroy(&bar), 0, "destroy");
		}
	} else if (!strcmp(s, "barrier-destroy-waited")) {
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init");
		start_waiter();
		/* glibc's destroy waits for the waiter to leave, which it never does. */
		pthread_barrier_destroy(&bar);
	} else if (!strcmp(s, "barrier-destroy-uninit")) {
		/* Never initialised; its count word set so that glibc's destroy returns. */
		((unsigned *)&bar)[2] = 2;
		pthread_barrier_destroy(&bar);
	} else if (!strcmp(s, "barrier-destroy-uninit-ok")) {
		check(pthread_barrier_init(&bar, NULL, 2), 0, "init");
		check(pthread_barrier_destroy(&bar), 0, "destroy");
	} else if (!strcmp(s, "sem-overflow")) {
		/* Refused, then used all the same. */
		check(sem_init(&sem, 0, (unsigned)SEM_VALUE_MAX + 1u), -1, "sem_init");
		sem_post(&sem);
		sem_wait(&sem);
	} else if (!strcmp(s, "sem-overflow-unused")) {
		check(sem_init(&sem, 0, (unsigned)SEM_VALUE_MAX + 1u), -1, "sem_init");
	} else if (!strcmp(s, "sem-overflow-ok")) {
		check(sem_init(&sem, 0, SEM_VALUE_MAX), 0, "sem_init");
		sem_wait(&sem);
		sem_post(&sem);
		check(sem_destroy(&sem), 0, "sem_destroy");
	} else if (!strcmp(s, "sem-uninit")) {
		sem_t *h = calloc(1, sizeof(*h));
		sem_post(&sem);
		sem_wait(&sem);
		sem_post(h);
		sem_post(h);
		sem_wait(h);
	} else if (!strcmp(s, "sem-uninit-wait")) {
		/* Nothing ever posts it: the wait hangs natively. */
		sem_wait(&sem);
	} else if (!strcmp(s, "sem-uninit-ok")) {
		sem_t *h = calloc(1, sizeof(*h));
		check(sem_init(&sem, 0, 0), 0, "sem_init");
		check(sem_init(h, 0, 0), 0, "sem_init heap");
		sem_post(&sem);
		sem_wait(&sem);
		sem_post(h);
		sem_post(h);
		sem_wait(h);
	} else if (!strcmp(s, "sem-shared-ok")) {
		/* Initialised by another process in shared memory: unknown here, no misuse. */
		sem_t *m = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return 3;
		pid_t pid = fork();
		if (pid == 0) {
			check(sem_init(m, 1, 0), 0, "sem_init in child");
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		sem_post(m);
		sem_wait(m);
	} else {
		fprintf(stderr, "usage: barrier_sem_misuse SCENARIO\n");
		return 2;
	}
	return 0;
}
