/* Test program: a parent and its fork()ed child share process-shared locks in a MAP_SHARED
 * anonymous mapping.  argv[1] picks the scenario, argv[2] how long the parent keeps the
 * other process waiting (ms, default 1500):
 *   held    the parent locks the mutex, forks, and unlocks it after the wait: the child,
 *           which waited for it all that time, then takes it;
 *   waiter  the parent forks, then locks the mutex, lets the child wait for it, unlocks;
 *   cond    the child waits on a condition variable the parent signals after the wait;
 *   sem     the child waits on a semaphore the parent posts after the wait;
 *   abba    the child takes lock_b then lock_a, then (told through a pipe, which the shim
 *           cannot see) the parent takes lock_a then lock_b: never a deadlock in this run,
 *           but the two halves of one;
 *   abba_file  the same with the locks in a file (argv[3]) that the child maps again, at
 *           another address, as an unrelated process would;
 *   spin_file  the parent locks a process-shared spinlock in a file (argv[3]) and forks;
 *           the child maps the file again and spins for it until the parent unlocks it;
 *   deadlock  no fork: two threads of the parent take lock_a and lock_b in opposite orders
 *           and deadlock for real (the watchdog must still end it).
 * Each process prints one line of its own and the program exits 0 when the child did. */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t lock_a;
	pthread_mutex_t lock_b;
	pthread_cond_t cond;
	sem_t sem;
	int ready;
	pthread_spinlock_t spin;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void take_both(pthread_mutex_t *first, pthread_mutex_t *second)
{
	pthread_mutex_lock(first);
	pthread_mutex_lock(second);
	pthread_mutex_unlock(second);
	pthread_mutex_unlock(first);
}

static struct shared *g_shared;
static pthread_barrier_t both_hold;

static void *b_then_a(void *arg)
{
	pthread_mutex_lock(&g_shared->lock_b);
	pthread_barrier_wait(&both_hold);
	pthread_mutex_lock(&g_shared->lock_a);
	return arg;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "held";
	int wait_ms = argc > 2 ? atoi(argv[2]) : 1500;
	int spin = !strcmp(mode, "spin_file");
	int file = !strcmp(mode, "abba_file") || spin;
	int fd = -1;
	if (file) {
		if (argc < 4 || (fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0 ||
		    ftruncate(fd, 8192) != 0)
			return 2;
		mode = spin ? "spin" : "abba";
	}
	/* In a file: at an offset other than 0, so that the offset counts. */
	struct shared *s = file ? mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
				: mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return 2;
	if (file)
		s = (struct shared *)((char *)s + 4096);
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->lock_a, &ma);
	pthread_mutex_init(&s->lock_b, &ma);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&s->cond, &ca);
	sem_init(&s->sem, 1, 0);
	pthread_spin_init(&s->spin, PTHREAD_PROCESS_SHARED);
	int go[2], back[2];
	if (pipe(go) != 0 || pipe(back) != 0)
		return 2;
	char c = 0;
	if (!strcmp(mode, "deadlock")) {
		pthread_t t;
		g_shared = s;
		pthread_barrier_init(&both_hold, NULL, 2);
		pthread_create(&t, NULL, b_then_a, NULL);
		pthread_mutex_lock(&s->lock_a);
		pthread_barrier_wait(&both_hold);
		pthread_mutex_lock(&s->lock_b);
		pthread_join(t, NULL);
		return 0;            /* never reached */
	}

	int held = !strcmp(mode, "held");
	if (held)
		pthread_mutex_lock(&s->lock_a);
	if (spin)
		pthread_spin_lock(&s->spin);
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (held || !strcmp(mode, "waiter")) {
			if (!held && read(go[0], &c, 1) != 1)     /* the parent holds it now */
				_exit(3);
			pthread_mutex_lock(&s->lock_a);
			pthread_mutex_unlock(&s->lock_a);
		} else if (!strcmp(mode, "cond")) {
			pthread_mutex_lock(&s->lock_a);
			while (!s->ready)
				pthread_cond_wait(&s->cond, &s->lock_a);
			pthread_mutex_unlock(&s->lock_a);
		} else if (!strcmp(mode, "sem")) {
			sem_wait(&s->sem);
		} else if (!strcmp(mode, "abba") || spin) {
			if (file) {
				/* Another mapping of the file, at another address. */
				char *again = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
				if (again == MAP_FAILED || again + 4096 == (char *)s)
					_exit(3);
				s = (struct shared *)(again + 4096);
			}
			if (spin) {
				pthread_spin_lock(&s->spin);
				pthread_spin_unlock(&s->spin);
				printf("child: done\n");
				fflush(stdout);
				_exit(0);
			}
			take_both(&s->lock_b, &s->lock_a);
			if (write(back[1], "x", 1) != 1)
				_exit(3);
		}
		printf("child: done\n");
		fflush(stdout);
		_exit(0);
	}
	if (held) {
		sleep_ms(wait_ms);
		pthread_mutex_unlock(&s->lock_a);
	} else if (!strcmp(mode, "waiter")) {
		pthread_mutex_lock(&s->lock_a);
		if (write(go[1], "x", 1) != 1)
			return 2;
		sleep_ms(wait_ms);
		pthread_mutex_unlock(&s->lock_a);
	} else if (!strcmp(mode, "cond")) {
		sleep_ms(wait_ms);
		pthread_mutex_lock(&s->lock_a);
		s->ready = 1;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock_a);
	} else if (!strcmp(mode, "sem")) {
		sleep_ms(wait_ms);
		sem_post(&s->sem);
	} else if (spin) {
		sleep_ms(wait_ms);
		pthread_spin_unlock(&s->spin);
	} else if (!strcmp(mode, "abba")) {
		if (read(back[0], &c, 1) != 1)       /* the child's half is done */
			return 2;
		take_both(&s->lock_a, &s->lock_b);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 2;
	printf("parent: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
