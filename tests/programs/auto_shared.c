/* Test program for automatic watching (issue 20): shared data that is a global, a struct
 * member or an array element, racy or not, found with no option.  argv[1] names the case:
 *   global-racy     two threads run `hits++` on a global with no lock
 *   global-locked   the same under a mutex
 *   member-racy     both threads write pair.a with no lock
 *   member-split    one thread writes pair.a under lock_a, the other pair.b under lock_b:
 *                   one 8-byte granule, two variables, no race
 *   array-racy      both threads write table[5] with no lock
 *   array-apart     one thread writes table[5], the other table[6]: no race
 * Each thread runs ROUNDS rounds a few milliseconds apart, so that the sampler's rotation
 * over this program's globals (the decoys below, the locks, the others' variables) comes
 * round to the shared one while both threads use it.  Prints "done" and exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 150

long hits;
struct pair { int a; int b; } pair;
long table[16];
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static char decoy1, decoy2, decoy3;   /* globals nobody shares, watched in turn too */
static const char *mode;

static void *worker(void *arg)
{
	int second = arg != NULL;
	for (int i = 0; i < ROUNDS; i++) {
		if (!strcmp(mode, "global-racy")) {
			hits++;
		} else if (!strcmp(mode, "global-locked")) {
			pthread_mutex_lock(&lock_a);
			hits++;
			pthread_mutex_unlock(&lock_a);
		} else if (!strcmp(mode, "member-racy")) {
			pair.a += 1;
		} else if (!strcmp(mode, "member-split")) {
			pthread_mutex_t *m = second ? &lock_b : &lock_a;
			pthread_mutex_lock(m);
			if (second)
				pair.b += 1;
			else
				pair.a += 1;
			pthread_mutex_unlock(m);
		} else if (!strcmp(mode, "array-racy")) {
			table[5] += 1;
		} else if (!strcmp(mode, "array-apart")) {
			table[second ? 6 : 5] += 1;
		}
		usleep(3000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	mode = argc > 1 ? argv[1] : "global-racy";
	decoy1 = 1;
	decoy2 = 2;
	decoy3 = decoy1 + decoy2;
	pthread_t t1, t2;
	pthread_create(&t1, NULL, worker, NULL);
	pthread_create(&t2, NULL, worker, "second");
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("done %ld %d %d %ld %ld %d\n", hits, pair.a, pair.b, table[5], table[6], decoy3);
	return 0;
}
