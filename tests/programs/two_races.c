/* Two racy globals whose names differ only in a digit, raced on through one function (the
 * same pair of sites): each is its own finding (issue 21: only the first was reported,
 * the second counted into it). */
#include <pthread.h>
#include <stdio.h>

long total1, total2;

__attribute__((noinline)) static void bump(long *p)
{
	*p += 1;
}

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		bump(&total1);
		bump(&total2);
	}
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, worker, NULL);
	pthread_create(&t2, NULL, worker, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("%ld %ld\n", total1, total2);
	return 0;
}
