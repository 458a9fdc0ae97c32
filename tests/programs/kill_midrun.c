/* Test program: an inversion of lock_x/lock_y by two threads, then endless locking until the
 * test kills it with SIGKILL.  argv[1]: a file created once the inversion is done. */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t lock_x = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_y = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pool[64];

static void *x_then_y(void *arg)
{
	pthread_mutex_lock(&lock_x);
	pthread_mutex_lock(&lock_y);
	pthread_mutex_unlock(&lock_y);
	pthread_mutex_unlock(&lock_x);
	return arg;
}

static void *y_then_x(void *arg)
{
	usleep(20000);               /* after x_then_y is done: this run does not hang */
	pthread_mutex_lock(&lock_y);
	pthread_mutex_lock(&lock_x);
	pthread_mutex_unlock(&lock_x);
	pthread_mutex_unlock(&lock_y);
	return arg;
}

static void *churn(void *arg)
{
	unsigned seed = (unsigned)(long)arg;
	for (;;) {
		seed = seed * 1103515245u + 12345u;
		int i = (seed >> 8) % 63;
		pthread_mutex_lock(&pool[i]);
		pthread_mutex_lock(&pool[i + 1]);
		pthread_mutex_unlock(&pool[i + 1]);
		pthread_mutex_unlock(&pool[i]);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b, c[2];
	for (int i = 0; i < 64; i++)
		pthread_mutex_init(&pool[i], NULL);
	pthread_create(&a, NULL, x_then_y, NULL);
	pthread_create(&b, NULL, y_then_x, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_create(&c[0], NULL, churn, (void *)1L);
	pthread_create(&c[1], NULL, churn, (void *)2L);
	if (argc > 1)
		close(open(argv[1], O_WRONLY | O_CREAT, 0644));
	pthread_join(c[0], NULL);
	return 0;
}
