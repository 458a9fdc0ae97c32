/* Test program: forks repeatedly while other threads lock, unlock and hit new call sites (so
 * some are inside the shim, or unwinding a stack, at the moment of the fork).  Each child
 * locks the same mutexes, starts and joins a thread, and exits 0; the program exits 0 when
 * every child did, 1 otherwise.  argv[1]: number of forks (default 40). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t locks[8] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
};
static int stop;                         /* atomic: a plain flag would be a data race */

/* Different call sites, so that the shim keeps capturing new stacks. */
#define PAIR(a, b) do { pthread_mutex_lock(&locks[a]); pthread_mutex_lock(&locks[b]); \
		pthread_mutex_unlock(&locks[b]); pthread_mutex_unlock(&locks[a]); } while (0)

static void *churn(void *arg)
{
	unsigned seed = (unsigned)(long)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
		seed = seed * 1103515245u + 12345u;
		switch ((seed >> 16) % 6) {
		case 0: PAIR(0, 1); break;
		case 1: PAIR(1, 2); break;
		case 2: PAIR(2, 3); break;
		case 3: PAIR(3, 4); break;
		case 4: PAIR(4, 5); break;
		default: {
			pthread_mutex_t heap;
			pthread_mutex_init(&heap, NULL);
			pthread_mutex_lock(&locks[6]);
			pthread_mutex_lock(&heap);
			pthread_mutex_unlock(&heap);
			pthread_mutex_unlock(&locks[6]);
			pthread_mutex_destroy(&heap);
		}
		}
	}
	return NULL;
}

static void *child_thread(void *arg)
{
	PAIR(0, 7);
	return arg;
}

int main(int argc, char **argv)
{
	int forks = argc > 1 ? atoi(argv[1]) : 40;
	pthread_t t[3];
	int bad = 0;

	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn, (void *)(i + 1));
	for (int i = 0; i < forks; i++) {
		usleep(2000);
		pid_t pid = fork();
		if (pid == 0) {
			/* Whatever the other threads held at the fork, the child's own locking
			 * must work (the mutexes it takes are free in the parent most of the
			 * time; a mutex inherited locked would hang natively too, so the child
			 * only uses locks[0] and locks[7] after trylock). */
			alarm(20);
			pthread_t c;
			if (pthread_mutex_trylock(&locks[0]) == 0)
				pthread_mutex_unlock(&locks[0]);
			else
				_exit(0);       /* inherited held: natively unusable too */
			pthread_create(&c, NULL, child_thread, NULL);
			pthread_join(c, NULL);
			_exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return bad != 0;
}
