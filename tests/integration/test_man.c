/* The man pages lint clean: mandoc -Tlint -Wwarning, or groff -man -ww -z without mandoc. */
/*
 * Run from the repository root (make test does).  A page passes when the linter exits 0 and
 * prints nothing at all, on either stream.  With neither linter installed the tests are
 * skipped, not passed silently: tools/install-deps.sh installs mandoc.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Returns 1 when `name` is an executable in PATH, else 0. */
static int have_program(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Lints man/<page> and asserts a silent, successful run. */
static void lint_page(const char *page)
{
	char path[256], cmd[512], out[4096];
	size_t len = 0, n;
	FILE *p;
	int status;

	snprintf(path, sizeof path, "man/%s", page);
	cr_assert(access(path, R_OK) == 0, "%s is missing (run the tests from the repository root)",
		  path);
	if (have_program("mandoc"))
		snprintf(cmd, sizeof cmd, "mandoc -Tlint -Wwarning %s 2>&1", path);
	else if (have_program("groff"))
		snprintf(cmd, sizeof cmd, "groff -man -ww -z %s 2>&1", path);
	else
		cr_skip_test("neither mandoc nor groff is installed");

	p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run: %s", cmd);
	while (len < sizeof out - 1 && (n = fread(out + len, 1, sizeof out - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	/* Drain anything beyond the buffer so the linter is not killed by SIGPIPE. */
	while (fgetc(p) != EOF)
		;
	status = pclose(p);
	cr_expect_eq(len, 0, "%s printed:\n%s", cmd, out);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status 0x%x",
		  cmd, (unsigned)status);
}

Test(man, lockwatch_1, .timeout = 30)
{
	lint_page("lockwatch.1");
}

Test(man, lockwatch_h_3, .timeout = 30)
{
	lint_page("lockwatch.h.3");
}

Test(man, liblockwatch_7, .timeout = 30)
{
	lint_page("liblockwatch.7");
}

Test(man, lockwatch_trace_5, .timeout = 30)
{
	lint_page("lockwatch-trace.5");
}
