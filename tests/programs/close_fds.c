/* Test program: closes every file descriptor above 2 (close_range, as closefrom does), opens
 * a file that gets the lowest number again and keeps it, then keeps locking at new call
 * sites (the trace must grow, stacks are taken), creates and checks more files in argv[1],
 * changes directory to "/", and makes a lock-order inversion that the report must still
 * show.  Exits 0 when its own files came out right (nobody read, wrote or closed them). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t fd_first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fd_second = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pool[4096];

static void *first_then_second(void *arg)
{
	pthread_mutex_lock(&fd_first);
	pthread_mutex_lock(&fd_second);
	pthread_mutex_unlock(&fd_second);
	pthread_mutex_unlock(&fd_first);
	return arg;
}

static void *second_then_first(void *arg)
{
	usleep(50000);
	pthread_mutex_lock(&fd_second);
	pthread_mutex_lock(&fd_first);
	pthread_mutex_unlock(&fd_first);
	pthread_mutex_unlock(&fd_second);
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pthread_mutex_lock(&fd_first);
	pthread_mutex_unlock(&fd_first);
	if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	}
	char early_path[4200];
	snprintf(early_path, sizeof early_path, "%s/early", argv[1]);
	int early = open(early_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (early < 0 || write(early, "early\n", 6) != 6)
		return 3;
	/* Enough new locks and dependencies to need more than the first megabyte of trace. */
	for (int round = 0; round < 8; round++)
		for (int i = 0; i + 1 + round * 7 < 4096; i++) {
			pthread_mutex_lock(&pool[i]);
			pthread_mutex_lock(&pool[i + 1 + round * 7]);
			pthread_mutex_unlock(&pool[i + 1 + round * 7]);
			pthread_mutex_unlock(&pool[i]);
		}
	int bad = 0;
	for (int i = 0; i < 20; i++) {
		char path[4200], buf[64] = "";
		snprintf(path, sizeof path, "%s/file%d", argv[1], i);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			bad++;
			continue;
		}
		pthread_mutex_lock(&pool[i]);
		dprintf(fd, "line %d\n", i);
		pthread_mutex_unlock(&pool[i]);
		lseek(fd, 0, SEEK_SET);
		ssize_t n = read(fd, buf, sizeof buf - 1);
		if (n <= 0 || strncmp(buf, "line ", 5) != 0)
			bad++;
		close(fd);
	}
	char buf[16] = "";
	struct stat st;
	if (fstat(early, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 6 ||
	    pread(early, buf, sizeof buf - 1, 0) != 6 || strcmp(buf, "early\n") != 0) {
		fprintf(stderr, "close_fds: the file at descriptor %d was touched\n", early);
		bad++;
	}
	close(early);
	if (chdir("/") != 0)
		bad++;
	pthread_t a, b;
	pthread_create(&a, NULL, first_then_second, NULL);
	pthread_create(&b, NULL, second_then_first, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return bad;
}
