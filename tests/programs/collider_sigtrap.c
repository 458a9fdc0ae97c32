/* A program with a SIGTRAP handler of its own that runs int3 in two threads, which also race
 * on a heap counter (so that the collider samples meanwhile, issue 20).  Exits 0 when the
 * handler ran once per int3 in each thread, 1 otherwise. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAPS  200
#define ROUNDS 2000000L

static volatile long hits;

static void handler(int sig, siginfo_t *si, void *uc)
{
	__atomic_add_fetch(&hits, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	long *counter = arg;
	for (int t = 0; t < TRAPS; t++) {
		__asm__ volatile("int3");
		for (long i = 0; i < ROUNDS / TRAPS; i++)
			(*counter)++;
	}
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTRAP, &sa, NULL);
	long *counter = calloc(1, sizeof *counter);
	pthread_t a, b;
	pthread_create(&a, NULL, worker, counter);
	pthread_create(&b, NULL, worker, counter);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("traps: %ld of %d\n", hits, 2 * TRAPS);
	return hits == 2 * TRAPS ? 0 : 1;
}
