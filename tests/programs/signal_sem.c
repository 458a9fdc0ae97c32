/* Test program: sem_post from a signal handler, many times, while the interrupted thread is
 * locking, unlocking and waiting on semaphores (so signals land inside the shim's wrappers).
 * A second thread sends SIGUSR1 to the main thread argv[1] times (default 20000), one at a
 * time; the handler posts `ready`, which the main thread waits for.  Exits 0 when every post
 * arrived, 1 otherwise. */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sched.h>

static sem_t ready, guard;
static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_t main_thread;
static volatile int handled;
static int done;                         /* atomic: a plain flag would be a data race */
static int count;

static void on_usr1(int sig)
{
	(void)sig;
	sem_post(&ready);
	__atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

static void *sender(void *arg)
{
	for (int i = 0; i < count && !__atomic_load_n(&done, __ATOMIC_SEQ_CST); i++) {
		pthread_kill(main_thread, SIGUSR1);
		while (__atomic_load_n(&handled, __ATOMIC_SEQ_CST) <= i &&
		       !__atomic_load_n(&done, __ATOMIC_SEQ_CST))
			sched_yield();
	}
	return arg;
}

int main(int argc, char **argv)
{
	count = argc > 1 ? atoi(argv[1]) : 20000;
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sem_init(&ready, 0, 0);
	sem_init(&guard, 0, 1);
	main_thread = pthread_self();
	pthread_t t;
	pthread_create(&t, NULL, sender, NULL);
	int got = 0;
	for (unsigned long n = 0; got < count; n++) {
		pthread_mutex_lock(&a);
		pthread_mutex_lock(&b);
		pthread_mutex_unlock(&b);
		pthread_mutex_unlock(&a);
		sem_wait(&guard);
		sem_post(&guard);
		if (n % 4 == 0) {
			/* Block: the handler's post is what wakes us. */
			while (sem_wait(&ready) != 0)
				;
			got++;
		} else if (sem_trywait(&ready) == 0) {
			got++;
		}
	}
	__atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	printf("signal_sem: %d posts, %d handled\n", got, handled);
	return got == count && handled == count ? 0 : 1;
}
