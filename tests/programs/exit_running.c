/* Threads that race while the program exits (issue 21: the records of threads still
 * running when main returned were not written, and their race was missed in some runs).
 * argv[1] is libexitlate.so: through it, an exit handler runs after every destructor (the
 * shim's, which closes the trace, included), lets the two threads race on `hits` (through a
 * pipe, which orders nothing lockwatch sees), and waits until each has written it 50 times
 * (with "rounds N" after it, N times: enough to fill the room the shim leaves after its
 * close).  Exits 0, or 2 when the library cannot be loaded. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long hits;                       /* the race: no lock, after the trace closed */
static int go[2];                /* a pipe: the exit handler lets the threads race */
static int finished[2];          /* a pipe: each thread says it is done, one byte */
static unsigned long done[2], rounds = 50;

static void *racer(void *arg)
{
	unsigned long *mine = arg;   /* its own count: an atomic, a record each in hook mode */
	char c;
	if (read(go[0], &c, 1) != 1)
		return NULL;
	for (unsigned long i = 0; i < rounds; i++) {
		hits++;
		__atomic_add_fetch(mine, 1, __ATOMIC_RELEASE);
	}
	if (write(finished[1], "d", 1) != 1)
		return arg;
	for (;;)
		pause();         /* until the process ends */
	return NULL;
}

/* After every destructor, the shim's included. */
static void after_destructors(void *arg)
{
	(void)arg;
	if (write(go[1], "gg", 2) != 2)
		return;
	/* Waits in read(2), not in a loop of atomic loads: in hook mode each load would be a
	 * record, and a loaded machine's longer wait filled the room after the close. */
	char c;
	for (int i = 0; i < 2; i++)
		if (read(finished[0], &c, 1) != 1)
			return;
}

int main(int argc, char **argv)
{
	void *lib = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
	void (*reg)(void (*)(void *)) =
		lib ? (void (*)(void (*)(void *)))dlsym(lib, "exitlate_register") : NULL;
	if (!reg) {
		fprintf(stderr, "exit_running: cannot load %s\n", argc > 1 ? argv[1] : "(none)");
		return 2;
	}
	if (argc > 3 && !strcmp(argv[2], "rounds"))
		rounds = strtoul(argv[3], NULL, 10);
	if (pipe(go) != 0 || pipe(finished) != 0)
		return 2;
	reg(after_destructors);
	for (int i = 0; i < 2; i++) {
		pthread_t t;
		pthread_create(&t, NULL, racer, &done[i]);
	}
	printf("started\n");
	return 0;
}
