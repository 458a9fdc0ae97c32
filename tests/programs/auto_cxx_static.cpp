// Test program for automatic watching (issue 20): a C++ class's static member, racy or under
// a mutex (argv[1]: "racy" or "locked"), found with no option and named by its C++ name
// (Account::balance), not its mangled one.  Prints "done" and exits 0.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct Account {
	static long balance;
	static pthread_mutex_t lock;
};
long Account::balance = 100;
pthread_mutex_t Account::lock = PTHREAD_MUTEX_INITIALIZER;

static bool locked;

static void *deposit(void *)
{
	for (int i = 0; i < 150; i++) {
		if (locked)
			pthread_mutex_lock(&Account::lock);
		Account::balance += 1;
		if (locked)
			pthread_mutex_unlock(&Account::lock);
		usleep(3000);
	}
	return nullptr;
}

int main(int argc, char **argv)
{
	locked = argc > 1 && !strcmp(argv[1], "locked");
	pthread_t t1, t2;
	pthread_create(&t1, nullptr, deposit, nullptr);
	pthread_create(&t2, nullptr, deposit, nullptr);
	pthread_join(t1, nullptr);
	pthread_join(t2, nullptr);
	printf("done %ld\n", Account::balance);
	return 0;
}
