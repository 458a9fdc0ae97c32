/* The shim's path wrappers (shim/access/wrap_path.c): results and errno unchanged, and one path
 * record per check, create, unlink and rename, with the path made absolute. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>

#include "lw_test.h"

#define PROG "build/tests/programs/path_calls"

/* The records tests/programs/path_calls.c must leave, in order: op, failed, errno, path
 * relative to its directory. */
static const struct {
	const char *op;
	bool failed;
	int err;
	const char *path;
} expected[] = {
	{ "check", true, 2, "missing" },                /* access */
	{ "create", false, 0, "c.txt" },                /* creat */
	{ "create", false, 0, "o.txt" },                /* open O_CREAT */
	{ "create-excl", true, 17, "o.txt" },           /* open O_CREAT|O_EXCL */
	{ "create", false, 0, "at.txt" },               /* openat, relative to a dirfd */
	{ "create", false, 0, "at64.txt" },             /* openat64 */
	{ "create", false, 0, "o64.txt" },              /* open64 */
	{ "check", false, 0, "o.txt" },                 /* stat */
	{ "check", false, 0, "o.txt" },                 /* lstat */
	{ "check", false, 0, "o.txt" },                 /* fstatat (the AT_EMPTY_PATH one is not) */
	{ "check", false, 0, "o.txt" },                 /* stat64 */
	{ "check", false, 0, "o.txt" },                 /* lstat64 */
	{ "check", false, 0, "o.txt" },                 /* fstatat64 */
	{ "check", true, 2, "missing" },                /* stat */
	{ "check", false, 0, "o.txt" },                 /* __xstat */
	{ "rename-from", false, 0, "c.txt" },
	{ "rename-to", false, 0, "r.txt" },
	{ "unlink", false, 0, "r.txt" },
	{ "unlink", true, 2, "missing" },
	{ "check", false, 0, "o.txt" },                 /* access */
	{ "unlink", false, 0, "o.txt" },                /* clean-up */
	{ "unlink", false, 0, "at.txt" },
	{ "unlink", false, 0, "at64.txt" },
	{ "unlink", false, 0, "o64.txt" },
};

/* The first line of the program's output names its directory; the rest must match. */
static const char *after_first_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	return nl ? nl + 1 : s;
}

Test(path_calls, results_errno_and_records, .timeout = 60)
{
	char *dir = lw_tmpdir(), plain[PATH_MAX], shimmed[PATH_MAX], dump[PATH_MAX];
	char traces[PATH_MAX], preload[PATH_MAX + 16], options[PATH_MAX + 32], trace[PATH_MAX + 512];
	char shim[PATH_MAX], pdir[256] = "";
	const char *argv[] = { PROG, NULL };
	DIR *d;
	struct dirent *e;
	int n_traces = 0;

	cr_assert_not_null(realpath(LW_SHIM, shim));
	snprintf(plain, sizeof(plain), "%s/plain.out", dir);
	snprintf(shimmed, sizeof(shimmed), "%s/shimmed.out", dir);
	snprintf(dump, sizeof(dump), "%s/dump.out", dir);
	snprintf(traces, sizeof(traces), "%s/traces", dir);
	cr_assert_eq(mkdir(traces, 0700), 0);
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", shim);
	snprintf(options, sizeof(options), "LOCKWATCH_OPTIONS=trace_dir=%s", traces);
	const char *env[] = { preload, options, NULL };

	cr_assert_eq(lw_spawn(argv, NULL, plain, NULL, 20000), 0);
	cr_assert_eq(lw_spawn(argv, env, shimmed, NULL, 20000), 0);
	char *a = lw_slurp(plain), *b = lw_slurp(shimmed);
	cr_assert(a && b);
	cr_assert_str_eq(after_first_line(a), after_first_line(b),
			 "results differ under the shim:\n%s\n---\n%s", a, b);
	cr_assert_eq(sscanf(b, "dir %255s", pdir), 1);

	d = opendir(traces);
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".trace")) {
			snprintf(trace, sizeof(trace), "%s/%s", traces, e->d_name);
			n_traces++;
		}
	closedir(d);
	cr_assert_eq(n_traces, 1);
	const char *dargv[] = { LW_BIN, "dump", trace, NULL };
	cr_assert_eq(lw_spawn(dargv, NULL, dump, NULL, 20000), 0);

	/* "@4768 path tid 1 op check result -1 errno 2 stack 1 seq 2 path /tmp/x/missing" */
	char *text = lw_slurp(dump), *save = NULL;
	size_t k = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char op[32], path[PATH_MAX], want[PATH_MAX];
		long result;
		int err;

		if (!strstr(line, " path tid "))
			continue;
		cr_assert(sscanf(line, "@%*u path tid %*u op %31s result %ld errno %d stack %*u seq "
			  "%*u path %4095s", op, &result, &err, path) == 4, "%s", line);
		cr_assert(!strstr(path, "lockwatch."), "the shim's own file: %s", line);
		cr_assert_lt(k, sizeof(expected) / sizeof(expected[0]), "extra record: %s", line);
		snprintf(want, sizeof(want), "%s/%s", pdir, expected[k].path);
		cr_expect_str_eq(op, expected[k].op, "record %zu: %s", k, line);
		cr_expect_eq(result < 0, expected[k].failed, "record %zu: %s", k, line);
		cr_expect_eq(err, expected[k].err, "record %zu: %s", k, line);
		cr_expect_str_eq(path, want, "record %zu: %s", k, line);
		k++;
	}
	cr_assert_eq(k, sizeof(expected) / sizeof(expected[0]), "%zu path records", k);
	free(text);
	free(a);
	free(b);
	lw_rmtree(dir);
	free(dir);
}

/* Path records in a trace of stat_loop run with these options. */
static int path_records(const char *level)
{
	char *dir = lw_tmpdir(), opt[PATH_MAX], dump[PATH_MAX], trace[2 * PATH_MAX] = "";
	snprintf(opt, sizeof(opt), "LOCKWATCH_OPTIONS=trace_dir=%s/t level=%s", dir, level);
	snprintf(dump, sizeof(dump), "%s/dump.out", dir);
	const char *env[] = { "LD_PRELOAD=" LW_SHIM, opt, NULL };
	const char *argv[] = { "build/tests/programs/stat_loop", "1000", NULL };
	cr_assert_eq(lw_spawn(argv, env, NULL, NULL, 20000), 0);
	char tdir[PATH_MAX];
	snprintf(tdir, sizeof(tdir), "%s/t", dir);
	DIR *d = opendir(tdir);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));)
		if (strstr(e->d_name, ".trace"))
			snprintf(trace, sizeof(trace), "%s/%s", tdir, e->d_name);
	closedir(d);
	const char *dargv[] = { LW_BIN, "dump", trace, NULL };
	cr_assert_eq(lw_spawn(dargv, NULL, dump, NULL, 20000), 0);
	char *text = lw_slurp(dump);
	int n = 0;
	for (char *p = text; (p = strstr(p, " path tid ")); p++)
		n++;
	free(text);
	lw_rmtree(dir);
	free(dir);
	return n;
}

/* The dependencies level writes a path call once per thread, path, site and outcome, so a
 * stat in a loop does not grow the trace; the full level writes every call. */
Test(path_calls, a_loop_of_stats_is_written_once_in_the_dependencies_level, .timeout = 60)
{
	cr_assert_eq(path_records("dependencies"), 2);
	cr_assert_eq(path_records("full"), 1001);
}

/*
 * Processes are ordered by fork, vfork, posix_spawn, system, exec and wait, as threads are by
 * create and join: a child that checks and creates a file before its parent does the same is
 * no check-then-act race when the parent reaped it first, and is one when nothing the shim
 * sees orders the two (tests/programs/fork_check_create.c).
 */
static int path_errors(const char *mode, const char *prog_path)
{
	char path[128];
	snprintf(path, sizeof(path), "/tmp/lockwatch-fcc-%d-%s", (int)getpid(), mode);
	const char *args[] = { mode, path, NULL };
	struct lw_result r = lw_run_json(prog_path, args, NULL, 30000);
	cr_assert_not_null(r.report, "%s: no report: %s", mode, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "done"), "%s: %s", mode, r.stderr_text);
	int n = lw_count(r.report, "atomicity-violation", "error");
	cr_assert_eq(r.status, n ? 66 : 0, "%s: status %d", mode, r.status);
	lw_result_free(&r);
	unlink(path);
	return n;
}

Test(path_calls, processes_ordered_by_fork_exec_and_wait, .timeout = 120)
{
	char prog[PATH_MAX];
	cr_assert_not_null(realpath("build/tests/programs/fork_check_create", prog));
	cr_assert_eq(path_errors("wait", prog), 0);
	cr_assert_eq(path_errors("spawn", prog), 0);
	cr_assert_eq(path_errors("vfork", prog), 0);
	cr_assert_eq(path_errors("system", prog), 0);
	cr_assert_eq(path_errors("pipe", prog), 1);
}

/* Two sqlite3 commands one after the other: each opens the database and its journal with
 * O_CREAT and serialises with fcntl locks; the shell vforks, execs and waits for each. */
Test(path_calls, sqlite3_commands_one_after_the_other_are_clean, .timeout = 120)
{
	char *dir = lw_tmpdir(), script[1024];
	snprintf(script, sizeof(script),
		 "sqlite3 %s/x.db 'create table t(a); insert into t values(1);' && "
		 "sqlite3 %s/x.db 'select * from t;'", dir, dir);
	const char *args[] = { "-c", script, NULL };
	struct lw_result r = lw_run_json("/bin/sh", args, NULL, 60000);
	cr_assert_not_null(r.report, "no report: %s", r.stderr_text);
	cr_assert(r.stdout_text && !strcmp(r.stdout_text, "1\n"), "output: %s", r.stdout_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "%s", r.stderr_text);
	cr_assert_eq(r.status, 0);
	lw_result_free(&r);
	lw_rmtree(dir);
	free(dir);
}
