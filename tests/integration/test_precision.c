/* No false race, no missed race (issue 21): programs written for these tests, built with
 * `lockwatch cc` (hook mode, build/hooks/) or plainly and run with --watch NAME
 * (build/tests/programs/), each run several times: a verdict that changes from run to run
 * is a bug. */
#include <criterion/criterion.h>
#include "lw_test.h"
#include "race_checks.h"

#define HOOKS   "build/hooks/"
#define PLAIN   "build/tests/programs/"
#define TIMEOUT_MS 30000

/* Runs prog (with args and --watch var unless var is NULL) and returns the run. */
static struct lw_result run(const char *prog, const char *var, const char *const args[])
{
	const char *opts[] = { "--watch", var, NULL };
	return lw_run_json_opts(prog, var ? opts : NULL, args, NULL, TIMEOUT_MS);
}

/* prog exits 0 with no finding of kind (NULL: at error level) in each of runs runs. */
static void assert_clean_runs(const char *prog, const char *var, const char *const args[],
			      int runs)
{
	for (int i = 0; i < runs; i++) {
		struct lw_result r = run(prog, var, args);
		cr_assert_eq(r.status, 0, "%s run %d: exit status %d, stderr: %s", prog, i, r.status,
			     r.stderr_text);
		cr_assert_not_null(r.report, "%s run %d: no report", prog, i);
		cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "%s run %d: %s", prog, i,
			     finding_list(r.report));
		cr_assert_eq(lw_count(r.report, "data-race", NULL), 0, "%s run %d: %s", prog, i,
			     finding_list(r.report));
		lw_result_free(&r);
	}
}

/* Two threads take a, then b, and count with both held; the first thread's write was
 * placed after its releases ("holding no lock"), every run with one round. */
Test(precision, nested_locks_are_not_a_race_in_hook_mode, .timeout = 120)
{
	const char *one[] = { "1", NULL }, *many[] = { "1000", NULL };
	assert_clean_runs(HOOKS "nested_locks", NULL, one, 10);
	assert_clean_runs(HOOKS "nested_locks", NULL, many, 5);
}

Test(precision, nested_locks_are_not_a_race_under_watch, .timeout = 60)
{
	const char *many[] = { "1000", NULL };
	assert_clean_runs(PLAIN "nested_locks", "counter", many, 3);
}

/* A thread's first access, inside a critical section of a mutex another thread had taken,
 * was placed after its release: a race with the next holder, in most runs. */
Test(precision, data_handed_over_under_one_lock_is_not_a_race, .timeout = 120)
{
	assert_clean_runs(HOOKS "lock_handoff", NULL, NULL, 20);
}

/* prog (with args, --watch var unless NULL) gives an atomicity violation on var and no data
 * race, every one of runs runs. */
static void assert_violation_runs(const char *prog, const char *var, const char *const args[],
				  const char *name, int runs)
{
	for (int i = 0; i < runs; i++) {
		struct lw_result r = run(prog, var, args);
		cr_assert_eq(r.status, 66, "%s run %d: exit status %d, stderr: %s", prog, i,
			     r.status, r.stderr_text);
		cr_assert_eq(lw_count(r.report, "atomicity-violation", "error"), 1, "%s run %d: %s",
			     prog, i, finding_list(r.report));
		cr_assert_eq(lw_count(r.report, NULL, "error"), 1, "%s run %d: %s", prog, i,
			     finding_list(r.report));
		cr_assert_str_eq(variable(lw_find(r.report, "atomicity-violation", "error")), name);
		lw_result_free(&r);
	}
}

/* The reader holds an outer lock the writer never takes: the check and the act are still
 * two critical sections of m, and the writer's shrink falls between them. */
Test(precision, an_outer_lock_the_writer_never_takes_protects_nothing_hook, .timeout = 120)
{
	const char *none[] = { "no-outer", NULL };
	assert_violation_runs(HOOKS "outer_lock_check", NULL, NULL, "len", 10);
	assert_violation_runs(HOOKS "outer_lock_check", NULL, none, "len", 3);
}

Test(precision, an_outer_lock_the_writer_never_takes_protects_nothing_watch, .timeout = 120)
{
	const char *none[] = { "no-outer", NULL };
	assert_violation_runs(PLAIN "outer_lock_check", "len", NULL, "len", 10);
	assert_violation_runs(PLAIN "outer_lock_check", "len", none, "len", 3);
}

/* Whether some error-level data race of the report is on var. */
static bool race_on(json_t *report, const char *var)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		const char *k = json_string_value(json_object_get(f, "kind"));
		const char *v = variable(f);
		if (k && !strcmp(k, "data-race") && v && !strcmp(v, var))
			return true;
	}
	return false;
}

/* prog (args, --watch var unless NULL) ends with status 66 and a data race on each name of
 * want (NULL-terminated), every one of runs runs. */
static void assert_races_runs(const char *prog, const char *var, const char *const args[],
			      const char *const want[], int runs)
{
	for (int i = 0; i < runs; i++) {
		struct lw_result r = run(prog, var, args);
		cr_assert_eq(r.status, 66, "%s run %d: exit status %d, stderr: %s", prog, i,
			     r.status, r.stderr_text);
		for (int k = 0; want[k]; k++)
			cr_assert(race_on(r.report, want[k]), "%s run %d: no race on %s: %s", prog, i,
				  want[k], finding_list(r.report));
		lw_result_free(&r);
	}
}

/* Two racy variables raced on by the same two sites: two findings. */
Test(precision, every_racy_variable_is_reported, .timeout = 120)
{
	const char *want[] = { "total1", "total2", NULL };
	assert_races_runs(HOOKS "two_races", NULL, NULL, want, 5);
	assert_races_runs(PLAIN "two_races", "total1,total2", NULL, want, 3);
}

/* A C++ file-static (_ZL5score) and a variable of an anonymous namespace
 * (_ZN12_GLOBAL__N_15levelE), watched by their plain names. */
Test(precision, watch_finds_cxx_variables_with_internal_linkage_by_plain_name, .timeout = 60)
{
	const char *want[] = { "score", "level", NULL };
	struct lw_result r = run(PLAIN "cxx_file_static", "score,level", NULL);
	cr_assert(!r.stderr_text || !strstr(r.stderr_text, "no variable"), "%s", r.stderr_text);
	lw_result_free(&r);
	assert_races_runs(PLAIN "cxx_file_static", "score,level", NULL, want, 3);
}

/* Two threads writing two different bytes of one word: no race; writing one byte after
 * another byte of the word: a race on that byte, in hook and in watch mode. */
Test(precision, different_bytes_of_a_word_are_no_race_the_same_byte_is, .timeout = 120)
{
	const char *apart[] = { "apart", NULL }, *same[] = { "same", NULL };
	const char *hook_want[] = { "lanes.b[3]", NULL }, *watch_want[] = { "lanes+3", NULL };
	assert_clean_runs(HOOKS "byte_lanes", NULL, apart, 5);
	assert_clean_runs(PLAIN "byte_lanes", "lanes,halves", apart, 3);
	assert_races_runs(HOOKS "byte_lanes", NULL, same, hook_want, 10);
	assert_races_runs(PLAIN "byte_lanes", "lanes,halves", same, watch_want, 3);
}

/* main's local, handed to a thread as its argument, written by both: a race on it; written
 * by main only after the join: none. */
Test(precision, a_local_handed_to_a_thread_races_in_hook_mode, .timeout = 120)
{
	const char *joined[] = { "joined", NULL };
	for (int i = 0; i < 10; i++) {
		struct lw_result r = run(HOOKS "stack_escape", NULL, NULL);
		cr_assert_eq(r.status, 66, "run %d: exit status %d, stderr: %s", i, r.status,
			     r.stderr_text);
		json_t *f = lw_find(r.report, "data-race", "error");
		cr_assert_not_null(f, "run %d: %s", i, finding_list(r.report));
		cr_assert(some_access_at(f, "main", NULL), "run %d: main's access", i);
		cr_assert(some_access_at(f, "worker", "stack_escape.c"), "run %d: worker's", i);
		lw_result_free(&r);
	}
	assert_clean_runs(HOOKS "stack_escape", NULL, joined, 5);
}

/* An atomic store against a plain read: a race; two atomics: none. */
Test(precision, an_atomic_store_races_with_a_plain_read_not_with_an_atomic_one, .timeout = 120)
{
	const char *atomic[] = { "atomic", NULL }, *want[] = { "ready", NULL };
	assert_races_runs(HOOKS "atomic_plain", NULL, NULL, want, 10);
	assert_clean_runs(HOOKS "atomic_plain", NULL, atomic, 10);
}

/* Two threads race after the shim closed the trace at exit (libexitlate.so runs the race
 * after every destructor): their records reach the trace, and the race is found. */
static void exit_race(const char *prog, const char *var)
{
	char here[4096], lib[4200];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(lib, sizeof lib, "%s/build/tests/programs/libexitlate.so", here);
	const char *args[] = { lib, NULL }, *want[] = { "hits", NULL };
	for (int i = 0; i < 10; i++) {
		struct lw_result r = run(prog, var, args);
		cr_assert(!r.stderr_text || !strstr(r.stderr_text, "dropped"), "run %d: %s", i,
			  r.stderr_text);
		lw_result_free(&r);
	}
	assert_races_runs(prog, var, args, want, 10);
}

Test(precision, a_race_made_while_the_program_exits_is_found_hook, .timeout = 300)
{
	exit_race(HOOKS "exit_running", NULL);
}

Test(precision, a_race_made_while_the_program_exits_is_found_watch, .timeout = 300)
{
	exit_race(PLAIN "exit_running", "hits");
}

/* More than the room left after the close: the report says what is missing, and nothing
 * is reported but the race. */
Test(precision, records_beyond_the_room_after_exit_are_said_to_be_missing, .timeout = 120)
{
	char here[4096], lib[4200];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(lib, sizeof lib, "%s/build/tests/programs/libexitlate.so", here);
	const char *args[] = { lib, "rounds", "100000", NULL };
	struct lw_result r = run(HOOKS "exit_running", NULL, args);
	cr_assert(r.stderr_text && strstr(r.stderr_text, "after the program's exit began"),
		  "%s", r.stderr_text);
	cr_assert(!strstr(r.stderr_text, "dropped"), "%s", r.stderr_text);
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(r.report, "findings"), i, f)
		cr_assert_str_eq(variable(f), "hits", "%s", finding_list(r.report));
	lw_result_free(&r);
}

/* Issue 21: races on the pthread objects themselves.  A mutex initialised after its user
 * started (the user locks it when a socket, whose order lockwatch does not see, says so);
 * a condvar and a barrier destroyed after their user's signal and wait with no join
 * between: data races on "mutex m", "condition variable c" and "barrier b".  Initialised
 * before pthread_create, or destroyed after pthread_join: clean.  A condvar its signaller
 * destroys before unlocking the waiter's mutex: clean (a false race on it in every run
 * before the wake was recorded after the mutex was taken again; Valgrind's
 * pth_destroy_cond). */
Test(precision, races_on_pthread_objects_init_and_destroy, .timeout = 300)
{
	const char *racy_init[] = { "racy-init", NULL }, *ordered[] = { "ordered-init", NULL };
	const char *racy_destroy[] = { "racy-destroy", NULL }, *joined[] = { "join-destroy", NULL };
	const char *want_m[] = { "mutex m", NULL };
	const char *want_cb[] = { "condition variable c", "barrier b", NULL };

	assert_races_runs(PLAIN "pthread_objects", "shared", racy_init, want_m, 10);
	assert_races_runs(HOOKS "pthread_objects", NULL, racy_init, want_m, 10);
	assert_clean_runs(PLAIN "pthread_objects", "shared", ordered, 10);
	assert_clean_runs(HOOKS "pthread_objects", NULL, ordered, 10);
	assert_races_runs(PLAIN "pthread_objects", "shared", racy_destroy, want_cb, 5);
	assert_races_runs(HOOKS "pthread_objects", NULL, racy_destroy, want_cb, 5);
	assert_clean_runs(PLAIN "pthread_objects", "shared", joined, 5);
	assert_clean_runs(HOOKS "pthread_objects", NULL, joined, 5);
	const char *woken[] = { "wake-destroy", NULL };
	assert_clean_runs(PLAIN "pthread_objects", "shared", woken, 5);
	assert_clean_runs(HOOKS "pthread_objects", NULL, woken, 5);
}
