/* lockwatch report's options for people and CI: baselines, suppressions, merged runs, the
 * lock graph (dot, svg), colour and source lines in the text report. */
#include <criterion/criterion.h>

#include "lw_test.h"

static char *dir;
static char traces[256];       /* traces of one run of transfer_a_to_b */

/* Runs lockwatch with args (NULL-terminated, without the program name) and env; stdout and
 * stderr are kept in *out and *err when not NULL.  Returns the exit status. */
static int lw(const char *const args[], const char *const env[], char **out, char **err)
{
	const char *argv[32] = { LW_BIN };
	char o[256], e[256];
	int n = 1, st;

	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(o, sizeof o, "%s/stdout", dir);
	snprintf(e, sizeof e, "%s/stderr", dir);
	st = lw_spawn(argv, env, o, e, 30000);
	if (out)
		*out = lw_slurp(o);
	if (err)
		*err = lw_slurp(e);
	return st;
}

/* dir/name, in one of 32 rotating buffers. */
static char *path_in(const char *name)
{
	static char p[32][256];
	static int k;

	k = (k + 1) % 32;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* Runs prog (with arg, may be NULL) under the shim, recording into dir/name. */
static void record(const char *prog, const char *name, const char *arg)
{
	char opts[300], *t = path_in(name);
	const char *argv[] = { prog, arg, NULL };
	const char *env[] = { "LD_PRELOAD=" LW_SHIM, opts, NULL };

	snprintf(opts, sizeof opts, "LOCKWATCH_OPTIONS=trace_dir=%s", t);
	cr_assert_eq(lw_spawn(argv, env, NULL, NULL, 30000), 0, "%s did not run", prog);
}

static void setup(void)
{
	dir = lw_tmpdir();
	record("build/samples/transfer_a_to_b", "traces", NULL);
	snprintf(traces, sizeof traces, "%s/traces", dir);
}

static void teardown(void)
{
	lw_rmtree(dir);
	free(dir);
}

TestSuite(options, .init = setup, .fini = teardown, .timeout = 60);

/* ---- baselines ---- */

static json_t *report_json(const char *const extra[], int expect)
{
	const char *args[16] = { "report", "--format", "json", "-o", path_in("r.json") };
	int n = 5, st;
	char *err = NULL;
	json_error_t je;
	json_t *j;

	for (int i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n++] = traces;
	args[n] = NULL;
	st = lw(args, NULL, NULL, &err);
	cr_assert_eq(st, expect, "status %d, stderr: %s", st, err);
	free(err);
	j = json_load_file(path_in("r.json"), 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	return j;
}

static const char *fingerprint(json_t *report)
{
	json_t *f = lw_find(report, "lock-order-cycle", "error");

	cr_assert_not_null(f);
	return json_string_value(json_object_get(f, "fingerprint"));
}

Test(options, every_json_finding_has_a_fingerprint)
{
	json_t *j = report_json(NULL, 66);
	const char *fp = fingerprint(j);

	cr_assert(fp && strlen(fp) == 16, "%s", fp);
	cr_assert_null(json_object_get(lw_find(j, NULL, NULL), "baseline"));
	json_decref(j);
}

Test(options, a_baseline_with_the_cycle_exits_0_and_marks_it)
{
	json_t *old = report_json(NULL, 66), *j;
	const char *extra[] = { "--baseline", path_in("old.json"), NULL };
	const char *text_args[] = { "report", "--baseline", path_in("old.json"), traces, NULL };
	char *err = NULL;

	cr_assert_eq(json_dump_file(old, path_in("old.json"), 0), 0);
	j = report_json(extra, 0);
	cr_assert_str_eq(fingerprint(j), fingerprint(old));
	cr_assert(json_is_true(json_object_get(lw_find(j, "lock-order-cycle", "error"),
					       "baseline")));
	cr_assert_eq(lw(text_args, NULL, NULL, &err), 0);
	cr_assert(strstr(err, "[in baseline]") && strstr(err, "1 in the baseline"), "%s", err);
	free(err);
	json_decref(old);
	json_decref(j);
}

Test(options, a_new_cycle_exits_66_despite_the_baseline)
{
	/* The baseline: the fixed program, which has no cycle. */
	const char *args[] = { "run", "--format", "json", "-o", path_in("old.json"), "--trace-dir",
			       path_in("fixed"), "--", "build/samples/transfer_ordered", NULL };
	const char *extra[] = { "--baseline", path_in("old.json"), NULL };
	json_t *j;

	cr_assert_eq(lw(args, NULL, NULL, NULL), 0);
	j = report_json(extra, 66);
	cr_assert_null(json_object_get(lw_find(j, "lock-order-cycle", "error"), "baseline"));
	json_decref(j);
}

Test(options, the_fingerprint_survives_code_motion)
{
	/* The same program with lines added above everything: other lines, same functions. */
	char *src = lw_slurp("samples/transfer_a_to_b.c"), *moved = path_in("moved.c");
	char *text = malloc(strlen(src) + 200), cmd[600];
	const char *args[] = { "report", "--format", "json", "-o", path_in("m.json"),
			       path_in("moved-traces"), NULL };
	json_t *a = report_json(NULL, 66), *b;
	json_error_t je;

	cr_assert_not_null(src);
	sprintf(text, "/* moved */\n#include <stdio.h>\n\nstatic int unused_1;\nstatic int "
		"unused_2;\n\n%s", src);
	write_file(moved, text);
	snprintf(cmd, sizeof cmd, "cc -O0 -g -pthread -o %s/moved %s 2>&1", dir, moved);
	cr_assert_eq(system(cmd), 0, "cannot compile %s", moved);
	record(path_in("moved"), "moved-traces", NULL);
	cr_assert_eq(lw(args, NULL, NULL, NULL), 66);
	b = json_load_file(path_in("m.json"), 0, &je);
	cr_assert_not_null(b);
	cr_assert_str_eq(fingerprint(a), fingerprint(b));
	free(src);
	free(text);
	json_decref(a);
	json_decref(b);
}

Test(options, a_baseline_that_is_not_a_report_is_a_usage_error)
{
	const char *args[] = { "report", "--baseline", path_in("bad.json"), traces, NULL };
	char *err = NULL;

	write_file(path_in("bad.json"), "{\"findings\": [\n");
	cr_assert_eq(lw(args, NULL, NULL, &err), 2);
	cr_assert(strstr(err, "bad.json"), "%s", err);
	free(err);
}

/* ---- suppressions ---- */

Test(options, a_suppression_drops_the_cycle_and_unused_ones_are_reported)
{
	const char *args[] = { "report", "--suppressions", path_in("supp"), traces, NULL };
	char *err = NULL;

	write_file(path_in("supp"), "# known, tracked elsewhere\n"
				    "deadlock:transfer_b_to*\n"
				    "race:never_matches\n"
				    "\n"
				    "mutex:lock_a\n");
	cr_assert_eq(lw(args, NULL, NULL, &err), 0, "%s", err);
	cr_assert(strstr(err, "0 errors") && strstr(err, "1 suppressed"), "%s", err);
	cr_assert(strstr(err, "supp:3: suppression 'race:never_matches' matched nothing"), "%s",
		  err);
	cr_assert(strstr(err, "supp:5: suppression 'mutex:lock_a' matched nothing"), "%s", err);
	cr_assert_null(strstr(err, "deadlock:transfer_b_to*' matched nothing"), "%s", err);
	free(err);
}

Test(options, suppressions_match_locks_files_and_modules)
{
	static const char *const pats[] = {
		"deadlock:lock_b\n",                  /* a lock name */
		"deadlock:transfer_a_to_b.c\n",       /* a source file */
		"deadlock:^transfer_a_to_b$\n",       /* a function, anchored */
		"called_from_lib:transfer_a_to_b\n",  /* the module that took the locks */
	};

	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		const char *args[] = { "report", "--format", "json", "--suppressions",
				       path_in("supp"), traces, NULL };
		char *out = NULL;
		json_t *j;

		write_file(path_in("supp"), pats[i]);
		cr_assert_eq(lw(args, NULL, &out, NULL), 0, "pattern %s", pats[i]);
		j = json_loads(out, 0, NULL);
		cr_assert_eq(lw_count(j, NULL, NULL), 0, "pattern %s", pats[i]);
		json_decref(j);
		free(out);
	}
}

Test(options, suppressions_from_lockwatch_options)
{
	char env_opt[300];
	const char *env[] = { env_opt, NULL };
	const char *report[] = { "report", traces, NULL };
	const char *run[] = { "run", "--trace-dir", path_in("run-traces"), "--",
			      "build/samples/transfer_a_to_b", NULL };
	char *err = NULL;

	write_file(path_in("supp"), "deadlock:lock_a\n");
	snprintf(env_opt, sizeof env_opt, "LOCKWATCH_OPTIONS=verbose=0:suppressions='%s'",
		 path_in("supp"));
	cr_assert_eq(lw(report, env, NULL, &err), 0, "%s", err);
	free(err);
	/* run reads it too, and does not pass it on to the shim, which would not know it. */
	cr_assert_eq(lw(run, env, NULL, &err), 0, "%s", err);
	cr_assert_null(strstr(err, "unknown option"), "%s", err);
	free(err);
}

Test(options, a_bad_suppressions_file_is_a_usage_error)
{
	const char *args[] = { "report", "--suppressions", path_in("supp"), traces, NULL };
	char *err = NULL;

	write_file(path_in("supp"), "deadlock:ok\nlockorder:foo\n");
	cr_assert_eq(lw(args, NULL, NULL, &err), 2);
	cr_assert(strstr(err, "supp:2: unknown suppression type 'lockorder'"), "%s", err);
	free(err);
}

/* ---- merged runs ---- */

Test(options, a_cycle_split_across_two_runs_is_found)
{
	const char *args[] = { "report", "--format", "json", "-o", path_in("r.json"),
			       path_in("run1"), path_in("run2"), NULL };
	json_t *j, *f;

	record("build/tests/programs/half_order", "run1", "ab");
	record("build/tests/programs/half_order", "run2", "ba");
	cr_assert_eq(lw(args, NULL, NULL, NULL), 66);
	j = json_load_file(path_in("r.json"), 0, NULL);
	f = lw_find(j, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_lock(f, "lock_a") && lw_has_lock(f, "lock_b"));
	cr_assert(lw_has_frame(f, "worker", "half_order.c"));
	json_decref(j);
}

/* ---- the lock graph ---- */

Test(options, dot_draws_the_cycle_and_renders_with_dot)
{
	const char *args[] = { "report", "--format", "dot", "-o", path_in("g.dot"), traces, NULL };
	const char *all[] = { "report", "--format", "dot", "--graph=all", traces, NULL };
	char *dot, *out = NULL, cmd[600];

	cr_assert_eq(lw(args, NULL, NULL, NULL), 66);
	dot = lw_slurp(path_in("g.dot"));
	cr_assert(strstr(dot, "digraph") && strstr(dot, "label=\"lock_a\"") &&
		  strstr(dot, "label=\"lock_b\""), "%s", dot);
	cr_assert(strstr(dot, "label=\"transfer_a_to_b\"") &&
		  strstr(dot, "label=\"transfer_b_to_a\""), "%s", dot);
	cr_assert(strstr(dot, "#d00000"), "the cycle is not highlighted:\n%s", dot);
	snprintf(cmd, sizeof cmd, "dot -Tsvg -o %s %s", path_in("g.svg"), path_in("g.dot"));
	cr_assert_eq(system(cmd), 0, "dot could not render:\n%s", dot);
	free(dot);
	dot = lw_slurp(path_in("g.svg"));
	cr_assert(strstr(dot, "<svg") && strstr(dot, "lock_a"));
	free(dot);
	cr_assert_eq(lw(all, NULL, &out, NULL), 66);
	cr_assert(strstr(out, "lock_a") && strstr(out, "lock_b"));
	free(out);
}

Test(options, a_warning_cycle_is_dashed_orange)
{
	/* One thread takes the locks in both orders: a cycle that cannot deadlock. */
	const char *rec[] = { "run", "--format", "dot", "-o", path_in("w.dot"), "--trace-dir",
			      path_in("w"), "--", "build/tests/programs/half_order", "both", NULL };
	const char *none[] = { "run", "--format", "dot", "-o", path_in("n.dot"), "--trace-dir",
			       path_in("n"), "--", "build/tests/programs/half_order", "ab", NULL };
	char *dot;

	cr_assert_eq(lw(rec, NULL, NULL, NULL), 0);
	dot = lw_slurp(path_in("w.dot"));
	cr_assert(strstr(dot, "#ff8c00") && strstr(dot, "style=dashed"), "%s", dot);
	cr_assert_null(strstr(dot, "#d00000\", fontcolor"), "%s", dot);
	free(dot);
	/* No cycle: the default graph says so and how to see every lock. */
	cr_assert_eq(lw(none, NULL, NULL, NULL), 0);
	dot = lw_slurp(path_in("n.dot"));
	cr_assert(strstr(dot, "no lock-order cycle") && strstr(dot, "--graph=all"), "%s", dot);
	free(dot);
}

Test(options, svg_format_and_a_clear_error_without_graphviz)
{
	const char *args[] = { "report", "--format", "svg", "-o", path_in("g.svg"), traces, NULL };
	const char *env[] = { "PATH=/nonexistent", NULL };
	char *svg, *err = NULL;

	cr_assert_eq(lw(args, NULL, NULL, NULL), 66);
	svg = lw_slurp(path_in("g.svg"));
	cr_assert(svg && strstr(svg, "<svg") && strstr(svg, "lock_b"));
	free(svg);
	cr_assert_eq(lw(args, env, NULL, &err), 1);
	cr_assert(strstr(err, "Graphviz"), "%s", err);
	free(err);
}

/* ---- the text report ---- */

Test(options, colour_source_lines_and_summary)
{
	const char *always[] = { "report", "--color=always", traces, NULL };
	const char *never[] = { "report", "--color", "never", traces, NULL };
	const char *autom[] = { "report", traces, NULL };
	const char *no_color[] = { "NO_COLOR=1", NULL };
	char *err = NULL;

	cr_assert_eq(lw(always, no_color, NULL, &err), 66);
	cr_assert(strstr(err, "\033[1;31mERROR\033[0m"), "%s", err);
	free(err);
	cr_assert_eq(lw(never, NULL, NULL, &err), 66);
	cr_assert_null(strchr(err, '\033'));
	/* The frame, then its source line, indented below it. */
	cr_assert(strstr(err, "#0 transfer_a_to_b (samples/transfer_a_to_b.c:21)\n"
			      "          pthread_mutex_lock(&lock_b);\n"), "%s", err);
	cr_assert(strstr(err, "lockwatch: 1 error, 0 warnings in 1 process\n"), "%s", err);
	free(err);
	/* Not a terminal: no colour by default. */
	cr_assert_eq(lw(autom, NULL, NULL, &err), 66);
	cr_assert_null(strchr(err, '\033'));
	free(err);
}
