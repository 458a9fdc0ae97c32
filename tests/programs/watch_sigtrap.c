/* A program with SIGTRAP handlers of its own (set with sigaction, then with signal) and a
 * variable that lockwatch watches: exits 0 when each handler ran once per raise and the
 * variable holds what was written, 1 otherwise, 2 when sigaction reports a wrong handler. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

volatile long watched;
static volatile sig_atomic_t a_hits, b_hits;

static void handler_a(int sig, siginfo_t *si, void *uc)
{
	a_hits++;
}

static void handler_b(int sig)
{
	b_hits++;
}

int main(void)
{
	struct sigaction sa, cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler_a;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTRAP, &sa, NULL);
	watched = 1;
	raise(SIGTRAP);
	watched += 2;
	if (sigaction(SIGTRAP, NULL, &cur) != 0 || cur.sa_sigaction != handler_a)
		return 2;
	signal(SIGTRAP, handler_b);
	raise(SIGTRAP);
	watched += 3;
	if (a_hits != 1 || b_hits != 1 || watched != 6)
		return 1;
	printf("ok\n");
	return 0;
}
