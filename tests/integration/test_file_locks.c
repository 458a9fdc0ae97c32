/* File locks as the protocol of a check-then-act on files (shim/access/wrap_flock.c, the
 * file-lock rule of analyzer/detect/detect_path_races.c): two processes check and create a
 * file, in windows the shim cannot order, under a common fcntl, OFD, lockf or flock lock
 * (a warning that names the lock file), or without one (an error). */
#include <criterion/criterion.h>
#include <limits.h>

#include "lw_test.h"

#define PROG "build/tests/programs/flock_check_create"

struct verdict {
	int errors, warnings;
	char reason[32];
	char reason_text[PATH_MAX + 256];
	char dir[PATH_MAX];
};

/* Runs flock_check_create in mode under lockwatch; its atomicity findings. */
static struct verdict run_mode(const char *mode)
{
	struct verdict v = { 0 };
	char *dir = lw_tmpdir();
	snprintf(v.dir, sizeof(v.dir), "%s", dir);
	const char *args[] = { mode, dir, NULL };
	struct lw_result r = lw_run_json(PROG, args, NULL, 30000);

	cr_assert_not_null(r.report, "%s: no report: %s", mode, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "done"), "%s: %s", mode,
		  r.stderr_text);
	v.errors = lw_count(r.report, "atomicity-violation", "error");
	v.warnings = lw_count(r.report, "atomicity-violation", "warning");
	cr_assert_eq(lw_count(r.report, NULL, NULL), v.errors + v.warnings, "%s: %s", mode,
		     r.stderr_text);
	cr_assert_eq(r.status, v.errors ? 66 : 0, "%s: status %d", mode, r.status);
	json_t *w = lw_find(r.report, "atomicity-violation", "warning");
	if (w) {
		const char *reason = json_string_value(json_object_get(w, "reason"));
		const char *text = json_string_value(json_object_get(w, "reason_text"));
		snprintf(v.reason, sizeof(v.reason), "%s", reason ? reason : "");
		snprintf(v.reason_text, sizeof(v.reason_text), "%s", text ? text : "");
	}
	lw_result_free(&r);
	lw_rmtree(dir);
	free(dir);
	return v;
}

/* The lock file's path as the report names it: the directory without symbolic links. */
static void expect_protected(const char *mode)
{
	struct verdict v = run_mode(mode);
	char want[PATH_MAX + 8];

	cr_expect_eq(v.errors, 0, "%s: %d errors", mode, v.errors);
	cr_expect_eq(v.warnings, 1, "%s: %d warnings", mode, v.warnings);
	cr_expect_str_eq(v.reason, "file-lock", "%s", mode);
	snprintf(want, sizeof(want), "%s/lock,", v.dir);
	cr_expect(strstr(v.reason_text, want), "%s: reason %s, not naming %s", mode,
		  v.reason_text, want);
}

static void expect_error(const char *mode)
{
	struct verdict v = run_mode(mode);

	cr_expect_eq(v.errors, 1, "%s: %d errors", mode, v.errors);
	cr_expect_eq(v.warnings, 0, "%s: %d warnings", mode, v.warnings);
}

Test(file_locks, fcntl_lock_serialises_check_and_create, .timeout = 60)
{
	expect_protected("fcntl");
}

Test(file_locks, ofd_lock_serialises_check_and_create, .timeout = 60)
{
	expect_protected("ofd");
}

Test(file_locks, lockf_serialises_check_and_create, .timeout = 60)
{
	expect_protected("lockf");
}

Test(file_locks, flock_serialises_check_and_create, .timeout = 60)
{
	expect_protected("flock");
}

Test(file_locks, no_lock_is_an_error, .timeout = 60)
{
	expect_error("none");
}

Test(file_locks, locks_on_different_files_are_an_error, .timeout = 60)
{
	expect_error("other");
}

Test(file_locks, create_after_the_unlock_is_an_error, .timeout = 60)
{
	expect_error("released");
}

Test(file_locks, create_after_a_close_dropped_the_lock_is_an_error, .timeout = 60)
{
	expect_error("closed");
}

/* A process that takes the same lock again and again (an SQLite transaction each) names the
 * file once: the trace does not grow with the locks taken. */
Test(file_locks, a_file_is_named_once_however_often_it_is_locked, .timeout = 60)
{
	char *dir = lw_tmpdir();
	const char *args[] = { "repeat", dir, NULL };
	struct lw_result r = lw_run_json(PROG, args, NULL, 30000);

	cr_assert_not_null(r.report, "no report: %s", r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "done"), "%s", r.stderr_text);
	cr_expect_eq(lw_count(r.report, "atomicity-violation", "error"), 0);
	cr_expect_eq(lw_count(r.report, "atomicity-violation", "warning"), 1);
	cr_expect_eq(lw_count_in_dump(&r, " op lock "), 2);
	lw_result_free(&r);
	lw_rmtree(dir);
	free(dir);
}

/* fcntl, lockf, flock and close return what they return without the shim, with the same
 * errno, for the lock commands and the ones passed straight through. */
Test(file_locks, calls_keep_their_results_and_errno, .timeout = 60)
{
	char *dir = lw_tmpdir(), native[PATH_MAX], shimmed[PATH_MAX];
	snprintf(native, sizeof(native), "%s/native.out", dir);
	snprintf(shimmed, sizeof(shimmed), "%s/shimmed.out", dir);
	const char *argv[] = { PROG, "calls", dir, NULL };
	const char *env[] = { "LD_PRELOAD=" LW_SHIM, NULL };

	cr_assert_eq(lw_spawn(argv, NULL, native, NULL, 20000), 0);
	cr_assert_eq(lw_spawn(argv, env, shimmed, NULL, 20000), 0);
	char *a = lw_slurp(native), *b = lw_slurp(shimmed);
	cr_assert(a && strstr(a, "calls: done"), "%s", a ? a : "(none)");
	cr_assert_str_eq(b ? b : "", a);
	free(a);
	free(b);
	lw_rmtree(dir);
	free(dir);
}
