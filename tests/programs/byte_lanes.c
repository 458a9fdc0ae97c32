/* Bytes of one 8-byte word (issue 21: byte granularity).  Both threads read the words, meet
 * at a barrier, then write.  Mode "apart": the two threads write two different bytes of a
 * word, and the upper half of another word against a byte of its lower half: no race.  Mode
 * "same": each thread writes its own byte of the word and then byte 3 of it too: a race on
 * byte 3 (which a thread's write of another byte of the word hid). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

union word {
	unsigned char b[8];
	uint32_t half[2];
};
union word lanes, halves;
static int same;
static pthread_barrier_t ready;
static unsigned sum[2];

static void *worker(void *arg)
{
	long id = (long)arg;
	sum[id] = lanes.b[7] + halves.b[7];     /* both threads have touched both words */
	pthread_barrier_wait(&ready);
	for (int i = 0; i < 200; i++) {
		lanes.b[id] = (unsigned char)i;
		if (same)
			lanes.b[3] = (unsigned char)i;
		if (id)
			halves.half[1] = (uint32_t)i;
		else
			halves.b[2] = (unsigned char)i;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	same = argc > 1 && !strcmp(argv[1], "same");
	pthread_barrier_init(&ready, NULL, 2);
	pthread_create(&t1, NULL, worker, (void *)0);
	pthread_create(&t2, NULL, worker, (void *)1);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("%u %u %u %u\n", lanes.b[0], lanes.b[3], halves.b[2], sum[0] + sum[1]);
	return 0;
}
