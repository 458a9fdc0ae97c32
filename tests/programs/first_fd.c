/* Test program: locks (so the shim has taken a stack), then prints the descriptor its first
 * open() gets.  Exits 0. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
	pthread_mutex_lock(&a);
	pthread_mutex_lock(&b);
	pthread_mutex_unlock(&b);
	pthread_mutex_unlock(&a);
	printf("first fd %d\n", open("/dev/null", O_RDONLY));
	return 0;
}
