/* Test program: the main thread joins a thread that ends while the main thread is held in a
 * signal handler, inside pthread_join, for a second: a join whose thread has ended is not a
 * hang, however long the joiner takes to return from it (a loaded machine can keep it off
 * the CPU as long).  The thread runs 400 ms first, so that the join has waited longer than
 * the 200 ms hang_ms the test sets.  Exits 0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static pthread_t main_thread;

static void on_usr1(int sig)
{
	struct timespec second = { 1, 0 };

	(void)sig;
	nanosleep(&second, NULL);
}

static void *worker(void *arg)
{
	struct timespec run = { 0, 400 * 1000 * 1000 };

	nanosleep(&run, NULL);
	pthread_kill(main_thread, SIGUSR1);
	return arg;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 1;
	puts("joined");
	return 0;
}
