/*
 * A child and its parent each check a file (it does not exist) and create it without O_EXCL,
 * the child first.  How the parent knows the child is done is the argument:
 *
 *   wait    the parent forks, then waitpid()s the child: ordered, clean
 *   spawn   the parent posix_spawn()s itself as the child, then waitpid()s it: ordered, clean
 *   vfork   the parent vfork()s a child that execs itself as the child, then wait()s: clean
 *   system  the parent runs itself as the child through system() (a shell): clean
 *   pipe    the parent forks, then reads a pipe until the child has exited (EOF): the shim
 *           cannot see that order, so the two windows could overlap: an error
 *
 * Usage: fork_check_create wait|spawn|vfork|system|pipe PATH   (or: child PATH)
 * Every mode leaves the same calls in the same order on the file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* access() finds nothing, then open(O_CREAT) creates the file. */
static int check_then_create(const char *path)
{
	if (access(path, F_OK) == 0)
		return 1;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int st = 0, fds[2];
	char buf[1];
	pid_t pid;

	if (argc != 3)
		return 2;
	const char *mode = argv[1], *path = argv[2];
	if (!strcmp(mode, "child"))
		return check_then_create(path);
	unlink(path);
	if (!strcmp(mode, "wait")) {
		pid = fork();
		if (pid == 0)
			_exit(check_then_create(path));
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 3;
	} else if (!strcmp(mode, "spawn")) {
		char *args[] = { argv[0], "child", (char *)path, NULL };
		if (posix_spawn(&pid, argv[0], NULL, NULL, args, environ) != 0 ||
		    waitpid(pid, &st, 0) != pid)
			return 3;
	} else if (!strcmp(mode, "vfork")) {
		char *args[] = { argv[0], "child", (char *)path, NULL };
		pid = vfork();
		if (pid == 0) {
			execv(argv[0], args);
			_exit(127);
		}
		if (pid < 0 || wait(&st) != pid)
			return 3;
	} else if (!strcmp(mode, "system")) {
		char cmd[4096];
		snprintf(cmd, sizeof(cmd), "'%s' child '%s'", argv[0], path);
		st = system(cmd);
		if (st == -1)
			return 3;
	} else if (!strcmp(mode, "pipe")) {
		if (pipe(fds) != 0)
			return 3;
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			_exit(check_then_create(path));
		}
		close(fds[1]);
		if (pid < 0 || read(fds[0], buf, 1) != 0)
			return 3;
		/* The child has exited (its end of the pipe is closed); reaped only later. */
	} else {
		return 2;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 4;
	unlink(path);
	int rc = check_then_create(path);
	unlink(path);
	if (!strcmp(mode, "pipe"))
		waitpid(pid, &st, 0);
	/* No child left: the wrappers pass the C library's result and errno through. */
	errno = 0;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		return 5;
	printf("%s: done\n", mode);
	return rc;
}
