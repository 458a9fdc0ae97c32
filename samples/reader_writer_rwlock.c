/*
 * Lesson, readers-writers, the fix: pthread_rwlock_t.  Readers take the lock for reading
 * and share it; the writer takes it for writing and excludes everyone.  Each thread unlocks
 * what it locked itself.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define N_READERS 4

static pthread_rwlock_t room = PTHREAD_RWLOCK_INITIALIZER;
static int data;
static long reads;
static pthread_mutex_t reads_lock = PTHREAD_MUTEX_INITIALIZER;

static void *reader(void *arg)
{
	for (int i = 0; i < 50; i++) {
		pthread_rwlock_rdlock(&room);
		int seen = data;
		pthread_rwlock_unlock(&room);
		(void)seen;
		pthread_mutex_lock(&reads_lock);
		reads++;
		pthread_mutex_unlock(&reads_lock);
		usleep(200);
	}
	return arg;
}

static void *writer(void *arg)
{
	for (int i = 0; i < 20; i++) {
		pthread_rwlock_wrlock(&room);
		data++;
		pthread_rwlock_unlock(&room);
		usleep(500);
	}
	return arg;
}

int main(void)
{
	pthread_t r[N_READERS], w;

	for (int i = 0; i < N_READERS; i++)
		pthread_create(&r[i], NULL, reader, NULL);
	pthread_create(&w, NULL, writer, NULL);
	for (int i = 0; i < N_READERS; i++)
		pthread_join(r[i], NULL);
	pthread_join(w, NULL);
	printf("data=%d after %ld reads\n", data, reads);
	return 0;
}
