/* The collider end to end (issue 20): with no option at all, two threads racing on a
 * counter in a heap block, a struct member, an array element or main's stack are caught in
 * the act; the same counter under a mutex never is; a program's own SIGTRAP handler and
 * int3 keep working; watch=off and collider_rate=0 turn it off. */
#include <criterion/criterion.h>
#include <stdint.h>
#include "lw_test.h"

#define TIMEOUT_MS 60000
#define PROG "build/tests/programs/collider_race"

static struct lw_result run_mode(const char *mode, const char *const opts[])
{
	const char *args[] = { mode, NULL };
	return lw_run_json_opts(PROG, opts, args, NULL, TIMEOUT_MS);
}

/* Whether an access of the finding has its innermost frame in fn of file (basename). */
static bool access_in(json_t *finding, const char *fn, const char *file)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(finding, "accesses"), i, a) {
		json_t *fr = json_array_get(json_object_get(a, "stack"), 0);
		const char *f = json_string_value(json_object_get(fr, "function"));
		const char *p = json_string_value(json_object_get(fr, "file"));
		if (!f || !p || strcmp(f, fn))
			continue;
		const char *base = strrchr(p, '/');
		if (!strcmp(base ? base + 1 : p, file))
			return true;
	}
	return false;
}

/* The data race caught in the act on the counter, with both sides in racy(). */
static json_t *caught_race(json_t *report)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		const char *k = json_string_value(json_object_get(f, "kind"));
		if (k && !strcmp(k, "data-race") &&
		    json_is_true(json_object_get(f, "caught_in_the_act")))
			return f;
	}
	return NULL;
}

static void assert_caught(const char *mode)
{
	/* The collider samples: a run may miss (the other thread was not scheduled during the
	 * delay, on a loaded machine); the rate is measured by the ten-run test.  Up to five
	 * runs for the first catch, whose details are checked. */
	struct lw_result r = run_mode(mode, NULL);
	for (int i = 1; i < 5 && !caught_race(r.report); i++) {
		lw_result_free(&r);
		r = run_mode(mode, NULL);
	}
	/* The program is built at -O0: both sides are plain moves, which is also how x86
	 * compiles a relaxed, acquire or release atomic, and the heap and stack have no type:
	 * a warning that says so, and the exit status stays 0. */
	cr_assert_eq(r.status, 0, "%s: exit status %d, stderr: %s", mode, r.status,
		     r.stderr_text);
	json_t *f = caught_race(r.report);
	cr_assert_not_null(f, "%s: no race caught in the act", mode);
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "warning");
	cr_assert(access_in(f, "racy", "collider_race.c"), "%s: not in racy()", mode);
	const char *msg = json_string_value(json_object_get(f, "message"));
	cr_assert(msg && strstr(msg, "was in flight"), "%s: message %s", mode, msg);
	json_t *acc = json_object_get(f, "accesses");
	cr_assert_eq(json_array_size(acc), 2);
	cr_assert_neq(json_integer_value(json_object_get(json_array_get(acc, 0), "thread")),
		      json_integer_value(json_object_get(json_array_get(acc, 1), "thread")),
		      "two threads");
	json_t *c = json_object_get(r.report, "collider");
	cr_assert_geq(json_integer_value(json_object_get(c, "caught")), 1, "%s: counts", mode);
	lw_result_free(&r);
}

/* Ten runs; the catch must come in at least nine (measured: ten of ten). */
Test(collider, a_heap_counter_race_is_caught_with_no_option, .timeout = 600)
{
	int found = 0;
	for (int i = 0; i < 10; i++) {
		struct lw_result r = run_mode("heap", NULL);
		found += r.status == 0 && caught_race(r.report) != NULL;
		lw_result_free(&r);
	}
	cr_assert_geq(found, 9, "caught in %d of 10 runs", found);
	assert_caught("heap");
}

Test(collider, a_struct_member_on_the_heap, .timeout = 120)
{
	assert_caught("member");
}

Test(collider, an_array_element_on_the_heap, .timeout = 120)
{
	assert_caught("element");
}

Test(collider, a_variable_of_mains_stack_handed_to_two_threads, .timeout = 120)
{
	assert_caught("stack");
}

/* A T2 that needs the lock T1 holds during its delay cannot touch the counter: never a
 * report, in twenty runs. */
Test(collider, a_locked_heap_counter_is_never_reported, .timeout = 900)
{
	uint64_t watched = 0;
	for (int i = 0; i < 20; i++) {
		struct lw_result r = run_mode("locked", NULL);
		cr_assert_eq(r.status, 0, "run %d: exit status %d, stderr: %s", i, r.status,
			     r.stderr_text);
		cr_assert_eq(lw_count(r.report, NULL, NULL), 0, "run %d: a finding", i);
		watched += (uint64_t)json_integer_value(json_object_get(
			json_object_get(r.report, "collider"), "watched"));
		lw_result_free(&r);
	}
	cr_assert_gt(watched, 0, "the collider never watched the counter: the test tests nothing");
}

Test(collider, the_programs_own_sigtrap_handler_and_int3_still_work, .timeout = 120)
{
	for (int i = 0; i < 3; i++) {
		struct lw_result r = lw_run_json_opts("build/tests/programs/collider_sigtrap", NULL,
						      NULL, NULL, TIMEOUT_MS);
		cr_assert(r.stdout_text && strstr(r.stdout_text, "traps: 400 of 400"),
			  "stdout: %s, stderr: %s", r.stdout_text, r.stderr_text);
		cr_assert_neq(r.status, -1, "timed out");
		lw_result_free(&r);
	}
}

Test(collider, watch_off_and_rate_zero_turn_it_off, .timeout = 120)
{
	const char *off[] = { "--watch", "off", NULL };
	struct lw_result r = run_mode("heap", off);
	cr_assert_null(caught_race(r.report), "watch=off still samples");
	cr_assert_null(json_object_get(r.report, "collider"));
	lw_result_free(&r);
	const char *env[] = { "LOCKWATCH_OPTIONS=collider_rate=0", NULL };
	const char *args[] = { "heap", NULL };
	r = lw_run_json_opts(PROG, NULL, args, env, TIMEOUT_MS);
	cr_assert_null(caught_race(r.report), "collider_rate=0 still samples");
	lw_result_free(&r);
}

/* C11 atomics with relaxed, acquire and release order are plain moves on x86: a catch
 * between them is at most a warning that says so, never an error (ten runs). */
Test(collider, atomics_compiled_to_plain_moves_are_never_an_error, .timeout = 600)
{
	for (int i = 0; i < 10; i++) {
		struct lw_result r = lw_run_json_opts("build/tests/programs/collider_atomic_flag",
						      NULL, NULL, NULL, TIMEOUT_MS);
		cr_assert_eq(r.status, 0, "run %d: exit status %d, stderr: %s", i, r.status,
			     r.stderr_text);
		json_t *f = caught_race(r.report);
		if (f) {
			cr_assert_str_eq(json_string_value(json_object_get(f, "severity")),
					 "warning");
			const char *msg = json_string_value(json_object_get(f, "message"));
			cr_assert(msg && strstr(msg, "both plain moves"), "message %s", msg);
		}
		lw_result_free(&r);
	}
}

/* A spin lock of the program's own on a plain int (xchg to take it, a release store, a plain
 * mov, to give it back; relaxed loads while waiting), guarding two plain globals: the lock's
 * moves are atomic loads and stores, which the collider must not catch as a race, and its
 * release store orders the guarded globals for automatic watching.  No error in five runs
 * (with the defaults, each run used to report the lock, or the globals, as racing). */
Test(collider, spin_lock_on_a_plain_int_is_no_race, .timeout = 600)
{
	for (int i = 0; i < 5; i++) {
		struct lw_result r = lw_run_json_opts("build/tests/programs/spin_global", NULL,
						      NULL, NULL, TIMEOUT_MS);
		cr_assert_eq(r.status, 0, "run %d: exit status %d, stderr: %s", i, r.status,
			     r.stderr_text);
		cr_assert_str_eq(r.stdout_text, "600000 300000\n");
		cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "run %d: an error-level finding "
			     "on a correct spin lock; report in %s", i, r.dir);
		lw_result_free(&r);
	}
}

/* The cost budget: over a second of two threads racing on a heap counter, a budget of 1% of
 * the program's time leaves far fewer samples than no budget (collider_budget=0), and still
 * some. */
static long samples_with(const char *budget)
{
	char opt[64];
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=collider_budget=%s", budget);
	const char *env[] = { opt, NULL };
	const char *args[] = { "long", NULL };
	struct lw_result r = lw_run_json_opts(PROG, NULL, args, env, TIMEOUT_MS);
	json_t *c = json_object_get(r.report, "collider");
	cr_assert_not_null(c, "budget %s: no collider counts, stderr: %s", budget, r.stderr_text);
	long n = (long)json_integer_value(json_object_get(c, "sampled"));
	lw_result_free(&r);
	return n;
}

Test(collider, the_cost_budget_samples_less, .timeout = 300)
{
	long unlimited = samples_with("0"), one = samples_with("1");
	cr_assert_gt(one, 0, "no sample at all with a budget of 1%%");
	cr_assert_lt(one * 3, unlimited, "1%%: %ld samples, no budget: %ld", one, unlimited);
}
