/* Issue 18: locks and threads that are not pthread calls.  C11 <threads.h>, GLib's GMutex,
 * GRecMutex, GRWLock, GCond and GThread, and a program's own futex lock taught by
 * ThreadSanitizer's __tsan_mutex_* annotations: their cycles, deadlocks and clean runs come
 * out as a pthread program's do. */
#include <criterion/criterion.h>
#include "lw_test.h"

/* Runs a test program (under prefix, "build/tests/programs" by default) under lockwatch;
 * checks its exit status and that it took less than 10 s. */
static struct lw_result run_in(const char *dir, const char *name, const char *arg, int want)
{
	char prog[160];
	snprintf(prog, sizeof prog, "%s/%s", dir, name);
	const char *args[] = { arg, NULL };
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct lw_result r = lw_run_json(prog, args, NULL, 20000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_eq(r.status, want, "%s %s: exit %d, stderr: %s", name, arg ? arg : "",
		     r.status, r.stderr_text ? r.stderr_text : "");
	cr_assert_not_null(r.report, "%s: no JSON report", name);
	cr_assert_lt(b.tv_sec - a.tv_sec, 10, "%s took %ld s", name, (long)(b.tv_sec - a.tv_sec));
	return r;
}

static struct lw_result run(const char *name, const char *arg, int want)
{
	return run_in("build/tests/programs", name, arg, want);
}

/* An error-level lock-order cycle between lock_a and lock_b, and no other error. */
static void expect_cycle(const char *dir, const char *name)
{
	struct lw_result r = run_in(dir, name, NULL, 66);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f, "%s: no error-level lock-order-cycle: %s", name, r.stderr_text);
	cr_assert(lw_has_lock(f, "lock_a") && lw_has_lock(f, "lock_b"), "%s: locks", name);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 1, "%s: other errors", name);
	lw_result_free(&r);
}

/* A deadlock of `threads` threads, ended by the shim, naming lock and where it waits. */
static void expect_deadlock(const char *name, const char *arg, size_t threads,
			    const char *lock, const char *where)
{
	struct lw_result r = run(name, arg, 66);
	json_t *f = lw_find(r.report, "deadlock", "error");
	cr_assert_not_null(f, "%s %s: no deadlock: %s", name, arg ? arg : "", r.stderr_text);
	cr_assert_eq(json_array_size(json_object_get(f, "threads")), threads);
	char *text = json_dumps(f, 0);
	cr_assert(strstr(text, lock) && strstr(text, where), "%s: %s", name, text);
	free(text);
	cr_assert(r.stderr_text && strstr(r.stderr_text, "lockwatch: deadlock") != NULL,
		  "%s: the shim did not end it: %s", name, r.stderr_text);
	lw_result_free(&r);
}

/* No finding at all, the program's output as without lockwatch, and its `locks` locks and
 * condition variables seen. */
static void expect_clean(const char *name, int locks)
{
	char prog[128], out[160];
	struct lw_result r = run(name, NULL, 0);
	cr_assert_eq(json_array_size(json_object_get(r.report, "findings")), 0,
		     "%s: findings: %s", name, r.stderr_text);
	cr_assert(!strstr(r.stderr_text, "dropped"), "%s: %s", name, r.stderr_text);
	cr_assert_eq(lw_count_in_dump(&r, "lock-init"), locks, "%s: locks seen", name);
	snprintf(prog, sizeof prog, "build/tests/programs/%s", name);
	snprintf(out, sizeof out, "%s/native", r.dir);
	const char *argv[] = { prog, NULL };
	cr_assert_eq(lw_spawn(argv, NULL, out, NULL, 20000), 0);
	char *native = lw_slurp(out);
	cr_assert(native && r.stdout_text && !strcmp(native, r.stdout_text),
		  "%s: output under lockwatch\n%s\nnative\n%s", name, r.stdout_text, native);
	free(native);
	lw_result_free(&r);
}

Test(c11, an_inversion_of_two_mtx_is_a_cycle, .timeout = 30)
{
	expect_cycle("build/tests/programs", "c11_inversion");
}

Test(c11, a_relocked_plain_mtx_ends_with_a_report, .timeout = 30)
{
	expect_deadlock("c11_self_deadlock", NULL, 1, "cache_lock", "cache_evict");
	struct lw_result r = run("c11_self_deadlock", NULL, 66);
	json_t *m = lw_find(r.report, "misuse", "error");
	cr_assert_not_null(m, "no relock misuse");
	cr_assert(strstr(json_string_value(json_object_get(m, "message")), "again") != NULL);
	lw_result_free(&r);
}

Test(c11, condition_variables_and_threads_used_well_are_clean, .timeout = 30)
{
	expect_clean("c11_clean", 7);
}

/* The threads thrd_create made are threads: their start routines are named, and the
 * create and join order them. */
Test(c11, thrd_create_registers_the_thread, .timeout = 30)
{
	struct lw_result r = run("c11_inversion", NULL, 66);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	char *text = json_dumps(f, 0);
	cr_assert(strstr(text, "a_then_b") && strstr(text, "b_then_a"), "%s", text);
	free(text);
	cr_assert_eq(lw_count_in_dump(&r, "join joiner"), 2);
	lw_result_free(&r);
}

Test(glib, an_inversion_of_two_gmutexes_is_a_cycle, .timeout = 30)
{
	expect_cycle("build/tests/programs", "glib_inversion");
}

Test(glib, two_gthreads_waiting_for_each_others_gmutex_end_with_a_report, .timeout = 30)
{
	expect_deadlock("glib_deadlock", NULL, 2, "lock_a", "take");
}

Test(glib, a_relocked_gmutex_ends_with_a_report, .timeout = 30)
{
	expect_deadlock("glib_deadlock", "self", 1, "lock_a", "relock");
}

Test(glib, locks_conditions_and_threads_used_well_are_clean, .timeout = 30)
{
	expect_clean("glib_clean", 5);
}

/* g_thread_new's thread is recorded once, as created where the program called it and
 * started at the program's function, not GLib's. */
Test(glib, a_gthread_is_one_thread_created_by_the_program, .timeout = 30)
{
	struct lw_result r = run("glib_inversion", NULL, 66);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	char *text = json_dumps(f, 0);
	cr_assert(strstr(text, "a_then_b") && strstr(text, "b_then_a"), "%s", text);
	cr_assert(strstr(text, "g_thread_proxy") == NULL, "%s", text);
	free(text);
	cr_assert_eq(lw_count_in_dump(&r, "thread tid "), 3, "threads recorded twice?");
	lw_result_free(&r);
}

/* A program that does not use GLib does not get it loaded by the shim. */
Test(glib, a_program_without_glib_does_not_load_it, .timeout = 30)
{
	char *dir = lw_tmpdir();
	char err[160], opt[200];
	snprintf(err, sizeof err, "%s/stderr", dir);
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s", dir);
	const char *argv[] = { "build/tests/programs/c11_clean", NULL };
	const char *env[] = { "LD_PRELOAD=" LW_SHIM, "LD_DEBUG=files", opt, NULL };
	cr_assert_eq(lw_spawn(argv, env, NULL, err, 20000), 0);
	char *text = lw_slurp(err);
	cr_assert(text && strstr(text, "liblockwatch.so") != NULL, "LD_DEBUG said nothing");
	cr_assert(strstr(text, "libglib") == NULL, "GLib was loaded");
	free(text);
	lw_rmtree(dir);
	free(dir);
}

Test(tsan_mutex, an_annotated_futex_lock_inversion_is_a_cycle, .timeout = 30)
{
	expect_cycle("build/tests/programs", "tsan_futex_lock");
}

Test(tsan_mutex, annotated_futex_locks_deadlocked_end_with_a_report, .timeout = 30)
{
	expect_deadlock("tsan_futex_lock", "deadlock", 2, "lock_a", "transfer");
}

/* Built by `lockwatch cc --tsan-abi` (clang) and by `lockwatch cc` with gcc's
 * -fsanitize=thread: the program links, and the annotations still teach the shim. */
Test(tsan_mutex, the_annotations_work_in_tsan_abi_builds, .timeout = 60)
{
	expect_cycle("build/hooks-tsan-clang", "tsan_futex_lock");
	expect_cycle("build/hooks-tsan", "tsan_futex_lock");
}

/* The LW_MUTEX_* macros of <lockwatch.h> on a spin lock of the program's own. */
Test(lockwatch_h, an_annotated_spinlock_inversion_is_a_cycle, .timeout = 30)
{
	expect_cycle("build/tests/programs", "annotated_spinlock");
}

Test(lockwatch_h, a_relocked_annotated_spinlock_ends_with_a_report, .timeout = 30)
{
	expect_deadlock("annotated_spinlock", "self", 1, "lock_a", "relock");
	struct lw_result r = run("annotated_spinlock", "self", 66);
	cr_assert_eq(lw_count(r.report, "misuse", "error"), 1);
	lw_result_free(&r);
}
