/* Issue 22: the misuses Valgrind's test programs commit that lockwatch missed (realloc of a
 * locked mutex, double inits of pthread and C11 locks, invalid timeouts, lock calls on
 * memory that holds no lock, thread IDs no longer valid, an rwlock passed as a condvar's
 * mutex, refused attributes), each beside its correct counterpart.  Each scenario runs
 * LW_MISUSE_RUNS times (default 3; make misuse-runs-20 runs the samples 20 times) and must
 * get the same verdict every time. */
#include <criterion/criterion.h>
#include "lw_test.h"

static int runs(void)
{
	const char *e = getenv("LW_MISUSE_RUNS");
	int n = e ? atoi(e) : 3;
	return n > 0 ? n : 3;
}

/* Each run's findings are exactly one misuse of severity whose message has `words`
 * (severity NULL: no finding at all); lockwatch exits 66 for an error, else 0. */
static void expect(const char *scenario, const char *severity, const char *words)
{
	for (int i = 0; i < runs(); i++) {
		const char *args[] = { scenario, NULL };
		struct lw_result r = lw_run_json("build/tests/programs/misuse_calls", args, NULL,
						 30000);
		cr_assert_not_null(r.report, "%s run %d: no report; stderr: %s", scenario, i,
				   r.stderr_text);
		int n = lw_count(r.report, NULL, NULL);
		if (!severity) {
			cr_assert_eq(n, 0, "%s run %d: %d findings, the first: %s", scenario, i, n,
				     n ? json_string_value(json_object_get(lw_find(r.report, NULL,
										NULL),
									"message"))
				       : "");
		} else {
			json_t *f = lw_find(r.report, "misuse", severity);
			cr_assert_not_null(f, "%s run %d: no %s misuse", scenario, i, severity);
			const char *msg = json_string_value(json_object_get(f, "message"));
			cr_assert(msg && strstr(msg, words), "%s run %d: message '%s'", scenario, i,
				  msg);
			cr_assert_eq(n, 1, "%s run %d: %d findings", scenario, i, n);
		}
		int want = severity && !strcmp(severity, "error") ? 66 : 0;
		cr_assert_eq(r.status, want, "%s run %d: exit %d, not %d", scenario, i, r.status,
			     want);
		lw_result_free(&r);
	}
}

Test(misuse_calls, realloc_of_a_block_whose_mutex_is_locked, .timeout = 120)
{
	expect("realloc-locked", "error", "freed the heap block at");
}

Test(misuse_calls, realloc_after_unlock_and_destroy_is_clean, .timeout = 120)
{
	expect("realloc-clean", NULL, NULL);
}

Test(misuse_calls, mutex_initialised_twice_in_one_frame, .timeout = 120)
{
	expect("reinit-unused", "warning", "from the same frame");
}

Test(misuse_calls, rwlock_initialised_twice_in_one_frame, .timeout = 120)
{
	expect("reinit-rwlock", "warning", "rwlock");
}

Test(misuse_calls, global_mutex_initialised_twice, .timeout = 120)
{
	expect("reinit-global", "error", "a static object");
}

Test(misuse_calls, inits_after_destroy_in_loops_and_in_new_frames_are_clean, .timeout = 120)
{
	expect("reinit-clean", NULL, NULL);
}

Test(misuse_calls, c11_mutex_initialised_twice, .timeout = 120)
{
	expect("c11-reinit", "warning", "from the same frame");
}

Test(misuse_calls, c11_mutex_initialised_while_held, .timeout = 120)
{
	expect("c11-reinit-locked", "error", "again while thread T1 held it");
}

Test(misuse_calls, c11_mutex_destroyed_while_held, .timeout = 120)
{
	expect("c11-destroy-locked", "error", "while it was locked");
}

Test(misuse_calls, c11_init_destroy_init_is_clean, .timeout = 120)
{
	expect("c11-clean", NULL, NULL);
}

Test(misuse_calls, timed_wait_with_tv_nsec_out_of_range, .timeout = 120)
{
	expect("timeout-invalid", "warning", "an invalid timeout");
}

Test(misuse_calls, timed_wait_that_times_out_is_clean, .timeout = 120)
{
	expect("timeout-clean", NULL, NULL);
}

Test(misuse_calls, lock_of_memory_that_holds_no_mutex, .timeout = 120)
{
	expect("garbage-mutex", "error", "holds no valid mutex");
}

Test(misuse_calls, lock_of_a_statically_initialised_mutex_is_clean, .timeout = 120)
{
	expect("garbage-clean", NULL, NULL);
}

Test(misuse_calls, post_of_a_semaphore_overwritten_since_its_init, .timeout = 120)
{
	expect("sem-overwritten", "error", "holds no valid semaphore");
}

Test(misuse_calls, post_and_wait_of_an_intact_semaphore_are_clean, .timeout = 120)
{
	expect("sem-clean", NULL, NULL);
}

Test(misuse_calls, join_of_oneself, .timeout = 120)
{
	expect("join-self", "warning", "joined itself");
}

Test(misuse_calls, detach_of_a_joined_thread, .timeout = 120)
{
	expect("detach-joined", "error", "which was already joined");
}

Test(misuse_calls, cancel_of_a_joined_thread, .timeout = 120)
{
	expect("cancel-joined", "error", "which was already joined");
}

Test(misuse_calls, detach_of_a_live_thread_and_cancel_before_join_are_clean, .timeout = 120)
{
	expect("thread-clean", NULL, NULL);
}

Test(misuse_calls, condition_wait_with_an_rwlock_for_its_mutex, .timeout = 120)
{
	expect("cond-rwlock", "error", "not a mutex");
}

Test(misuse_calls, condition_wait_with_its_mutex_is_clean, .timeout = 120)
{
	expect("cond-clean", NULL, NULL);
}

/* The wait is misuse, and returns with the mutex locked again (ETIMEDOUT): main then holds
 * it, and returns holding it. */
Test(misuse_calls, condition_wait_without_its_mutex_returns_holding_it, .timeout = 120)
{
	for (int i = 0; i < runs(); i++) {
		const char *args[] = { "cond-unheld", NULL };
		struct lw_result r = lw_run_json("build/tests/programs/misuse_calls", args, NULL,
						 30000);
		cr_assert_not_null(r.report, "run %d: no report", i);
		json_t *e = lw_find(r.report, "misuse", "error");
		json_t *w = lw_find(r.report, "misuse", "warning");
		const char *em = e ? json_string_value(json_object_get(e, "message")) : "";
		const char *wm = w ? json_string_value(json_object_get(w, "message")) : "";
		cr_assert(strstr(em, "which it does not hold"), "run %d: error '%s'", i, em);
		cr_assert(strstr(wm, "ended the process") && strstr(wm, "while holding"),
			  "run %d: warning '%s'", i, wm);
		cr_assert_eq(lw_count(r.report, NULL, NULL), 2, "run %d", i);
		lw_result_free(&r);
	}
}

/* A wait on a destroyed barrier is misuse, and a hang the watchdog ends. */
Test(misuse_calls, wait_on_a_destroyed_barrier, .timeout = 120)
{
	for (int i = 0; i < runs(); i++) {
		const char *args[] = { "barrier-wait-destroyed", NULL };
		struct lw_result r = lw_run_json("build/tests/programs/misuse_calls", args, NULL,
						 60000);
		cr_assert_not_null(r.report, "run %d: no report", i);
		json_t *e = lw_find(r.report, "misuse", "error");
		const char *em = e ? json_string_value(json_object_get(e, "message")) : "";
		cr_assert(strstr(em, "after it was destroyed"), "run %d: misuse '%s'", i, em);
		cr_assert_not_null(lw_find(r.report, "deadlock", "error"), "run %d: no hang", i);
		cr_assert_eq(r.status, 66, "run %d: exit %d", i, r.status);
		lw_result_free(&r);
	}
}

Test(misuse_calls, mutex_init_refusing_its_attributes, .timeout = 120)
{
	expect("attr-refused", "warning", "invalid attributes");
}

Test(misuse_calls, mutex_init_with_set_up_attributes_is_clean, .timeout = 120)
{
	expect("attr-clean", NULL, NULL);
}

/* GLib's GMutex, checked as pthread's mutexes are. */
static void expect_glib(const char *scenario, const char *severity, const char *words)
{
	for (int i = 0; i < runs(); i++) {
		const char *args[] = { scenario, NULL };
		struct lw_result r = lw_run_json("build/tests/programs/glib_misuse", args, NULL,
						 30000);
		cr_assert_not_null(r.report, "%s run %d: no report; stderr: %s", scenario, i,
				   r.stderr_text);
		int n = lw_count(r.report, NULL, NULL);
		json_t *f = severity ? lw_find(r.report, "misuse", severity) : NULL;
		const char *msg = f ? json_string_value(json_object_get(f, "message")) : NULL;
		if (severity)
			cr_assert(n == 1 && msg && strstr(msg, words),
				  "%s run %d: %d findings, message '%s'", scenario, i, n, msg);
		else
			cr_assert_eq(n, 0, "%s run %d: %d findings", scenario, i, n);
		lw_result_free(&r);
	}
}

Test(misuse_calls, glib_mutex_initialised_twice, .timeout = 120)
{
	expect_glib("reinit", "warning", "from the same frame");
}

Test(misuse_calls, glib_mutex_initialised_while_held, .timeout = 120)
{
	expect_glib("reinit-locked", "error", "again while thread T1 held it");
}

Test(misuse_calls, glib_mutex_cleared_while_held, .timeout = 120)
{
	expect_glib("clear-locked", "error", "while it was locked");
}

Test(misuse_calls, glib_mutex_init_clear_init_is_clean, .timeout = 120)
{
	expect_glib("clean", NULL, NULL);
}
