/* Real programs under lockwatch (issue 18), each compared with its native run: the same
 * standard output byte for byte, the same exit status, no error-level finding, and what it
 * cost (trace size, time ratio; logged, and appended to build/real/report.txt).
 *
 * The programs: CPython's threading module, sqlite3 from threads and processes (Python's
 * module and the sqlite3 shell), LMDB from two processes (python3-lmdb), a GLib program, a C11
 * <threads.h> program, odd-but-legal pthread programs of tests/real/, and the thread tests
 * of GLib's own installed test suite (libglib2.0-tests; the quick cases: the slow contended
 * ones run in `make test-real`).  A finding on any of them is a false alarm: they are
 * correct programs.  Every package they need is in tools/install-deps.sh; a missing one is a
 * failure, not a skip. */
#include <criterion/criterion.h>
#include <sys/time.h>

#include "lw_test.h"

#define PY          "/usr/bin/python3"
#define GLIB_TESTS  "/usr/libexec/installed-tests/glib/"
#define REPORT      "build/real/report.txt"
#define RUN_MS      90000

struct real_run {
	struct lw_result lw;          /* .dir holds traces/ and the outputs; .report the JSON */
	int native_status;
	double native_s, lw_s;
	bool same_out;
	int errors, warnings;
	long long trace_bytes;        /* allocated on disk, all trace files of the run */
	int trace_files;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void trace_size(const char *dir, long long *bytes, int *files)
{
	DIR *d = opendir(dir);
	*bytes = 0;
	*files = 0;
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		char p[512];
		struct stat st;
		if (!strstr(e->d_name, ".trace"))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0) {
			*bytes += (long long)st.st_blocks * 512;
			(*files)++;
		}
	}
	closedir(d);
}

/* The findings of a severity, one a line ("kind: message"), for a failure message. */
static char *findings_text(json_t *report, const char *severity)
{
	size_t cap = 8192, len = 0, i;
	char *s = calloc(1, cap);
	json_t *v;
	json_array_foreach(json_object_get(report, "findings"), i, v) {
		const char *sev = json_string_value(json_object_get(v, "severity"));
		const char *k = json_string_value(json_object_get(v, "kind"));
		const char *m = json_string_value(json_object_get(v, "message"));
		if (!sev || strcmp(sev, severity) || len + 16 >= cap)
			continue;
		len += (size_t)snprintf(s + len, cap - len, "\n    %s: %s", k ? k : "?", m ? m : "?");
		if (len >= cap)
			len = cap - 1;
	}
	return s;
}

/* The kinds of the findings of a severity, "kind xN, ..." (or "-"), for the report line. */
static void kinds_text(json_t *report, const char *severity, char *out, size_t cap)
{
	const char *kinds[16];
	int counts[16], n = 0;
	size_t i, o = 0;
	json_t *v;
	json_array_foreach(json_object_get(report, "findings"), i, v) {
		const char *sev = json_string_value(json_object_get(v, "severity"));
		const char *k = json_string_value(json_object_get(v, "kind"));
		if (!sev || !k || strcmp(sev, severity))
			continue;
		int j = 0;
		while (j < n && strcmp(kinds[j], k))
			j++;
		if (j == n && n < 16) {
			kinds[n] = k;
			counts[n++] = 0;
		}
		if (j < n)
			counts[j]++;
	}
	out[0] = '\0';
	for (int j = 0; j < n && o < cap; j++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s x%d", j ? ", " : "", kinds[j], counts[j]);
	if (!n)
		snprintf(out, cap, "-");
}

/* Runs argv natively, then under `lockwatch run --format json`, each with RUN_MS to finish. */
static struct real_run real_run(const char *name, const char *const opts[],
				const char *const argv[])
{
	struct real_run r = { 0 };
	char *d = lw_tmpdir();
	snprintf(r.lw.dir, sizeof r.lw.dir, "%s", d);
	free(d);
	char nout[128], nerr[128], out[128], err[128], json[128], traces[128];
	snprintf(nout, sizeof nout, "%s/native.out", r.lw.dir);
	snprintf(nerr, sizeof nerr, "%s/native.err", r.lw.dir);
	snprintf(out, sizeof out, "%s/stdout", r.lw.dir);
	snprintf(err, sizeof err, "%s/stderr", r.lw.dir);
	snprintf(json, sizeof json, "%s/report.json", r.lw.dir);
	snprintf(traces, sizeof traces, "%s/traces", r.lw.dir);

	static const char *const clean_env[] = { "LD_PRELOAD=", "LOCKWATCH_OPTIONS=", NULL };
	double t0 = now_s();
	r.native_status = lw_spawn(argv, clean_env, nout, nerr, RUN_MS);
	r.native_s = now_s() - t0;

	const char *lwargv[48] = { LW_BIN, "run", "--format", "json", "-o", json, "--trace-dir",
				   traces };
	int n = 8;
	for (int i = 0; opts && opts[i] && n < 16; i++)
		lwargv[n++] = opts[i];
	lwargv[n++] = "--";
	for (int i = 0; argv[i] && n < 47; i++)
		lwargv[n++] = argv[i];
	lwargv[n] = NULL;
	t0 = now_s();
	r.lw.status = lw_spawn(lwargv, clean_env, out, err, RUN_MS);
	r.lw_s = now_s() - t0;

	char *text = lw_slurp(json);
	if (text) {
		json_error_t je;
		r.lw.report = json_loads(text, 0, &je);
		free(text);
	}
	r.lw.stdout_text = lw_slurp(out);
	r.lw.stderr_text = lw_slurp(err);
	char *native = lw_slurp(nout);
	r.same_out = native && r.lw.stdout_text && !strcmp(native, r.lw.stdout_text);
	free(native);
	r.errors = lw_count(r.lw.report, NULL, "error");
	r.warnings = lw_count(r.lw.report, NULL, "warning");
	trace_size(traces, &r.trace_bytes, &r.trace_files);

	char ek[512], wk[512], line[1400];
	kinds_text(r.lw.report, "error", ek, sizeof ek);
	kinds_text(r.lw.report, "warning", wk, sizeof wk);
	snprintf(line, sizeof line,
		 "real: %-22s same output %s, status %d/%d, errors %d (%s), warnings %d (%s), "
		 "trace %lld KiB in %d files, time %.2fs/%.2fs ratio %.1f\n",
		 name, r.same_out ? "y" : "n", r.native_status, r.lw.status, r.errors, ek,
		 r.warnings, wk, r.trace_bytes / 1024, r.trace_files, r.native_s, r.lw_s,
		 r.native_s > 0.001 ? r.lw_s / r.native_s : 0.0);
	cr_log_info("%s", line);
	FILE *f = fopen(REPORT, "a");
	if (f) {
		fputs(line, f);
		fclose(f);
	}
	return r;
}

/* The judgement shared by every program: what issue 18 asks of a real program. */
static void expect_same_and_clean_status(const char *name, struct real_run *r, int want)
{
	cr_expect_eq(r->native_status, want, "%s: the native run itself failed (status %d)", name,
		     r->native_status);
	cr_expect_not_null(r->lw.report, "%s: no JSON report (lockwatch status %d); stderr:\n%s",
			   name, r->lw.status, r->lw.stderr_text ? r->lw.stderr_text : "");
	cr_expect(r->same_out, "%s: output differs under lockwatch\nnative run: see %s\nunder "
		  "lockwatch:\n%s\nstderr:\n%s", name, r->lw.dir,
		  r->lw.stdout_text ? r->lw.stdout_text : "(none)",
		  r->lw.stderr_text ? r->lw.stderr_text : "");
	/* lockwatch run returns the program's status, or 66 for error-level findings. */
	cr_expect(r->lw.status == r->native_status || (r->errors > 0 && r->lw.status == 66),
		  "%s: exit status %d under lockwatch, %d native; stderr:\n%s", name,
		  r->lw.status, r->native_status, r->lw.stderr_text ? r->lw.stderr_text : "");
	if (r->errors) {
		char *t = findings_text(r->lw.report, "error");
		cr_expect_eq(r->errors, 0, "%s: %d error-level finding(s) on a correct program:%s",
			     name, r->errors, t);
		free(t);
	}
}

static void expect_same_and_clean(const char *name, struct real_run *r)
{
	expect_same_and_clean_status(name, r, 0);
}

static void real_free(struct real_run *r)
{
	lw_result_free(&r->lw);
}

static void setup(void)
{
	if (mkdir("build/real", 0755) != 0 && errno != EEXIST)
		perror("build/real");
}

#define REAL(name, timeout_s, ...)                                                        \
	Test(real, name, .timeout = timeout_s, .init = setup)                             \
	{                                                                                 \
		const char *const argv[] = { __VA_ARGS__, NULL };                         \
		struct real_run r = real_run(#name, NULL, argv);                          \
		expect_same_and_clean(#name, &r);                                         \
		real_free(&r);                                                            \
	}

/* CPython: threading.Lock is a sem_t, RLock and Condition are built on it. */
REAL(py_threading, 150, PY, "tests/real/py_threading.py")
/* sqlite3: threads with their own connections, one shared connection, forked processes. */
REAL(py_sqlite, 150, PY, "tests/real/py_sqlite.py")
/* The sqlite3 shell: processes one after the other; then three at once, not ordered. */
REAL(sqlite_cli, 150, "/bin/sh", "tests/real/sqlite_cli.sh")
REAL(sqlite_cli_concurrent, 150, "/bin/sh", "tests/real/sqlite_cli_concurrent.sh")
/* OpenSSL (CPython's ssl and hashlib) from four threads: tens of thousands of locks made and
 * freed by CRYPTO_THREAD_lock_new. */
REAL(py_openssl, 150, PY, "tests/real/py_openssl.py")
/* multiprocessing (fork): a Pool, a process-shared Lock (sem_t in shared memory), a Queue. */
REAL(py_multiprocessing, 150, PY, "tests/real/py_multiprocessing.py")
/* LMDB: two processes with two threads each on one environment. */
REAL(py_lmdb, 150, PY, "tests/real/py_lmdb.py")
/* coreutils sort with four threads, merging temporary files. */
REAL(sort_parallel, 150, "/bin/sh", "tests/real/sort_parallel.sh")
/* Odd but legal pthread programs of tests/real/. */
REAL(once_init, 150, "build/real/once_init")
REAL(handoff, 150, "build/real/handoff")
REAL(short_threads, 150, "build/real/short_threads")
REAL(fork_workers, 150, "build/real/fork_workers")
REAL(robust, 150, "build/real/robust")
REAL(cancel, 150, "build/real/cancel")

/* A process that ends, with status 3, while its threads wait or hold locks. */
Test(real, exit_busy, .timeout = 150, .init = setup)
{
	const char *const argv[] = { "build/real/exit_busy", NULL };
	struct real_run r = real_run("exit_busy", NULL, argv);
	expect_same_and_clean_status("exit_busy", &r, 3);
	real_free(&r);
}

/* The same with hardware watchpoints on the data the programs share (--watch): the
 * happens-before that orders their accesses goes through a condition variable and a baton
 * (handoff's ring), a semaphore posted by the thread that did not wait on it (handoff's
 * buffer), pthread_once (once_init) and C11's mtx_t and cnd_t: no race may be reported. */
#define REAL_WATCH(name, vars, prog)                                                      \
	Test(real, name##_watch, .timeout = 150, .init = setup)                           \
	{                                                                                 \
		const char *const opts[] = { "--watch", vars, NULL };                     \
		const char *const argv[] = { prog, NULL };                                \
		struct real_run r = real_run(#name "_watch", opts, argv);                 \
		expect_same_and_clean(#name "_watch", &r);                                \
		real_free(&r);                                                            \
	}

REAL_WATCH(handoff, "shared_work,drained,buffer", "build/real/handoff")
REAL_WATCH(once_init, "alloc_used,log_lines,log_ready", "build/real/once_init")
REAL_WATCH(c11_threads, "count,consumed_sum,rec_total", "build/real/c11_threads")

/* GLib and C11 threads lock through their own functions (GMutex is a futex, C11's mtx_lock
 * calls glibc's internal pthread functions): besides no false alarm, lockwatch must have
 * seen the programs' nested locks (each nests two of its locks in one order), or a clean
 * report would mean nothing. */
Test(real, glib_pool, .timeout = 150, .init = setup)
{
	const char *const argv[] = { "build/real/glib_pool", NULL };
	struct real_run r = real_run("glib_pool", NULL, argv);
	expect_same_and_clean("glib_pool", &r);
	cr_expect_gt(lw_count_records(&r.lw, "acquire"), 0,
		     "glib_pool: no nested acquisition recorded: GMutex is not seen");
	real_free(&r);
}

Test(real, c11_threads, .timeout = 150, .init = setup)
{
	const char *const argv[] = { "build/real/c11_threads", NULL };
	struct real_run r = real_run("c11_threads", NULL, argv);
	expect_same_and_clean("c11_threads", &r);
	/* main, four workers, a producer and two consumers */
	cr_expect_geq(lw_threads_seen(&r.lw), 8,
		      "c11_threads: fewer than 8 threads recorded: thrd_create is not seen");
	cr_expect_gt(lw_count_records(&r.lw, "acquire"), 0,
		     "c11_threads: no nested acquisition recorded: mtx_lock is not seen");
	real_free(&r);
}

/* GLib's installed thread tests, the quick cases (the contended perf cases and mutex5,
 * rec-mutex4 and rwlock7, the 20-second philosophers, are in tests/real/glib-installed.sh).
 * A fixed seed makes their TAP output the same from run to run. */
#define SEED "--seed=R02S0123456789abcdef0123456789abcdef"
#define GLIB(name, prog, ...)                                                              \
	Test(real, glib_##name, .timeout = 150, .init = setup)                           \
	{                                                                                 \
		const char *const argv[] = { GLIB_TESTS prog, SEED, __VA_ARGS__, NULL };  \
		cr_assert_eq(access(argv[0], X_OK), 0,                                    \
			     "%s missing: install libglib2.0-tests (tools/install-deps.sh)",  \
			     argv[0]);                                                    \
		struct real_run r = real_run("glib-tests/" prog, NULL, argv);             \
		expect_same_and_clean("glib-tests/" prog, &r);                            \
		real_free(&r);                                                            \
	}

GLIB(mutex, "mutex", "-p", "/thread/mutex1", "-p", "/thread/mutex2", "-p", "/thread/mutex3",
     "-p", "/thread/mutex4")
GLIB(rec_mutex, "rec-mutex", "-p", "/thread/rec-mutex1", "-p", "/thread/rec-mutex2", "-p",
     "/thread/rec-mutex3")
GLIB(rwlock, "rwlock", "-p", "/thread/rwlock1", "-p", "/thread/rwlock2", "-p",
     "/thread/rwlock3", "-p", "/thread/rwlock4", "-p", "/thread/rwlock5", "-p",
     "/thread/rwlock6", "-p", "/thread/rwlock8")
GLIB(cond, "cond", "-p", "/thread/cond1", "-p", "/thread/cond2")
GLIB(thread, "thread", "-p", "/thread")
GLIB(once, "once", "-p", "/once", "-p", "/once-init")
