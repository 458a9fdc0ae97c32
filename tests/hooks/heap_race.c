/* Hook mode: two threads add to a field of one heap object with no lock (a data race on the
 * object at offset 8), and each writes its own field of a second object (no race: different
 * bytes of one 8-byte granule). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct account {
	long id;
	long balance;            /* offset 8: raced on */
	long spare;
};

struct pair {
	int mine[2];             /* T1 writes [0], T2 writes [1]: same granule, other bytes */
};

static struct account *acct;
static struct pair *pr;

static void *worker(void *arg)
{
	int me = (int)(long)arg;
	for (int i = 0; i < 1000; i++) {
		acct->balance += 1;
		pr->mine[me] += i;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	acct = calloc(1, sizeof *acct);
	pr = calloc(1, sizeof *pr);
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("balance %ld, %d %d\n", acct->balance, pr->mine[0], pr->mine[1]);
	free(acct);
	free(pr);
	return 0;
}
