/*
 * Lesson, livelock: two polite people meet in a corridor and both step aside, to the same
 * side, again and again.  Here each thread needs both the left and the right lock: it takes
 * its first lock, tries the other with pthread_mutex_trylock(), and when that fails, backs
 * off politely: it releases what it holds and tries again.  Walking in step (a barrier
 * keeps them in step, so every run shows it), they back off forever: nobody is blocked,
 * nobody makes progress.  Here the politeness is bounded: after 10 rounds the
 * right-handed thread waits a little, which breaks the symmetry, and both finish.
 *
 * Expected: no deadlock and no error.  The two threads take the locks in opposite orders,
 * but the second lock is always a trylock, which backs off instead of blocking, so
 * lockwatch reports the cycle as a warning (reason: trylock), not as an error.  lockwatch
 * does not detect the livelock itself (the retries are the program's own loop).
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define POLITE_ROUNDS 10

static pthread_mutex_t left = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t right = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t in_step;

struct person {
	const char *name;
	pthread_mutex_t *first, *second;
	int patience_ms;                        /* how long it waits once politeness runs out */
	int backed_off;
};

static void *walk(void *arg)
{
	struct person *p = arg;

	/* The livelock: in step, each holds its first lock when it tries the second. */
	for (int round = 0; round < POLITE_ROUNDS; round++) {
		pthread_mutex_lock(p->first);
		pthread_barrier_wait(&in_step);         /* both hold their first lock */
		if (pthread_mutex_trylock(p->second) == 0) {
			pthread_mutex_unlock(p->second); /* not in step after all */
			pthread_mutex_unlock(p->first);
			return NULL;
		}
		pthread_barrier_wait(&in_step);         /* both have tried, and failed */
		pthread_mutex_unlock(p->first);         /* "after you" */
		p->backed_off++;
		pthread_barrier_wait(&in_step);         /* both stepped aside */
	}

	/* Out of politeness: one waits a little longer, and the symmetry is broken. */
	usleep(p->patience_ms * 1000);
	for (;;) {
		pthread_mutex_lock(p->first);
		if (pthread_mutex_trylock(p->second) == 0)
			break;
		pthread_mutex_unlock(p->first);
		usleep(1000);
	}
	pthread_mutex_unlock(p->second);
	pthread_mutex_unlock(p->first);
	return NULL;
}

int main(void)
{
	struct person a = { "left-handed", &left, &right, 0, 0 };
	struct person b = { "right-handed", &right, &left, 30, 0 };
	pthread_t ta, tb;

	pthread_barrier_init(&in_step, NULL, 2);
	pthread_create(&ta, NULL, walk, &a);
	pthread_create(&tb, NULL, walk, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&in_step);
	printf("%s backed off %d times, %s %d times\n", a.name, a.backed_off, b.name,
	       b.backed_off);
	return 0;
}
