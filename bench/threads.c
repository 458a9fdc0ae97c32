/* Many short-lived threads: created in batches, each takes a nested pair of locks once. */
/*
 * usage: threads [count] [batch]
 *
 * Creates `count` threads (default 20000), `batch` (default 8) at a time, and joins each
 * batch before starting the next.  Every thread locks `outer` then `inner` (always in that
 * order), bumps a counter and returns.  This measures thread start-up and exit under the
 * tool (a thread-per-request server) and how the trace grows with the number of threads.
 * Prints one checksum line.  Exit status 0, or 2 on a bad argument or a failed call.
 */
#include <pthread.h>
#include "bench_common.h"

#define USAGE "threads [count] [batch]"

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;
static uint64_t counter;

static void *work(void *arg)
{
	pthread_mutex_lock(&outer);
	pthread_mutex_lock(&inner);
	counter += (uintptr_t)arg;
	pthread_mutex_unlock(&inner);
	pthread_mutex_unlock(&outer);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long count = bench_arg(argc, argv, 1, 20000, 1UL << 30, USAGE);
	unsigned long batch = bench_arg(argc, argv, 2, 8, 1024, USAGE);
	pthread_t th[1024];

	for (unsigned long done = 0; done < count;) {
		unsigned long n = count - done < batch ? count - done : batch;

		for (unsigned long i = 0; i < n; i++)
			bench_check(pthread_create(&th[i], NULL, work, (void *)(uintptr_t)(done + i)),
				    "pthread_create");
		for (unsigned long i = 0; i < n; i++)
			bench_check(pthread_join(th[i], NULL), "pthread_join");
		done += n;
	}
	printf("threads count=%lu batch=%lu checksum=%016" PRIx64 "\n", count, batch, counter);
	return 0;
}
