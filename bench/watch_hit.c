/*
 * What a watchpoint hit costs: times N stores to a variable that lockwatch watches and N
 * stores to one it does not, in one process, and prints both and their difference.
 *
 *   LD_PRELOAD=build/lib/liblockwatch.so LOCKWATCH_OPTIONS='watch=watched trace_dir=/tmp/lw' \
 *       build/bench/watch_hit [N]
 *
 * Without the shim (or without watch=watched) both loops cost the same, about a nanosecond.
 * Each hit is a debug exception, a SIGTRAP delivered to lockwatch's handler, one
 * process_vm_readv of the value, a decoded instruction, an ACCESS record (56 bytes) and a
 * sigreturn; one thread, so nothing contends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile long watched;
volatile long unwatched;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	if (n <= 0)
		n = 100000;
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		unwatched = i;
	double t1 = now_ns();
	for (long i = 0; i < n; i++)
		watched = i;
	double t2 = now_ns();
	double cold = (t1 - t0) / n, hot = (t2 - t1) / n;
	printf("stores: %ld each\n", n);
	printf("unwatched: %.1f ns per store\n", cold);
	printf("watched:   %.1f ns per store\n", hot);
	printf("per hit:   %.1f ns\n", hot - cold);
	return watched == n - 1 && unwatched == n - 1 ? 0 : 1;
}
