/* Test program: stats argv[2] distinct missing paths in directory argv[1], all at one call
 * site.  With argv[3] "race", two threads then check, at that same site, that a lock file in
 * argv[1] does not exist, wait for each other, and both create it (a check-then-act, as
 * samples/file_check_then_act.c).  Exits 0. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char lock_path[4200];
static pthread_barrier_t both_checked;

static __attribute__((noinline)) int check(const char *path)
{
	struct stat st;
	return stat(path, &st);
}

static void *own(void *arg)
{
	int missing = check(lock_path) != 0;
	pthread_barrier_wait(&both_checked);
	if (missing) {
		int fd = open(lock_path, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
	}
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int n = atoi(argv[2]);
	for (int i = 0; i < n; i++) {
		char path[4200];
		snprintf(path, sizeof path, "%s/missing-%d", argv[1], i);
		check(path);
	}
	if (argc > 3 && !strcmp(argv[3], "race")) {
		snprintf(lock_path, sizeof lock_path, "%s/owner.lock", argv[1]);
		pthread_barrier_init(&both_checked, NULL, 2);
		pthread_t a, b;
		pthread_create(&a, NULL, own, NULL);
		pthread_create(&b, NULL, own, NULL);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		unlink(lock_path);
	}
	return 0;
}
