/* Semaphores that signal stay out of the held sets: the default-level trace of a completion
 * semaphore per request, or of a CPython queue.Queue hand-off (each Condition waiter blocks
 * on its own lock, a sem_t the notifier posts), stays the same size for ten times the work. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include "lw_test.h"
#include "lw_trace_format.h"

/* Bytes of records in the traces of dir (each header's end_offset), or -1 on none. */
static long long trace_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	long long sum = -1;
	cr_assert_not_null(d, "no trace directory %s", dir);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".trace"))
			continue;
		char path[512];
		struct lw_trace_header h;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		cr_assert_not_null(f);
		cr_assert_eq(fread(&h, sizeof h, 1, f), 1);
		fclose(f);
		cr_assert(h.flags & LW_HDR_CLOSED, "%s was not closed", path);
		cr_assert_eq(h.dropped, 0, "%s dropped %llu records", path,
			     (unsigned long long)h.dropped);
		sum = (sum < 0 ? 0 : sum) + (long long)h.end_offset;
	}
	closedir(d);
	return sum;
}

/* Runs prog args... (with `count` as its last argument) under `lockwatch run` at the default
 * level; checks the run and returns the bytes of its traces. */
static long long run_size(const char *prog, const char *pre_arg, const char *count,
			  const char *want_out)
{
	const char *args[] = { pre_arg ? pre_arg : count, pre_arg ? count : NULL, NULL };
	struct lw_result r = lw_run_json(prog, args, NULL, 60000);
	char traces[128];
	cr_assert_eq(r.status, 0, "%s %s: status %d, stderr: %s", prog, count, r.status,
		     r.stderr_text ? r.stderr_text : "");
	cr_assert_not_null(r.report);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	cr_assert(r.stdout_text && strstr(r.stdout_text, want_out), "output: %s", r.stdout_text);
	snprintf(traces, sizeof traces, "%s/traces", r.dir);
	long long n = trace_bytes(traces);
	cr_assert_gt(n, 0);
	lw_result_free(&r);
	return n;
}

/* Both under bound, and ten times the work adds at most an eighth. */
static void expect_flat(long long small, long long big, long long bound)
{
	cr_assert_lt(small, bound, "trace of the short run: %lld bytes", small);
	cr_assert_lt(big, bound, "trace of the run ten times as long: %lld bytes", big);
	cr_assert_leq(big, small + small / 8, "the trace grew from %lld to %lld bytes for ten "
		      "times the work", small, big);
}

Test(sem_signals, a_completion_semaphore_per_request_keeps_the_trace_flat, .timeout = 120)
{
	long long small = run_size("build/tests/programs/sem_requests", NULL, "1000", "total ");
	long long big = run_size("build/tests/programs/sem_requests", NULL, "10000", "total ");
	expect_flat(small, big, 64 * 1024);
}

/* The Python interpreter itself, not a wrapper script in PATH (pyenv's shims are shell
 * scripts that would run under the shim too). */
static char *python3(void)
{
	FILE *p = popen("python3 -c 'import sys; print(sys.executable)'", "r");
	static char path[4096];
	cr_assert_not_null(p);
	char *got = fgets(path, sizeof path, p);
	int st = pclose(p);
	cr_assert(got && st == 0 && path[0] == '/',
		  "python3 is missing (tools/install-deps.sh installs it)");
	path[strcspn(path, "\n")] = '\0';
	return path;
}

Test(sem_signals, a_python_queue_handoff_keeps_the_trace_flat, .timeout = 120)
{
	const char *py = python3();
	long long small = run_size(py, "bench/py_queue.py", "500", "py_queue iterations=500 ");
	long long big = run_size(py, "bench/py_queue.py", "5000", "py_queue iterations=5000 ");
	expect_flat(small, big, 512 * 1024);
}
