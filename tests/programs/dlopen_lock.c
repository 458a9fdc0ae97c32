/* Test program: dlopens argv[1] (libdlock.so), calls its dl_invert() from a thread of our
 * own (so the two orders run in threads that can overlap), then dlcloses it.  With argv[2],
 * changes to that directory first (argv[1] may then be relative to it, "./libdlock.so").
 * Exits 0, or 2 when the library cannot be loaded. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int (*invert)(void);

static void *call(void *arg)
{
	invert();
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (argc > 2 && chdir(argv[2]) != 0))
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	*(void **)&invert = dlsym(h, "dl_invert");
	if (!invert)
		return 2;
	pthread_t t;
	pthread_create(&t, NULL, call, NULL);
	pthread_join(t, NULL);
	dlclose(h);
	return 0;
}
