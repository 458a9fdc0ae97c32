/* Two threads increment one counter with no lock, for the collider (issue 20), which must
 * catch the race in the act with no option.  The counter is, by the argument:
 *   heap     a heap block's only member
 *   member   a member of a struct in a heap block
 *   element  an element of an array in a heap block
 *   stack    a variable of main's stack, handed to the threads by address
 *   locked   a heap counter under a mutex: no race, never reported
 *   long     heap, ten times as many rounds (a second or so: the cost budget's test) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS        30000000L
#define LOCKED_ROUNDS  1000000L

struct account {
	int id;
	char name[12];
	long count;
	long other;
};

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static long rounds = ROUNDS;

static void *racy(void *arg)
{
	long *counter = arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < rounds; i++)
		(*counter)++;
	return NULL;
}

static void *locked(void *arg)
{
	long *counter = arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < LOCKED_ROUNDS; i++) {
		pthread_mutex_lock(&m);
		(*counter)++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "heap";
	long on_stack = 0, *counter;
	struct account *acct = NULL;
	long *array = NULL;
	if (!strcmp(mode, "member")) {
		acct = calloc(1, sizeof *acct);
		counter = &acct->count;
	} else if (!strcmp(mode, "element")) {
		array = calloc(16, sizeof *array);
		counter = &array[5];
	} else if (!strcmp(mode, "stack")) {
		counter = &on_stack;
	} else {
		counter = calloc(1, sizeof *counter);
		if (!strcmp(mode, "long"))
			rounds *= 10;
	}
	void *(*fn)(void *) = !strcmp(mode, "locked") ? locked : racy;
	pthread_barrier_init(&start, NULL, 2);
	pthread_t a, b;
	pthread_create(&a, NULL, fn, counter);
	pthread_create(&b, NULL, fn, counter);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("%s: %ld\n", mode, *counter);
	return 0;
}
