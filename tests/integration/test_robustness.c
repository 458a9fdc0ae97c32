/* The shim never breaks its host: fork with locks held, fork+exec, dlopen, sem_post from a
 * signal handler, thousands of threads, cancellation, closefrom, chdir, a read-only or full
 * trace directory and RLIMIT_FSIZE.  (SIGKILL mid-run, libearly.so, passthrough, exit
 * statuses and static programs are in test_run.c.) */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include "lw_test.h"

#define PROG(name) "build/tests/programs/" name

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

/* Number of lines of text that start with prefix. */
static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);
	for (const char *p = text; p && *p;) {
		if (!strncmp(p, prefix, len))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* The message of the first error-level finding, for assertion messages. */
static const char *first_error(json_t *report)
{
	json_t *f = lw_find(report, NULL, "error");
	const char *m = f ? json_string_value(json_object_get(f, "message")) : NULL;
	return m ? m : "(none)";
}

/* Runs argv under the shim (LD_PRELOAD, trace_dir=traces plus extra options), in working
 * directory cwd (NULL: ours) with RLIMIT_FSIZE fsize (0: unchanged), stderr to errfile,
 * killed after timeout_ms.  Returns what lw_spawn returns. */
static int run_shim(const char *const argv[], const char *traces, const char *extra,
		    const char *cwd, rlim_t fsize, const char *errfile, int timeout_ms)
{
	char shim[4200], opt[8400], here[4096];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(shim, sizeof shim, "LD_PRELOAD=%s/" LW_SHIM, here);
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s%s%s", traces, extra ? ":" : "",
		 extra ? extra : "");
	const char *env[] = { shim, opt, NULL };
	if (!cwd && !fsize)
		return lw_spawn(argv, env, NULL, errfile, timeout_ms);
	/* lw_spawn forks first; set the directory and limit in a shell-free way: re-exec
	 * through a tiny child of our own. */
	pid_t pid = fork();
	if (pid == 0) {
		if (fsize) {
			struct rlimit rl = { fsize, fsize };
			setrlimit(RLIMIT_FSIZE, &rl);
		}
		if (cwd && chdir(cwd) != 0)
			_exit(126);
		char abs_prog[4200];
		snprintf(abs_prog, sizeof abs_prog, "%s/%s", here, argv[0]);
		const char *a[16] = { abs_prog };
		for (int i = 1; argv[i] && i < 15; i++)
			a[i] = argv[i];
		char errpath[4200];
		snprintf(errpath, sizeof errpath, "%s%s%s", errfile && errfile[0] != '/' ? here : "",
			 errfile && errfile[0] != '/' ? "/" : "", errfile ? errfile : "/dev/null");
		_exit(lw_spawn(a, env, NULL, errpath, timeout_ms) & 0xff);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `lockwatch report DIR`: its exit status. */
static int report_status(const char *dir)
{
	const char *rep[] = { LW_BIN, "report", "--format", "json", dir, NULL };
	return lw_spawn(rep, NULL, NULL, NULL, 30000);
}

Test(robustness, fork_while_other_threads_hold_locks, .timeout = 90)
{
	const char *args[] = { "40", NULL };
	struct lw_result r = lw_run_json(PROG("fork_held"), args, NULL, 80000);
	cr_assert_eq(r.status, 0, "status %d (first error: %s), stderr: %s", r.status,
		     first_error(r.report), r.stderr_text);
	char traces[128];
	snprintf(traces, sizeof traces, "%s/traces", r.dir);
	cr_assert_eq(count_traces(traces), 41, "%d traces, want the parent's and 40 children's",
		     count_traces(traces));
	lw_result_free(&r);
}

Test(robustness, fork_then_exec_and_posix_spawn, .timeout = 30)
{
	char here[4096], target[4200];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(target, sizeof target, "%s/" PROG("exit_code"), here);
	const char *args[] = { target, NULL };
	struct lw_result r = lw_run_json(PROG("fork_exec"), args, NULL, 20000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	char traces[128];
	snprintf(traces, sizeof traces, "%s/traces", r.dir);
	/* The parent, the fork child (before its exec), the exec'd program, the spawned one. */
	cr_assert_eq(count_traces(traces), 4, "%d traces", count_traces(traces));
	lw_result_free(&r);
}

Test(robustness, a_dlopened_library_that_locks_is_symbolized, .timeout = 30)
{
	char here[4096], lib[4200];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(lib, sizeof lib, "%s/" PROG("libdlock.so"), here);
	const char *args[] = { lib, NULL };
	struct lw_result r = lw_run_json(PROG("dlopen_lock"), args, NULL, 20000);
	cr_assert_eq(r.status, 66, "status %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_lock(f, "dl_first") && lw_has_lock(f, "dl_second"),
		  "the library's locks are not named: %s", r.stderr_text);
	cr_assert(lw_has_frame(f, "dl_first_then_second", "libdlock.c"));
	cr_assert(lw_has_frame(f, "dl_second_then_first", "libdlock.c"));
	lw_result_free(&r);
}

Test(robustness, sem_post_from_a_signal_handler_many_times, .timeout = 90)
{
	static const char *const levels[] = { NULL, "LOCKWATCH_OPTIONS=level=full" };
	for (int i = 0; i < 2; i++) {
		const char *args[] = { "20000", NULL };
		const char *env[] = { levels[i], NULL };
		struct lw_result r = lw_run_json(PROG("signal_sem"), args, levels[i] ? env : NULL,
						 40000);
		cr_assert_eq(r.status, 0, "level %d: status %d (first error: %s), stderr: %s", i,
			     r.status, first_error(r.report), r.stderr_text);
		lw_result_free(&r);
	}
}

/* Thousands of short-lived threads, joined and detached: no thread may be mistaken for
 * another (a mix-up shows as a misuse no thread made, e.g. relocking a held mutex). */
Test(robustness, thousands_of_threads, .timeout = 120)
{
	for (int round = 0; round < 3; round++) {
		const char *args[] = { "5000", NULL };
		struct lw_result r = lw_run_json(PROG("many_threads"), args, NULL, 60000);
		cr_assert_eq(r.status, 0, "round %d: status %d, first error: %s", round, r.status,
			     first_error(r.report));
		cr_assert_eq(lw_count(r.report, NULL, NULL), 0, "round %d: %d findings", round,
			     lw_count(r.report, NULL, NULL));
		lw_result_free(&r);
	}
}

Test(robustness, cancel_threads_blocked_in_cond_wait_and_sem_wait, .timeout = 30)
{
	struct lw_result r = lw_run_json(PROG("cancel_wait"), NULL, NULL, 20000);
	cr_assert_eq(r.status, 0, "status %d (first error: %s), stderr: %s", r.status,
		     first_error(r.report), r.stderr_text);
	lw_result_free(&r);
}

/* closefrom, then files: nobody but the program may touch them (libunwind's pipe, the
 * trace's descriptor), the trace goes on growing and the inversion made afterwards is
 * found. */
Test(robustness, a_program_that_closes_all_descriptors, .timeout = 60)
{
	char *dir = lw_tmpdir();
	char files[128], traces[128], err[128];
	snprintf(files, sizeof files, "%s/files", dir);
	snprintf(traces, sizeof traces, "%s/traces", dir);
	snprintf(err, sizeof err, "%s/stderr", dir);
	mkdir(files, 0700);
	const char *argv[] = { PROG("close_fds"), files, NULL };
	int st = run_shim(argv, traces, NULL, NULL, 0, err, 30000);
	char *text = lw_slurp(err);
	cr_assert_eq(st, 0, "status %d: %s", st, text);
	cr_assert_leq(count_lines(text, "lockwatch:"), 1, "%s", text);
	cr_assert_eq(report_status(traces), 66, "the inversion after closefrom is lost");
	free(text);
	lw_rmtree(dir);
	free(dir);
}

/* A relative trace_dir is the one the program started in, even for a child forked after a
 * chdir. */
Test(robustness, chdir_then_fork_keeps_the_trace_directory, .timeout = 30)
{
	char *dir = lw_tmpdir();
	char start[128], elsewhere[128], traces[256];
	snprintf(start, sizeof start, "%s/start", dir);
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", dir);
	snprintf(traces, sizeof traces, "%s/rel", start);
	mkdir(start, 0700);
	mkdir(elsewhere, 0700);
	const char *argv[] = { PROG("chdir_fork"), elsewhere, NULL };
	int st = run_shim(argv, "rel", NULL, start, 0, NULL, 20000);
	cr_assert_eq(st, 0);
	cr_assert_eq(count_traces(traces), 2, "%d traces in %s", count_traces(traces), traces);
	char stray[256];
	snprintf(stray, sizeof stray, "%s/rel", elsewhere);
	cr_assert_neq(access(stray, F_OK), 0, "a trace directory appeared after the chdir");
	lw_rmtree(dir);
	free(dir);
}

/* Mounts a tmpfs of `size` (with "ro" when read_only) on dir.  Skips the test when this
 * machine does not allow it (not root, no mount namespace rights). */
static void mount_tmpfs(const char *dir, const char *size, bool read_only)
{
	char opts[64];
	snprintf(opts, sizeof opts, "size=%s,mode=0700", size);   /* issue 24: not 0777 */
	if (mount("tmpfs", dir, "tmpfs", read_only ? MS_RDONLY : 0, opts) != 0)
		cr_skip_test("cannot mount a tmpfs here (%s)", strerror(errno));
}

/* The program runs as if alone, and the shim says why it does not record, once. */
static void expect_one_warning(const char *dir, const char *extra, const char *prog_arg)
{
	char err[256];
	snprintf(err, sizeof err, "%s.stderr", dir);
	const char *argv[] = { "build/bench/lockheavy", prog_arg, NULL };
	int st = run_shim(argv, dir, extra, NULL, 0, err, 30000);
	char *text = lw_slurp(err);
	umount2(dir, MNT_DETACH);
	cr_assert_eq(st, 0, "status %d: %s", st, text);
	cr_assert_eq(count_lines(text, "lockwatch:"), 1, "want one warning line:\n%s", text);
	cr_assert_eq(count_lines(text, ""), 1, "want nothing else on stderr:\n%s", text);
	free(text);
}

Test(robustness, a_read_only_trace_directory, .timeout = 30)
{
	char *dir = lw_tmpdir();
	mount_tmpfs(dir, "1m", true);
	expect_one_warning(dir, NULL, "1000");
	lw_rmtree(dir);
	free(dir);
}

Test(robustness, a_full_disk_at_start, .timeout = 30)
{
	char *dir = lw_tmpdir();
	mount_tmpfs(dir, "32k", false);   /* issue 24: below the trace's first 64 KiB */
	expect_one_warning(dir, NULL, "1000");
	lw_rmtree(dir);
	free(dir);
}

Test(robustness, a_disk_that_fills_up_during_the_run, .timeout = 60)
{
	char *dir = lw_tmpdir();
	char copy[160];
	mount_tmpfs(dir, "1536k", false);
	/* A full-level trace of 100000 iterations needs tens of megabytes. */
	char err[256];
	snprintf(err, sizeof err, "%s.stderr", dir);
	const char *argv[] = { "build/bench/lockheavy", "100000", NULL };
	int st = run_shim(argv, dir, "level=full", NULL, 0, err, 30000);
	char *text = lw_slurp(err);
	cr_assert_eq(st, 0, "status %d: %s", st, text);
	cr_assert_eq(count_lines(text, "lockwatch:"), 1, "want one warning line:\n%s", text);
	/* What was written before the disk filled is a readable, truncated trace. */
	snprintf(copy, sizeof copy, "%s.copy", dir);
	mkdir(copy, 0700);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cp %s/*.trace %s/", dir, copy);
	cr_assert_eq(system(cmd), 0);
	umount2(dir, MNT_DETACH);
	int rc = report_status(copy);
	cr_assert(rc == 0 || rc == 66, "report exit %d on a trace cut short by a full disk", rc);
	lw_rmtree(copy);
	free(text);
	lw_rmtree(dir);
	free(dir);
}

/* `ulimit -f`: growing the trace past RLIMIT_FSIZE would raise SIGXFSZ and kill the host. */
Test(robustness, rlimit_fsize_does_not_kill_the_program, .timeout = 60)
{
	char *dir = lw_tmpdir();
	char traces[128];
	snprintf(traces, sizeof traces, "%s/traces", dir);
	static const rlim_t limits[] = { 2u << 20, 512u << 10 };  /* past one step; below it */
	for (int i = 0; i < 2; i++) {
		const char *argv[] = { "build/bench/lockheavy", "100000", NULL };
		int st = run_shim(argv, traces, "level=full", NULL, limits[i], NULL, 30000);
		cr_assert_eq(st, 0, "limit %d: status %d (153 is SIGXFSZ)", i, st);
	}
	int rc = report_status(traces);
	cr_assert(rc == 0, "report exit %d", rc);
	lw_rmtree(dir);
	free(dir);
}
