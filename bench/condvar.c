/* Condition-variable ping-pong: two threads hand a token back and forth. */
/*
 * usage: condvar [round-trips]
 *
 * Two threads share a mutex, a condition variable and a `turn`; each waits until it is its
 * turn, passes the token and signals, `round-trips` times (default 50000).  Every step
 * blocks in pthread_cond_wait, so this measures the wait wrappers (the mutex leaves and
 * re-enters the held set) and wake-ups under the tool.  Prints one checksum line.  Exit
 * status 0, or 2 on a bad argument or a failed call.
 */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "condvar [round-trips]"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  changed = PTHREAD_COND_INITIALIZER;
static int             turn;
static unsigned long   rounds;
static uint64_t        passes;

static void *player(void *arg)
{
	int me = (int)(uintptr_t)arg;

	pthread_mutex_lock(&lock);
	for (unsigned long n = 0; n < rounds; n++) {
		while (turn != me)
			pthread_cond_wait(&changed, &lock);
		passes += (uint64_t)me + 1;
		turn = !me;
		pthread_cond_signal(&changed);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	rounds = bench_arg(argc, argv, 1, 50000, 1UL << 40, USAGE);
	bench_check(pthread_create(&a, NULL, player, (void *)0), "pthread_create");
	bench_check(pthread_create(&b, NULL, player, (void *)1), "pthread_create");
	bench_check(pthread_join(a, NULL), "pthread_join");
	bench_check(pthread_join(b, NULL), "pthread_join");
	printf("condvar round-trips=%lu checksum=%016" PRIx64 "\n", rounds, passes);
	return 0;
}
