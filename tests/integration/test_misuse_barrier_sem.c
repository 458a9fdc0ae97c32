/* Barrier and semaphore misuse (issue 22): each scenario and its correct counterpart, run 20
 * times each, gets the same verdict every time, with both stacks where there are two. */
#include <criterion/criterion.h>
#include "lw_test.h"

#define RUNS 20

static const char *const short_hang[] = { "LOCKWATCH_OPTIONS=hang_ms=300:deadlock_ms=300:watch=off",
					  NULL };
/* Issue 20: the program hands waiter_tid to main through a volatile, a data race that
 * automatic watching rightly reports; these tests are about misuse, not about watching. */
static const char *const no_watch[] = { "LOCKWATCH_OPTIONS=watch=off", NULL };

/* Number of misuse findings of severity whose message has words. */
static int count_misuse(json_t *report, const char *severity, const char *words)
{
	size_t i;
	json_t *v;
	int n = 0;
	json_array_foreach(json_object_get(report, "findings"), i, v) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		const char *s = json_string_value(json_object_get(v, "severity"));
		const char *m = json_string_value(json_object_get(v, "message"));
		if (k && !strcmp(k, "misuse") && s && !strcmp(s, severity) && m && strstr(m, words))
			n++;
	}
	return n;
}

/* The misuse finding whose message has words: its thread of that role has a frame in fn. */
static bool role_in(json_t *report, const char *words, const char *role, const char *fn)
{
	size_t i, j, k;
	json_t *v, *t, *fr;
	json_array_foreach(json_object_get(report, "findings"), i, v) {
		const char *m = json_string_value(json_object_get(v, "message"));
		if (!m || !strstr(m, words))
			continue;
		json_array_foreach(json_object_get(v, "threads"), j, t) {
			const char *r = json_string_value(json_object_get(t, "role"));
			if (!r || strcmp(r, role))
				continue;
			json_array_foreach(json_object_get(t, "stack"), k, fr) {
				const char *f = json_string_value(json_object_get(fr, "function"));
				if (f && !strcmp(f, fn))
					return true;
			}
		}
	}
	return false;
}

/* The warning every refused init gets. */
#define REFUSED "the call failed with EINVAL"

/* Runs scenario RUNS times: each time exactly `errors` error misuse findings with words in
 * their message, and `warnings` warnings with REFUSED (the other findings: none, or the
 * hang's deadlock), and, when role is set, the other side's stack in function fn. */
static void expect(const char *scenario, int errors, int warnings, const char *words,
		   const char *role, const char *fn, bool hangs)
{
	for (int run = 0; run < RUNS; run++) {
		const char *args[] = { scenario, NULL };
		struct lw_result r = lw_run_json("build/tests/programs/barrier_sem_misuse", args,
						 hangs ? short_hang : no_watch, 20000);
		cr_assert_not_null(r.report, "%s run %d: no report (status %d); stderr: %s",
				   scenario, run, r.status, r.stderr_text);
		int misuses = lw_count(r.report, "misuse", NULL);
		cr_assert_eq(misuses, errors + warnings, "%s run %d: %d misuse findings", scenario,
			     run, misuses);
		if (errors)
			cr_assert_eq(count_misuse(r.report, "error", words), errors,
				     "%s run %d: not %d error(s) '%s'", scenario, run, errors, words);
		if (warnings)
			cr_assert_eq(count_misuse(r.report, "warning", errors ? REFUSED : words), warnings,
				     "%s run %d: not %d warning(s)", scenario, run, warnings);
		if (role)
			cr_assert(role_in(r.report, words, role, fn), "%s run %d: no %s in %s",
				  scenario, run, role, fn);
		/* Only a hang the program itself causes is a deadlock finding. */
		cr_assert_eq(lw_count(r.report, NULL, NULL) - misuses, hangs ? 1 : 0,
			     "%s run %d: other findings", scenario, run);
		cr_assert_eq(r.status, errors || hangs ? 66 : 0, "%s run %d: exit %d", scenario,
			     run, r.status);
		lw_result_free(&r);
	}
}

static void expect_clean(const char *scenario)
{
	expect(scenario, 0, 0, "", NULL, NULL, false);
}

Test(misuse_barrier_sem, barrier_init_with_count_0_is_a_warning, .timeout = 120)
{
	expect("barrier-count0", 0, 1, "with a count of 0; the call failed with EINVAL", NULL,
	       NULL, false);
}

Test(misuse_barrier_sem, barrier_init_with_count_1_is_clean, .timeout = 120)
{
	expect_clean("barrier-count0-ok");
}

Test(misuse_barrier_sem, barrier_initialised_twice, .timeout = 120)
{
	expect("barrier-twice", 1, 0, "initialised barrier bar again, which was initialised",
	       "init", "main", false);
}

Test(misuse_barrier_sem, barrier_initialised_destroyed_initialised_is_clean, .timeout = 120)
{
	expect_clean("barrier-twice-ok");
}

Test(misuse_barrier_sem, barrier_initialised_again_while_a_thread_waits, .timeout = 120)
{
	expect("barrier-reinit-waited", 1, 0, "again while thread T2 waited for it", "waiter",
	       "waiter", false);
}

Test(misuse_barrier_sem, barrier_initialised_again_after_its_round_is_clean, .timeout = 120)
{
	expect_clean("barrier-reinit-waited-ok");
}

Test(misuse_barrier_sem, barrier_destroyed_while_a_thread_waits_ends_not_hangs,
     .timeout = 180)
{
	/* glibc's destroy waits for the waiter, which never leaves: the watchdog ends it. */
	expect("barrier-destroy-waited", 1, 0, "destroyed barrier bar while threads were waiting",
	       "waiter", "waiter", true);
}

Test(misuse_barrier_sem, barrier_destroyed_right_after_its_round_is_clean, .timeout = 120)
{
	expect_clean("barrier-destroy-waited-ok");
}

Test(misuse_barrier_sem, barrier_never_initialised_destroyed, .timeout = 120)
{
	expect("barrier-destroy-uninit", 1, 0, "destroyed barrier bar, which was never initialised",
	       NULL, NULL, false);
}

Test(misuse_barrier_sem, barrier_initialised_then_destroyed_is_clean, .timeout = 120)
{
	expect_clean("barrier-destroy-uninit-ok");
}

Test(misuse_barrier_sem, sem_init_above_sem_value_max_then_used, .timeout = 120)
{
	/* The refused init is a warning; the use of the semaphore it left is an error, once,
	 * with the failed init as its other side. */
	expect("sem-overflow", 1, 1, "posted semaphore sem, which was never initialised (its "
	       "initialisation failed)", "init", "main", false);
}

Test(misuse_barrier_sem, sem_init_above_sem_value_max_unused_is_a_warning, .timeout = 120)
{
	expect("sem-overflow-unused", 0, 1, "above SEM_VALUE_MAX; the call failed with EINVAL",
	       NULL, NULL, false);
}

Test(misuse_barrier_sem, sem_init_at_sem_value_max_is_clean, .timeout = 120)
{
	expect_clean("sem-overflow-ok");
}

Test(misuse_barrier_sem, sem_never_initialised_posted_and_waited, .timeout = 120)
{
	/* A global and a heap semaphore: one error each, at the first use. */
	expect("sem-uninit", 2, 0, "which was never initialised", NULL, NULL, false);
}

Test(misuse_barrier_sem, sem_never_initialised_waited_forever_ends_not_hangs, .timeout = 180)
{
	expect("sem-uninit-wait", 1, 0, "waited on semaphore sem, which was never initialised",
	       NULL, NULL, true);
}

Test(misuse_barrier_sem, sem_initialised_posted_and_waited_is_clean, .timeout = 120)
{
	expect_clean("sem-uninit-ok");
}

Test(misuse_barrier_sem, sem_initialised_by_another_process_is_clean, .timeout = 120)
{
	expect_clean("sem-shared-ok");
}
