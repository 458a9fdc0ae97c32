/* An atomic store against a plain read of the same variable is a data race (as in C11 and
 * ThreadSanitizer); two atomic accesses are not (issue 21).  Mode "mixed": one thread
 * stores `ready` atomically, the other reads it plainly; mode "atomic": both atomically.
 * The threads meet at a barrier first, so that they run together. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

int ready;
static int mixed;
static pthread_barrier_t go;

static void *storer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&go);
	for (int i = 1; i <= 100; i++)
		__atomic_store_n(&ready, i, __ATOMIC_RELEASE);
	return NULL;
}

static void *loader(void *arg)
{
	long sum = 0;
	pthread_barrier_wait(&go);
	for (int i = 0; i < 100; i++)
		sum += mixed ? *(volatile int *)&ready : __atomic_load_n(&ready, __ATOMIC_ACQUIRE);
	*(long *)arg = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	long sum = 0;
	mixed = !(argc > 1 && !strcmp(argv[1], "atomic"));
	pthread_barrier_init(&go, NULL, 2);
	pthread_create(&t1, NULL, storer, NULL);
	pthread_create(&t2, NULL, loader, &sum);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("%d %d\n", ready, sum >= 0);
	return 0;
}
