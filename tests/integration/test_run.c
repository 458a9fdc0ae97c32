/* End to end: `lockwatch run` on samples and test programs, the exit statuses, the JSON
 * contract, fork, SIGKILL, and a trace that does not grow with run length. */
#include <criterion/criterion.h>
#include <dirent.h>
#include "lw_test.h"
#include "lw_trace_format.h"

Test(run, transfer_a_to_b_is_an_error_level_cycle, .timeout = 30)
{
	struct lw_result r = lw_run_json("build/samples/transfer_a_to_b", NULL, NULL, 20000);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_str_eq(json_string_value(json_object_get(r.report, "tool")), "lockwatch");
	cr_assert(json_is_string(json_object_get(r.report, "version")));
	cr_assert_eq(lw_count(r.report, "lock-order-cycle", "error"), 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 1);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert(lw_has_lock(f, "lock_a"));
	cr_assert(lw_has_lock(f, "lock_b"));
	cr_assert_eq(json_array_size(json_object_get(f, "edges")), 2);
	cr_assert(json_is_string(json_object_get(f, "message")));
	cr_assert(lw_has_frame(f, "transfer_a_to_b", "transfer_a_to_b.c"));
	cr_assert(lw_has_frame(f, "transfer_b_to_a", "transfer_a_to_b.c"));
	lw_result_free(&r);
}

Test(run, transfer_ordered_is_clean, .timeout = 30)
{
	struct lw_result r = lw_run_json("build/samples/transfer_ordered", NULL, NULL, 20000);
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	lw_result_free(&r);
}

Test(run, nested_consistent_is_clean, .timeout = 30)
{
	struct lw_result r = lw_run_json("build/samples/nested_consistent", NULL, NULL, 20000);
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	lw_result_free(&r);
}

Test(run, passes_the_programs_exit_status_through, .timeout = 30)
{
	const char *args[] = { "7", NULL };
	struct lw_result r = lw_run_json("build/tests/programs/exit_code", args, NULL, 20000);
	cr_assert_eq(r.status, 7, "exit status %d", r.status);
	lw_result_free(&r);
}

Test(run, refuses_a_statically_linked_program, .timeout = 30)
{
	struct lw_result r = lw_run_json("build/tests/programs/static_hello", NULL, NULL, 20000);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(r.stderr_text);
	cr_assert(strstr(r.stderr_text, "statically linked") != NULL, "stderr: %s", r.stderr_text);
	lw_result_free(&r);
}

Test(run, every_call_passes_result_and_errno_through, .timeout = 60)
{
	const char *prog[] = { "build/tests/programs/passthrough", NULL };
	cr_assert_eq(lw_spawn(prog, NULL, NULL, NULL, 20000), 0, "native run failed");
	char *dir = lw_tmpdir();
	char opt[256];
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s", dir);
	const char *env[] = { "LD_PRELOAD=" LW_SHIM, opt, NULL };
	cr_assert_eq(lw_spawn(prog, env, NULL, NULL, 20000), 0, "under the shim");
	lw_rmtree(dir);
	free(dir);
}

/* The pass-through program misuses the API on purpose, four times; each is reported (the
 * two unlocks of unlocked mutexes initialised in the same function are one finding seen
 * twice: findings are keyed by names and functions, not line numbers). */
Test(run, the_deliberate_misuses_of_the_passthrough_program_are_reported, .timeout = 60)
{
	struct lw_result r = lw_run_json("build/tests/programs/passthrough", NULL, NULL, 20000);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), lw_count(r.report, "misuse", "error"));
	/* The unlocks and the relock the mutexes refused (EPERM, EDEADLK) are defined: warnings
	 * that say the call failed. */
	int not_locked = 0, relock = 0, twice = 0;
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(r.report, "findings"), i, f) {
		const char *m = json_string_value(json_object_get(f, "message"));
		const char *sev = json_string_value(json_object_get(f, "severity"));
		int n = (int)json_integer_value(json_object_get(f, "count"));
		bool warning = sev && !strcmp(sev, "warning");
		not_locked += warning && strstr(m, "the call failed with EPERM") ? n : 0;
		relock += warning && strstr(m, "the call failed with EDEADLK") ? n : 0;
		twice += strstr(m, "already joined") ? n : 0;
	}
	cr_assert_eq(not_locked, 2);
	cr_assert_eq(relock, 1);
	cr_assert_eq(twice, 1);
	lw_result_free(&r);
}

Test(run, a_forked_child_writes_its_own_trace_and_is_analyzed, .timeout = 30)
{
	struct lw_result r = lw_run_json("build/tests/programs/fork_inversion", NULL, NULL, 20000);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_lock(f, "lock_p") && lw_has_lock(f, "lock_q"));
	cr_assert(lw_has_frame(f, "p_then_q", "fork_inversion.c"));
	char traces[128];
	snprintf(traces, sizeof traces, "%s/traces", r.dir);
	DIR *d = opendir(traces);
	cr_assert_not_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strstr(e->d_name, ".trace") != NULL;
	closedir(d);
	cr_assert_eq(n, 2, "%d trace files, want one per process", n);
	lw_result_free(&r);
}

Test(run, a_library_that_locks_in_its_constructor_works_before_and_after_the_shim, .timeout = 30)
{
	static const char *orders[] = {
		"LD_PRELOAD=build/tests/programs/libearly.so:" LW_SHIM,
		"LD_PRELOAD=" LW_SHIM ":build/tests/programs/libearly.so",
	};
	for (int i = 0; i < 2; i++) {
		char *dir = lw_tmpdir();
		char opt[256];
		snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s", dir);
		const char *env[] = { orders[i], opt, NULL };
		const char *prog[] = { "build/tests/programs/exit_code", "0", NULL };
		cr_assert_eq(lw_spawn(prog, env, NULL, NULL, 20000), 0, "order %d", i);
		const char *rep[] = { LW_BIN, "report", "--format", "json", dir, NULL };
		cr_assert_eq(lw_spawn(rep, NULL, NULL, NULL, 20000), 0, "report, order %d", i);
		lw_rmtree(dir);
		free(dir);
	}
}

/* SIGKILL at a random moment, many times: the trace must always be readable and hold the
 * inversion the program made before it was killed. */
Test(run, a_trace_survives_sigkill_at_any_moment, .timeout = 300)
{
	srand((unsigned)time(NULL));
	for (int round = 0; round < 8; round++) {
		char *dir = lw_tmpdir();
		char opt[256], ready[256], json[256];
		snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s/t level=%s", dir,
			 round % 2 ? "full" : "dependencies");
		snprintf(ready, sizeof ready, "%s/ready", dir);
		snprintf(json, sizeof json, "%s/r.json", dir);
		pid_t pid = fork();
		if (pid == 0) {
			putenv("LD_PRELOAD=" LW_SHIM);
			putenv(opt);
			execl("build/tests/programs/kill_midrun", "kill_midrun", ready, (char *)NULL);
			_exit(127);
		}
		/* A loaded machine can take long to start it: wait up to 20 s. */
		for (int i = 0; i < 20000 && access(ready, F_OK) != 0; i++)
			usleep(1000);
		cr_assert_eq(access(ready, F_OK), 0, "program never got ready");
		usleep((useconds_t)(rand() % 50000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		char traces[256];
		snprintf(traces, sizeof traces, "%s/t", dir);
		const char *rep[] = { LW_BIN, "report", "--format", "json", "-o", json, traces, NULL };
		int rc = lw_spawn(rep, NULL, NULL, NULL, 60000);
		cr_assert_eq(rc, 66, "round %d: report exit %d", round, rc);
		char *text = lw_slurp(json);
		json_t *report = json_loads(text, 0, NULL);
		json_t *f = lw_find(report, "lock-order-cycle", "error");
		cr_assert_not_null(f, "round %d: no cycle", round);
		cr_assert(lw_has_lock(f, "lock_x") && lw_has_lock(f, "lock_y"));
		json_decref(report);
		free(text);
		lw_rmtree(dir);
		free(dir);
	}
}

/* The records a trace holds (end_offset of a closed trace). */
static uint64_t trace_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	uint64_t total = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".trace"))
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		struct lw_trace_header h;
		cr_assert_eq(fread(&h, sizeof h, 1, f), 1);
		fclose(f);
		cr_assert(h.flags & LW_HDR_CLOSED);
		total += h.end_offset;
	}
	closedir(d);
	return total;
}

/* The trace of lockheavy at 20000 and 400000 rounds, with the shim's options opts. */
static void lockheavy_sizes(const char *opts, uint64_t size[2])
{
	static const char *iters[] = { "20000", "400000" };
	for (int i = 0; i < 2; i++) {
		char *dir = lw_tmpdir();
		char opt[256];
		snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s%s", dir, opts);
		const char *env[] = { "LD_PRELOAD=" LW_SHIM, opt, NULL };
		const char *prog[] = { "build/bench/lockheavy", iters[i], "2", "16", NULL };
		cr_assert_eq(lw_spawn(prog, env, NULL, NULL, 60000), 0);
		size[i] = trace_bytes(dir);
		lw_rmtree(dir);
		free(dir);
	}
}

/* The dependencies level alone (automatic watching off). */
Test(run, a_dependencies_trace_does_not_grow_with_run_length, .timeout = 120)
{
	uint64_t size[2];
	lockheavy_sizes(" watch=off", size);
	/* 20 times the work; the distinct behaviour is the same. */
	cr_assert(size[1] <= size[0] + size[0] / 20, "trace grew from %llu to %llu bytes",
		  (unsigned long long)size[0], (unsigned long long)size[1]);
}

/* With automatic watching (the default): what its windows write is bounded by
 * watch_trace_kb (32 KiB), and the collider's counts and stacks by its sites, whatever the
 * run's length. */
Test(run, the_default_trace_is_bounded_whatever_the_run_length, .timeout = 120)
{
	uint64_t size[2];
	lockheavy_sizes("", size);
	cr_assert(size[1] <= size[0] + size[0] / 20 + 36 * 1024,
		  "trace grew from %llu to %llu bytes", (unsigned long long)size[0],
		  (unsigned long long)size[1]);
}
