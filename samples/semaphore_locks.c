/*
 * Lesson, semaphores: two binary semaphores (initial value 1) used as locks, taken in
 * opposite orders by two threads.  Each thread waits on a semaphore and later posts it, so
 * they are locks in all but name, and the inversion can deadlock exactly like two mutexes.
 * (The two are staggered so this run ends.)
 *
 * Expected: an error-level lock-order-cycle through sem_disk and sem_net.  (Neither
 * ThreadSanitizer nor Helgrind sees semaphores as locks.)
 */
#include <semaphore.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static sem_t sem_disk, sem_net;
static int copied;

static void *disk_to_net(void *arg)
{
	sem_wait(&sem_disk);
	sem_wait(&sem_net);
	copied++;
	sem_post(&sem_net);
	sem_post(&sem_disk);
	return arg;
}

static void *net_to_disk(void *arg)
{
	usleep(50000);
	sem_wait(&sem_net);
	sem_wait(&sem_disk);
	copied++;
	sem_post(&sem_disk);
	sem_post(&sem_net);
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	sem_init(&sem_disk, 0, 1);
	sem_init(&sem_net, 0, 1);
	pthread_create(&t1, NULL, disk_to_net, NULL);
	pthread_create(&t2, NULL, net_to_disk, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("copied=%d\n", copied);
	return 0;
}
