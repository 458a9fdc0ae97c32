/* Issue 24: the happens-before replay's memory with many threads (analyzer/detect/hb_replay.c):
 * a thread's vector clock lives only while something can still read it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <time.h>

#include "detect/findings.h"
#include "trace/model.h"
#include "analyze_helpers.h"
#include "trace/trace_reader.h"

#define X  0x6000u
#define M1 0x5000u

/* The process's address space now, in bytes (VmSize). */
static unsigned long long vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kib = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib << 10;
}

/* 20,000 threads, each created and joined by main, each writing X under M1: 20,000 clocks of
 * 20,000 entries were 1.6 GB; now only the live threads' (two at a time) are kept. */
Test(hb_memory, twenty_thousand_threads_replay_in_bounded_memory, .timeout = 120)
{
	enum { N = 20000 };
	struct tb b;
	struct lw_findings fs = { 0 };

	tb_init(&b, 42);
	tb_header(&b)->level = LW_LEVEL_FULL;
	tb_watch(&b, X, 4, "balance");
	tb_thread(&b, 1, 0);
	for (uint32_t i = 2; i < N + 2; i++) {
		tb_thread(&b, i, 1);
		tb_lock(&b, i, M1);
		tb_write(&b, i, X, 0x401010);
		tb_unlock(&b, i, M1);
		tb_join(&b, 1, i);
	}
	/* The model and the findings need far less than the old clocks' 1.6 GB. */
	struct rlimit rl = { vm_size() + (600ull << 20), RLIM_INFINITY };
	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
	tb_analyze(&b, &fs);
	cr_assert_eq(tb_count(&fs, LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);
}

/* One acquisition holding 40,000 locks: building the lock-order edges was quadratic in the
 * held set (every edge's key went over the whole set: 1.6e9 steps); now linear. */
Test(held_sets, an_acquisition_holding_forty_thousand_locks_is_linear, .timeout = 120)
{
	enum { H = 40000 };   /* 24 bytes each: the most one record holds */
	struct tb b;
	struct lw_findings fs = { 0 };
	struct lw_held *held = calloc(H, sizeof *held);
	struct timespec t0, t1;

	for (uint32_t i = 0; i < H; i++)
		held[i] = tb_held(0x100000u + 64u * i, 0, LW_MODE_WRITE);
	tb_init(&b, 42);
	tb_thread(&b, 1, 0);
	tb_acquire_full(&b, 1, 0x90000u, 0, LW_MODE_WRITE, 0, 0, H, held);
	free(held);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tb_analyze(&b, &fs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_lt(s, 1.0, "took %.2f s", s);   /* 0.03 s linear, 2.3 s quadratic */
	cr_log_info("took %.3f s", s);
	cr_assert_eq(tb_count(&fs, LW_FIND_LOCK_ORDER_CYCLE), 0);
	lw_findings_free(&fs);
}
