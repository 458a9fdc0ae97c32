/* Issue 18, multi-process programs: a wait on a process-shared lock, condition variable or
 * LMDB's writer lock that another process ends is never a hang; a process-shared lock the
 * parent held across fork() is not the child's; a lock-order cycle whose halves are in two
 * processes sharing memory is found; every stack id of a fork child's trace is its own. */
#include <criterion/criterion.h>
#include "lw_test.h"

#define PROG "build/tests/programs/pshared_procs"

/* The watchdog's limits, short, so that the other process's 1.5 s is five times either. */
static const char *const short_limits[] = { "LOCKWATCH_OPTIONS=hang_ms=300:deadlock_ms=300", NULL };

/* Runs a scenario that must end normally: both processes print their line, exit 0, and the
 * report has nothing at error level. */
static void expect_clean(const char *mode)
{
	const char *args[] = { mode, "1500", NULL };
	struct lw_result r = lw_run_json(PROG, args, short_limits, 30000);
	cr_assert_eq(r.status, 0, "%s: exit %d, stderr: %s", mode, r.status,
		     r.stderr_text ? r.stderr_text : "");
	cr_assert(r.stdout_text && strstr(r.stdout_text, "child: done\n") &&
		  strstr(r.stdout_text, "parent: child exited 0\n"),
		  "%s: output %s", mode, r.stdout_text ? r.stdout_text : "(none)");
	cr_assert(r.stderr_text && !strstr(r.stderr_text, "lockwatch: hang") &&
		  !strstr(r.stderr_text, "lockwatch: deadlock"), "%s: stderr %s", mode, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "%s: errors in the report", mode);
	cr_assert_eq(lw_count(r.report, "deadlock", NULL), 0);
	cr_assert_eq(lw_count(r.report, "misuse", NULL), 0);
	lw_result_free(&r);
}

Test(pshared, a_child_waits_for_a_mutex_its_parent_held_across_fork, .timeout = 40)
{
	expect_clean("held");
}

Test(pshared, a_child_waits_for_a_mutex_its_parent_holds, .timeout = 40)
{
	expect_clean("waiter");
}

Test(pshared, a_child_waits_for_a_condition_its_parent_signals, .timeout = 40)
{
	expect_clean("cond");
}

/* A spinlock another process initialised and holds, first seen in use at another address:
 * its shared mapping says it is process-shared.  The child spins for 1 s (one CPU). */
Test(pshared, a_child_spins_for_a_spinlock_its_parent_holds_in_a_file, .timeout = 40)
{
	char *d = lw_tmpdir();
	char file[128];
	snprintf(file, sizeof file, "%s/shared", d);
	const char *args[] = { "spin_file", "1000", file, NULL };
	struct lw_result r = lw_run_json(PROG, args, short_limits, 30000);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "child: done\n") &&
		  strstr(r.stdout_text, "parent: child exited 0\n"), "%s", r.stdout_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	lw_result_free(&r);
	lw_rmtree(d);
	free(d);
}

/* The two halves of a cycle, one in each process, found and called an error. */
static void expect_cross_process_cycle(const char *const args[])
{
	struct lw_result r = lw_run_json(PROG, args, NULL, 30000);
	cr_assert_eq(r.status, 66, "%s: exit %d, stderr: %s", args[0], r.status,
		     r.stderr_text ? r.stderr_text : "");
	cr_assert(r.stdout_text && strstr(r.stdout_text, "parent: child exited 0\n"));
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f, "%s: no lock-order-cycle error", args[0]);
	cr_assert_eq(json_array_size(json_object_get(f, "locks")), 2);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(f, "locks"), i, l) {
		const char *name = json_string_value(json_object_get(l, "name"));
		cr_assert(name && !strncmp(name, "process-shared mutex initialised at main", 40),
			  "%s: lock named %s", args[0], name);
	}
	cr_assert(lw_has_frame(f, "take_both", "pshared_procs.c"));
	const char *msg = json_string_value(json_object_get(f, "message"));
	cr_assert(msg && strstr(msg, "different processes"), "%s: message %s", args[0], msg);
	lw_result_free(&r);
}

Test(pshared, an_inversion_split_between_parent_and_child_is_a_cycle, .timeout = 40)
{
	const char *args[] = { "abba", NULL };
	expect_cross_process_cycle(args);
}

Test(pshared, an_inversion_through_a_file_mapped_at_two_addresses_is_a_cycle, .timeout = 40)
{
	char *d = lw_tmpdir();
	char file[128];
	snprintf(file, sizeof file, "%s/shared", d);
	const char *args[] = { "abba_file", "0", file, NULL };
	expect_cross_process_cycle(args);
	lw_rmtree(d);
	free(d);
}

/* Two threads of one process deadlocked on process-shared mutexes in shared memory: each
 * lock's owner field names the other thread, so the watchdog still ends it. */
Test(pshared, a_deadlock_inside_one_process_on_shared_mutexes_is_ended, .timeout = 40)
{
	const char *args[] = { "deadlock", NULL };
	struct lw_result r = lw_run_json(PROG, args, short_limits, 30000);
	cr_assert_eq(r.status, 66, "exit %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "deadlock", "error");
	cr_assert_not_null(f, "no deadlock finding");
	cr_assert_eq(json_array_size(json_object_get(f, "threads")), 2);
	lw_result_free(&r);
}

/* Every stack id a record of the trace uses is defined by a STACK record before it (the shim
 * writes a stack before handing its id out), in `lockwatch dump`'s text.  Returns the first
 * bad line, or NULL. */
static char *first_foreign_stack(const char *dump)
{
	static char bad[512];
	static unsigned char defined[1 << 16];
	memset(defined, 0, sizeof defined);
	for (const char *line = dump; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *def = strstr(line, " stack id ");
		if (def && def < line + len) {
			unsigned long id = strtoul(def + 10, NULL, 10);
			if (id < sizeof defined)
				defined[id] = 1;
		} else {
			for (const char *p = line; (p = strstr(p, "stack ")) && p < line + len; p++) {
				unsigned long id = strtoul(p + 6, NULL, 10);
				if (id && (id >= sizeof defined || !defined[id])) {
					snprintf(bad, sizeof bad, "%.*s", (int)len, line);
					return bad;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static void expect_own_stacks(const char *prog, const char *const args[])
{
	struct lw_result r = lw_run_json(prog, args, short_limits, 30000);
	char traces[128], trace[512], out[192];
	int n = 0;
	snprintf(traces, sizeof traces, "%s/traces", r.dir);
	snprintf(out, sizeof out, "%s/dump.out", r.dir);
	DIR *d = opendir(traces);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".trace"))
			continue;
		snprintf(trace, sizeof trace, "%s/%s", traces, e->d_name);
		const char *argv[] = { LW_BIN, "dump", trace, NULL };
		cr_assert_eq(lw_spawn(argv, NULL, out, NULL, 20000), 0, "dump %s", trace);
		char *text = lw_slurp(out);
		cr_assert_not_null(text);
		char *bad = first_foreign_stack(text);
		cr_assert_null(bad, "%s: a stack id not defined before it: %s", e->d_name, bad);
		free(text);
		n++;
	}
	closedir(d);
	cr_assert_eq(n, 2, "%d traces", n);
	lw_result_free(&r);
}

Test(pshared, a_fork_childs_trace_uses_only_its_own_stack_ids, .timeout = 60)
{
	const char *held[] = { "held", "300", NULL };
	expect_own_stacks(PROG, held);
	expect_own_stacks("build/tests/programs/fork_inversion", NULL);
}

/* LMDB's writer lock, held by one process while another waits to write: the waiter gets it
 * and its write is in the database (python3-lmdb, tools/install-deps.sh). */
Test(pshared, lmdb_from_two_processes_loses_no_write, .timeout = 60)
{
	char *d = lw_tmpdir();
	const char *args[] = { "tests/programs/lmdb_two_procs.py", d, "1500", NULL };
	struct lw_result r = lw_run_json("/usr/bin/python3", args, short_limits, 45000);
	cr_assert_eq(r.status, 0, "exit %d, stdout %s, stderr: %s", r.status,
		     r.stdout_text ? r.stdout_text : "", r.stderr_text ? r.stderr_text : "");
	cr_assert(r.stdout_text && strstr(r.stdout_text, "lmdb: ok\n"), "output %s", r.stdout_text);
	cr_assert_eq(lw_count(r.report, "deadlock", NULL), 0);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	lw_result_free(&r);
	lw_rmtree(d);
	free(d);
}
