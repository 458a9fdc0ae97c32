/* Access sources end to end: the race samples under `lockwatch run --watch` (hardware
 * watchpoints, no source change) and with <lockwatch.h> annotations, judged on the JSON
 * report; and how --watch fails: unknown names, too many, a refused address, a program with
 * its own SIGTRAP handler, a fork()ed child. */
#include <criterion/criterion.h>
#include "lw_test.h"
#include "race_checks.h"

#define TIMEOUT_MS 20000

/* Runs a sample with --watch var (or without, for var NULL). */
static struct lw_result run_watch(const char *prog, const char *var)
{
	const char *opts[] = { "--watch", var, NULL };
	return lw_run_json_opts(prog, var ? opts : NULL, NULL, NULL, TIMEOUT_MS);
}

/* The same for a bank sample, until both threads passed the check (lw_run_json_until). */
static struct lw_result run_watch_withdraw(const char *prog, const char *var)
{
	const char *opts[] = { "--watch", var, NULL };
	return lw_run_json_until(prog, var ? opts : NULL, NULL, NULL, TIMEOUT_MS, "balance: -200");
}

/* The access of a finding in role (check, act, interfering-write), or NULL. */
static json_t *access_in_role(json_t *finding, const char *role)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(finding, "accesses"), i, a) {
		const char *r = json_string_value(json_object_get(a, "role"));
		if (r && !strcmp(r, role))
			return a;
	}
	return NULL;
}

/* Whether the innermost frame of an access's stack is in fn, in file (basename). */
static bool access_at(json_t *access, const char *fn, const char *file)
{
	json_t *fr = json_array_get(json_object_get(access, "stack"), 0);
	const char *f = json_string_value(json_object_get(fr, "function"));
	const char *p = json_string_value(json_object_get(fr, "file"));
	if (!f || !p || strcmp(f, fn))
		return false;
	const char *base = strrchr(p, '/');
	return !strcmp(base ? base + 1 : p, file);
}

Test(races, bank_withdraw_is_a_data_race_and_an_atomicity_violation, .timeout = 30)
{
	struct lw_result r = run_watch_withdraw("build/samples/bank_withdraw", "balance");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	int races = lw_count(r.report, "data-race", "error");
	int atom = lw_count(r.report, "atomicity-violation", "error");
	cr_assert_geq(races, 1);
	cr_assert_geq(atom, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), races + atom, "other error-level findings");
	assert_all_on(r.report, "balance");
	json_t *f = lw_find(r.report, "atomicity-violation", "error");
	json_t *check = access_in_role(f, "check"), *act = access_in_role(f, "act");
	json_t *other = access_in_role(f, "interfering-write");
	cr_assert(check && act && other, "check, act and interfering write");
	cr_assert(access_at(check, "withdraw", "bank_withdraw.c"));
	cr_assert(access_at(act, "withdraw", "bank_withdraw.c"));
	cr_assert_str_eq(json_string_value(json_object_get(check, "type")), "read");
	cr_assert_str_eq(json_string_value(json_object_get(other, "type")), "write");
	cr_assert_neq(json_integer_value(json_object_get(check, "thread")),
		      json_integer_value(json_object_get(other, "thread")));
	lw_result_free(&r);
}

Test(races, bank_withdraw_split_is_an_atomicity_violation_not_a_race, .timeout = 30)
{
	struct lw_result r = run_watch_withdraw("build/samples/bank_withdraw_split", "balance");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(lw_count(r.report, "data-race", NULL), 0, "no data race: every access is locked");
	int atom = lw_count(r.report, "atomicity-violation", "error");
	cr_assert_geq(atom, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), atom);
	assert_all_on(r.report, "balance");
	json_t *f = lw_find(r.report, "atomicity-violation", "error");
	json_t *check = access_in_role(f, "check"), *act = access_in_role(f, "act");
	cr_assert(check && act);
	/* Both hold the lock, in two different critical sections. */
	cr_assert_eq(json_array_size(json_object_get(check, "locks_held")), 1);
	cr_assert_eq(json_array_size(json_object_get(act, "locks_held")), 1);
	lw_result_free(&r);
}

Test(races, bank_withdraw_fixed_is_clean, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/bank_withdraw_fixed", "balance");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	lw_result_free(&r);
}

Test(races, race_counter_is_a_data_race, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/race_counter", "counter");
	assert_races_only_on(&r, "counter");
	lw_result_free(&r);
}

Test(races, locked_counter_is_clean, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/locked_counter", "counter");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	lw_result_free(&r);
}

/* A mutex one thread took 1000 times, touching nothing under it, is left out of the
 * full-level trace until a second thread takes it; that thread then writes the first one's
 * last release, which orders the first thread's write of `shared` before the second's read
 * (a socket pair, whose order lockwatch does not see, makes the second wait).  Without that release the
 * two accesses would be a data race. */
Test(races, a_lock_handed_over_orders_what_its_first_user_did_before_releasing, .timeout = 30)
{
	struct lw_result r = run_watch("build/tests/programs/lock_handover", "shared");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_str_eq(r.stdout_text, "shared: 1\n");
	cr_assert_not_null(r.report);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	int acquires = lw_count_records(&r, "acquire"), releases = lw_count_records(&r, "release");
	cr_assert_lt(acquires, 10, "%d acquisitions written", acquires);
	cr_assert_lt(releases, 10, "%d releases written", releases);
	cr_assert_geq(releases, 2, "the first user's release and the second's");
	lw_result_free(&r);
}

/* The same, but the first thread writes `shared` after its last release (and after posting
 * the semaphore the second waits for): that write is not ordered before the read. */
Test(races, a_write_after_a_handed_over_locks_last_release_is_a_race, .timeout = 30)
{
	const char *opts[] = { "--watch", "shared", NULL }, *args[] = { "late", NULL };
	struct lw_result r = lw_run_json_opts("build/tests/programs/lock_handover", opts, args,
					      NULL, TIMEOUT_MS);
	assert_races_only_on(&r, "shared");
	lw_result_free(&r);
}

Test(races, atomic_counter_is_clean, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/atomic_counter", "counter");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	lw_result_free(&r);
}

Test(races, watch_through_lockwatch_options, .timeout = 30)
{
	const char *env[] = { "LOCKWATCH_OPTIONS=watch=counter", NULL };
	struct lw_result r = lw_run_json("build/samples/race_counter", NULL, env, TIMEOUT_MS);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_geq(lw_count(r.report, "data-race", "error"), 1);
	lw_result_free(&r);
}

Test(races, annotated_bank_withdraw_needs_no_watch, .timeout = 30)
{
	struct lw_result r = run_watch_withdraw("build/samples/bank_withdraw_annotated", NULL);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	int races = lw_count(r.report, "data-race", "error");
	int atom = lw_count(r.report, "atomicity-violation", "error");
	cr_assert_geq(races, 1);
	cr_assert_geq(atom, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), races + atom);
	assert_all_on(r.report, "balance");
	json_t *f = lw_find(r.report, "atomicity-violation", "error");
	cr_assert(access_at(access_in_role(f, "check"), "withdraw", "bank_withdraw_annotated.c"));
	lw_result_free(&r);
}

Test(races, annotated_race_counter_needs_no_watch, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/race_counter_annotated", NULL);
	assert_races_only_on(&r, "counter");
	lw_result_free(&r);
}

Test(races, annotated_program_runs_without_lockwatch, .timeout = 30)
{
	char *d = lw_tmpdir(), out[256];
	snprintf(out, sizeof out, "%s/out", d);
	const char *argv[] = { "build/samples/race_counter_annotated", NULL };
	int st = lw_spawn(argv, NULL, out, NULL, TIMEOUT_MS);
	char *text = lw_slurp(out);
	cr_assert_eq(st, 0);
	cr_assert(text && strstr(text, "counter: "), "output: %s", text ? text : "(none)");
	free(text);
	lw_rmtree(d);
	free(d);
}

Test(races, unknown_name_is_one_message_and_the_program_runs, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/race_counter", "no_such_variable");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert(r.stderr_text && strstr(r.stderr_text, "lockwatch: watch: no variable "
				     "'no_such_variable'"), "stderr: %s", r.stderr_text);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0);
	lw_result_free(&r);
}

Test(races, a_fifth_variable_is_refused_the_first_four_work, .timeout = 30)
{
	/* Four of them are the C library's, never touched by this program. */
	struct lw_result r = run_watch("build/samples/race_counter",
				       "counter,optind,opterr,optopt,daylight");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stderr_text && strstr(r.stderr_text, "lockwatch: watch: too many variables") &&
		  strstr(r.stderr_text, "'daylight'"), "stderr: %s", r.stderr_text);
	cr_assert_geq(lw_count(r.report, "data-race", "error"), 1);
	lw_result_free(&r);
}

Test(races, a_refused_address_is_one_message_and_the_program_runs, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/race_counter", "0xffffffff81000000:8");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stderr_text && strstr(r.stderr_text, "lockwatch: watch: cannot watch "
				     "'0xffffffff81000000:8'"), "stderr: %s", r.stderr_text);
	lw_result_free(&r);
}

Test(races, a_bad_address_is_one_message, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/race_counter", "0xnothex");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stderr_text && strstr(r.stderr_text, "lockwatch: watch: bad address"),
		  "stderr: %s", r.stderr_text);
	lw_result_free(&r);
}

Test(races, watch_with_quotes_is_a_usage_error, .timeout = 30)
{
	struct lw_result r = run_watch("build/samples/race_counter", "it's");
	cr_assert_eq(r.status, 2, "exit status %d, stderr: %s", r.status, r.stderr_text);
	lw_result_free(&r);
}

Test(races, the_programs_own_sigtrap_handlers_still_run, .timeout = 30)
{
	struct lw_result r = run_watch("build/tests/programs/watch_sigtrap", "watched");
	cr_assert_eq(r.status, 0, "exit status %d (1: a handler missed a signal), stderr: %s",
		     r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	lw_result_free(&r);
}

Test(races, a_forked_child_is_watched_too, .timeout = 30)
{
	struct lw_result r = run_watch("build/tests/programs/watch_fork", "counter");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_geq(lw_count(r.report, "data-race", "error"), 1);
	assert_all_on(r.report, "counter");
	lw_result_free(&r);
}
