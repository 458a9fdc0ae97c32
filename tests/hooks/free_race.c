/* Hook mode: a free is a write to the whole block.  main gives a heap block to a thread that
 * frees it a little later, and reads a byte of it meanwhile with nothing ordering the read
 * before the free: a data race (read, then free).  With the argument "join", main reads the
 * byte, joins the thread and only then lets it be freed (the thread frees it after the join
 * is impossible, so main frees it itself): no race. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *mem;

static void *freer(void *arg)
{
	(void)arg;
	usleep(100 * 1000);
	free(mem);
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	return (void *)(long)mem[5];
}

int main(int argc, char **argv)
{
	pthread_t t;
	void *got = NULL;

	mem = malloc(10);
	memset(mem, 7, 10);
	if (argc > 1 && !strcmp(argv[1], "join")) {
		pthread_create(&t, NULL, reader, NULL);
		pthread_join(t, &got);
		free(mem);
	} else {
		pthread_create(&t, NULL, freer, NULL);
		got = (void *)(long)((volatile char *)mem)[5];
		pthread_join(t, NULL);
	}
	printf("%ld\n", (long)got);
	return 0;
}
