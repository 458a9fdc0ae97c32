/*
 * Lesson, readers-writers, the lesson's own lock: readers share the room, a writer needs it
 * alone.  A counter of readers is protected by `mutex`; the first reader in locks `room`,
 * the last reader out unlocks it, and a writer locks `room` for itself.
 *
 * The flaw: the first reader in and the last reader out are usually different threads, so
 * `room` is unlocked by a thread that does not own it.  A POSIX mutex must be unlocked by
 * its owner (undefined behaviour otherwise; an error-checking mutex refuses).  The
 * schedule below makes it happen every run: reader A enters first, reader B joins it, A
 * leaves, and B, leaving last, unlocks the room A locked.  reader_writer_rwlock.c is the fix.
 *
 * Expected: lockwatch reports an error-level misuse: reader B's thread unlocked mutex room,
 * which is held by reader A's thread.  It also warns about a lock-order cycle within one
 * thread: reader A locks room while holding mutex (coming in first) and mutex while holding
 * room (going out); one thread alone cannot deadlock that way, hence only a warning.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER; /* protects readers */
static pthread_mutex_t room = PTHREAD_MUTEX_INITIALIZER;  /* held while anyone reads or writes */
static int readers;
static int data;

static void reader_enter(void)
{
	pthread_mutex_lock(&mutex);
	if (++readers == 1)
		pthread_mutex_lock(&room);      /* the first reader in locks the room */
	pthread_mutex_unlock(&mutex);
}

static void reader_leave(void)
{
	pthread_mutex_lock(&mutex);
	if (--readers == 0)
		pthread_mutex_unlock(&room);    /* the last reader out unlocks it: maybe not its owner */
	pthread_mutex_unlock(&mutex);
}

struct reader_plan {
	const char *name;
	int start_ms, read_ms, think_ms, rounds;
};

static void *reader(void *arg)
{
	const struct reader_plan *p = arg;

	usleep(p->start_ms * 1000);
	for (int round = 0; round < p->rounds; round++) {
		if (round)
			usleep(p->think_ms * 1000);
		reader_enter();
		printf("%s reads %d\n", p->name, data);
		usleep(p->read_ms * 1000);
		reader_leave();
	}
	return NULL;
}

static void *writer(void *arg)
{
	usleep(100 * 1000);
	pthread_mutex_lock(&room);              /* waits until the last reader leaves */
	data = 42;
	printf("writer wrote %d\n", data);
	pthread_mutex_unlock(&room);
	return arg;
}

int main(void)
{
	/* A enters at 0 ms and leaves at 150; B enters at 50 and leaves, last, at 300,
	 * unlocking the room A locked (A is still running); the writer asks at 100 and gets
	 * the room at 300; A reads again from 400 to 550, alone. */
	struct reader_plan a = { "reader A", 0, 150, 250, 2 }, b = { "reader B", 50, 250, 0, 1 };
	pthread_t ta, tb, tw;

	pthread_create(&ta, NULL, reader, &a);
	pthread_create(&tb, NULL, reader, &b);
	pthread_create(&tw, NULL, writer, NULL);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tw, NULL);
	return 0;
}
