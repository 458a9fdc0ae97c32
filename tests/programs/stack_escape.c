/* A local of main handed by address to a thread (its start routine's argument), written by
 * both without a lock: a data race (issue 21: hook mode ignored main's own stack).  With
 * "joined", main writes it only after joining: no race. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *worker(void *arg)
{
	long *progress = arg;
	for (int i = 0; i < 100; i++)
		*progress += 1;
	return NULL;
}

int main(int argc, char **argv)
{
	long progress = 0;
	int joined = argc > 1 && !strcmp(argv[1], "joined");
	pthread_t t;
	pthread_create(&t, NULL, worker, &progress);
	if (joined)
		pthread_join(t, NULL);
	for (int i = 0; i < 100; i++)
		progress += 1;
	if (!joined)
		pthread_join(t, NULL);
	printf("progress: %ld\n", progress);
	return 0;
}
