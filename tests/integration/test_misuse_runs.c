/* Issue 22: each misuse sample and its fix, 3 runs each, the verdict checked every run, none
 * hanging (tools/misuse-runs.sh; `make misuse-runs` runs it 20 times). */
#include <criterion/criterion.h>
#include "lw_test.h"

Test(misuse_runs, each_misuse_sample_and_its_fix_get_their_verdict_every_run, .timeout = 600)
{
	const char *argv[] = { "/bin/bash", "tools/misuse-runs.sh", "3", NULL };
	char out[] = "/tmp/lockwatch-misuse-runs-out-XXXXXX";
	int fd = mkstemp(out);
	cr_assert(fd >= 0);
	close(fd);
	int status = lw_spawn(argv, NULL, out, "/dev/null", 540000);
	char *text = lw_slurp(out);
	unlink(out);
	cr_assert_eq(status, 0, "tools/misuse-runs.sh 3 exited %d:\n%s", status, text ? text : "");
	free(text);
}
