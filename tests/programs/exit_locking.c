/* Test program: threads lock, unlock, create and destroy mutexes without pause, and main
 * calls exit() while they go on.  argv[1] is libexitlate.so: through it, an exit handler runs
 * after every destructor (the shim's, which closes the trace, included) and lets each thread
 * do 100 more rounds before the process ends.  Their records, tried after the trace closed,
 * are no drops.  Exits 0, or 2 when the library cannot be loaded. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N_THREADS 2

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static int started;
static unsigned long rounds[N_THREADS];

static void *spin(void *arg)
{
	unsigned long *mine = arg;
	for (;;) {
		pthread_mutex_t m;
		pthread_mutex_init(&m, NULL);
		pthread_mutex_lock(&shared);
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		pthread_mutex_unlock(&shared);
		pthread_mutex_destroy(&m);
		if (__atomic_add_fetch(mine, 1, __ATOMIC_RELEASE) == 1000)
			__atomic_add_fetch(&started, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* After the shim's destructor: each thread does 100 more rounds. */
static void after_destructors(void *arg)
{
	unsigned long seen[N_THREADS];
	for (int i = 0; i < N_THREADS; i++)
		seen[i] = __atomic_load_n(&rounds[i], __ATOMIC_ACQUIRE);
	for (int i = 0; i < N_THREADS; i++)
		while (__atomic_load_n(&rounds[i], __ATOMIC_ACQUIRE) < seen[i] + 100)
			;
}

int main(int argc, char **argv)
{
	void *lib = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
	void (*reg)(void (*)(void *)) = lib ? (void (*)(void (*)(void *)))dlsym(lib, "exitlate_register") : NULL;
	if (!reg) {
		fprintf(stderr, "exit_locking: cannot load %s\n", argc > 1 ? argv[1] : "(none)");
		return 2;
	}
	reg(after_destructors);
	for (int i = 0; i < N_THREADS; i++) {
		pthread_t t;
		pthread_create(&t, NULL, spin, &rounds[i]);
	}
	while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < N_THREADS)
		;
	exit(0);
}
