/* Test program: changes directory to argv[1], then forks a child that locks and exits;
 * with a relative trace_dir the child's trace must still land in the directory the parent
 * started with.  Exits 0 when the child exited 0. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
	if (argc < 2 || chdir(argv[1]) != 0)
		return 2;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		_exit(0);
	}
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
