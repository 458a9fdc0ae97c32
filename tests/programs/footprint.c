/* Test program (issue 24): what the shim must not change.  Locks first (so the shim has
 * opened its trace and taken a stack), then:
 *   footprint as     lowers RLIMIT_AS to 1500000 KiB and mallocs 400 MiB: prints "malloc ok"
 *                    or "malloc failed", exits 0 or 1;
 *   footprint fds    opens /dev/null until it fails: prints "opened N".
 *   footprint trap   ignores SIGTRAP and executes int3: what the kernel does with it;
 *   footprint raise  ignores SIGTRAP and raises it: prints "survived". */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
	pthread_mutex_lock(&a);
	pthread_mutex_lock(&b);
	pthread_mutex_unlock(&b);
	pthread_mutex_unlock(&a);
	if (argc > 1 && !strcmp(argv[1], "as")) {
		struct rlimit rl = { 1500000ul << 10, 1500000ul << 10 };
		if (setrlimit(RLIMIT_AS, &rl) != 0) {
			perror("setrlimit");
			return 2;
		}
		void *p = malloc(400u << 20);
		printf("malloc %s\n", p ? "ok" : "failed");
		return p ? 0 : 1;
	}
	if (argc > 1 && !strcmp(argv[1], "fds")) {
		int n = 0;
		while (open("/dev/null", O_RDONLY) >= 0)
			n++;
		printf("opened %d\n", n);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "trap")) {
		signal(SIGTRAP, SIG_IGN);
		__asm__ volatile("int3");
		printf("survived\n");
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "raise")) {
		signal(SIGTRAP, SIG_IGN);
		raise(SIGTRAP);
		printf("survived\n");
		return 0;
	}
	return 2;
}
