/*
 * Lesson, check-then-act on a file, the fix: the check and the create are one system call.
 * open(O_CREAT | O_EXCL) creates the lock file only if it does not exist and fails with
 * EEXIST otherwise, atomically, so exactly one thread wins.
 *
 * Expected: lockwatch reports nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char lock_path[64];
static int winners;
static pthread_mutex_t winners_lock = PTHREAD_MUTEX_INITIALIZER;

static void *try_to_own(void *arg)
{
	const char *name = arg;
	int fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd < 0) {
		if (errno != EEXIST)
			perror(lock_path);
		return NULL;                            /* somebody else owns it */
	}
	if (write(fd, name, strlen(name)) < 0)
		perror("write");
	close(fd);
	pthread_mutex_lock(&winners_lock);
	winners++;
	pthread_mutex_unlock(&winners_lock);
	return NULL;
}

int main(void)
{
	pthread_t a, b;

	snprintf(lock_path, sizeof(lock_path), "/tmp/lockwatch-sample-%d.lock", (int)getpid());
	pthread_create(&a, NULL, try_to_own, "thread a\n");
	pthread_create(&b, NULL, try_to_own, "thread b\n");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("%d thread created %s\n", winners, lock_path);
	unlink(lock_path);
	return 0;
}
