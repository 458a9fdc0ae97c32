/* Every sample under `lockwatch run`, judged against its row in samples/README.md, each run
 * once; a few samples add their own assertions on the same run. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdbool.h>

#include "lw_test.h"

#define README      "samples/README.md"
#define MAX_ROWS    128
#define MAX_VERDICT 8

/* One row of the table.  Plain arrays: Criterion copies parameters into each test. */
struct row {
	char name[64];               /* "transfer_a_to_b" (the row says transfer_a_to_b.c) */
	char options[256];           /* lockwatch run options, "" for none */
	char verdict[256];           /* as written */
	int line;
};

/* Copies cell text without surrounding blanks and backticks; "\|" becomes "|". */
static void cell(char *dst, size_t cap, const char *s, size_t n)
{
	size_t o = 0;

	while (n && (*s == ' ' || *s == '`'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '`'))
		n--;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '|')
			continue;
		dst[o++] = s[i];
	}
	dst[o] = '\0';
}

/* Splits a table line into cells; returns how many (at most max). */
static int split_row(const char *line, char cells[][256], int max)
{
	const char *p = line, *start;
	int n = 0;

	if (*p != '|')
		return 0;
	start = ++p;
	for (; *p && *p != '\n'; p++) {
		if (*p == '\\' && p[1] == '|') {
			p++;
			continue;
		}
		if (*p == '|') {
			if (n < max)
				cell(cells[n], 256, start, (size_t)(p - start));
			n++;
			start = p + 1;
		}
	}
	return n;
}

/* Reads the samples table of the README.  Returns the number of rows (aborts the test run
 * when the README is missing or has no table: that is a failure, not an empty pass). */
static size_t read_table(struct row *rows, size_t max)
{
	FILE *f = fopen(README, "r");
	char line[2048], cells[8][256];
	size_t n = 0;
	int lineno = 0;
	bool in_table = false;

	if (!f) {
		perror(README);
		abort();
	}
	while (fgets(line, sizeof(line), f)) {
		int nc;

		lineno++;
		nc = split_row(line, cells, 8);
		if (nc < 5) {
			in_table = false;
			continue;
		}
		if (!strcmp(cells[0], "Sample")) {
			in_table = true;
			continue;
		}
		if (!in_table || cells[0][0] == '-' || n == max)
			continue;
		struct row *r = &rows[n++];
		size_t len = strlen(cells[0]);

		memset(r, 0, sizeof(*r));
		if (len > 2 && !strcmp(cells[0] + len - 2, ".c"))
			len -= 2;
		snprintf(r->name, sizeof(r->name), "%.*s", (int)len, cells[0]);
		if (strcmp(cells[3], "-") && strcmp(cells[3], "") && strcmp(cells[3], "\xe2\x80\x94"))
			snprintf(r->options, sizeof(r->options), "%s", cells[3]);
		snprintf(r->verdict, sizeof(r->verdict), "%s", cells[4]);
		r->line = lineno;
	}
	fclose(f);
	return n;
}

/* A verdict: (severity, kind) pairs, none for "clean". */
struct verdict {
	int n;
	char severity[MAX_VERDICT][16];
	char kind[MAX_VERDICT][64];
};

/* Parses "clean" or "error: deadlock, warning: lock-order-cycle".  Returns false when the
 * text is neither. */
static bool parse_verdict(const char *text, struct verdict *v)
{
	char buf[256];
	char *save = NULL;

	memset(v, 0, sizeof(*v));
	if (!strcmp(text, "clean"))
		return true;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char sev[16], kind[64];

		if (v->n == MAX_VERDICT || sscanf(item, " %15[a-z] : %63[a-z-]", sev, kind) != 2 ||
		    (strcmp(sev, "error") && strcmp(sev, "warning")))
			return false;
		snprintf(v->severity[v->n], sizeof(v->severity[0]), "%s", sev);
		snprintf(v->kind[v->n], sizeof(v->kind[0]), "%s", kind);
		v->n++;
	}
	return v->n > 0;
}

static bool verdict_has(const struct verdict *v, const char *sev, const char *kind)
{
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->severity[i], sev) && !strcmp(v->kind[i], kind))
			return true;
	return false;
}

static bool verdict_errors(const struct verdict *v)
{
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->severity[i], "error"))
			return true;
	return false;
}

/* Runs prog under `lockwatch run --format json OPTIONS --`, like lw_run_json. */
static struct lw_result run_with_options(const char *prog, const char *options, int timeout_ms)
{
	struct lw_result r = { 0 };
	char *d = lw_tmpdir(), opts[256], json[128], err[128], traces[128];
	const char *argv[40] = { LW_BIN, "run", "--format", "json" };
	int n = 4;
	char *save = NULL;

	snprintf(r.dir, sizeof r.dir, "%s", d);
	free(d);
	snprintf(json, sizeof json, "%s/report.json", r.dir);
	snprintf(err, sizeof err, "%s/stderr", r.dir);
	snprintf(traces, sizeof traces, "%s/traces", r.dir);
	argv[n++] = "-o";
	argv[n++] = json;
	argv[n++] = "--trace-dir";
	argv[n++] = traces;
	snprintf(opts, sizeof(opts), "%s", options);
	for (char *o = strtok_r(opts, " ", &save); o && n < 36; o = strtok_r(NULL, " ", &save))
		argv[n++] = o;
	argv[n++] = "--";
	argv[n++] = prog;
	argv[n] = NULL;
	r.status = lw_spawn(argv, NULL, NULL, err, timeout_ms);
	char *text = lw_slurp(json);
	if (text) {
		json_error_t je;
		r.report = json_loads(text, 0, &je);
		free(text);
	}
	r.stderr_text = lw_slurp(err);
	return r;
}

/* ---- assertions particular to some samples, on the same run ---- */

/* Whether any frame of any thread's "stack" is in function fn. */
static bool thread_frame(json_t *finding, const char *fn)
{
	size_t i, j;
	json_t *t, *fr;

	json_array_foreach(json_object_get(finding, "threads"), i, t)
		json_array_foreach(json_object_get(t, "stack"), j, fr) {
			const char *f = json_string_value(json_object_get(fr, "function"));
			if (f && !strcmp(f, fn))
				return true;
		}
	return false;
}

static void check_file_check_then_act(struct lw_result *r)
{
	json_t *f = lw_find(r->report, "atomicity-violation", "error");
	const char *path = json_string_value(json_object_get(f, "path"));

	cr_assert_not_null(f, "no atomicity-violation");
	cr_assert_not_null(path, "the finding names no path");
	cr_assert(!strncmp(path, "/tmp/lockwatch-sample-", 22) && strstr(path, ".lock"),
		  "path %s", path);
	cr_assert(strstr(json_string_value(json_object_get(f, "message")), path));
	cr_assert(thread_frame(f, "try_to_own"), "no stack in try_to_own");
}

static void check_deadlock_lock_order(struct lw_result *r)
{
	json_t *f = lw_find(r->report, "deadlock", "error");

	cr_assert_not_null(f, "no deadlock");
	cr_assert(lw_has_lock(f, "lock1") && lw_has_lock(f, "lock2"), "locks lock1 and lock2");
	cr_assert_geq(json_array_size(json_object_get(f, "threads")), 2);
}

static void check_reader_writer_lesson(struct lw_result *r)
{
	json_t *f = lw_find(r->report, "misuse", "error");
	const char *msg = json_string_value(json_object_get(f, "message"));

	cr_assert_not_null(msg, "no misuse");
	cr_assert(strstr(msg, "room") && strstr(msg, "held by thread"),
		  "the misuse names the room and its owner: %s", msg);
}

static void check_livelock(struct lw_result *r)
{
	json_t *f = lw_find(r->report, "lock-order-cycle", "warning");
	const char *reason = json_string_value(json_object_get(f, "reason"));

	cr_assert_not_null(reason, "no warning with a reason");
	cr_assert_str_eq(reason, "trylock");
}

static void check_wordcount_fork(struct lw_result *r)
{
	char traces[128];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(traces, sizeof(traces), "%s/traces", r->dir);
	d = opendir(traces);
	cr_assert_not_null(d, "no trace directory %s", traces);
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".trace") != NULL;
	closedir(d);
	cr_assert_eq(n, 5, "%d traces for a parent and 4 children", n);
}

static const struct {
	const char *name;
	void (*check)(struct lw_result *r);
} extra_checks[] = {
	{ "file_check_then_act", check_file_check_then_act },
	{ "deadlock_lock_order", check_deadlock_lock_order },
	{ "reader_writer_lesson", check_reader_writer_lesson },
	{ "livelock", check_livelock },
	{ "wordcount_fork", check_wordcount_fork },
};

/* ---- the tests ---- */

TestSuite(samples, .timeout = 60);

/* The run of the current test, released by the fixture even when an assertion fails. */
static struct lw_result run;
static bool have_run;

static void release_run(void)
{
	if (have_run)
		lw_result_free(&run);
	have_run = false;
}

ParameterizedTestParameters(samples, verdict)
{
	static struct row rows[MAX_ROWS];
	size_t n = read_table(rows, MAX_ROWS);

	return cr_make_param_array(struct row, rows, n);
}

/* The deadlock sample must end within 10 s (the shim ends it); the others run in well
 * under a second, with room for a loaded machine. */
ParameterizedTest(struct row *row, samples, verdict, .timeout = 60, .fini = release_run)
{
	char prog[128];
	struct verdict want;
	struct lw_result *rp = &run, r;
	int timeout_ms = strstr(row->verdict, "deadlock") ? 10000 : 30000;
	size_t i;
	json_t *f;

	cr_assert(parse_verdict(row->verdict, &want), README ":%d: %s: cannot read verdict '%s'",
		  row->line, row->name, row->verdict);
	snprintf(prog, sizeof(prog), "build/samples/%s", row->name);
	cr_assert_eq(access(prog, X_OK), 0, "%s is not built", prog);
	run = row->options[0] ? run_with_options(prog, row->options, timeout_ms)
			      : lw_run_json(prog, NULL, NULL, timeout_ms);
	have_run = true;
	r = *rp;
	cr_assert_neq(r.status, -1, "%s: no end within %d ms", row->name, timeout_ms);
	cr_assert_not_null(r.report, "%s: no JSON report (status %d), stderr: %s", row->name,
			   r.status, r.stderr_text);

	/* Every error is in the verdict, and every verdict item was found.  A warning the
	 * verdict does not list is logged, not failed: the verdict is exact at error level. */
	json_array_foreach(json_object_get(r.report, "findings"), i, f) {
		const char *k = json_string_value(json_object_get(f, "kind"));
		const char *s = json_string_value(json_object_get(f, "severity"));

		if (s && !strcmp(s, "warning") && k && !verdict_has(&want, s, k)) {
			cr_log_warn("%s: warning: %s: %s (not in the README's verdict: %s)", row->name,
				    k, json_string_value(json_object_get(f, "message")), row->verdict);
			continue;
		}
		cr_expect(k && s && verdict_has(&want, s, k),
			  "%s: unexpected %s: %s: %s (README says: %s)", row->name, s, k,
			  json_string_value(json_object_get(f, "message")), row->verdict);
	}
	for (int k = 0; k < want.n; k++)
		cr_expect_gt(lw_count(r.report, want.kind[k], want.severity[k]), 0,
			     "%s: no %s: %s in the report (README says: %s)", row->name,
			     want.severity[k], want.kind[k], row->verdict);
	cr_expect_eq(r.status, verdict_errors(&want) ? 66 : 0, "%s: exit status %d, stderr: %s",
		     row->name, r.status, r.stderr_text);
	for (size_t c = 0; c < sizeof(extra_checks) / sizeof(extra_checks[0]); c++)
		if (!strcmp(extra_checks[c].name, row->name))
			extra_checks[c].check(rp);
}

/* Every C file in samples/ has a row, and every row a sample. */
Test(samples, readme_lists_every_sample, .timeout = 10)
{
	static struct row rows[MAX_ROWS];
	size_t n = read_table(rows, MAX_ROWS);
	DIR *d = opendir("samples");
	struct dirent *e;

	cr_assert_gt(n, 0, "no table in " README);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		bool found = false;

		if (len < 3 || strcmp(e->d_name + len - 2, ".c"))
			continue;
		for (size_t i = 0; i < n && !found; i++)
			found = strlen(rows[i].name) == len - 2 &&
				!strncmp(rows[i].name, e->d_name, len - 2);
		cr_expect(found, "samples/%s has no row in " README, e->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		char src[sizeof(rows[i].name) + 16];
		struct verdict v;

		snprintf(src, sizeof(src), "samples/%.63s.c", rows[i].name);
		cr_expect_eq(access(src, R_OK), 0, README ":%d: %s does not exist", rows[i].line, src);
		cr_expect(parse_verdict(rows[i].verdict, &v), README ":%d: bad verdict '%s'",
			  rows[i].line, rows[i].verdict);
	}
}
