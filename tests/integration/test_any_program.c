/* What real programs do that the samples do not (issue 18's smaller points): exit while
 * other threads lock, descriptors closed or counted, dlopen by a relative path, a chdir
 * before exec, lock wrappers in libraries, arrays of locks, many file names checked. */
#include <criterion/criterion.h>
#include <dirent.h>
#include "lw_test.h"

#define PROG(name) "build/tests/programs/" name

/* The absolute path of a file of the build, in buf. */
static const char *abs_path(char *buf, size_t len, const char *rel)
{
	char here[4096];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(buf, len, "%s/%s", here, rel);
	return buf;
}

/* Threads still lock after exit() closed the trace: those records are not "dropped" (the
 * warning came with every run of ffmpeg, x264, aria2c).  Each thread locks 100 times after
 * the shim's destructor, every run. */
Test(any_program, records_after_the_trace_closed_at_exit_are_not_drops, .timeout = 60)
{
	char lib[4200];
	const char *args[] = { abs_path(lib, sizeof lib, PROG("libexitlate.so")), NULL };
	struct lw_result r = lw_run_json(PROG("exit_locking"), args, NULL, 30000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(!r.stderr_text || !strstr(r.stderr_text, "dropped"), "%s", r.stderr_text);
	cr_assert_eq(lw_count_in_dump(&r, " dropped 0 "), 1, "the header counts drops");
	lw_result_free(&r);
}

/* dlopen("./libdlock.so") after a chdir: the module's path is recorded absolute, so the
 * report still names the library's locks and functions. */
Test(any_program, a_library_dlopened_by_a_relative_path_keeps_its_names, .timeout = 30)
{
	char dir[4200];
	const char *args[] = { "./libdlock.so", abs_path(dir, sizeof dir, PROG("")), NULL };
	struct lw_result r = lw_run_json(PROG("dlopen_lock"), args, NULL, 20000);
	cr_assert_eq(r.status, 66, "status %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_lock(f, "dl_first") && lw_has_lock(f, "dl_second"),
		  "the library's locks are not named: %s", r.stderr_text);
	cr_assert(lw_has_frame(f, "dl_first_then_second", "libdlock.c"));
	lw_result_free(&r);
}

/* Number of *.trace files in dir (0 if it does not exist). */
static int count_traces(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strstr(e->d_name, ".trace") != NULL;
	closedir(d);
	return n;
}

/* Runs argv (a program of the build) under the shim, plain LD_PRELOAD, in directory cwd with
 * LOCKWATCH_OPTIONS=opts.  Returns its exit status. */
static int run_preloaded_in(const char *cwd, const char *prog, const char *arg, const char *opts)
{
	char shim[4200], opt[4200], exe[4200];
	abs_path(shim, sizeof shim, LW_SHIM);
	abs_path(exe, sizeof exe, prog);
	char preload[4300];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=%s", opts);
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir(cwd) != 0)
			_exit(126);
		const char *argv[] = { exe, arg, NULL };
		const char *env[] = { preload, opt, NULL };
		_exit(lw_spawn(argv, env, NULL, NULL, 20000) & 0xff);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A relative trace_dir is resolved once, where the first program started: a program it
 * runs after a chdir writes there too. */
Test(any_program, a_relative_trace_dir_holds_for_programs_run_after_a_chdir, .timeout = 30)
{
	char *dir = lw_tmpdir();
	char start[128], elsewhere[128], traces[256], stray[256];
	snprintf(start, sizeof start, "%s/start", dir);
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", dir);
	snprintf(traces, sizeof traces, "%s/rel", start);
	snprintf(stray, sizeof stray, "%s/rel", elsewhere);
	mkdir(start, 0700);
	mkdir(elsewhere, 0700);
	cr_assert_eq(run_preloaded_in(start, PROG("chdir_exec"), elsewhere, "trace_dir=rel"), 0);
	cr_assert_eq(count_traces(traces), 3, "%d traces in %s (parent, fork child, exec'd child)",
		     count_traces(traces), traces);
	cr_assert_eq(count_traces(stray), 0, "%d traces after the chdir", count_traces(stray));
	lw_rmtree(dir);
	free(dir);
}

/* Whether report has a lock-order cycle naming both locks. */
static bool has_cycle_of(json_t *report, const char *a, const char *b)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		const char *k = json_string_value(json_object_get(f, "kind"));
		if (k && !strcmp(k, "lock-order-cycle") && lw_has_lock(f, a) && lw_has_lock(f, b))
			return true;
	}
	return false;
}

/* Element 0 of a mutex array is L[0] (it was L: "L -> L[1] -> L"), and a function's static
 * mutex is func::s (it was s.0). */
Test(any_program, array_elements_and_function_statics_are_named_plainly, .timeout = 30)
{
	struct lw_result r = lw_run_json(PROG("lock_array"), NULL, NULL, 20000);
	cr_assert_eq(lw_count(r.report, "lock-order-cycle", NULL), 2, "stderr: %s", r.stderr_text);
	cr_assert(has_cycle_of(r.report, "L[0]", "L[1]"), "no cycle L[0] -> L[1]");
	cr_assert(has_cycle_of(r.report, "take_with_static::s", "L[2]"),
		  "no cycle take_with_static::s -> L[2]");
	lw_result_free(&r);
}

/* The shim keeps no descriptor in the program's low range: its first open() gets 3 (the
 * unwinder's pipe took 3 and 4). */
Test(any_program, the_first_open_gets_descriptor_3, .timeout = 30)
{
	struct lw_result r = lw_run_json(PROG("first_fd"), NULL, NULL, 20000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "first fd 3\n"), "%s", r.stdout_text);
	lw_result_free(&r);
}

/* After close_range(3, ~0) and new files in the low numbers, stacks are still taken: the
 * inversion made afterwards shows its functions (it was "no stack recorded"). */
Test(any_program, stacks_survive_a_program_that_closes_every_descriptor, .timeout = 60)
{
	char *dir = lw_tmpdir();
	const char *args[] = { dir, NULL };
	struct lw_result r = lw_run_json(PROG("close_fds"), args, NULL, 40000);
	cr_assert_eq(r.status, 66, "status %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_frame(f, "first_then_second", "close_fds.c") &&
		  lw_has_frame(f, "second_then_first", "close_fds.c"),
		  "the stacks after close_range are lost: %s", r.stderr_text);
	cr_assert(!r.stderr_text || !strstr(r.stderr_text, "no longer recorded"), "%s",
		  r.stderr_text);
	lw_result_free(&r);
	lw_rmtree(dir);
	free(dir);
}

/* A helper called first from main, then from a thread: the thread's acquisitions show the
 * thread's path (the stack was taken once per call site, so they showed main). */
Test(any_program, a_helper_called_from_main_then_a_thread_shows_the_threads_path, .timeout = 30)
{
	struct lw_result r = lw_run_json(PROG("helper_paths"), NULL, NULL, 20000);
	cr_assert_eq(r.status, 66, "status %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_frame(f, "forward", "helper_paths.c"),
		  "the forward thread's acquisitions show another path: %s", r.stderr_text);
	lw_result_free(&r);
}

/* Locks made through one library's wrapper (libwraplock.so's wrap_lock_new, as OpenSSL's
 * CRYPTO_THREAD_lock_new) are classed by the wrapper's caller: account locks always taken
 * before log locks are no class inversion (they were one class, "nested in both address
 * orders"), and a log lock taken before an account lock is one. */
Test(any_program, lock_classes_of_a_wrapper_follow_its_caller, .timeout = 30)
{
	char lib[4200];
	abs_path(lib, sizeof lib, PROG("libwraplock.so"));
	const char *consistent[] = { lib, "consistent", NULL };
	struct lw_result r = lw_run_json(PROG("wrapper_classes"), consistent, NULL, 20000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, NULL), 0, "findings: %s", r.stderr_text);
	lw_result_free(&r);

	const char *inverted[] = { lib, "inverted", NULL };
	r = lw_run_json(PROG("wrapper_classes"), inverted, NULL, 20000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "warning");
	cr_assert_not_null(f, "the class inversion through the wrapper is lost: %s", r.stderr_text);
	const char *msg = json_string_value(json_object_get(f, "message"));
	cr_assert(msg && strstr(msg, "new_account_lock") && strstr(msg, "new_log_lock"), "%s", msg);
	lw_result_free(&r);
}

/* Path records in the traces of a run of path_many checking n paths. */
static int path_records_of(int n, const char *mode, struct lw_result *out)
{
	char *dir = lw_tmpdir(), count[16];
	snprintf(count, sizeof count, "%d", n);
	const char *args[] = { dir, count, mode, NULL };
	*out = lw_run_json(PROG("path_many"), args, NULL, 60000);
	cr_assert_eq(out->status, mode ? 66 : 0, "status %d, stderr: %s", out->status,
		     out->stderr_text);
	int records = lw_count_records(out, "path");
	lw_rmtree(dir);
	free(dir);
	return records;
}

/* The default-level trace does not grow with the number of distinct paths a program only
 * checks (it grew by about 110 bytes a path), and a check-then-act after many checks at the
 * same call site is still found. */
Test(any_program, checks_of_many_paths_do_not_grow_the_trace, .timeout = 120)
{
	struct lw_result r;
	int few = path_records_of(100, NULL, &r);
	lw_result_free(&r);
	int many = path_records_of(3000, NULL, &r);
	lw_result_free(&r);
	cr_assert_leq(few, 100);
	cr_assert_eq(many, few, "%d path records for 3000 paths, %d for 100", many, few);

	path_records_of(3000, "race", &r);
	json_t *f = lw_find(r.report, "atomicity-violation", "error");
	cr_assert_not_null(f, "the check-then-act after many checks is lost: %s", r.stderr_text);
	lw_result_free(&r);
}
