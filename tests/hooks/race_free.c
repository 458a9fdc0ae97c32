/* Hook mode: shared data handed between threads only through C11 atomics, a condition
 * variable, a semaphore, a barrier and create/join.  No data race, no atomicity violation. */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define N 4

/* C11 atomics: message passing (release/acquire), a spin lock, a counter. */
static long message;
static atomic_int ready;
static atomic_flag spin = ATOMIC_FLAG_INIT;
static long spun;
static atomic_long hits;

/* Condition variable: a one-slot queue. */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static int qfull;
static long qitem;

/* Semaphore: a hand-off. */
static sem_t handed;
static long parcel;

/* Barrier: each writes its slot, then reads the others'. */
static pthread_barrier_t bar;
static long phase[N];

/* Create/join: written before create, read by the threads; written by them, read after join. */
static long config = 1;
static long result[N];

static void *worker(void *arg)
{
	int me = (int)(long)arg;
	long sum = config;

	for (int i = 0; i < 200; i++) {
		while (atomic_flag_test_and_set_explicit(&spin, memory_order_acquire))
			;
		spun++;
		atomic_flag_clear_explicit(&spin, memory_order_release);
		atomic_fetch_add(&hits, 1);
	}
	phase[me] = me + 1;
	pthread_barrier_wait(&bar);
	for (int i = 0; i < N; i++)
		sum += phase[i];
	if (me == 1) {
		message = 42;
		atomic_store_explicit(&ready, 1, memory_order_release);
		parcel = 7;
		sem_post(&handed);
		pthread_mutex_lock(&qlock);
		qitem = 99;
		qfull = 1;
		pthread_cond_signal(&qcond);
		pthread_mutex_unlock(&qlock);
	}
	if (me == 2) {
		while (!atomic_load_explicit(&ready, memory_order_acquire))
			;
		sum += message;
		sem_wait(&handed);
		sum += parcel;
		pthread_mutex_lock(&qlock);
		while (!qfull)
			pthread_cond_wait(&qcond, &qlock);
		sum += qitem;
		pthread_mutex_unlock(&qlock);
	}
	result[me] = sum;
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	long total = 0;

	sem_init(&handed, 0, 0);
	pthread_barrier_init(&bar, NULL, N);
	for (long i = 0; i < N; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N; i++)
		total += result[i];
	printf("total %ld spun %ld hits %ld\n", total, spun, atomic_load(&hits));
	return 0;
}
