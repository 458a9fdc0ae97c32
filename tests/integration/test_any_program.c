/* What real programs do that the samples do not (issue 18's smaller points): exit while
 * other threads lock, descriptors closed or counted, dlopen by a relative path, a chdir
 * before exec, lock wrappers in libraries, arrays of locks, many file names checked. */
#include <criterion/criterion.h>
#include "lw_test.h"

#define PROG(name) "build/tests/programs/" name

/* The absolute path of a file of the build, in buf. */
static const char *abs_path(char *buf, size_t len, const char *rel)
{
	char here[4096];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(buf, len, "%s/%s", here, rel);
	return buf;
}

/* Threads still lock after exit() closed the trace: those records are not "dropped" (the
 * warning came with every run of ffmpeg, x264, aria2c).  Each thread locks 100 times after
 * the shim's destructor, every run. */
Test(any_program, records_after_the_trace_closed_at_exit_are_not_drops, .timeout = 60)
{
	char lib[4200];
	const char *args[] = { abs_path(lib, sizeof lib, PROG("libexitlate.so")), NULL };
	struct lw_result r = lw_run_json(PROG("exit_locking"), args, NULL, 30000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(!r.stderr_text || !strstr(r.stderr_text, "dropped"), "%s", r.stderr_text);
	cr_assert_eq(lw_count_in_dump(&r, " dropped 0 "), 1, "the header counts drops");
	lw_result_free(&r);
}

/* dlopen("./libdlock.so") after a chdir: the module's path is recorded absolute, so the
 * report still names the library's locks and functions. */
Test(any_program, a_library_dlopened_by_a_relative_path_keeps_its_names, .timeout = 30)
{
	char dir[4200];
	const char *args[] = { "./libdlock.so", abs_path(dir, sizeof dir, PROG("")), NULL };
	struct lw_result r = lw_run_json(PROG("dlopen_lock"), args, NULL, 20000);
	cr_assert_eq(r.status, 66, "status %d, stderr: %s", r.status, r.stderr_text);
	json_t *f = lw_find(r.report, "lock-order-cycle", "error");
	cr_assert_not_null(f);
	cr_assert(lw_has_lock(f, "dl_first") && lw_has_lock(f, "dl_second"),
		  "the library's locks are not named: %s", r.stderr_text);
	cr_assert(lw_has_frame(f, "dl_first_then_second", "libdlock.c"));
	lw_result_free(&r);
}
