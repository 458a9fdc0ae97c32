/* Test program: locks, changes directory to argv[1], then forks and execs itself with the
 * argument "child" (which locks and exits 0).  With a relative trace_dir, the exec'd child's
 * trace must land in the directory the first program started in.  Exits 0 when the child
 * exited 0. */
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	if (argc > 1 && !strcmp(argv[1], "child"))
		return 0;
	if (argc < 2 || chdir(argv[1]) != 0)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		_exit(127);
	}
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
