/* make install into a DESTDIR: the installed lockwatch runs a sample with its installed shim,
 * and make uninstall removes every file it put there. */
#include <criterion/criterion.h>
#include <limits.h>

#include "lw_test.h"

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

TestSuite(install, .init = setup, .fini = teardown);

/* Runs make TARGET DESTDIR=dir PREFIX=/usr in the source tree; returns its status. */
static int make(const char *target)
{
	char destdir[PATH_MAX + 16], log[PATH_MAX + 16];
	const char *argv[] = { "/usr/bin/make", "-s", "--no-print-directory", target, destdir,
			       "PREFIX=/usr", NULL };
	int st;

	snprintf(destdir, sizeof destdir, "DESTDIR=%s/root", dir);
	snprintf(log, sizeof log, "%s/make.log", dir);
	st = lw_spawn(argv, NULL, log, log, 240000);
	if (st != 0)
		fprintf(stderr, "make %s:\n%s\n", target, lw_slurp(log));
	return st;
}

static int count_files(void)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int n = 0, c;

	snprintf(cmd, sizeof cmd, "find '%s/root' -type f -o -type l", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while ((c = fgetc(p)) != EOF)
		n += c == '\n';
	pclose(p);
	return n;
}

static const char *in_root(const char *rel)
{
	static char p[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/root/usr/%s", dir, rel);
	return p[k];
}

Test(install, installed_lockwatch_runs_a_sample_with_its_shim, .timeout = 300)
{
	char traces[PATH_MAX], err[PATH_MAX], bin[PATH_MAX];
	const char *run[] = { bin, "run", "--trace-dir", traces, "--",
			      "build/samples/transfer_a_to_b", NULL };
	/* Not the shim of the source tree: only the installed one. */
	const char *env[] = { "LOCKWATCH_SHIM=", NULL };
	char *text;
	int st;

	snprintf(bin, sizeof bin, "%s", in_root("bin/lockwatch"));
	snprintf(traces, sizeof traces, "%s/traces", dir);
	snprintf(err, sizeof err, "%s/stderr", dir);
	cr_assert_eq(make("install"), 0);
	static const char *const files[] = {
		"bin/lockwatch", "lib/liblockwatch.so", "include/lockwatch.h",
		"lib/pkgconfig/lockwatch.pc", "share/man/man1/lockwatch.1",
		"share/man/man5/lockwatch-trace.5", "share/man/man7/liblockwatch.7",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		cr_assert(access(in_root(files[i]), R_OK) == 0, "%s was not installed", files[i]);
	/* The pkg-config file names the prefix it was installed for. */
	text = lw_slurp(in_root("lib/pkgconfig/lockwatch.pc"));
	cr_assert(strstr(text, "prefix=/usr\n") && strstr(text, "Version: ") &&
		  !strstr(text, "@PREFIX@"), "%s", text);
	free(text);

	st = lw_spawn(run, env, NULL, err, 60000);
	text = lw_slurp(err);
	cr_assert_eq(st, 66, "installed lockwatch exited with %d:\n%s", st, text);
	cr_assert(strstr(text, "lock-order-cycle: lock_a -> lock_b"), "%s", text);
	free(text);

	/* It looks for the shim next to itself (../lib), not in the source tree. */
	cr_assert_eq(unlink(in_root("lib/liblockwatch.so")), 0);
	st = lw_spawn(run, env, NULL, err, 60000);
	text = lw_slurp(err);
	cr_assert_eq(st, 1, "without its shim: %d:\n%s", st, text);
	cr_assert(strstr(text, "/root/usr/bin/../lib/liblockwatch.so"), "%s", text);
	free(text);

	cr_assert_eq(make("uninstall"), 0);
	cr_assert_eq(count_files(), 0, "make uninstall left files in %s/root", dir);
}
