/* Races on the pthread objects themselves (issue 21), each ordered for lockwatch by nothing
 * but a socket pair (whose order lockwatch does not see: liblockwatch(7)), so that the racy
 * order happens every run:
 *   racy-init      main creates the user, then initialises mutex m, then tells it by socket;
 *                  the user locks m: the init and the lock race
 *   ordered-init   main initialises m before it creates the user: clean
 *   racy-destroy   the user signals condvar c and waits at barrier b (count 1), then tells
 *                  main by socket; main destroys both without joining it first: two races
 *   join-destroy   as racy-destroy, but main joins the user before destroying: clean
 *   wake-destroy   main waits on condvar c under mutex wm for `ready`; the other thread
 *                  sets it, signals c and destroys c before unlocking wm (POSIX allows
 *                  destroying a condvar whose waiters were all woken): clean */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_mutex_t m;
static pthread_cond_t c;
static pthread_barrier_t b;
static int fds[2];
static int shared;
static pthread_mutex_t wm = PTHREAD_MUTEX_INITIALIZER;
static int ready;

static void *signaller(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&wm);
	ready = 1;
	pthread_cond_signal(&c);
	pthread_cond_destroy(&c);
	pthread_mutex_unlock(&wm);
	return NULL;
}

static void *locker(void *arg)
{
	char x;

	(void)arg;
	if (read(fds[0], &x, 1) != 1)
		return NULL;
	pthread_mutex_lock(&m);
	shared++;
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *user(void *arg)
{
	(void)arg;
	pthread_cond_signal(&c);
	pthread_barrier_wait(&b);
	if (write(fds[1], "x", 1) != 1)
		return NULL;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "racy-init";
	pthread_t t;
	char x;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		return 1;
	if (!strcmp(mode, "racy-init") || !strcmp(mode, "ordered-init")) {
		int ordered = !strcmp(mode, "ordered-init");

		if (ordered)
			pthread_mutex_init(&m, NULL);
		pthread_create(&t, NULL, locker, NULL);
		if (!ordered)
			pthread_mutex_init(&m, NULL);
		if (write(fds[1], "x", 1) != 1)
			return 1;
		pthread_join(t, NULL);
		pthread_mutex_destroy(&m);
		return shared == 1 ? 0 : 1;
	}
	if (!strcmp(mode, "wake-destroy")) {
		pthread_cond_init(&c, NULL);
		pthread_mutex_lock(&wm);
		pthread_create(&t, NULL, signaller, NULL);
		while (!ready)
			pthread_cond_wait(&c, &wm);
		pthread_mutex_unlock(&wm);
		pthread_join(t, NULL);
		return 0;
	}
	pthread_cond_init(&c, NULL);
	pthread_barrier_init(&b, NULL, 1);
	pthread_create(&t, NULL, user, NULL);
	if (read(fds[0], &x, 1) != 1)
		return 1;
	if (!strcmp(mode, "join-destroy"))
		pthread_join(t, NULL);
	pthread_cond_destroy(&c);
	pthread_barrier_destroy(&b);
	if (strcmp(mode, "join-destroy"))
		pthread_join(t, NULL);
	return 0;
}
