/* Issue 24: `lockwatch report` on input another user can write: a PATH record of length 0,
 * empty and all-zero traces, FIFOs and devices as --suppressions or --baseline, a
 * suppressions file with a byte order mark.  A clean report or one clear line, never a
 * crash or a hang. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <sys/stat.h>
#include "lw_test.h"
#include "trace_builder.h"

static char *dir;
static char good[300];

static const char *write_file(const char *name, const void *data, size_t len)
{
	static char path[300];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* A small closed trace: one thread taking one lock. */
static void setup(void)
{
	struct tb b;

	dir = lw_tmpdir();
	tb_init(&b, 11);
	tb_thread(&b, 1, 0);
	tb_lock(&b, 1, 0x1000);
	tb_unlock(&b, 1, 0x1000);
	tb_close(&b);
	snprintf(good, sizeof good, "%s", write_file("good.trace", b.buf, b.len));
	tb_free(&b);
}

static void teardown(void)
{
	lw_rmtree(dir);
	free(dir);
}

TestSuite(hostile_input, .init = setup, .fini = teardown);

struct run {
	int rc;
	char *out, *err;
	int err_lines;
};

static struct run report(const char *const args[])
{
	const char *argv[16] = { LW_BIN, "report" };
	int n = 2;
	char out[400], err[400];

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(err, sizeof err, "%s/err", dir);
	struct run r = { lw_spawn(argv, NULL, out, err, 10000), lw_slurp(out), lw_slurp(err), 0 };
	for (const char *p = r.err; *p; p++)
		r.err_lines += *p == '\n';
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* The path normaliser wrote "." and its NUL into the one-byte copy of an empty path: a heap
 * overflow that `make test-asan` (lockwatch under AddressSanitizer) reports. */
Test(hostile_input, a_path_record_of_length_0_reports_cleanly, .timeout = 30)
{
	struct tb b;
	struct lw_rec_path r;

	tb_init(&b, 12);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	memset(&r, 0, sizeof r);
	r.head = tb_head(LW_REC_PATH, sizeof r);
	r.tid = 1;
	r.op = LW_PATH_CHECK;
	r.path_len = 0;
	r.seq = b.seq++;
	tb_raw(&b, &r, sizeof r);
	r.tid = 2;
	r.op = LW_PATH_CREATE;
	r.seq = b.seq++;
	tb_raw(&b, &r, sizeof r);
	tb_close(&b);
	const char *args[] = { "--format", "json", write_file("path0.trace", b.buf, b.len), NULL };
	tb_free(&b);
	struct run x = report(args);
	cr_assert(x.rc == 0 || x.rc == 1, "exit %d: %s", x.rc, x.err);
	cr_assert(strstr(x.out, "\"lockwatch\""), "no report: %s", x.out);
	run_free(&x);
}

/* A process killed during the shim's start-up leaves an all-zero trace; an empty file holds
 * nothing either.  Neither is corrupt: a note each, and the report of the rest. */
Test(hostile_input, empty_and_all_zero_traces_are_left_out_with_a_note, .timeout = 30)
{
	static unsigned char zeros[64 * 1024];

	write_file("empty.trace", "", 0);
	write_file("zero.trace", zeros, sizeof zeros);
	const char *args[] = { "--format", "json", dir, NULL };
	struct run x = report(args);
	cr_assert_eq(x.rc, 0, "exit %d: %s", x.rc, x.err);
	cr_assert(strstr(x.err, "empty.trace: empty file: holds nothing"), "%s", x.err);
	cr_assert(strstr(x.err, "zero.trace: header was never completed"), "%s", x.err);
	cr_assert_eq(x.err_lines, 2, "%s", x.err);
	cr_assert(strstr(x.out, "\"lockwatch\""), "no report: %s", x.out);
	run_free(&x);

	/* Only such traces: an empty report, still exit 0. */
	unlink(good);
	x = report(args);
	cr_assert_eq(x.rc, 0, "exit %d: %s", x.rc, x.err);
	cr_assert(strstr(x.out, "\"lockwatch\""), "no report: %s", x.out);
	run_free(&x);
}

static void expect_refused(const char *opt, const char *file)
{
	const char *args[] = { opt, file, good, NULL };
	struct run x = report(args);
	cr_assert_eq(x.rc, 2, "%s %s: exit %d (-1: hung): %s", opt, file, x.rc, x.err);
	cr_assert_eq(x.err_lines, 1, "%s %s: want one line: %s", opt, file, x.err);
	cr_assert(strstr(x.err, file), "%s", x.err);
	run_free(&x);
}

Test(hostile_input, fifos_and_devices_as_suppressions_or_baseline_are_refused, .timeout = 60)
{
	char fifo[400];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	expect_refused("--suppressions", fifo);
	expect_refused("--baseline", fifo);
	expect_refused("--suppressions", "/dev/zero");
	expect_refused("--baseline", "/dev/zero");
}

Test(hostile_input, a_suppressions_file_with_a_byte_order_mark_is_accepted, .timeout = 30)
{
	static const char text[] = "\xef\xbb\xbf# made on Windows\r\nmutex:nothing_here\r\n";
	char supp[400];
	snprintf(supp, sizeof supp, "%s", write_file("bom.supp", text, sizeof text - 1));
	const char *args[] = { "--suppressions", supp, good, NULL };
	struct run x = report(args);
	cr_assert_eq(x.rc, 0, "exit %d: %s", x.rc, x.err);
	run_free(&x);
}

/* LOCKWATCH_OPTIONS with quoted values followed at once by the next pair ("a='x'b='x'"):
 * `lockwatch run` drops suppressions= from it for the shim and puts a ':' between pairs,
 * which wrote past the copy's end (found by tests/fuzz/fuzz_env_options.c). */
Test(hostile_input, adjacent_quoted_options_do_not_overflow_run, .timeout = 60)
{
	static char opts[8192];
	const char *supp = write_file("empty.supp", "", 0);
	size_t n = (size_t)snprintf(opts, sizeof opts, "LOCKWATCH_OPTIONS=suppressions='%s'", supp);
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(opts + n, sizeof opts - n, "v%d='0'", i % 10);
	const char *env[] = { opts, NULL };
	const char *argv[] = { LW_BIN, "run", "--format", "json", "--",
			       "build/tests/programs/exit_code", "0", NULL };
	char out[400], err[400];
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(err, sizeof err, "%s/err", dir);
	int rc = lw_spawn(argv, env, out, err, 30000);
	char *e = lw_slurp(err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, e);
	free(e);
}
