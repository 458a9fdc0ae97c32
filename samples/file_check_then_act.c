/*
 * Lesson, check-then-act on a file: two threads each want to be the one that creates a lock
 * file.  Each checks with access() that the file does not exist, then creates it with
 * open(O_CREAT).  Between the check and the create the other thread can do the same: both
 * "win", both believe they own the file, and the second open silently truncates the first
 * one's file.
 *
 * Expected: lockwatch reports an error-level atomicity-violation naming the file's path
 * (/tmp/lockwatch-sample-<pid>.lock).  The fix is file_create_excl.c.
 */
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

	if (access(lock_path, F_OK) != 0) {            /* check: nobody owns it yet ... */
		usleep(20 * 1000);                      /* ... the other thread checks too ... */
		int fd = open(lock_path, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* ... act */
		if (fd >= 0) {
			if (write(fd, name, strlen(name)) < 0)
				perror("write");
			close(fd);
			pthread_mutex_lock(&winners_lock);
			winners++;
			pthread_mutex_unlock(&winners_lock);
		}
	}
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
	printf("%d thread(s) believe they created %s\n", winners, lock_path);
	unlink(lock_path);
	return 0;
}
