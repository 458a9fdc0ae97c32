// A C++ file-static raced on by two threads (issue 21): its symbol is _ZL5score, and
// `--watch score` must find it by that plain name.  A variable of an anonymous namespace
// (_ZN12_GLOBAL__N_15levelE) likewise, by `--watch level`.
#include <pthread.h>
#include <cstdio>

static long score;
namespace {
long level;
}

static void *worker(void *)
{
	for (int i = 0; i < 1000; i++) {
		score = score + 1;
		level = level + 1;
	}
	return nullptr;
}

int main()
{
	pthread_t t1, t2;
	pthread_create(&t1, nullptr, worker, nullptr);
	pthread_create(&t2, nullptr, worker, nullptr);
	pthread_join(t1, nullptr);
	pthread_join(t2, nullptr);
	std::printf("%ld %ld\n", score, level);
	return 0;
}
