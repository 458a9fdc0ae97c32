/*
 * A child and its parent each check a file (it does not exist), create it without O_EXCL
 * and remove it again, the child first; the parent learns that the child is done through a
 * socket pair, whose order the shim does not see, so the two windows could overlap.  What
 * makes them safe is the argument, the file lock each process holds on DIR/lock around its three calls:
 *
 *   fcntl     F_SETLKW write lock on the whole file: serialised, a warning (file-lock)
 *   ofd       F_OFD_SETLKW, the same
 *   lockf     lockf(F_LOCK), the same
 *   flock     flock(LOCK_EX), the same
 *   none      no lock: an error
 *   other     each process locks a file of its own (DIR/lock.parent, DIR/lock.child):
 *             nothing common, an error
 *   released  fcntl lock, then unlocked (F_UNLCK) after the check: the create is outside
 *             it, an error
 *   closed    fcntl lock, then another descriptor of the lock file is closed after the
 *             check, which drops the process's POSIX locks on it: an error
 *
 *   repeat    as fcntl, 200 times in each process: still one LOCK record per process
 *   calls     no processes: fcntl, lockf and flock calls whose results and errno it prints,
 *             the same with and without the shim
 *
 * Usage: flock_check_create MODE DIR.  Every mode makes the same calls on DIR/file in the
 * same order; prints "MODE: done" and exits 0 when every call did what it should.
 */
#define _GNU_SOURCE             /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *mode;

/* Takes (lock) or drops the mode's lock on fd; returns 0 or -1. */
static int file_lock(int fd, int lock)
{
	struct flock fl = { .l_type = lock ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET };

	if (!strcmp(mode, "ofd"))
		return fcntl(fd, lock ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
	if (!strcmp(mode, "lockf"))
		return lseek(fd, 0, SEEK_SET) < 0 ? -1 : lockf(fd, lock ? F_LOCK : F_ULOCK, 0);
	if (!strcmp(mode, "flock"))
		return flock(fd, lock ? LOCK_EX : LOCK_UN);
	/* fcntl, released, closed, other, repeat */
	return fcntl(fd, lock ? F_SETLKW : F_SETLK, &fl);
}

/* Under the mode's lock: access() finds nothing, open(O_CREAT) creates the file, unlink
 * removes it.  Returns 0 when all went so. */
static int check_then_create(const char *dir, const char *who)
{
	char path[4096], lock_path[4096];
	int locking = strcmp(mode, "none") != 0, lfd = -1, rc = 1;

	snprintf(path, sizeof(path), "%s/file", dir);
	if (!strcmp(mode, "other"))
		snprintf(lock_path, sizeof(lock_path), "%s/lock.%s", dir, who);
	else
		snprintf(lock_path, sizeof(lock_path), "%s/lock", dir);
	if (locking) {
		lfd = open(lock_path, O_RDWR | O_CREAT, 0600);
		if (lfd < 0 || file_lock(lfd, 1) != 0)
			return 1;
	}
	if (access(path, F_OK) == 0 || errno != ENOENT)
		goto out;
	if (!strcmp(mode, "released") && file_lock(lfd, 0) != 0)
		goto out;
	if (!strcmp(mode, "closed")) {
		int other = open(lock_path, O_RDONLY);
		if (other < 0 || close(other) != 0)
			goto out;
	}
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		goto out;
	close(fd);
	rc = unlink(path) != 0;
out:
	if (locking) {
		file_lock(lfd, 0);
		close(lfd);
	}
	return rc;
}

/* Prints what a call returned and its errno. */
static void show(const char *what, int rc)
{
	printf("%s: %d errno %d\n", what, rc, rc < 0 ? errno : 0);
}

/* Calls the wrappers pass through or record, printing each result (mode calls). */
static int calls(const char *dir)
{
	char path[4096];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5 };

	snprintf(path, sizeof(path), "%s/calls", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 1;
	show("F_GETFL", fcntl(fd, F_GETFL) & O_ACCMODE);
	show("F_SETFD", fcntl(fd, F_SETFD, FD_CLOEXEC));
	show("F_GETFD", fcntl(fd, F_GETFD));
	int dup = fcntl(fd, F_DUPFD, 50);
	show("F_DUPFD>=50", dup >= 50);
	show("close dup", close(dup));
	show("close dup again", close(dup));
	show("F_SETLK", fcntl(fd, F_SETLK, &fl));
	show("F_GETLK", fcntl(fd, F_GETLK, &fl));
	printf("F_GETLK type %d (unlocked %d)\n", fl.l_type, F_UNLCK);
	fl.l_type = F_UNLCK;
	show("F_SETLK unlock", fcntl(fd, F_SETLK, &fl));
	fl.l_type = 99;
	show("F_SETLK bad type", fcntl(fd, F_SETLK, &fl));
	show("F_SETLK bad fd", fcntl(-1, F_SETLK, &fl));
	show("F_SETLKW bad fd", fcntl(1000, F_SETLKW, &fl));
	show("fcntl bad cmd", fcntl(fd, 0x7fff));
	show("lockf F_TLOCK", lockf(fd, F_TLOCK, 0));
	show("lockf F_TEST", lockf(fd, F_TEST, 0));
	show("lockf F_ULOCK", lockf(fd, F_ULOCK, 0));
	show("lockf bad cmd", lockf(fd, 42, 0));
	show("flock LOCK_EX", flock(fd, LOCK_EX | LOCK_NB));
	show("flock LOCK_UN", flock(fd, LOCK_UN));
	show("flock bad fd", flock(-1, LOCK_EX));
	show("flock bad op", flock(fd, 0));
	show("close", close(fd));
	show("close bad fd", close(-1));
	unlink(path);
	printf("%s: done\n", mode);
	return 0;
}

int main(int argc, char **argv)
{
	int st, fds[2];
	char buf[1];

	if (argc != 3)
		return 2;
	mode = argv[1];
	if (!strcmp(mode, "calls"))
		return calls(argv[2]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		return 3;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		int rc = check_then_create(argv[2], "child");
		for (int i = 1; !rc && i < 200 && !strcmp(mode, "repeat"); i++)
			rc = check_then_create(argv[2], "child");
		_exit(rc);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], buf, 1) != 0)
		return 3;
	/* The child has exited (its end of the pipe is closed); reaped only later. */
	int rc = check_then_create(argv[2], "parent");
	for (int i = 1; !rc && i < 200 && !strcmp(mode, "repeat"); i++)
		rc = check_then_create(argv[2], "parent");
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 4;
	if (rc)
		return 5;
	printf("%s: done\n", mode);
	return 0;
}
