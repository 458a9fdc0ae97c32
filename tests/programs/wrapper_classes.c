/* Test program: dlopens argv[1] (libwraplock.so) and makes locks through its wrap_lock_new
 * from two functions of its own: account locks and log locks.  An account lock is always
 * taken before a log lock, once with the account lock at the lower address and once at the
 * higher.  With argv[2] "inverted", one log lock is then taken before an account lock: a
 * lock-class inversion.  Exits 0, 2 when the library cannot be loaded, 3 when malloc did not
 * place the locks as the test needs. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t *(*lock_new)(void);

static __attribute__((noinline)) pthread_mutex_t *new_account_lock(void)
{
	return lock_new();
}

static __attribute__((noinline)) pthread_mutex_t *new_log_lock(void)
{
	return lock_new();
}

static void nest(pthread_mutex_t *outer, pthread_mutex_t *inner)
{
	pthread_mutex_lock(outer);
	pthread_mutex_lock(inner);
	pthread_mutex_unlock(inner);
	pthread_mutex_unlock(outer);
}

int main(int argc, char **argv)
{
	void *lib = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
	*(void **)&lock_new = lib ? dlsym(lib, "wrap_lock_new") : NULL;
	if (!lock_new) {
		fprintf(stderr, "wrapper_classes: cannot load %s\n", argc > 1 ? argv[1] : "(none)");
		return 2;
	}
	pthread_mutex_t *account1 = new_account_lock(), *log1 = new_log_lock();
	pthread_mutex_t *log2 = new_log_lock(), *account2 = new_account_lock();
	if (!(account1 < log1 && log2 < account2))
		return 3;
	nest(account1, log1);
	nest(account2, log2);
	if (argc > 2 && !strcmp(argv[2], "inverted")) {
		pthread_mutex_t *account3 = new_account_lock(), *log3 = new_log_lock();
		nest(log3, account3);
	}
	return 0;
}
