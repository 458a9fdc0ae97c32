/* Test program (issue 22): memory that holds a locked lock freed or unmapped, a lock
 * initialised again while held, and the process ended while holding locks; each misuse
 * scenario has a clean counterpart.  argv[1] names the scenario.  Exits 0 (exit-* scenarios:
 * the status they say), 2 on an unknown scenario.  No sleeps: semaphores order the threads. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct account {
	long balance;
	pthread_mutex_t lock;
	char name[40];
};

static sem_t locked, go;
static pthread_mutex_t global = PTHREAD_MUTEX_INITIALIZER;

static struct account *new_account(void)
{
	struct account *a = malloc(sizeof *a);
	if (!a)
		exit(1);
	memset(a, 0, sizeof *a);
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

/* Locks the account, lets main go on, and waits for it: then ends without touching the
 * account again (main freed it). */
static void *hold_account(void *arg)
{
	struct account *a = arg;
	pthread_mutex_lock(&a->lock);
	a->balance++;
	sem_post(&locked);
	sem_wait(&go);
	return NULL;
}

/* The clean counterpart: unlocks before main goes on. */
static void *use_account(void *arg)
{
	struct account *a = arg;
	pthread_mutex_lock(&a->lock);
	a->balance++;
	pthread_mutex_unlock(&a->lock);
	sem_post(&locked);
	sem_wait(&go);
	return NULL;
}

static void *lock_and_exit(void *arg)
{
	pthread_mutex_lock(&global);
	exit(4);                     /* the process ends here, with `global` held */
	return arg;
}

static void *lock_and_unlock(void *arg)
{
	pthread_mutex_lock(&global);
	pthread_mutex_unlock(&global);
	return arg;
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";
	sem_init(&locked, 0, 0);
	sem_init(&go, 0, 0);
	if (!strcmp(s, "free-locked")) {
		/* Misuse: main frees an account whose lock it holds. */
		struct account *a = new_account();
		pthread_mutex_lock(&a->lock);
		a->balance = 1;
		free(a);
	} else if (!strcmp(s, "free-locked-other")) {
		/* Misuse: main frees an account whose lock another thread holds. */
		struct account *a = new_account();
		pthread_t t;
		pthread_create(&t, NULL, hold_account, a);
		sem_wait(&locked);
		free(a);
		sem_post(&go);
		pthread_join(t, NULL);
	} else if (!strcmp(s, "free-clean")) {
		/* Clean: unlocked (and destroyed, or not) before the free. */
		struct account *a = new_account(), *b = new_account();
		pthread_t t;
		pthread_create(&t, NULL, use_account, a);
		sem_wait(&locked);
		free(a);
		sem_post(&go);
		pthread_join(t, NULL);
		pthread_mutex_lock(&b->lock);
		pthread_mutex_unlock(&b->lock);
		pthread_mutex_destroy(&b->lock);
		free(b);
	} else if (!strcmp(s, "free-clean-held-elsewhere")) {
		/* Clean: a lock is held (another block's) while blocks are freed. */
		struct account *a = new_account(), *b = new_account();
		pthread_mutex_lock(&a->lock);
		for (int i = 0; i < 1000; i++)
			free(malloc(64 + i));
		free(b);
		pthread_mutex_unlock(&a->lock);
		free(a);
	} else if (!strcmp(s, "munmap-locked") || !strcmp(s, "munmap-clean")) {
		size_t len = 8192;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		pthread_mutex_t *m = (pthread_mutex_t *)(p + 4096 + 128);
		pthread_mutex_init(m, NULL);
		pthread_mutex_lock(m);
		if (!strcmp(s, "munmap-clean"))
			pthread_mutex_unlock(m);
		munmap(p, len);              /* misuse in munmap-locked: m is locked */
	} else if (!strcmp(s, "reinit-locked")) {
		/* Misuse: a locked mutex initialised again (undefined behaviour). */
		pthread_mutex_t m;
		pthread_mutex_init(&m, NULL);
		pthread_mutex_lock(&m);
		pthread_mutex_init(&m, NULL);
	} else if (!strcmp(s, "reinit-locked-other")) {
		struct account *a = new_account();
		pthread_t t;
		pthread_create(&t, NULL, hold_account, a);
		sem_wait(&locked);
		pthread_mutex_init(&a->lock, NULL);   /* the thread holds it */
		sem_post(&go);
		pthread_join(t, NULL);
	} else if (!strcmp(s, "reinit-clean")) {
		/* Clean: destroyed first.  (Initialised twice while nobody uses it is misuse
		 * too, LW_MISUSE_REINIT_LIVE: misuse_calls.c's reinit-unused.) */
		pthread_mutex_t m;
		pthread_mutex_init(&m, NULL);
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		pthread_mutex_destroy(&m);
		pthread_mutex_init(&m, NULL);
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	} else if (!strcmp(s, "exit-main-holding")) {
		/* A warning: main calls exit() holding a lock. */
		pthread_mutex_lock(&global);
		exit(3);
	} else if (!strcmp(s, "return-main-holding")) {
		pthread_mutex_lock(&global);
		return 3;
	} else if (!strcmp(s, "exit-thread-holding")) {
		pthread_t t;
		pthread_create(&t, NULL, lock_and_exit, NULL);
		pthread_join(t, NULL);               /* never returns: the thread calls exit */
	} else if (!strcmp(s, "exit-clean")) {
		pthread_t t;
		pthread_create(&t, NULL, lock_and_unlock, NULL);
		pthread_join(t, NULL);
		pthread_mutex_lock(&global);
		pthread_mutex_unlock(&global);
		exit(3);
	} else {
		fprintf(stderr, "misuse_memory: unknown scenario '%s'\n", s);
		return 2;
	}
	return 0;
}
