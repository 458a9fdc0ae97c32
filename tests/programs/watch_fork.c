/* A fork()ed child runs two threads that race on counter; the parent only waits.  Under
 * --watch counter, the child's own trace must show the race. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

long counter;

static void *count(void *arg)
{
	for (int i = 0; i < 200; i++)
		counter += 1;
	return NULL;
}

int main(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t1, t2;
		pthread_create(&t1, NULL, count, NULL);
		pthread_create(&t2, NULL, count, NULL);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		_exit(0);
	}
	int status = 1;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
