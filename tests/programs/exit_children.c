/* Test program (issue 24): forks N children (argv[1]) one after the other; each takes a
 * lock, then ends with _exit(0), or, with a second argument, is killed by SIGKILL. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			pthread_mutex_lock(&m);
			pthread_mutex_unlock(&m);
			if (argc > 2)
				raise(SIGKILL);
			_exit(0);
		}
		if (p < 0 || waitpid(p, NULL, 0) != p)
			return 1;
	}
	return 0;
}
