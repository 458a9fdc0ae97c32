/* Hook mode: two threads write overlapping halves of a global array with no lock: a data
 * race on slots[16..31]; each thread's own part is not one. */
#include <pthread.h>
#include <stdio.h>

long slots[48];

static void *worker(void *arg)
{
	long lo = (long)arg;
	for (int round = 0; round < 100; round++)
		for (long i = lo; i < lo + 32; i++)
			slots[i] += round;
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, worker, (void *)0L);
	pthread_create(&b, NULL, worker, (void *)16L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	long sum = 0;
	for (int i = 0; i < 48; i++)
		sum += slots[i];
	printf("sum %ld\n", sum);
	return 0;
}
