/* Calls every path function the shim interposes, in a fresh directory, and prints each
 * result and errno: the output must be the same with and without the shim. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The pre-2.33 stat ABI, still exported by glibc for old binaries. */
extern int __xstat(int ver, const char *path, struct stat *st);

static void show(const char *what, int rc)
{
	printf("%-28s %s errno %d\n", what, rc < 0 ? "-1" : rc == 0 ? "0" : ">0", rc < 0 ? errno : 0);
}

/* The mode a descriptor's file was created with. */
static void show_mode(const char *what, int fd)
{
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0)
		printf("%-28s mode %04o\n", what, (unsigned)(st.st_mode & 07777));
}

int main(void)
{
	char dir[] = "/tmp/lockwatch-paths-XXXXXX";
	struct stat st;
	struct stat64 st64;
	int fd, dfd;

	if (!mkdtemp(dir) || chdir(dir) < 0)
		return 1;
	printf("dir %s\n", dir);
	umask(0);
	dfd = open(".", O_RDONLY | O_DIRECTORY);

	errno = 0;
	show("access missing", access("missing", F_OK));
	show("creat c.txt", fd = creat("c.txt", 0600));
	show_mode("creat mode", fd);
	close(fd);
	show("open o.txt O_CREAT", fd = open("o.txt", O_CREAT | O_WRONLY, 0640));
	show_mode("open mode", fd);
	close(fd);
	show("open o.txt O_CREAT|O_EXCL", open("o.txt", O_CREAT | O_EXCL | O_WRONLY, 0600));
	show("open o.txt O_RDONLY", fd = open("o.txt", O_RDONLY));
	close(fd);
	show("openat at.txt", fd = openat(dfd, "at.txt", O_CREAT | O_WRONLY, 0604));
	show_mode("openat mode", fd);
	close(fd);
	show("openat64 at64.txt", fd = openat64(dfd, "at64.txt", O_CREAT | O_WRONLY, 0644));
	close(fd);
	show("open64 o64.txt", fd = open64("o64.txt", O_CREAT | O_WRONLY, 0600));
	close(fd);
	show("open O_TMPFILE", fd = open(".", O_TMPFILE | O_RDWR, 0606));
	show_mode("O_TMPFILE mode", fd);
	if (fd >= 0)
		close(fd);
	show("stat o.txt", stat("o.txt", &st));
	show("lstat o.txt", lstat("o.txt", &st));
	show("fstatat o.txt", fstatat(dfd, "o.txt", &st, 0));
	show("fstatat empty path", fstatat(dfd, "", &st, AT_EMPTY_PATH));
	show("stat64 o.txt", stat64("o.txt", &st64));
	show("lstat64 o.txt", lstat64("o.txt", &st64));
	show("fstatat64 o.txt", fstatat64(dfd, "o.txt", &st64, 0));
	show("stat missing", stat("missing", &st));
	show("__xstat o.txt", __xstat(1, "o.txt", &st));
	show("rename c.txt r.txt", rename("c.txt", "r.txt"));
	show("unlink r.txt", unlink("r.txt"));
	show("unlink missing", unlink("missing"));
	show("access o.txt", access("o.txt", R_OK | W_OK));

	unlink("o.txt");
	unlink("at.txt");
	unlink("at64.txt");
	unlink("o64.txt");
	close(dfd);
	if (chdir("/") < 0 || rmdir(dir) < 0)
		return 1;
	return 0;
}
