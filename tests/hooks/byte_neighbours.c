/* Hook mode: two threads write neighbouring bytes of the same 8-byte granules (byte 5 and
 * byte 6 of each of 256 granules), with no synchronisation: different memory, so no race.
 * One thread walks the granules up, the other down, so that each thread is the first to
 * touch about half of them. */
#include <pthread.h>
#include <stdio.h>

#define GRANULES 256

static char bytes[GRANULES * 8];

static void *writer(void *arg)
{
	int at = (int)(long)arg;
	for (int round = 0; round < 4; round++)
		for (int k = 0; k < GRANULES; k++) {
			int g = at == 5 ? k : GRANULES - 1 - k;
			((volatile char *)bytes)[g * 8 + at] = (char)round;
		}
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	pthread_create(&t[0], NULL, writer, (void *)5L);
	pthread_create(&t[1], NULL, writer, (void *)6L);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("%d %d\n", bytes[5], bytes[6]);
	return 0;
}
