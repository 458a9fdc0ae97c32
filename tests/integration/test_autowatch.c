/* Automatic watching (issue 20): with no option at all, races on the program's own globals,
 * struct members, array elements and C++ statics are found, race-free ones are not reported,
 * every report says what was watched, and a machine that refuses perf events gets one line
 * saying so and a run that goes on. */
#include <criterion/criterion.h>
#include "lw_test.h"

#define TIMEOUT_MS 60000

static struct lw_result run_case(const char *prog, const char *mode)
{
	const char *args[] = { mode, NULL };   /* mode NULL: no argument */
	struct lw_result r = lw_run_json(prog, args, NULL, TIMEOUT_MS);
	cr_assert_not_null(r.report, "%s %s: no report (status %d), stderr: %s", prog, mode,
			   r.status, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "done"), "%s %s: output %s", prog, mode,
		  r.stdout_text);
	return r;
}

/* The report's coverage object says automatic watching watched something. */
static void assert_watched(json_t *report)
{
	json_t *c = json_object_get(report, "coverage");
	cr_assert_not_null(c, "no coverage in the report");
	cr_assert_str_eq(json_string_value(json_object_get(c, "watching")), "watched");
	cr_assert_gt(json_integer_value(json_object_get(c, "granules_watched")), 0);
	const char *text = json_string_value(json_object_get(c, "text"));
	cr_assert(text && !strncmp(text, "watched ", 8), "coverage text: %s", text);
}

/* A data race on var and nothing else at error level. */
static void expect_race(const char *prog, const char *mode, const char *var)
{
	struct lw_result r = run_case(prog, mode);
	cr_assert_eq(r.status, 66, "%s: status %d, stderr: %s", mode, r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "data-race", "error");
	cr_assert_not_null(f, "%s: no data race", mode);
	const char *name = json_string_value(json_object_get(json_object_get(f, "variable"), "name"));
	cr_assert(name && !strcmp(name, var), "%s: the race is on %s, not %s", mode, name, var);
	cr_assert_eq(lw_count(r.report, NULL, "error"), lw_count(r.report, "data-race", "error"),
		     "%s: other error-level findings", mode);
	assert_watched(r.report);
	lw_result_free(&r);
}

static void expect_clean(const char *prog, const char *mode)
{
	struct lw_result r = run_case(prog, mode);
	cr_assert_eq(r.status, 0, "%s: status %d, stderr: %s", mode, r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "%s: error-level findings", mode);
	assert_watched(r.report);
	lw_result_free(&r);
}

#define SHARED "build/tests/programs/auto_shared"
#define CXX    "build/tests/programs/auto_cxx_static"

Test(autowatch, a_racy_global_is_found_with_no_option, .timeout = 120)
{
	expect_race(SHARED, "global-racy", "hits");
}

Test(autowatch, a_locked_global_is_clean, .timeout = 120)
{
	expect_clean(SHARED, "global-locked");
}

Test(autowatch, a_racy_struct_member_is_found, .timeout = 120)
{
	expect_race(SHARED, "member-racy", "pair");
}

/* Two members in one 8-byte granule, each under its own lock: the watchpoint covers both,
 * but only the bytes each instruction touched are recorded. */
Test(autowatch, two_members_of_one_granule_under_two_locks_are_clean, .timeout = 120)
{
	expect_clean(SHARED, "member-split");
}

Test(autowatch, a_racy_array_element_is_found, .timeout = 120)
{
	expect_race(SHARED, "array-racy", "table[5]");
}

Test(autowatch, neighbouring_array_elements_are_clean, .timeout = 120)
{
	expect_clean(SHARED, "array-apart");
}

Test(autowatch, a_cxx_static_member_is_found_by_its_cxx_name, .timeout = 120)
{
	expect_race(CXX, "racy", "Account::balance");
}

Test(autowatch, a_locked_cxx_static_member_is_clean, .timeout = 120)
{
	expect_clean(CXX, "locked");
}

/* watch=off: nothing watched, no race, no coverage line. */
Test(autowatch, watch_off_watches_nothing, .timeout = 120)
{
	const char *opts[] = { "--watch", "off", NULL };
	const char *args[] = { "global-racy", NULL };
	struct lw_result r = lw_run_json_opts(SHARED, opts, args, NULL, TIMEOUT_MS);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	cr_assert_null(json_object_get(r.report, "coverage"));
	lw_result_free(&r);
}

/* perf_event_open refused (EACCES, as perf_event_paranoid or a container gives it): one line
 * with the fix, and the program's own exit status. */
Test(autowatch, refused_perf_events_say_so_and_the_run_goes_on, .timeout = 120)
{
	char here[4096], target[4200];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(target, sizeof target, "%s/" SHARED, here);
	const char *args[] = { target, "global-racy", NULL };
	struct lw_result r = lw_run_json("build/tests/programs/no_perf", args, NULL, TIMEOUT_MS);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "done"));
	json_t *c = json_object_get(r.report, "coverage");
	cr_assert_not_null(c);
	cr_assert_str_eq(json_string_value(json_object_get(c, "watching")), "refused");
	const char *text = json_string_value(json_object_get(c, "text"));
	cr_assert(text && strstr(text, "perf_event_paranoid") && !strchr(text, '\n'),
		  "coverage text: %s", text);
	lw_result_free(&r);
}

/* A table a pthread_once routine fills, read after pthread_once returns: ordered by
 * pthread_once, which the shim records in the ordered trace (wrap_once.c). */
Test(autowatch, a_table_filled_by_pthread_once_is_clean, .timeout = 120)
{
	expect_clean("build/tests/programs/auto_once", NULL);
}

#define FLAG "build/tests/programs/auto_atomic_flag"

/* x86 compiles a release store and an acquire load to plain moves: the flag's DWARF type
 * (_Atomic) makes its accesses atomic, so the data it publishes is ordered (two false data
 * races, on the flag and the data, in every run before).  Ten runs. */
Test(autowatch, a_release_acquire_flag_orders_the_data_it_publishes, .timeout = 300)
{
	for (int i = 0; i < 10; i++)
		expect_clean(FLAG, "ordered");
}

/* Found; an error when the flag was watched for the whole run, else a warning that names
 * the flag (it may have ordered the accesses while it was not watched). */
Test(autowatch, data_read_without_waiting_for_the_flag_is_a_race, .timeout = 120)
{
	struct lw_result r = run_case(FLAG, "unordered");
	json_t *f = lw_find(r.report, "data-race", NULL);
	cr_assert_not_null(f, "no data race, stderr: %s", r.stderr_text);
	const char *name = json_string_value(json_object_get(json_object_get(f, "variable"), "name"));
	cr_assert(name && !strcmp(name, "data"), "the race is on %s, not data", name);
	const char *sev = json_string_value(json_object_get(f, "severity"));
	const char *msg = json_string_value(json_object_get(f, "message"));
	if (sev && !strcmp(sev, "warning"))
		cr_assert(msg && strstr(msg, "atomic ready was not watched throughout"), "%s", msg);
	assert_watched(r.report);
	lw_result_free(&r);
}

#define BUILTINS "build/tests/programs/atomic_plain"

/* `int ready` stored with __atomic_store_n(release) and loaded with __atomic_load_n(acquire):
 * plain moves on x86, and a plain DWARF type.  With no option it is never an error (a
 * warning that says why: each thread only stored or only loaded it); a read-then-write by
 * one thread (race_counter, the bank samples) stays an error (test_samples).  Ten runs. */
Test(autowatch, atomic_builtins_on_a_plain_int_are_never_an_error, .timeout = 300)
{
	const char *args[] = { "atomic", NULL };
	for (int i = 0; i < 10; i++) {
		struct lw_result r = lw_run_json(BUILTINS, args, NULL, TIMEOUT_MS);
		cr_assert_eq(r.status, 0, "run %d: status %d, stderr: %s", i, r.status,
			     r.stderr_text);
		cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
		json_t *f = lw_find(r.report, "data-race", "warning");
		if (f) {
			const char *msg = json_string_value(json_object_get(f, "message"));
			cr_assert(msg && strstr(msg, "only stored it or only loaded it"), "%s", msg);
		}
		lw_result_free(&r);
	}
}

#define TURNS "build/tests/programs/pipe_turns"

/* Two threads taking turns on a global, ordered only by two pipes or two eventfds: a
 * write to the channel releases, a read from it acquires (shim/access/wrap_fd.c).  Two
 * false data races in every run before.  Ten runs of each. */
Test(autowatch, turns_taken_through_pipes_are_clean, .timeout = 300)
{
	for (int i = 0; i < 10; i++)
		expect_clean(TURNS, "pipe");
}

Test(autowatch, turns_taken_through_eventfds_are_clean, .timeout = 300)
{
	for (int i = 0; i < 10; i++)
		expect_clean(TURNS, "eventfd");
}

/* The same pipes, but each thread updates the global before it waits for its turn. */
Test(autowatch, an_update_before_the_turn_is_still_a_race, .timeout = 120)
{
	expect_race(TURNS, "racy", "turns");
}
