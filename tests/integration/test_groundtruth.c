/* The ground truth (issue 21; tests/groundtruth/): random small pthread programs whose racy
 * pairs and check-then-act violations the generator knows from their structure, each run
 * under lockwatch in watch mode (gcc, --watch) and in hook mode (lockwatch cc).  A finding
 * the truth says cannot exist fails the test; recall is printed, not asserted (it depends on
 * the interleavings a run happens to get).  The fixed seeds here are the quick batch; `make
 * test-groundtruth` runs a larger one.
 *
 * And the runner's own check: with one block's locks left out of each program but not out
 * of its truth, the same runner must report false findings in both modes, or it is not
 * looking. */
#include <criterion/criterion.h>

#include "lw_test.h"

#define PY        "/usr/bin/python3"
#define RUNNER    "tests/groundtruth/run.py"
#define BATCH_MS  300000

static int run_batch(const char *const extra[], char **text)
{
	char *dir = lw_tmpdir();
	char out[256];
	snprintf(out, sizeof out, "%s/out", dir);
	const char *argv[24] = { PY, RUNNER };
	int n = 2;
	for (int i = 0; extra[i] && n < 23; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	int st = lw_spawn(argv, NULL, out, out, BATCH_MS);
	*text = lw_slurp(out);
	lw_rmtree(dir);
	free(dir);
	return st;
}

Test(groundtruth, fixed_seeds_have_no_false_finding_in_either_mode, .timeout = 360)
{
	const char *const args[] = { "--seed", "1", "--n", "24", "--jobs", "2", NULL };
	char *text = NULL;
	int st = run_batch(args, &text);
	/* The summary lines, with the recall per mode, in make test's output. */
	for (char *l = text; l && *l;) {
		char *e = strchr(l, '\n');
		int len = e ? (int)(e - l) : (int)strlen(l);
		if (strncmp(l, "groundtruth ", 12) == 0)
			fprintf(stderr, "%.*s\n", len, l);
		l = e ? e + 1 : NULL;
	}
	cr_assert_eq(st, 0, "the ground-truth batch failed (status %d):\n%s", st,
		     text ? text : "(no output)");
	cr_assert(text && strstr(text, "groundtruth watch mode, seeds 1..24: 0 false findings"),
		  "%s", text ? text : "(no output)");
	cr_assert(strstr(text, "groundtruth hook mode, seeds 1..24: 0 false findings"), "%s", text);
	free(text);
}

Test(groundtruth, a_truth_that_is_wrong_on_purpose_gives_false_findings, .timeout = 360)
{
	const char *const args[] = { "--mutate", "--seed", "1", "--n", "24", "--jobs", "2", NULL };
	char *text = NULL;
	int st = run_batch(args, &text);
	cr_assert_eq(st, 0, "the runner missed the false findings of mutants (status %d):\n%s", st,
		     text ? text : "(no output)");
	free(text);
}
