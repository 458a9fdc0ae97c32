/* Test program (issue 22): API misuse found on third-party programs, each scenario with its
 * correct counterpart: a realloc of memory holding a locked mutex; a mutex, rwlock or C11
 * mtx_t initialised twice without a destroy, or while held; a timed wait with an invalid
 * timeout; a lock call on memory that holds no mutex, a post of a semaphore overwritten
 * since its init; a join of oneself, a detach or cancel of a thread already joined; a
 * condition wait with an rwlock for its mutex; a mutex init refusing its attributes.
 * argv[1] names the scenario.  Exits 0, 2 on an unknown scenario.  No sleeps. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

struct node {
	pthread_mutex_t lock;
	int value;
};

static pthread_mutex_t table_lock;          /* zero-initialised; set up by table_setup */

static void table_setup(void)
{
	pthread_mutex_init(&table_lock, NULL);
}

/* Each call has a mutex of its own in its frame, never destroyed (glibc's destroy does
 * nothing, and many programs skip it): a new object each time, not a re-init. */
static __attribute__((noinline)) int frame_lock(int v)
{
	pthread_mutex_t m;
	pthread_mutex_init(&m, NULL);
	pthread_mutex_lock(&m);
	v++;
	pthread_mutex_unlock(&m);
	return v;
}

static __attribute__((noinline)) int frame_lock_again(int v)
{
	return frame_lock(v) + 1;
}

static void *nothing(void *arg)
{
	return arg;
}

static pthread_barrier_t barrier;

static void *late_to_barrier(void *arg)
{
	sem_wait(arg);
	pthread_barrier_wait(&barrier);
	return NULL;
}

static void *wait_for_cancel(void *arg)
{
	sem_t *s = arg;
	sem_post(s);
	for (;;)
		pthread_testcancel();   /* ends here when cancelled */
	return NULL;
}

/* Now, with tv_nsec set to nsec: a deadline already past, or out of range. */
static struct timespec soon(long nsec)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec = nsec;
	return ts;
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	if (!strcmp(s, "realloc-locked") || !strcmp(s, "realloc-clean")) {
		struct node *n = malloc(sizeof *n);
		pthread_mutex_init(&n->lock, NULL);
		pthread_mutex_lock(&n->lock);
		n->value = 1;
		if (!strcmp(s, "realloc-clean")) {
			pthread_mutex_unlock(&n->lock);
			pthread_mutex_destroy(&n->lock);
		}
		struct node *grown = realloc(n, 64 * sizeof *n);   /* the mutex moves, or not */
		if (!grown)
			return 1;
		grown->value++;
		/* (Not freed: the report must come from the realloc.) */
	} else if (!strcmp(s, "reinit-unused")) {
		pthread_mutex_t m;
		pthread_mutex_init(&m, NULL);
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		pthread_mutex_init(&m, NULL);            /* no destroy before */
		pthread_mutex_destroy(&m);
	} else if (!strcmp(s, "reinit-rwlock")) {
		pthread_rwlock_t rw;
		pthread_rwlock_init(&rw, NULL);
		pthread_rwlock_rdlock(&rw);
		pthread_rwlock_unlock(&rw);
		pthread_rwlock_init(&rw, NULL);
		pthread_rwlock_destroy(&rw);
	} else if (!strcmp(s, "reinit-global")) {
		table_setup();
		pthread_mutex_lock(&table_lock);
		pthread_mutex_unlock(&table_lock);
		table_setup();                           /* the set-up run twice */
	} else if (!strcmp(s, "reinit-clean")) {
		/* Destroyed between; a block-scope mutex in a loop; frames that come and go. */
		pthread_mutex_t m;
		pthread_mutex_init(&m, NULL);
		pthread_mutex_destroy(&m);
		pthread_mutex_init(&m, NULL);
		pthread_mutex_destroy(&m);
		int v = 0;
		for (int i = 0; i < 3; i++) {
			pthread_mutex_t each;
			pthread_mutex_init(&each, NULL);
			pthread_mutex_lock(&each);
			v++;
			pthread_mutex_unlock(&each);
		}
		v = frame_lock(v);
		v = frame_lock_again(v);
		v = frame_lock(v);
		table_setup();
		pthread_mutex_destroy(&table_lock);
		table_setup();
		printf("%d\n", v);
	} else if (!strcmp(s, "c11-reinit") || !strcmp(s, "c11-reinit-locked") ||
		   !strcmp(s, "c11-destroy-locked") || !strcmp(s, "c11-clean")) {
		mtx_t m;
		cnd_t c;
		mtx_init(&m, mtx_plain);
		cnd_init(&c);
		if (!strcmp(s, "c11-reinit")) {
			mtx_lock(&m);
			mtx_unlock(&m);
			mtx_init(&m, mtx_plain);
		} else if (!strcmp(s, "c11-reinit-locked")) {
			mtx_lock(&m);
			mtx_init(&m, mtx_plain);
		} else if (!strcmp(s, "c11-destroy-locked")) {
			mtx_lock(&m);
			mtx_destroy(&m);
			return 0;
		} else {
			mtx_lock(&m);
			mtx_unlock(&m);
			mtx_destroy(&m);
			mtx_init(&m, mtx_plain);
		}
		cnd_destroy(&c);
		mtx_destroy(&m);
	} else if (!strcmp(s, "timeout-invalid") || !strcmp(s, "timeout-clean")) {
		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
		pthread_cond_t c = PTHREAD_COND_INITIALIZER;
		struct timespec ts = soon(!strcmp(s, "timeout-invalid") ? 1000000000L : 0);
		pthread_mutex_lock(&m);
		int rc = pthread_cond_timedwait(&c, &m, &ts);
		pthread_mutex_unlock(&m);
		printf("%d\n", rc);
	} else if (!strcmp(s, "garbage-mutex") || !strcmp(s, "garbage-clean")) {
		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
		if (!strcmp(s, "garbage-mutex"))
			memset(&m, 0xab, sizeof m);      /* never a mutex */
		int rc = pthread_mutex_lock(&m);
		if (rc == 0)
			pthread_mutex_unlock(&m);
		printf("%d\n", rc);
	} else if (!strcmp(s, "sem-overwritten") || !strcmp(s, "sem-clean")) {
		sem_t sem;
		sem_init(&sem, 0, 0);
		if (!strcmp(s, "sem-overwritten"))
			memset(&sem, 0x55, sizeof sem);  /* a buffer overrun, say */
		sem_post(&sem);
		sem_wait(&sem);
	} else if (!strcmp(s, "join-self")) {
		printf("%d\n", pthread_join(pthread_self(), NULL));
	} else if (!strcmp(s, "detach-joined") || !strcmp(s, "cancel-joined")) {
		pthread_t t;
		pthread_create(&t, NULL, nothing, NULL);
		pthread_join(t, NULL);
		if (!strcmp(s, "detach-joined"))
			pthread_detach(t);
		else
			pthread_cancel(t);
	} else if (!strcmp(s, "thread-clean")) {
		pthread_t a, b, c, d;
		sem_t started;
		sem_init(&started, 0, 0);
		/* A joined thread's handle, given again by glibc to a detached thread, which
		 * is then cancelled: its ID is valid. */
		pthread_create(&c, NULL, nothing, NULL);
		pthread_join(c, NULL);
		pthread_attr_t detached;
		pthread_attr_init(&detached);
		pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
		pthread_create(&d, &detached, wait_for_cancel, &started);
		sem_wait(&started);
		if (pthread_equal(c, d))
			puts("handle reused");
		pthread_cancel(d);
		pthread_create(&a, NULL, nothing, NULL);
		pthread_detach(a);
		pthread_create(&b, NULL, wait_for_cancel, &started);
		sem_wait(&started);
		pthread_cancel(b);
		pthread_join(b, NULL);
		sem_destroy(&started);
	} else if (!strcmp(s, "cond-rwlock") || !strcmp(s, "cond-clean")) {
		pthread_rwlock_t rw;
		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
		pthread_cond_t c = PTHREAD_COND_INITIALIZER;
		pthread_rwlock_init(&rw, NULL);
		struct timespec ts = soon(0);
		pthread_mutex_t *mx = !strcmp(s, "cond-rwlock") ? (pthread_mutex_t *)&rw : &m;
		if (mx == &m)
			pthread_mutex_lock(&m);
		pthread_cond_timedwait(&c, mx, &ts);     /* times out, or fails */
		if (mx == &m)
			pthread_mutex_unlock(&m);
		pthread_rwlock_destroy(&rw);
	} else if (!strcmp(s, "barrier-wait-destroyed")) {
		/* The worker comes to the barrier after main destroyed it: it waits for ever,
		 * and main for it in the join. */
		pthread_t t;
		sem_t go;
		sem_init(&go, 0, 0);
		pthread_barrier_init(&barrier, NULL, 2);
		pthread_create(&t, NULL, late_to_barrier, &go);
		pthread_barrier_destroy(&barrier);
		sem_post(&go);
		pthread_join(t, NULL);
	} else if (!strcmp(s, "cond-unheld")) {
		/* A timed wait with a normal mutex nobody holds: glibc's wait unlocks it (a
		 * normal mutex does not check), times out and locks it again, so main returns
		 * holding it. */
		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
		pthread_cond_t c = PTHREAD_COND_INITIALIZER;
		struct timespec ts = soon(0);
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		printf("%d\n", pthread_cond_timedwait(&c, &m, &ts));
	} else if (!strcmp(s, "attr-refused") || !strcmp(s, "attr-clean")) {
		pthread_mutexattr_t a;
		pthread_mutex_t m;
		pthread_mutexattr_init(&a);
		if (!strcmp(s, "attr-refused"))
			memset(&a, 0xff, sizeof a);      /* an attribute never set up */
		int rc = pthread_mutex_init(&m, &a);
		if (rc == 0)
			pthread_mutex_destroy(&m);
		printf("%d\n", rc);
	} else {
		fprintf(stderr, "misuse_calls: unknown scenario '%s'\n", s);
		return 2;
	}
	return 0;
}
