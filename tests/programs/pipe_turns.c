/* Test program (issue 20): two threads take turns on a global, `turns`, each turn a read
 * and a write with no lock, ordered only by two pipes (a ping-pong): race-free, though the
 * shim sees no lock.  argv[1] "eventfd": the same with two eventfds; "racy": pipes, but each
 * player updates `turns` before it waits for its turn (a real race).  Prints "done N". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define ROUNDS 200

long turns;
static int ping[2], pong[2];
static int use_eventfd, racy;

static void give(int fd)
{
	if (use_eventfd) {
		uint64_t one = 1;
		if (write(fd, &one, sizeof one) != sizeof one)
			_exit(3);
	} else if (write(fd, "x", 1) != 1) {
		_exit(3);
	}
}

static void take(int fd)
{
	if (use_eventfd) {
		uint64_t v;
		if (read(fd, &v, sizeof v) != sizeof v)
			_exit(3);
	} else {
		char c;
		if (read(fd, &c, 1) != 1)
			_exit(3);
	}
}

static void *player(void *arg)
{
	int second = arg != NULL;
	for (int i = 0; i < ROUNDS; i++) {
		if (racy)
			turns = turns + 1;  /* not its turn yet */
		take(second ? ping[0] : pong[0]);
		if (!racy)
			turns = turns + 1;  /* its turn: the other waits in read */
		give(second ? pong[1] : ping[1]);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	use_eventfd = argc > 1 && !strcmp(argv[1], "eventfd");
	racy = argc > 1 && !strcmp(argv[1], "racy");
	if (use_eventfd) {
		ping[0] = ping[1] = eventfd(0, 0);
		pong[0] = pong[1] = eventfd(0, 0);
		if (ping[0] < 0 || pong[0] < 0)
			return 2;
	} else if (pipe(ping) != 0 || pipe(pong) != 0) {
		return 2;
	}
	pthread_t a, b;
	give(pong[1]);                       /* the first player starts */
	pthread_create(&a, NULL, player, NULL);
	pthread_create(&b, NULL, player, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("done %ld\n", turns);
	return 0;
}
