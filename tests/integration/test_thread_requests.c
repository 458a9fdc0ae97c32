/* Issue 23: a thread-per-request program's default-level trace does not grow with the
 * number of threads that do the same thing, and stays as precise as before: a later thread
 * that does something new is written in full, and the report counts the others. */
#include <criterion/criterion.h>
#include <stdint.h>
#include "lw_test.h"

#define PROG "build/tests/programs/thread_requests"

/* The bytes of records the run's traces hold (each header's end_offset). */
static unsigned long long trace_bytes(const struct lw_result *r)
{
	char traces[128], path[512];
	unsigned long long sum = 0;
	snprintf(traces, sizeof traces, "%s/traces", r->dir);
	DIR *d = opendir(traces);
	cr_assert_not_null(d, "no trace directory %s", traces);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".trace"))
			continue;
		snprintf(path, sizeof path, "%s/%s", traces, e->d_name);
		FILE *f = fopen(path, "rb");
		uint64_t end = 0;
		cr_assert_not_null(f, "%s", path);
		cr_assert_eq(fseek(f, 48, SEEK_SET), 0);
		cr_assert_eq(fread(&end, sizeof end, 1, f), 1);
		fclose(f);
		sum += end;
	}
	closedir(d);
	return sum;
}

/* With watch=off: the dependencies level's own writing is what these tests measure.  (With
 * automatic watching, its windows write every thread's order for a while, bounded by
 * watch_trace_kb: test_run's the_default_trace_is_bounded_whatever_the_run_length.) */
static struct lw_result run(const char *count, const char *invert)
{
	const char *args[] = { count, invert, NULL };
	static const char *const opts[] = { "--watch", "off", NULL };
	struct lw_result r = lw_run_json_opts(PROG, opts, args, NULL, 60000);
	cr_assert_not_null(r.report, "no report: %s", r.stderr_text ? r.stderr_text : "");
	return r;
}

Test(thread_requests, trace_size_does_not_grow_with_the_threads, .timeout = 120)
{
	struct lw_result small = run("200", NULL), big = run("2000", NULL);
	cr_assert_eq(small.status, 0, "%s", small.stderr_text);
	cr_assert_eq(big.status, 0, "%s", big.stderr_text);
	cr_assert_eq(json_array_size(json_object_get(big.report, "findings")), 0);
	unsigned long long a = trace_bytes(&small), b = trace_bytes(&big);
	cr_assert(a > 0 && b * 10 <= a * 12, "200 threads: %llu bytes, 2000 threads: %llu", a, b);
	/* The first threads of the class are written in full, the rest counted.  (A thread
	 * deferred at its start that takes the locks before the first three do has something
	 * new to write, and is written: a loaded machine may write a few more.) */
	int written = lw_count_in_dump(&big, " thread tid ");
	cr_assert(written >= 4 && written <= 12, "main and three requests, not %d", written);
	cr_assert_gt(lw_count_in_dump(&big, "threads-like"), 0);
	lw_result_free(&small);
	lw_result_free(&big);
}

Test(thread_requests, a_late_thread_with_a_new_order_is_written, .timeout = 120)
{
	/* Request 300 runs alone (the others are joined before it starts): a warning-level
	 * cycle, as when every thread was written. */
	struct lw_result r = run("400", "300");
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "warning");
	cr_assert_not_null(f, "no cycle: %s", r.stderr_text);
	cr_assert(lw_has_lock(f, "lock_a") && lw_has_lock(f, "lock_b"));
	cr_assert_eq(lw_count(r.report, NULL, NULL), 1);
	/* Both threads are named with their start routine, and the first request's counted
	 * look-alikes are said. */
	json_t *threads = json_object_get(f, "threads");
	cr_assert_eq(json_array_size(threads), 2);
	char *text = json_dumps(f, 0);
	cr_assert(strstr(text, "request"), "%s", text);
	json_t *like = json_object_get(json_array_get(threads, 0), "more_like_it");
	if (!like)
		like = json_object_get(json_array_get(threads, 1), "more_like_it");
	/* Each request is either written or counted. */
	int written = lw_count_in_dump(&r, " thread tid ") - 1;
	cr_assert(json_is_integer(like) && json_integer_value(like) + written == 400,
		  "%d written: %s", written, text);
	free(text);
	lw_result_free(&r);
}
