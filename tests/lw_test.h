/* Helpers for lockwatch's integration tests: run a program under lockwatch with a timeout,
 * and look into the JSON report. */
#ifndef LW_TEST_H
#define LW_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LW_BIN                  /* make test-asan points it at build-asan/ */
#define LW_BIN  "build/bin/lockwatch"
#endif
#define LW_SHIM "build/lib/liblockwatch.so"

/* A fresh temporary directory, removed by lw_rmtree. */
static inline char *lw_tmpdir(void)
{
	char *d = strdup("/tmp/lockwatch-test-XXXXXX");
	if (!mkdtemp(d)) {
		perror("mkdtemp");
		abort();
	}
	return d;
}

static inline void lw_rmtree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Runs argv (NULL-terminated) with extra environment entries ("K=V", NULL-terminated, may
 * be NULL), stdout and stderr to the given files (or /dev/null), killing it after
 * timeout_ms.  Returns the exit status, 128+signal when killed, or -1 on timeout. */
static inline int lw_spawn(const char *const argv[], const char *const env[], const char *out,
			   const char *err, int timeout_ms)
{
	pid_t pid = fork();
	if (pid < 0)
		return -2;
	if (pid == 0) {
		setpgid(0, 0);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		int fo = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms > timeout_ms) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(2000);
	}
}

/* Reads a whole file; NULL if missing. */
static inline char *lw_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	size_t got = fread(buf, 1, (size_t)n, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

/* A run of `lockwatch run --format json` on one program. */
struct lw_result {
	int status;                  /* lockwatch's exit status, -1 on timeout */
	json_t *report;              /* parsed JSON, NULL if none */
	char *stdout_text;           /* the program's standard output */
	char *stderr_text;
	char dir[64];
};

/* The same, with extra lockwatch options (NULL-terminated, may be NULL) before the "--",
 * such as { "--watch", "balance", NULL }. */
static inline struct lw_result lw_run_json_opts(const char *prog, const char *const opts[],
						const char *const args[],
						const char *const env[], int timeout_ms)
{
	struct lw_result r = { 0 };
	char *d = lw_tmpdir();
	snprintf(r.dir, sizeof r.dir, "%s", d);
	free(d);
	char json[128], out[128], err[128], traces[128];
	snprintf(json, sizeof json, "%s/report.json", r.dir);
	snprintf(out, sizeof out, "%s/stdout", r.dir);
	snprintf(err, sizeof err, "%s/stderr", r.dir);
	snprintf(traces, sizeof traces, "%s/traces", r.dir);
	const char *argv[48] = { LW_BIN, "run", "--format", "json", "-o", json, "--trace-dir",
				 traces };
	int n = 8;
	for (int i = 0; opts && opts[i] && n < 16; i++)
		argv[n++] = opts[i];
	argv[n++] = "--";
	argv[n++] = prog;
	for (int i = 0; args && args[i] && n < 47; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r.status = lw_spawn(argv, env, out, err, timeout_ms);
	char *text = lw_slurp(json);
	if (text) {
		json_error_t je;
		r.report = json_loads(text, 0, &je);
		free(text);
	}
	r.stdout_text = lw_slurp(out);
	r.stderr_text = lw_slurp(err);
	return r;
}

static inline struct lw_result lw_run_json(const char *prog, const char *const args[],
					   const char *const env[], int timeout_ms)
{
	return lw_run_json_opts(prog, NULL, args, env, timeout_ms);
}

static inline void lw_result_free(struct lw_result *r)
{
	json_decref(r->report);
	free(r->stdout_text);
	free(r->stderr_text);
	lw_rmtree(r->dir);
}

/*
 * lw_run_json_opts, run again while the program's standard output lacks `shows`, up to
 * LW_SCENARIO_TRIES runs in all; returns the last.  For a program whose bug needs an
 * interleaving the scheduler may not give it: the bank samples' second thread must check the
 * balance while the first sleeps 20 ms between its check and its act, which a loaded machine
 * does not always allow (then the second thread finds the money gone, never acts, and there
 * is no check-then-act to find).  The program says which happened ("balance: -200": both
 * acted); a run in which it did is held to every assertion.
 */
#define LW_SCENARIO_TRIES 5
static inline struct lw_result lw_run_json_until(const char *prog, const char *const opts[],
						 const char *const args[],
						 const char *const env[], int timeout_ms,
						 const char *shows)
{
	struct lw_result r = lw_run_json_opts(prog, opts, args, env, timeout_ms);
	for (int i = 1; i < LW_SCENARIO_TRIES && !(r.stdout_text && strstr(r.stdout_text, shows));
	     i++) {
		lw_result_free(&r);
		r = lw_run_json_opts(prog, opts, args, env, timeout_ms);
	}
	return r;
}

/* How many times text occurs in `lockwatch dump` of the traces of run r. */
static inline int lw_count_in_dump(const struct lw_result *r, const char *want)
{
	char traces[128], trace[512], out[192];
	int n = 0;
	snprintf(traces, sizeof traces, "%s/traces", r->dir);
	snprintf(out, sizeof out, "%s/dump.out", r->dir);
	DIR *d = opendir(traces);
	cr_assert_not_null(d, "no trace directory %s", traces);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".trace"))
			continue;
		snprintf(trace, sizeof trace, "%s/%s", traces, e->d_name);
		const char *argv[] = { LW_BIN, "dump", trace, NULL };
		cr_assert_eq(lw_spawn(argv, NULL, out, NULL, 20000), 0, "dump %s", trace);
		char *text = lw_slurp(out);
		for (char *p = text; p && (p = strstr(p, want)); p++)
			n++;
		free(text);
	}
	closedir(d);
	return n;
}

/* Issue 23 (perf): how many threads the traces of run r show: THREAD records, plus the
 * threads counted and not written (the largest count of each LW_REC_THREADS_LIKE class). */
static inline int lw_threads_seen(const struct lw_result *r)
{
	char traces[128], trace[512], out[192];
	int n = 0;
	snprintf(traces, sizeof traces, "%s/traces", r->dir);
	snprintf(out, sizeof out, "%s/dump.out", r->dir);
	DIR *d = opendir(traces);
	cr_assert_not_null(d, "no trace directory %s", traces);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".trace"))
			continue;
		snprintf(trace, sizeof trace, "%s/%s", traces, e->d_name);
		const char *argv[] = { LW_BIN, "dump", trace, NULL };
		cr_assert_eq(lw_spawn(argv, NULL, out, NULL, 20000), 0, "dump %s", trace);
		char *text = lw_slurp(out);
		unsigned like[64] = { 0 }, most[64] = { 0 }, n_like = 0;
		for (char *p = text; p && (p = strstr(p, " thread tid ")); p++)
			n++;
		for (char *p = text; p && (p = strstr(p, "threads-like like ")); p++) {
			unsigned l, c, k;
			if (sscanf(p, "threads-like like %u count %u", &l, &c) != 2)
				continue;
			for (k = 0; k < n_like && like[k] != l; k++)
				;
			if (k == n_like && n_like < 64)
				like[n_like++] = l;
			if (k < 64 && c > most[k])
				most[k] = c;
		}
		for (unsigned k = 0; k < n_like; k++)
			n += (int)most[k];
		free(text);
	}
	closedir(d);
	return n;
}

/* How many records of kind ("acquire", "release") the traces of run r hold. */
static inline int lw_count_records(const struct lw_result *r, const char *kind)
{
	char want[64];
	snprintf(want, sizeof want, " %s tid ", kind);
	return lw_count_in_dump(r, want);
}

/* Number of findings of a kind (NULL: any) and severity (NULL: any). */
static inline int lw_count(json_t *report, const char *kind, const char *severity)
{
	json_t *f = json_object_get(report, "findings");
	size_t i;
	json_t *v;
	int n = 0;
	json_array_foreach(f, i, v) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		const char *s = json_string_value(json_object_get(v, "severity"));
		if ((!kind || (k && !strcmp(k, kind))) && (!severity || (s && !strcmp(s, severity))))
			n++;
	}
	return n;
}

/* The first finding of a kind and severity, or NULL. */
static inline json_t *lw_find(json_t *report, const char *kind, const char *severity)
{
	json_t *f = json_object_get(report, "findings");
	size_t i;
	json_t *v;
	json_array_foreach(f, i, v) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		const char *s = json_string_value(json_object_get(v, "severity"));
		if ((!kind || (k && !strcmp(k, kind))) && (!severity || (s && !strcmp(s, severity))))
			return v;
	}
	return NULL;
}

/* Whether a finding names a lock. */
static inline bool lw_has_lock(json_t *finding, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(finding, "locks"), i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

/* Whether any stack frame of any edge of the finding is in function fn of file (basename). */
static inline bool lw_has_frame(json_t *finding, const char *fn, const char *file)
{
	size_t i, j;
	json_t *e, *fr;
	static const char *const sides[] = { "from_stack", "to_stack" };
	json_array_foreach(json_object_get(finding, "edges"), i, e) {
		for (int s = 0; s < 2; s++) {
			json_array_foreach(json_object_get(e, sides[s]), j, fr) {
				const char *f = json_string_value(json_object_get(fr, "function"));
				const char *p = json_string_value(json_object_get(fr, "file"));
				json_int_t line = json_integer_value(json_object_get(fr, "line"));
				if (f && !strcmp(f, fn) && p && line > 0) {
					const char *base = strrchr(p, '/');
					if (!strcmp(base ? base + 1 : p, file))
						return true;
				}
			}
		}
	}
	return false;
}

#endif
