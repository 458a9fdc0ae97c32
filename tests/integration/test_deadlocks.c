/* Issue 3's samples: each lock-order cycle gets the right severity and reason, real
 * deadlocks and hangs end with a report within seconds, and nothing hangs. */
#include <criterion/criterion.h>
#include "lw_test.h"

/* Runs a sample; checks the exit status and that the only finding at error level (if any)
 * and the first lock-order-cycle have the expected kind/severity/reason. */
static struct lw_result run_sample(const char *name, int want_status)
{
	char prog[128];
	snprintf(prog, sizeof prog, "build/samples/%s", name);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct lw_result r = lw_run_json(prog, NULL, NULL, 20000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_eq(r.status, want_status, "%s: exit %d, stderr: %s", name, r.status,
		     r.stderr_text ? r.stderr_text : "");
	cr_assert_not_null(r.report, "%s: no JSON report", name);
	cr_assert_lt(b.tv_sec - a.tv_sec, 10, "%s took %ld s", name, (long)(b.tv_sec - a.tv_sec));
	return r;
}

static void expect_warning(const char *name, const char *reason, const char *lock1,
			   const char *lock2)
{
	struct lw_result r = run_sample(name, 0);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "%s: error-level findings", name);
	json_t *f = lw_find(r.report, "lock-order-cycle", "warning");
	cr_assert_not_null(f, "%s: no lock-order-cycle warning", name);
	const char *got = json_string_value(json_object_get(f, "reason"));
	cr_assert(got && !strcmp(got, reason), "%s: reason %s, want %s", name, got, reason);
	if (lock1)
		cr_assert(lw_has_lock(f, lock1) && lw_has_lock(f, lock2), "%s: locks", name);
	lw_result_free(&r);
}

Test(cycles, one_thread_cannot_deadlock_with_itself, .timeout = 30)
{
	expect_warning("cycle_single_thread", "single-thread", "lock_a", "lock_b");
}

Test(cycles, a_common_gate_lock_serialises_the_inversion, .timeout = 30)
{
	expect_warning("cycle_gate_lock", "gate-lock", "lock_a", "lock_b");
	struct lw_result r = run_sample("cycle_gate_lock", 0);
	json_t *f = lw_find(r.report, "lock-order-cycle", "warning");
	char *text = json_dumps(f, 0);
	cr_assert(strstr(text, "big_lock") != NULL, "the gate lock is not named: %s", text);
	free(text);
	lw_result_free(&r);
}

Test(cycles, threads_ordered_by_join_then_create_never_overlap, .timeout = 30)
{
	expect_warning("cycle_join_ordered", "happens-before", "lock_a", "lock_b");
}

Test(cycles, a_trylock_backs_off, .timeout = 30)
{
	expect_warning("cycle_trylock", "trylock", "lock_a", "lock_b");
}

Test(cycles, a_timed_lock_cannot_wait_forever, .timeout = 30)
{
	expect_warning("cycle_timed_lock", "timed-lock", "lock_a", "lock_b");
}

Test(cycles, readers_do_not_exclude_readers, .timeout = 30)
{
	expect_warning("cycle_rwlock_readers", "read-read", "table_lock", "index_lock");
}

Test(cycles, instances_of_one_lock_class_nested_both_ways, .timeout = 30)
{
	expect_warning("lock_class_transfer", "lock-class", NULL, NULL);
}

Test(cycles, a_reused_heap_address_is_a_new_lock, .timeout = 30)
{
	struct lw_result r = run_sample("heap_lock_reuse", 0);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	lw_result_free(&r);
}

Test(cycles, a_write_read_rwlock_inversion_is_an_error, .timeout = 30)
{
	struct lw_result r = run_sample("cycle_rwlock_writer", 66);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_lock(f, "table_lock") && lw_has_lock(f, "index_lock"));
	lw_result_free(&r);
}

Test(cycles, binary_semaphores_used_as_locks_form_a_cycle, .timeout = 30)
{
	struct lw_result r = run_sample("semaphore_locks", 66);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_lock(f, "sem_disk") && lw_has_lock(f, "sem_net"));
	lw_result_free(&r);
}

Test(cycles, five_philosophers_make_a_five_cycle, .timeout = 30)
{
	struct lw_result r = run_sample("dining_philosophers", 66);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert_eq(json_array_size(json_object_get(f, "locks")), 5);
	cr_assert_eq(json_array_size(json_object_get(f, "edges")), 5);
	const char *names[] = { "fork_0", "fork_1", "fork_2", "fork_3", "fork_4" };
	for (int i = 0; i < 5; i++)
		cr_assert(lw_has_lock(f, names[i]), "%s missing", names[i]);
	/* The counting semaphores that stagger the philosophers are not locks. */
	cr_assert_eq(lw_count(r.report, NULL, NULL), 1);
	lw_result_free(&r);
}

Test(cycles, five_hundred_locks_held_at_once_in_one_order, .timeout = 60)
{
	struct lw_result r = run_sample("many_locks", 0);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	lw_result_free(&r);
}

/* The threads of a deadlock finding, as a count. */
static size_t deadlock_threads(json_t *f)
{
	return json_array_size(json_object_get(f, "threads"));
}

Test(deadlocks, a_three_way_deadlock_ends_with_a_report, .timeout = 30)
{
	struct lw_result r = run_sample("deadlock_three_way", 66);
	json_t *f = lw_find(r.report, "deadlock", "error");
	cr_assert_not_null(f);
	cr_assert_eq(deadlock_threads(f), 3);
	char *text = json_dumps(f, 0);
	cr_assert(strstr(text, "lock_x") && strstr(text, "lock_y") && strstr(text, "lock_z"),
		  "locks not named: %s", text);
	cr_assert(strstr(text, "deadlock_three_way.c") != NULL, "no file:line: %s", text);
	free(text);
	lw_result_free(&r);
}

Test(deadlocks, a_thread_relocking_its_own_mutex_ends_with_a_report, .timeout = 30)
{
	struct lw_result r = run_sample("self_deadlock", 66);
	json_t *f = lw_find(r.report, "deadlock", "error");
	cr_assert_not_null(f);
	cr_assert_eq(deadlock_threads(f), 1);
	cr_assert_eq(lw_count(r.report, "misuse", "error"), 1);
	char *text = json_dumps(f, 0);
	cr_assert(strstr(text, "cache_lock") != NULL && strstr(text, "cache_evict") != NULL,
		  "%s", text);
	free(text);
	lw_result_free(&r);
}

Test(deadlocks, threads_waiting_on_each_others_semaphores_are_a_hang, .timeout = 30)
{
	struct lw_result r = run_sample("semaphore_hang", 66);
	json_t *f = lw_find(r.report, "deadlock", "error");
	cr_assert_not_null(f);
	cr_assert_eq(deadlock_threads(f), 3, "main, client and server");
	lw_result_free(&r);
}

/* on_deadlock=continue reports and leaves the program waiting, as it would without
 * lockwatch: the test's own timeout has to end it. */
Test(deadlocks, on_deadlock_continue_keeps_the_old_behaviour, .timeout = 30)
{
	char *dir = lw_tmpdir();
	char opt[256], err[256];
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s on_deadlock=continue", dir);
	snprintf(err, sizeof err, "%s/stderr", dir);
	const char *env[] = { "LD_PRELOAD=" LW_SHIM, opt, NULL };
	const char *prog[] = { "build/samples/deadlock_three_way", NULL };
	cr_assert_eq(lw_spawn(prog, env, NULL, err, 3000), -1, "it should still be waiting");
	char *text = lw_slurp(err);
	cr_assert(text && strstr(text, "lockwatch: deadlock") != NULL, "stderr: %s", text);
	free(text);
	const char *rep[] = { LW_BIN, "report", dir, NULL };
	cr_assert_eq(lw_spawn(rep, NULL, NULL, NULL, 20000), 66);
	lw_rmtree(dir);
	free(dir);
}

/* A single thread waiting in sem_wait for a signal handler's sem_post is not a hang. */
Test(deadlocks, a_wait_a_signal_handler_ends_is_not_a_hang, .timeout = 30)
{
	struct lw_result r = lw_run_json("build/tests/programs/passthrough", NULL, NULL, 20000);
	cr_assert_eq(lw_count(r.report, "deadlock", NULL), 0);
	lw_result_free(&r);
}

/* A join on a thread that has ended is not a hang, even when the joiner takes longer than
 * hang_ms to come back from it (here it sits in a signal handler; on a loaded machine it
 * can simply be off the CPU). */
Test(deadlocks, a_join_on_an_ended_thread_is_not_a_hang, .timeout = 30)
{
	const char *env[] = { "LOCKWATCH_OPTIONS=hang_ms=200", NULL };
	struct lw_result r = lw_run_json("build/tests/programs/join_late", NULL, env, 20000);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, "deadlock", NULL), 0);
	lw_result_free(&r);
}

Test(cycles, semaphores_that_signal_are_not_locks, .timeout = 30)
{
	/* A barrier built of a mutex and semaphores: each thread waits on a semaphore in one
	 * round and posts it in another, but other threads post it without waiting on it. */
	struct lw_result r = lw_run_json("build/tests/programs/sem_barrier", NULL, NULL, 20000);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(lw_count(r.report, "lock-order-cycle", NULL), 0, "a semaphore taken for a lock");
	cr_assert_eq(lw_count(r.report, NULL, NULL), 0);
	lw_result_free(&r);
}

/*
 * tests/programs/stripes: two threads lock N stripes, one ascending and one descending.
 * Past 7 stripes the cycles that cannot deadlock number more than the 1000 enumerated per
 * group; the inversions of neighbouring stripes, which can, are still errors, and the
 * summary line counts truthfully what it leaves out and what it lists.
 */
static void stripes_are_an_error(const char *n)
{
	const char *args[] = { n, NULL };
	struct lw_result r = lw_run_json("build/tests/programs/stripes", args, NULL, 60000);
	cr_assert_eq(r.status, 66, "%s stripes: exit %d: %s", n, r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f, "%s stripes: no error", n);
	cr_assert_eq(json_array_size(json_object_get(f, "locks")), 2);
	/* "N more lock-order cycles that cannot deadlock not listed (20 are, as K finding[s])":
	 * K is the number of such findings the report has. */
	const char *line = r.stderr_text ? strstr(r.stderr_text, "not listed (") : NULL;
	unsigned listed = 0, shown = 0, instance_warnings = 0;
	cr_assert_not_null(line, "%s stripes: no summary of unlisted cycles: %s", n,
			   r.stderr_text);
	cr_assert_eq(sscanf(line, "not listed (%u are, as %u finding", &listed, &shown), 2, "%s",
		     line);
	cr_assert_eq(listed, 20);
	json_t *fs = json_object_get(r.report, "findings"), *x;
	size_t i;
	json_array_foreach(fs, i, x) {
		const char *reason = json_string_value(json_object_get(x, "reason"));
		instance_warnings += !strcmp(json_string_value(json_object_get(x, "kind")),
					     "lock-order-cycle") &&
				     !strcmp(json_string_value(json_object_get(x, "severity")),
					     "warning") &&
				     !(reason && !strcmp(reason, "lock-class"));
	}
	cr_assert_eq(shown, instance_warnings, "%s", line);
	cr_assert(strstr(r.stderr_text, "only cycles that can deadlock were looked for, and all "
		  "of them are reported"), "%s", r.stderr_text);
	lw_result_free(&r);
}

Test(cycles, stripes_8_both_ways_can_deadlock, .timeout = 60)
{
	stripes_are_an_error("8");
}

Test(cycles, stripes_16_both_ways_can_deadlock, .timeout = 60)
{
	stripes_are_an_error("16");
}

Test(cycles, stripes_32_both_ways_can_deadlock, .timeout = 60)
{
	stripes_are_an_error("32");
}
