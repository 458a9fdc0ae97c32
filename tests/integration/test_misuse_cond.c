/* Condition-variable misuse (issue 22): a destroy while a thread waits is reported and its
 * hang ended; a destroy after the waiters were woken, and waits with one mutex, are clean;
 * two mutexes on one condvar are found in every run. */
#include <criterion/criterion.h>
#include "lw_test.h"

static struct lw_result run(const char *scenario)
{
	const char *args[] = { scenario, NULL };
	struct lw_result r = lw_run_json("build/tests/programs/misuse_cond", args, NULL, 20000);
	cr_assert_not_null(r.report, "%s: no report; stderr: %s", scenario, r.stderr_text);
	return r;
}

static void expect_clean(const char *scenario)
{
	struct lw_result r = run(scenario);
	cr_assert_eq(lw_count(r.report, NULL, NULL), 0, "%s: %zu findings", scenario,
		     json_array_size(json_object_get(r.report, "findings")));
	cr_assert_eq(r.status, 0, "%s: exit %d", scenario, r.status);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "done"), "%s: did not finish", scenario);
	lw_result_free(&r);
}

/* glibc's destroy waits for the waiter for ever: the watchdog ends the hang, and the
 * report has both the hang and the misuse that caused it. */
Test(misuse_cond, a_destroy_while_a_thread_waits_is_reported_and_does_not_hang, .timeout = 30)
{
	struct lw_result r = run("destroy-waited");
	cr_assert_eq(r.status, 66, "exit %d", r.status);
	json_t *f = lw_find(r.report, "misuse", "error");
	cr_assert_not_null(f, "no misuse");
	const char *msg = json_string_value(json_object_get(f, "message"));
	cr_assert(strstr(msg, "while threads were waiting"), "message '%s'", msg);
	json_t *d = lw_find(r.report, "deadlock", "error");
	cr_assert_not_null(d, "the hang is not reported");
	char *text = json_dumps(d, 0);
	cr_assert(strstr(text, "pthread_cond_destroy"), "%s", text);
	cr_assert(strstr(text, "destroying a condition variable that threads wait on"), "%s", text);
	free(text);
	cr_assert_eq(lw_count(r.report, NULL, NULL), 2);
	cr_assert(!r.stdout_text || !strstr(r.stdout_text, "destroyed"));
	lw_result_free(&r);
}

Test(misuse_cond, a_destroy_after_a_signal_woke_the_waiter_is_clean, .timeout = 30)
{
	expect_clean("destroy-signalled");
}

Test(misuse_cond, a_destroy_after_a_broadcast_woke_three_waiters_is_clean, .timeout = 30)
{
	expect_clean("destroy-broadcast");
}

Test(misuse_cond, a_destroy_after_one_signal_per_waiter_is_clean, .timeout = 30)
{
	expect_clean("destroy-signals");
}

Test(misuse_cond, two_threads_waiting_with_different_mutexes_are_found, .timeout = 30)
{
	struct lw_result r = run("two-mutexes");
	cr_assert_eq(r.status, 66, "exit %d", r.status);
	cr_assert_geq(lw_count(r.report, "misuse", "error"), 1);
	cr_assert_eq(lw_count(r.report, NULL, NULL), lw_count(r.report, "misuse", "error"));
	json_t *f = lw_find(r.report, "misuse", "error");
	const char *msg = json_string_value(json_object_get(f, "message"));
	cr_assert(strstr(msg, "two different mutexes"), "message '%s'", msg);
	lw_result_free(&r);
}

Test(misuse_cond, two_threads_waiting_with_one_mutex_are_clean, .timeout = 30)
{
	expect_clean("one-mutex");
}
