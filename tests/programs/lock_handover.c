/* Test program (watch mode, --watch shared): a mutex one thread uses for a while, then hands
 * to another.
 *
 * usage: lock_handover [late]
 *
 * The first thread writes `shared`, then takes and releases the mutex 1000 times, touching
 * nothing under it.  The second thread then takes the mutex once and reads `shared` under it.
 *   (default)  the first thread's write comes before its releases: the mutex orders it before
 *              the read, so there is no race.  The second thread waits for the first through
 *              a socket pair, whose order lockwatch does not see: only the mutex orders.
 *   late       the first thread posts a semaphore, which the second waits for, and writes
 *              `shared` only after its releases and its post: a data race with the read.
 * Prints "shared: N" (the value read).  Exit status 0. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROUNDS 1000

int shared;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t posted;
static int fds[2];
static int late;

static void *first(void *arg)
{
	(void)arg;
	if (!late)
		shared = 1;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	if (late) {
		sem_post(&posted);
		shared = 2;
	} else if (write(fds[1], "x", 1) != 1) {
		perror("write");
	}
	return NULL;
}

static void *second(void *arg)
{
	char c;
	int *seen = arg;

	if (late)
		sem_wait(&posted);
	else if (read(fds[0], &c, 1) != 1)
		perror("read");
	pthread_mutex_lock(&m);
	*seen = shared;
	pthread_mutex_unlock(&m);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;
	int seen = 0;

	late = argc > 1 && !strcmp(argv[1], "late");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0 || sem_init(&posted, 0, 0) != 0) {
		perror("lock_handover");
		return 1;
	}
	pthread_create(&a, NULL, first, NULL);
	pthread_create(&b, NULL, second, &seen);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("shared: %d\n", seen);
	return 0;
}
