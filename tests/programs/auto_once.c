/* Test program for automatic watching (issue 20): a global table filled by a pthread_once
 * init routine in whichever thread comes first, and read by every thread after its
 * pthread_once returns.  pthread_once orders the init before every return: no race.  Prints
 * "done" and exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
long table[4];

static void init(void)
{
	usleep(2000);             /* the other thread waits in pthread_once meanwhile */
	table[0] = 1;
	table[1] = 2;
	table[2] = 3;
	table[3] = 4;
}

static void *use(void *arg)
{
	long sum = 0;
	for (int round = 0; round < 100; round++) {
		pthread_once(&once, init);
		sum += table[0] + table[1];
		usleep(2000);
	}
	*(long *)arg = sum;
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	long s1, s2;
	pthread_create(&t1, NULL, use, &s1);
	pthread_create(&t2, NULL, use, &s2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("done %ld\n", s1 + s2);
	return 0;
}
