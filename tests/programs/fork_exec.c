/* Test program: fork then exec, and posix_spawn (which does not go through fork()).  The
 * exec'd program is argv[1] with argument "0".  Exits 0 when both children exited 0. */
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pthread_mutex_lock(&a);
	pthread_mutex_lock(&b);
	pthread_mutex_unlock(&b);
	pthread_mutex_unlock(&a);
	char *args[] = { argv[1], "0", NULL };
	int st, bad = 0;
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(&a);
		pthread_mutex_unlock(&a);
		execve(argv[1], args, environ);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bad++;
	if (posix_spawn(&pid, argv[1], NULL, NULL, args, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bad++;
	return bad;
}
