/* Hook mode: reads of a global that threads share and none has written since are kept out of
 * the trace until a write needs them (shim/access/hooks.c, "Reads of data nobody writes").
 *
 * usage: kept_read [ordered|moved]
 *
 * main sets `setting` (config.setting), then starts A and B.  A reads it under a mutex and
 * posts; B, once posted, reads it too (now both threads have: shared, and nobody has written
 * it since) and posts back; A reads it again (the read that is kept) and its neighbour in
 * the same 8-byte granule (a read of other bytes, kept apart from it), tells main, and then
 * blocks for good, so that its end never writes that read: only B's write can.  B then
 * takes the mutex A released, and writes `setting`.
 *   (default)  B writes 100 ms later, with nothing between: A's second read, which has
 *              almost surely been made and kept by then, is not ordered before the write, a
 *              race (had it not been made yet, it would be recorded as it came, and race
 *              just the same).
 *   ordered    A posts after its second read and B waits for that before writing: no race
 *              (the read is written in its place, before A's post).
 *   moved      A posts after its second read and reads `setting` again, at the same place
 *              in the code; B waits for the post, then writes 100 ms later: the kept read
 *              has moved to the third read, after the post, which races with the write.
 * main joins B, waits for A's word and exits with A still blocked.  Prints "setting: N".
 * Exit status 0. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* setting, and a neighbour in its 8-byte granule that A reads after it: a read of other
 * bytes of the granule must not take the place of the kept read of `setting`. */
struct {
	int setting;
	int neighbour;
} config;
#define setting config.setting
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t a_read, b_read, a_again, a_done, never;
static int ordered, moved;

/* One place in the code that reads `setting`, whichever read of A's it is. */
static __attribute__((noinline)) int read_setting(void)
{
	return setting;
}

static void *thread_a(void *arg)
{
	volatile int seen;       /* on the stack: not shared */

	(void)arg;
	pthread_mutex_lock(&m);
	seen = setting;
	pthread_mutex_unlock(&m);
	sem_post(&a_read);
	sem_wait(&b_read);
	seen = read_setting();
	if (moved) {
		sem_post(&a_again);
		seen = read_setting();
	}
	seen = config.neighbour;
	if (ordered)
		sem_post(&a_again);
	sem_post(&a_done);
	sem_wait(&never);
	return (void *)(long)seen;
}

static void *thread_b(void *arg)
{
	volatile int seen;

	(void)arg;
	sem_wait(&a_read);
	seen = setting;
	sem_post(&b_read);
	if (ordered || moved)
		sem_wait(&a_again);
	if (!ordered)
		usleep(100 * 1000);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	setting = 2;
	return (void *)(long)seen;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	ordered = argc > 1 && !strcmp(argv[1], "ordered");
	moved = argc > 1 && !strcmp(argv[1], "moved");
	sem_init(&a_read, 0, 0);
	sem_init(&b_read, 0, 0);
	sem_init(&a_again, 0, 0);
	sem_init(&a_done, 0, 0);
	sem_init(&never, 0, 0);
	setting = 1;
	pthread_create(&a, NULL, thread_a, NULL);
	pthread_create(&b, NULL, thread_b, NULL);
	pthread_join(b, NULL);
	sem_wait(&a_done);
	printf("setting: %d\n", setting);
	fflush(stdout);
	exit(0);
}
