/* lockwatch's SARIF report: its content, and the official validator (npm
 * @microsoft/sarif-multitool, installed under tools/sarif by tools/install-deps.sh) finding
 * no error in it. */
#include <criterion/criterion.h>

#include "lw_test.h"

#define VALIDATOR "tools/sarif/node_modules/.bin/sarif-multitool"

static char *dir;

static void setup(void)
{
	dir = lw_tmpdir();
}

static void teardown(void)
{
	lw_rmtree(dir);
	free(dir);
}

TestSuite(sarif, .init = setup, .fini = teardown);

/* Runs transfer_a_to_b under lockwatch with the SARIF report in dir/name; returns it parsed. */
static json_t *run_sarif(const char *name, const char *baseline)
{
	char out[256], traces[256], err[256];
	const char *argv[16];
	int n = 0, st;
	json_error_t je;
	json_t *j;

	snprintf(out, sizeof out, "%s/%s", dir, name);
	snprintf(traces, sizeof traces, "%s/traces", dir);
	snprintf(err, sizeof err, "%s/stderr", dir);
	argv[n++] = LW_BIN;
	argv[n++] = "run";
	argv[n++] = "--format";
	argv[n++] = "sarif";
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n++] = "--trace-dir";
	argv[n++] = traces;
	if (baseline) {
		argv[n++] = "--baseline";
		argv[n++] = baseline;
	}
	argv[n++] = "--";
	argv[n++] = "build/samples/transfer_a_to_b";
	argv[n] = NULL;
	st = lw_spawn(argv, NULL, NULL, err, 30000);
	cr_assert_eq(st, baseline ? 0 : 66, "lockwatch run exited with %d", st);
	j = json_load_file(out, 0, &je);
	cr_assert_not_null(j, "%s: %s", out, je.text);
	return j;
}

/* Makes sure the validator is installed: tools/install-deps.sh does it; a fresh clone that
 * skipped it gets it here. */
static void need_validator(void)
{
	if (access(VALIDATOR, X_OK) != 0) {
		int rc = system("cd tools/sarif && npm ci --no-audit --no-fund --loglevel=error "
				">/dev/null 2>&1 && chmod a+x node_modules/@microsoft/"
				"sarif-multitool-linux/Sarif.Multitool");

		(void)rc;
	}
	cr_assert(access(VALIDATOR, X_OK) == 0,
		  "the SARIF validator is not installed: run tools/install-deps.sh "
		  "(npm ci in tools/sarif)");
}

/* Validates path with `sarif-multitool validate`, which exits 0 even when it finds errors:
 * its own SARIF log is read instead.  Returns the number of error-level results, printed
 * when print. */
static int validate(const char *path, bool print)
{
	char log[256], out[256];
	const char *argv[] = { VALIDATOR, "validate", path, "-o", log, "--log", "ForceOverwrite",
			       NULL };
	/* The validator is a .NET program: without ICU it needs invariant globalization. */
	const char *env[] = { "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1",
			      "DOTNET_CLI_TELEMETRY_OPTOUT=1", NULL };
	json_error_t je;
	json_t *v, *results, *r;
	size_t i;
	int errors = 0, st;

	snprintf(log, sizeof log, "%s.validation.sarif", path);
	snprintf(out, sizeof out, "%s.validation.out", path);
	st = lw_spawn(argv, env, out, out, 120000);
	cr_assert_eq(st, 0, "sarif-multitool validate exited with %d:\n%s", st, lw_slurp(out));
	v = json_load_file(log, 0, &je);
	cr_assert_not_null(v, "no validation log %s: %s\n%s", log, je.text, lw_slurp(out));
	/* It ran to the end on our file. */
	cr_assert(json_is_true(json_object_get(json_array_get(json_object_get(
			  json_array_get(json_object_get(v, "runs"), 0), "invocations"), 0),
			  "executionSuccessful")), "the validator did not finish:\n%s", lw_slurp(out));
	results = json_object_get(json_array_get(json_object_get(v, "runs"), 0), "results");
	cr_assert(json_is_array(results));
	json_array_foreach(results, i, r) {
		const char *level = json_string_value(json_object_get(r, "level"));

		if (level && !strcmp(level, "error")) {
			char *text = json_dumps(r, JSON_COMPACT);

			if (print)
				fprintf(stderr, "validator error: %s\n", text);
			free(text);
			errors++;
		}
	}
	json_decref(v);
	return errors;
}

Test(sarif, validates_with_no_errors, .timeout = 240)
{
	char path[256];
	json_t *j;
	int errors;

	need_validator();
	j = run_sarif("r.sarif", NULL);
	json_decref(j);
	snprintf(path, sizeof path, "%s/r.sarif", dir);
	errors = validate(path, true);
	cr_assert_eq(errors, 0, "sarif-multitool found %d error(s) in lockwatch's SARIF", errors);
}

Test(sarif, the_validator_does_report_errors, .timeout = 240)
{
	/* So that "no errors" above means something: a region with line 0 and a URI with a
	 * space are errors for the validator. */
	char path[256];
	FILE *f;

	need_validator();
	snprintf(path, sizeof path, "%s/bad.sarif", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
	      "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"x\",\"version\":\"1\"}},\"results\":[{"
	      "\"ruleId\":\"a\",\"message\":{\"text\":\"m\"},\"locations\":[{\"physicalLocation\":"
	      "{\"artifactLocation\":{\"uri\":\"a b.c\"},\"region\":{\"startLine\":0}}}]}]}]}\n", f);
	fclose(f);
	cr_assert_gt(validate(path, false), 0);
}

Test(sarif, one_result_with_locations_flows_and_fingerprint, .timeout = 60)
{
	json_t *j = run_sarif("r.sarif", NULL);
	json_t *run = json_array_get(json_object_get(j, "runs"), 0);
	json_t *rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"),
					"rules");
	json_t *res = json_array_get(json_object_get(run, "results"), 0), *rule, *loc, *flows;
	const char *uri, *fp;
	size_t i;

	cr_assert_str_eq(json_string_value(json_object_get(j, "version")), "2.1.0");
	/* One rule per finding kind, each with help text. */
	cr_assert_eq(json_array_size(rules), 5);
	json_array_foreach(rules, i, rule) {
		cr_assert_not_null(json_string_value(json_object_get(rule, "id")));
		cr_assert_gt(strlen(json_string_value(json_object_get(json_object_get(rule, "help"),
									  "text"))), 20);
	}
	cr_assert_eq(json_array_size(json_object_get(run, "results")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(res, "ruleId")), "lock-order-cycle");
	cr_assert_str_eq(json_string_value(json_object_get(res, "level")), "error");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rules, (size_t)
		json_integer_value(json_object_get(res, "ruleIndex"))), "id")), "lock-order-cycle");
	/* The primary location: the closing acquisition, in the sample's source. */
	loc = json_object_get(json_array_get(json_object_get(res, "locations"), 0),
			      "physicalLocation");
	uri = json_string_value(json_object_get(json_object_get(loc, "artifactLocation"), "uri"));
	cr_assert(uri && strstr(uri, "transfer_a_to_b.c"), "uri %s", uri);
	cr_assert_gt(json_integer_value(json_object_get(json_object_get(loc, "region"),
							"startLine")), 0);
	/* The other three acquisitions as related locations. */
	cr_assert_eq(json_array_size(json_object_get(res, "relatedLocations")), 3);
	/* One thread flow per thread of the cycle, two steps each, in deadlock order. */
	flows = json_object_get(json_array_get(json_object_get(res, "codeFlows"), 0),
				"threadFlows");
	cr_assert_eq(json_array_size(flows), 2);
	cr_assert_eq(json_array_size(json_object_get(json_array_get(flows, 0), "locations")), 2);
	fp = json_string_value(json_object_get(json_object_get(res, "partialFingerprints"),
					       "lockwatch/v1"));
	cr_assert(fp && strlen(fp) == 16, "fingerprint %s", fp);
	cr_assert_null(json_object_get(res, "baselineState"));
	json_decref(j);
}

Test(sarif, fingerprint_is_stable_and_baseline_state_is_set, .timeout = 60)
{
	json_t *a = run_sarif("a.sarif", NULL), *b;
	char base[256];
	const char *fa, *fb, *state;

	/* A SARIF log is also accepted as a baseline. */
	snprintf(base, sizeof base, "%s/a.sarif", dir);
	b = run_sarif("b.sarif", base);
	json_t *ra = json_array_get(json_object_get(json_array_get(json_object_get(a, "runs"), 0),
						    "results"), 0);
	json_t *rb = json_array_get(json_object_get(json_array_get(json_object_get(b, "runs"), 0),
						    "results"), 0);
	fa = json_string_value(json_object_get(json_object_get(ra, "partialFingerprints"),
					       "lockwatch/v1"));
	fb = json_string_value(json_object_get(json_object_get(rb, "partialFingerprints"),
					       "lockwatch/v1"));
	cr_assert(fa && fb);
	cr_assert_str_eq(fa, fb);
	state = json_string_value(json_object_get(rb, "baselineState"));
	cr_assert(state && !strcmp(state, "unchanged"), "baselineState %s", state);
	json_decref(a);
	json_decref(b);
}
