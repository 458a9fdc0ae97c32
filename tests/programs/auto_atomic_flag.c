/* Test program (issue 20): a release/acquire flag publishing a global, which x86 compiles to
 * plain moves.  argv[1] "ordered": the consumer waits for the flag before it reads the data:
 * race-free, and automatic watching must say so (the flag's DWARF type is _Atomic).
 * "unordered": the consumer reads the data without waiting: a data race on `data`.  Prints
 * "done" and exits 0. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

atomic_int ready;
long data;

static void *producer(void *arg)
{
	for (int i = 0; i < 1000; i++)
		sched_yield();
	data = 42;
	atomic_store_explicit(&ready, 1, memory_order_release);
	return arg;
}

static void *consumer(void *arg)
{
	long seen = 0;
	if (*(const int *)arg)
		while (!atomic_load_explicit(&ready, memory_order_acquire))
			sched_yield();
	for (int i = 0; i < 2000; i++) {
		seen += data;
		sched_yield();
	}
	return seen >= 0 ? arg : NULL;
}

int main(int argc, char **argv)
{
	/* On main's stack, not a global: the two globals fit the two debug registers of
	 * automatic watching for the whole run. */
	int ordered = argc > 1 && !strcmp(argv[1], "ordered");
	pthread_t p, c;
	pthread_create(&c, NULL, consumer, &ordered);
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	printf("done %ld %d\n", data, atomic_load(&ready));
	return 0;
}
