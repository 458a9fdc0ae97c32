/* `lockwatch report` on truncated, corrupt, wrong-version and hostile traces: exit
 * status 3 and one clear line naming the file, never a crash, a hang or a partial report. */
#include <criterion/criterion.h>
#include <stdint.h>
#include "lw_test.h"
#include "lw_trace_format.h"

static char *dir;
static char good[256];
static unsigned char *orig;
static size_t orig_len;

/* A real trace to damage: exit_code under the shim, level=full (every kind of record). */
static void setup(void)
{
	dir = lw_tmpdir();
	char here[4096], shim[4200], opt[512], traces[300];
	if (!getcwd(here, sizeof here))
		abort();
	snprintf(traces, sizeof traces, "%s/t", dir);
	snprintf(shim, sizeof shim, "LD_PRELOAD=%s/" LW_SHIM, here);
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=trace_dir=%s:level=full", traces);
	const char *env[] = { shim, opt, NULL };
	const char *prog[] = { "build/tests/programs/exit_code", "0", NULL };
	cr_assert_eq(lw_spawn(prog, env, NULL, NULL, 20000), 0);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "mv %s/*.trace %s/good.trace", traces, dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(good, sizeof good, "%s/good.trace", dir);
	FILE *f = fopen(good, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	orig_len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	orig = malloc(orig_len);
	cr_assert_eq(fread(orig, 1, orig_len, f), orig_len);
	fclose(f);
	cr_assert(orig_len > LW_TRACE_HEADER_SIZE + 64);
}

static void teardown(void)
{
	free(orig);
	lw_rmtree(dir);
	free(dir);
}

TestSuite(bad_traces, .init = setup, .fini = teardown);

/* Writes len bytes of data as dir/name; returns its path (static). */
static const char *write_trace(const char *name, const void *data, size_t len)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* `lockwatch report PATH` must exit 3 with exactly one line on stderr, naming the file,
 * and nothing on stdout. */
static void expect_rejected(const char *path)
{
	char out[512], err[512];
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(err, sizeof err, "%s/err", dir);
	const char *argv[] = { LW_BIN, "report", "--format", "json", path, NULL };
	int rc = lw_spawn(argv, NULL, out, err, 20000);
	char *o = lw_slurp(out), *e = lw_slurp(err);
	cr_assert_eq(rc, 3, "%s: exit %d, stderr: %s", path, rc, e);
	size_t lines = 0;
	for (const char *p = e; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 1, "%s: want one line, got: %s", path, e);
	const char *base = strrchr(path, '/') + 1;
	cr_assert(strstr(e, base) != NULL, "the message does not name the file: %s", e);
	cr_assert_str_eq(o, "", "something on stdout: %s", o);
	free(o);
	free(e);
}

/* A copy of the good trace with a change applied at offset off. */
static const char *patched(const char *name, size_t off, const void *bytes, size_t n)
{
	unsigned char *b = malloc(orig_len);
	memcpy(b, orig, orig_len);
	memcpy(b + off, bytes, n);
	const char *p = write_trace(name, b, orig_len);
	free(b);
	return p;
}

Test(bad_traces, the_good_trace_is_accepted, .timeout = 30)
{
	const char *argv[] = { LW_BIN, "report", good, NULL };
	cr_assert_eq(lw_spawn(argv, NULL, NULL, NULL, 20000), 0);
}

/* An empty trace is not corrupt: it holds nothing (issue 24, test_hostile_input.c). */

Test(bad_traces, shorter_than_the_header, .timeout = 30)
{
	expect_rejected(write_trace("short.trace", orig, 100));
	expect_rejected(write_trace("short2.trace", orig, LW_TRACE_HEADER_SIZE - 8));
}

Test(bad_traces, not_a_trace, .timeout = 30)
{
	expect_rejected(write_trace("text.trace", "hello, world\n", 13));
	expect_rejected(patched("magic.trace", 0, "LWTRACX", 8));
}

Test(bad_traces, wrong_version, .timeout = 30)
{
	uint32_t v = LW_TRACE_VERSION + 1;
	expect_rejected(patched("version.trace", offsetof(struct lw_trace_header, version), &v,
				sizeof v));
	v = 0xffffffffu;
	expect_rejected(patched("version2.trace", offsetof(struct lw_trace_header, version), &v,
				sizeof v));
}

Test(bad_traces, a_closed_trace_cut_short, .timeout = 30)
{
	const struct lw_trace_header *h = (const void *)orig;
	cr_assert(h->flags & LW_HDR_CLOSED);
	cr_assert(h->end_offset > LW_TRACE_HEADER_SIZE + 16);
	expect_rejected(write_trace("cut.trace", orig, (size_t)h->end_offset - 16));
}

Test(bad_traces, hostile_header_fields, .timeout = 30)
{
	uint32_t big = 0x7ffffff8u;
	expect_rejected(patched("hsize.trace", offsetof(struct lw_trace_header, header_size), &big,
				sizeof big));
	uint64_t end = UINT64_MAX - 7;
	expect_rejected(patched("end.trace", offsetof(struct lw_trace_header, end_offset), &end,
				sizeof end));
	uint32_t level = 77;
	expect_rejected(patched("level.trace", offsetof(struct lw_trace_header, level), &level,
				sizeof level));
}

/* The first record of the good trace, patched. */
static void first_record(const char *name, uint16_t magic, uint16_t kind, uint32_t size)
{
	struct lw_rec_head h = { .magic = magic, .kind = kind, .size = size };
	expect_rejected(patched(name, LW_TRACE_HEADER_SIZE, &h, sizeof h));
}

Test(bad_traces, hostile_record_heads, .timeout = 30)
{
	const struct lw_rec_head *r = (const void *)(orig + LW_TRACE_HEADER_SIZE);
	first_record("rmagic.trace", 0x1234, r->kind, r->size);
	first_record("rkind.trace", LW_REC_MAGIC, 999, r->size);
	first_record("rsize0.trace", LW_REC_MAGIC, r->kind, 0);
	first_record("rsize7.trace", LW_REC_MAGIC, r->kind, r->size + 4);
	first_record("rsizehuge.trace", LW_REC_MAGIC, r->kind, 0xfffffff8u);
	first_record("rsizepast.trace", LW_REC_MAGIC, r->kind, (uint32_t)orig_len);
}

/* An acquire record claiming far more held locks than it has room for. */
Test(bad_traces, an_acquire_with_a_hostile_count, .timeout = 30)
{
	size_t off = LW_TRACE_HEADER_SIZE;
	const struct lw_trace_header *h = (const void *)orig;
	while (off + 8 <= h->end_offset) {
		const struct lw_rec_head *r = (const void *)(orig + off);
		if (r->magic == 0 && r->size == 0) {
			off += 8;            /* a hole: the unused end of a thread's chunk */
			continue;
		}
		if (r->kind == LW_REC_ACQUIRE) {
			uint32_t n = 0x10000000u;
			expect_rejected(patched("nheld.trace", off + offsetof(struct lw_rec_acquire,
									       n_held),
						&n, sizeof n));
			return;
		}
		cr_assert(r->size >= 8);
		off += r->size;
	}
	cr_assert_fail("no acquire record in the full-level trace");
}

/* Not a regular file: a FIFO must not make the report wait for a writer forever. */
Test(bad_traces, a_fifo_named_trace, .timeout = 30)
{
	char path[512];
	snprintf(path, sizeof path, "%s/fifo.trace", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	expect_rejected(path);
}

Test(bad_traces, a_directory_without_traces, .timeout = 30)
{
	char path[512];
	snprintf(path, sizeof path, "%s/nothing", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	expect_rejected(path);
}

/* Garbage after a valid prefix in an unclosed trace: a torn tail is tolerated only when
 * it is zeros; a non-zero word that is not a record is corruption. */
Test(bad_traces, garbage_in_the_middle, .timeout = 30)
{
	unsigned char *b = malloc(orig_len);
	memcpy(b, orig, orig_len);
	struct lw_trace_header *h = (void *)b;
	size_t mid = LW_TRACE_HEADER_SIZE + ((h->end_offset - LW_TRACE_HEADER_SIZE) / 2 & ~7ull);
	/* Find the record boundary at or after mid that directly follows a record: after a
	 * hole (the unused end of a thread's chunk, or a writer killed mid-record) the reader
	 * skips what is not a record, since a torn record's body may be there. */
	size_t off = LW_TRACE_HEADER_SIZE;
	bool after_record = true;
	while (off < mid || !after_record || ((struct lw_rec_head *)(b + off))->size == 0) {
		uint32_t size = ((struct lw_rec_head *)(b + off))->size;
		after_record = size != 0;
		off += size ? size : 8;
	}
	cr_assert_lt(off, h->end_offset);
	memset(b + off, 0xa5, 8);
	expect_rejected(write_trace("garbage.trace", b, orig_len));
	free(b);
}
