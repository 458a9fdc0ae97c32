/* A check-then-act under an outer lock that the interfering writer never takes (issue 21):
 * the reader holds L throughout, checks `len` under m, releases m, and later re-takes m to
 * copy that many bytes; the writer shrinks the buffer under m alone, between the two.  L
 * protects nothing against it: an atomicity violation on len, and no data race (every
 * access to len holds m).  Semaphores put the shrink between the check and the act in
 * every run.  With the argument "no-outer", the reader does not take L. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static char buf[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
static size_t len = sizeof buf;
static sem_t checked, shrunk;
static int use_outer = 1;
static char out[64];

static void *reader(void *arg)
{
	(void)arg;
	if (use_outer)
		pthread_mutex_lock(&outer);
	pthread_mutex_lock(&m);
	size_t n = len;                  /* the check */
	pthread_mutex_unlock(&m);
	sem_post(&checked);
	sem_wait(&shrunk);
	pthread_mutex_lock(&m);
	memcpy(out, buf, n);             /* the act: n is stale */
	len -= n;
	pthread_mutex_unlock(&m);
	if (use_outer)
		pthread_mutex_unlock(&outer);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	sem_wait(&checked);
	pthread_mutex_lock(&m);
	len /= 2;                        /* the shrink, under m only */
	pthread_mutex_unlock(&m);
	sem_post(&shrunk);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t r, w;
	use_outer = !(argc > 1 && !strcmp(argv[1], "no-outer"));
	sem_init(&checked, 0, 0);
	sem_init(&shrunk, 0, 0);
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&w, NULL, writer, NULL);
	pthread_join(r, NULL);
	pthread_join(w, NULL);
	printf("len: %ld\n", (long)len);
	return 0;
}
