/* Calls the mutex refused, as POSIX says it must, are defined behaviour a program may rely
 * on: an error-checking mutex relocked by its owner (EDEADLK), a non-owner's unlock of an
 * error-checking, recursive or robust mutex (EPERM).  At most a warning that says the call
 * failed and with which code.  A join cancelled while it waits is no join: the target stays
 * joinable, and main's join of it is a join, not a second one. */
#include <criterion/criterion.h>
#include "lw_test.h"

/* Number of findings whose message contains text, at severity (NULL: any). */
static int count_messages(json_t *report, const char *severity, const char *text)
{
	size_t i;
	json_t *v;
	int n = 0;
	json_array_foreach(json_object_get(report, "findings"), i, v) {
		const char *s = json_string_value(json_object_get(v, "severity"));
		const char *m = json_string_value(json_object_get(v, "message"));
		if ((!severity || (s && !strcmp(s, severity))) && m && strstr(m, text))
			n++;
	}
	return n;
}

Test(refused_calls, a_refused_relock_or_unlock_and_a_cancelled_join_are_no_errors,
     .timeout = 60)
{
	struct lw_result r = lw_run_json("build/tests/programs/refused_calls", NULL, NULL, 30000);
	json_t *err;

	/* The program checks every return code itself: 0 is what it exits with natively. */
	cr_assert_eq(r.status, 0, "status %d (the program's own check that failed, or 66), "
		     "stderr: %s", r.status, r.stderr_text ? r.stderr_text : "");
	cr_assert_not_null(r.report);
	err = lw_find(r.report, NULL, "error");
	cr_assert_null(err, "an error-level finding: %s",
		       err ? json_string_value(json_object_get(err, "message")) : "");
	/* Two relocks (an initialised and a statically initialised error-checking mutex), four
	 * refused unlocks (one of an unlocked error-checking mutex, three by a non-owner). */
	cr_assert_eq(count_messages(r.report, "warning", "the call failed with EDEADLK"), 2);
	cr_assert_eq(count_messages(r.report, "warning", "the call failed with EPERM"), 4);
	cr_assert_eq(count_messages(r.report, "warning", "which is held by thread T2"), 3);
	cr_assert_eq(count_messages(r.report, NULL, "locked again"), 0);
	/* Three joins: the owner thread, the cancelled joiner, and the target. */
	cr_assert_eq(lw_count_in_dump(&r, " join joiner "), 3);
	lw_result_free(&r);
}
