/* Hook mode: a heap block freed by one thread and handed to another by the allocator is a
 * new block, not a shared one.  T1 allocates a block, fills it and frees it; T2, told through
 * a socket pair (synchronisation lockwatch does not see) once main has joined T1, allocates a block
 * of the same size, gets the same memory back from the one arena, and fills it; the socket also
 * carries the first block's address (as bytes), to tell whether it was reused.  No data race:
 * the two blocks only share an address.  T2 allocates only after T1 has ended, since a
 * thread's exit gives its allocator cache back to the arena, and done while T2 allocated
 * that sometimes handed T2 other memory.  Prints "reused 1" when the allocator did hand the
 * memory back (the blocks overlap); exits with 3 when it did not, since the test then proves
 * nothing. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLOCK 2000               /* above the per-thread cache's sizes: back to the arena */

static int fds[2], ready[2], go[2];
static int reused;               /* set by the consumer, read by main after the join */

static void *producer(void *arg)
{
	(void)arg;
	long *p = malloc(BLOCK);
	for (size_t i = 0; i < BLOCK / sizeof *p; i++)
		p[i] = (long)i;
	free(p);
	if (write(fds[1], &p, sizeof p) != sizeof p)
		perror("write");
	return NULL;
}

static void *consumer(void *arg)
{
	void *first = NULL;
	char c;
	(void)arg;
	free(malloc(1));         /* the thread's allocator cache, made now, not from the block */
	if (write(ready[1], "r", 1) != 1)
		perror("write");
	if (read(fds[0], &first, sizeof first) != sizeof first)
		perror("read");
	if (read(go[0], &c, 1) != 1)         /* T1 has ended */
		perror("read");
	long *q = malloc(BLOCK);
	long sum = 0;
	for (size_t i = 0; i < BLOCK / sizeof *q; i++)
		q[i] = 2 * (long)i;
	for (size_t i = 0; i < BLOCK / sizeof *q; i++)
		sum += q[i];
	char *a = first, *b = (char *)q;
	reused = b < a + BLOCK && a < b + BLOCK;
	printf("reused %d sum %ld\n", reused, sum);
	free(q);
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	char c;

	mallopt(M_ARENA_MAX, 1);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, ready) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, go) != 0) {
		perror("socketpair");
		return 1;
	}
	pthread_create(&b, NULL, consumer, NULL);
	if (read(ready[0], &c, 1) != 1)
		perror("read");
	pthread_create(&a, NULL, producer, NULL);
	pthread_join(a, NULL);
	if (write(go[1], "g", 1) != 1)
		perror("write");
	pthread_join(b, NULL);
	return reused ? 0 : 3;
}
