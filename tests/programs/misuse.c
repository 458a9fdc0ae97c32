/* Test program: one misuse of the pthread API per scenario, chosen by argv[1]. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;

static void *hold_a_while(void *arg)
{
	pthread_mutex_lock(&m);
	usleep(300000);
	return arg;                  /* returns with m held: the other thread unlocked it */
}

static void *unlock_it(void *arg)
{
	usleep(100000);
	pthread_mutex_unlock(&m);
	return arg;
}

static void *return_holding(void *arg)
{
	pthread_mutex_lock(&m);
	return arg;
}

static void *wait_on_cv(void *arg)
{
	pthread_mutex_lock(&m);
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 1;
	pthread_cond_timedwait(&cv, &m, &t);
	pthread_mutex_unlock(&m);
	return arg;
}

static pthread_mutex_t robust;

static void *die_holding(void *arg)
{
	pthread_mutex_lock(&robust);
	return arg;
}

static void *quick(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	pthread_t a, b;
	if (!strcmp(what, "unlock-other")) {
		pthread_create(&a, NULL, hold_a_while, NULL);
		pthread_create(&b, NULL, unlock_it, NULL);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	} else if (!strcmp(what, "destroy-locked")) {
		pthread_mutex_t d;
		pthread_mutex_init(&d, NULL);
		pthread_mutex_lock(&d);
		printf("destroy: %d\n", pthread_mutex_destroy(&d));
	} else if (!strcmp(what, "exit-holding")) {
		pthread_create(&a, NULL, return_holding, NULL);
		pthread_join(a, NULL);
	} else if (!strcmp(what, "cond-not-held")) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		pthread_mutex_t e;
		pthread_mutexattr_t at;
		pthread_mutexattr_init(&at);
		pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ERRORCHECK);
		pthread_mutex_init(&e, &at);
		printf("wait: %d\n", pthread_cond_timedwait(&cv, &e, &t));
	} else if (!strcmp(what, "cond-two-mutexes")) {
		pthread_create(&a, NULL, wait_on_cv, NULL);
		usleep(200000);
		pthread_mutex_lock(&m2);
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&cv, &m2, &t);
		pthread_mutex_unlock(&m2);
		pthread_join(a, NULL);
	} else if (!strcmp(what, "sem-after-destroy")) {
		sem_init(&sem, 0, 1);
		sem_destroy(&sem);
		sem_post(&sem);
	} else if (!strcmp(what, "sem-overflow")) {
		sem_init(&sem, 0, SEM_VALUE_MAX);
		errno = 0;
		int rc = sem_post(&sem);
		printf("post: %d %s\n", rc, strerror(errno));
	} else if (!strcmp(what, "join-detached")) {
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_create(&a, NULL, quick, NULL);
		pthread_detach(a);
		usleep(100000);
		pthread_create(&b, NULL, quick, NULL);     /* may reuse a's handle */
		pthread_join(b, NULL);
	} else if (!strcmp(what, "robust-owner-died")) {
		pthread_mutexattr_t at;
		pthread_mutexattr_init(&at);
		pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&robust, &at);
		pthread_create(&a, NULL, die_holding, NULL);
		pthread_join(a, NULL);
		int rc = pthread_mutex_lock(&robust);
		if (rc == EOWNERDEAD)
			pthread_mutex_consistent(&robust);
		pthread_mutex_unlock(&robust);
		printf("lock: %s\n", rc == EOWNERDEAD ? "EOWNERDEAD" : strerror(rc));
	} else {
		fprintf(stderr, "usage: misuse SCENARIO\n");
		return 2;
	}
	return 0;
}
