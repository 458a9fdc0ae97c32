/* API misuse, one scenario at a time: the finding, its severity, and nothing invented. */
#include <criterion/criterion.h>
#include "lw_test.h"

static struct lw_result run(const char *scenario)
{
	const char *args[] = { scenario, NULL };
	struct lw_result r = lw_run_json("build/tests/programs/misuse", args, NULL, 20000);
	cr_assert_not_null(r.report, "%s: no report; stderr: %s", scenario, r.stderr_text);
	return r;
}

/* The only finding is one misuse of this severity whose message has `words`. */
static void expect_only(const char *scenario, const char *severity, const char *words)
{
	struct lw_result r = run(scenario);
	cr_assert_eq(lw_count(r.report, NULL, NULL), 1, "%s: %zu findings", scenario,
		     json_array_size(json_object_get(r.report, "findings")));
	json_t *f = lw_find(r.report, "misuse", severity);
	cr_assert_not_null(f, "%s: no %s misuse", scenario, severity);
	const char *msg = json_string_value(json_object_get(f, "message"));
	cr_assert(strstr(msg, words) != NULL, "%s: message '%s'", scenario, msg);
	cr_assert_eq(r.status, !strcmp(severity, "error") ? 66 : 0, "%s: exit %d", scenario,
		     r.status);
	lw_result_free(&r);
}

Test(misuse, unlock_of_a_mutex_another_thread_holds, .timeout = 30)
{
	expect_only("unlock-other", "error", "which is held by thread");
}

Test(misuse, destroy_of_a_locked_mutex, .timeout = 30)
{
	expect_only("destroy-locked", "error", "while it was locked");
}

Test(misuse, a_thread_that_returns_holding_a_lock, .timeout = 30)
{
	expect_only("exit-holding", "warning", "ended while holding");
}

Test(misuse, cond_wait_without_the_mutex, .timeout = 30)
{
	struct lw_result r = run("cond-not-held");
	cr_assert_geq(lw_count(r.report, "misuse", "error"), 1);
	/* The message names the condition variable and, apart, the mutex the thread lacked. */
	const char *msg = json_string_value(json_object_get(lw_find(r.report, "misuse", "error"),
							    "message"));
	cr_assert(msg && strstr(msg, "condition variable cv with mutex "), "message: %s", msg);
	lw_result_free(&r);
}

Test(misuse, one_condvar_two_mutexes_at_once, .timeout = 30)
{
	expect_only("cond-two-mutexes", "error", "");
}

Test(misuse, sem_post_after_sem_destroy, .timeout = 30)
{
	expect_only("sem-after-destroy", "error", "");
}

Test(misuse, sem_post_past_sem_value_max, .timeout = 30)
{
	expect_only("sem-overflow", "error", "");
}

Test(misuse, a_reused_handle_of_a_detached_thread_is_not_a_misuse, .timeout = 30)
{
	struct lw_result r = run("join-detached");
	cr_assert_eq(lw_count(r.report, NULL, NULL), 0);
	cr_assert_eq(r.status, 0);
	lw_result_free(&r);
}

/* A robust mutex whose owner died is acquired with EOWNERDEAD: the new owner holds it, and
 * its unlock is not a misuse (the dead owner's exit with it held is the warning). */
Test(misuse, a_robust_mutex_taken_over_with_eownerdead, .timeout = 30)
{
	expect_only("robust-owner-died", "warning", "ended while holding");
}
