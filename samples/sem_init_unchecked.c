/*
 * Lesson, semaphores: a token bucket whose size comes from configuration.  sem_init refuses
 * a value above SEM_VALUE_MAX (it fails with EINVAL and initialises nothing); the program
 * does not check, and takes and returns tokens on a semaphore that was never initialised.
 *
 * Expected: a warning-level misuse for the refused sem_init (defined behaviour: the call
 * fails), and an error-level misuse, "posted semaphore tokens, which was never initialised
 * (its initialisation failed)", with the stack of the use and that of the failed init;
 * `lockwatch run` exits 66.  The fix: sem_init_checked.c.
 */
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>

static sem_t tokens;

int main(void)
{
	unsigned configured = (unsigned)SEM_VALUE_MAX + 1u;   /* "unlimited" */
	sem_init(&tokens, 0, configured);                     /* the bug: result unchecked */
	sem_post(&tokens);
	sem_wait(&tokens);
	puts("one token taken and returned");
	return 0;
}
