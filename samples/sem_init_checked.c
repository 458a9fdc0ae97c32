/*
 * Lesson, semaphores, the fix of sem_init_unchecked.c: the configured size is clamped to
 * SEM_VALUE_MAX and sem_init's result is checked.
 *
 * Expected: clean.
 */
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>

static sem_t tokens;

int main(void)
{
	unsigned configured = (unsigned)SEM_VALUE_MAX + 1u;
	if (configured > SEM_VALUE_MAX)
		configured = SEM_VALUE_MAX;
	if (sem_init(&tokens, 0, configured) != 0) {
		perror("sem_init");
		return 1;
	}
	sem_wait(&tokens);
	sem_post(&tokens);
	sem_destroy(&tokens);
	puts("one token taken and returned");
	return 0;
}
