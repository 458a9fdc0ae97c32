/* Unit tests for analyzer/trace/trace_reader.c: validation of hand-built and damaged traces. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trace/model.h"
#include "detect/analyze.h"
#include "detect/findings.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

static struct tb b;
static struct lw_trace t;
static struct lw_trace_error err;

static void setup(void)
{
	tb_init(&b, 42);
	memset(&t, 0, sizeof(t));
	memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
	lw_trace_close(&t);
	tb_free(&b);
}

TestSuite(trace_reader, .init = setup, .fini = teardown, .timeout = 10);

static void sample(struct tb *x)
{
	uint64_t pcs[2] = { 0x401000, 0x401100 };
	struct lw_held h = tb_held(0x1000, 0, LW_MODE_WRITE);

	tb_module(x, 0x400000, 0x400000, 0x402000, "/test/prog");
	tb_stack(x, 1, 2, pcs);
	tb_thread(x, 1, 0);
	tb_acquire_full(x, 1, 0x2000, 0, LW_MODE_WRITE, 0, 1, 1, &h);
}

static int parse(void)
{
	return lw_trace_parse(b.buf, b.len, "t.trace", &t, &err);
}

Test(trace_reader, valid_trace_parses)
{
	sample(&b);
	cr_assert_eq(parse(), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 4);
	cr_assert_eq(t.recs[0].kind, LW_REC_MODULE);
	cr_assert_eq(t.recs[1].kind, LW_REC_STACK);
	cr_assert_eq(t.recs[2].kind, LW_REC_THREAD);
	cr_assert_eq(t.recs[3].kind, LW_REC_ACQUIRE);
	cr_assert_eq(t.recs[0].offset, LW_TRACE_HEADER_SIZE);
	cr_assert_eq(t.hdr.pid, 42);
	cr_assert_str_eq(t.hdr.exe, "/test/prog");
	cr_assert_eq(t.hole_bytes, 0);
}

/* Issue 24: empty is not corrupt, it holds nothing (-ENODATA, a note, not an error). */
Test(trace_reader, empty_buffer_holds_nothing)
{
	cr_assert_eq(lw_trace_parse(b.buf, 0, "t.trace", &t, &err), -ENODATA);
	cr_assert(strstr(err.what, "empty"), "%s", err.what);
}

Test(trace_reader, shorter_than_header_is_an_error)
{
	cr_assert_eq(lw_trace_parse(b.buf, 100, "t.trace", &t, &err), -EINVAL);
	cr_assert(strstr(err.what, "too short"), "%s", err.what);
	cr_assert_eq(lw_trace_parse(b.buf, 2048, "t.trace", &t, &err), -EINVAL);
	cr_assert(strstr(err.what, "shorter than its 4096-byte header"), "%s", err.what);
}

Test(trace_reader, bad_magic)
{
	b.buf[0] = 'X';
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "bad magic"), "%s", err.what);
	cr_assert(err.has_offset);
	cr_assert_eq(err.offset, 0);
}

Test(trace_reader, wrong_version)
{
	tb_header(&b)->version = LW_TRACE_VERSION + 1;
	cr_assert_eq(parse(), -EINVAL);
	char want[32];
	snprintf(want, sizeof want, "version %u", LW_TRACE_VERSION + 1);
	cr_assert(strstr(err.what, want), "%s", err.what);
	cr_assert_eq(err.offset, 8);
	tb_header(&b)->version = 0;
	cr_assert_eq(parse(), -EINVAL);
}

Test(trace_reader, a_version_1_trace_is_still_read)
{
	sample(&b);
	tb_header(&b)->version = 1;
	cr_assert_eq(parse(), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 4);
}

/* Issue 18: a LOCK_INIT that announces a shared mapping carries it, or is corrupt; older
 * readers skip the extra bytes, so the format's version stays. */
Test(trace_reader, a_lock_init_with_a_shared_mapping_carries_it)
{
	sample(&b);
	tb_lock_init_shared(&b, 0x3000, 0, 0, 7, 0x28,
			    sizeof(struct lw_rec_lock_init) + sizeof(struct lw_lock_init_shared));
	cr_assert_eq(parse(), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 5);
	lw_trace_close(&t);
	tb_lock_init_shared(&b, 0x4000, 0, 0, 7, 0x50, sizeof(struct lw_rec_lock_init) + 8);
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "shared mapping"), "%s", err.what);
}

Test(trace_reader, bad_header_size)
{
	tb_header(&b)->header_size = 12;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "header size"), "%s", err.what);
}

Test(trace_reader, truncated_record_is_reported_with_its_offset)
{
	size_t last;

	sample(&b);
	last = b.len - (sizeof(struct lw_rec_acquire) + sizeof(struct lw_held));
	b.len -= 8;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "overruns"), "%s", err.what);
	cr_assert_eq(err.offset, last);
}

Test(trace_reader, bad_record_magic)
{
	sample(&b);
	((struct lw_rec_head *)(b.buf + LW_TRACE_HEADER_SIZE))->magic = 0x1234;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "bad record magic 0x1234"), "%s", err.what);
	cr_assert_eq(err.offset, LW_TRACE_HEADER_SIZE);
}

Test(trace_reader, unknown_kind)
{
	sample(&b);
	((struct lw_rec_head *)(b.buf + LW_TRACE_HEADER_SIZE))->kind = 99;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "unknown record kind 99"), "%s", err.what);
}

Test(trace_reader, oversized_size_field)
{
	sample(&b);
	((struct lw_rec_head *)(b.buf + LW_TRACE_HEADER_SIZE))->size = 1u << 30;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "larger than the maximum"), "%s", err.what);
}

Test(trace_reader, size_not_multiple_of_8)
{
	sample(&b);
	((struct lw_rec_head *)(b.buf + LW_TRACE_HEADER_SIZE))->size = 44;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "not a multiple of 8"), "%s", err.what);
}

Test(trace_reader, size_smaller_than_fixed_part)
{
	tb_thread(&b, 1, 0);
	((struct lw_rec_head *)(b.buf + LW_TRACE_HEADER_SIZE))->size = 16;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "smaller than 40"), "%s", err.what);
}

Test(trace_reader, stack_depth_must_match_size)
{
	uint64_t pcs[2] = { 1, 2 };

	tb_stack(&b, 1, 2, pcs);
	((struct lw_rec_stack *)(b.buf + LW_TRACE_HEADER_SIZE))->depth = 3;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "depth 3"), "%s", err.what);
}

Test(trace_reader, acquire_held_count_must_match_size)
{
	struct lw_held h = tb_held(1, 0, LW_MODE_WRITE);

	tb_acquire_full(&b, 1, 2, 0, LW_MODE_WRITE, 0, 0, 1, &h);
	((struct lw_rec_acquire *)(b.buf + LW_TRACE_HEADER_SIZE))->n_held = 1000000;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "1000000 held locks"), "%s", err.what);
}

Test(trace_reader, module_lengths_must_match_size)
{
	tb_module(&b, 0, 0, 0x1000, "/lib/x.so");
	((struct lw_rec_module *)(b.buf + LW_TRACE_HEADER_SIZE))->path_len = 200;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "path (200)"), "%s", err.what);
}

Test(trace_reader, a_read_modify_write_record_must_be_a_plain_read_and_write)
{
	tb_update_after(&b, 1, 0x6000, 0x401000, 0x401004, 0, 1, 1);
	cr_assert_eq(parse(), 0, "%s", err.what);
	lw_trace_close(&t);
	memset(&t, 0, sizeof(t));
	((struct lw_rec_access *)(b.buf + LW_TRACE_HEADER_SIZE))->flags |= LW_ACCESS_ATOMIC;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "read-modify-write"), "%s", err.what);
}

Test(trace_reader, deadlock_thread_held_count_must_fit)
{
	uint32_t tids[2] = { 1, 2 };
	uint64_t held[2] = { 1, 2 }, waits[2] = { 2, 1 };
	struct lw_deadlock_thread *dt;

	tb_deadlock2(&b, tids, held, waits);
	dt = (struct lw_deadlock_thread *)(b.buf + LW_TRACE_HEADER_SIZE +
					   sizeof(struct lw_rec_deadlock));
	dt->n_held = 5;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "too short"), "%s", err.what);
}

Test(trace_reader, hole_after_zero_head_is_skipped)
{
	tb_thread(&b, 1, 0);
	tb_zeros(&b, 40);            /* a thread killed between reserving and committing */
	tb_thread(&b, 2, 1);
	tb_zeros(&b, 4096);          /* the unused tail of the file */
	cr_assert_eq(parse(), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 2);
	cr_assert_eq(t.hole_bytes, 40);
	cr_assert_eq(t.recs[1].offset, LW_TRACE_HEADER_SIZE + 80);
}

Test(trace_reader, hole_with_partial_body_is_skipped)
{
	struct lw_rec_thread r;

	tb_thread(&b, 1, 0);
	/* An uncommitted record: body written, head still zero. */
	memset(&r, 0, sizeof(r));
	r.tid = 7;
	r.seq = 99;
	tb_raw(&b, &r, sizeof(r));
	tb_thread(&b, 2, 1);
	cr_assert_eq(parse(), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 2);
}

Test(trace_reader, closed_trace_ends_at_end_offset)
{
	tb_thread(&b, 1, 0);
	tb_close(&b);
	tb_raw(&b, "garbage!garbage!", 16);
	cr_assert_eq(parse(), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 1);
}

Test(trace_reader, end_offset_past_end_of_file)
{
	tb_thread(&b, 1, 0);
	tb_close(&b);
	tb_header(&b)->end_offset += 4096;
	cr_assert_eq(parse(), -EINVAL);
	cr_assert(strstr(err.what, "past the end"), "%s", err.what);
}

Test(trace_reader, unknown_stack_reference_is_tolerated)
{
	struct lw_model *m;
	struct lw_findings fs = { 0 };

	tb_edge(&b, 1, 0x1000, 0x2000);   /* stack 0 */
	{
		struct lw_held h = tb_held(0x2000, 0, LW_MODE_WRITE);

		h.stack = 77;
		tb_acquire_full(&b, 2, 0x1000, 0, LW_MODE_WRITE, 0, 99, 1, &h);
	}
	cr_assert_eq(parse(), 0, "%s", err.what);
	m = lw_model_new();
	lw_model_add_trace(m, &t);
	lw_model_finish(m);
	lw_analyze(m, &fs);
	cr_assert_eq(fs.v.n, 1);
	cr_assert_eq(fs.v.v[0]->edges.v[0].to_stack.n, 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

Test(trace_reader, file_round_trip_and_errors)
{
	char path[] = "/tmp/lw-test-XXXXXX";
	int fd = mkstemp(path);
	struct lw_trace_header h;

	cr_assert(fd >= 0);
	cr_assert_eq(lw_trace_open(path, &t, &err), -ENODATA);
	cr_assert(strstr(err.what, "empty"), "%s", err.what);
	sample(&b);
	cr_assert_eq(write(fd, b.buf, b.len), (ssize_t)b.len);
	close(fd);
	cr_assert_eq(lw_trace_open(path, &t, &err), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 4);
	cr_assert_eq(lw_trace_read_header(path, &h, &err), 0, "%s", err.what);
	cr_assert_eq(h.session, 0x1234);
	unlink(path);
	lw_trace_close(&t);
	cr_assert_lt(lw_trace_open(path, &t, &err), 0);
	cr_assert(strstr(err.what, "No such file"), "%s", err.what);
}

Test(trace_reader, error_format_names_file_and_offset)
{
	char line[512];

	b.buf[0] = 'X';
	parse();
	lw_trace_error_format("a.trace", &err, line, sizeof(line));
	cr_assert_str_eq(line, "a.trace: not a lockwatch trace (bad magic) (at offset 0)");
}

/* Random damage must give a clean error or a trace the analyzer can digest, never a crash. */
Test(trace_reader, random_damage_never_crashes, .timeout = 60)
{
	struct tb good;
	unsigned seed = 12345;

	tb_init(&good, 1);
	sample(&good);
	tb_edge(&good, 2, 0x2000, 0x1000);
	{
		uint32_t tids[2] = { 1, 2 };
		uint64_t held[2] = { 0x1000, 0x2000 }, waits[2] = { 0x2000, 0x1000 };

		tb_deadlock2(&good, tids, held, waits);
	}
	tb_misuse(&good, 1, LW_MISUSE_RELOCK, 0x1000);
	for (int iter = 0; iter < 3000; iter++) {
		unsigned char *copy = malloc(good.len);
		size_t len = good.len;
		int flips = 1 + (int)(rand_r(&seed) % 8);

		memcpy(copy, good.buf, len);
		for (int k = 0; k < flips; k++) {
			size_t pos = LW_TRACE_HEADER_SIZE + rand_r(&seed) % (len - LW_TRACE_HEADER_SIZE);

			copy[pos] = (unsigned char)rand_r(&seed);
		}
		if (rand_r(&seed) % 4 == 0)
			len -= rand_r(&seed) % (len - LW_TRACE_HEADER_SIZE);
		if (lw_trace_parse(copy, len, "fuzz", &t, &err) == 0) {
			struct lw_model *m = lw_model_new();
			struct lw_findings fs = { 0 };

			lw_model_add_trace(m, &t);
			lw_model_finish(m);
			lw_analyze(m, &fs);
			lw_findings_free(&fs);
			lw_model_free(m);
			lw_trace_close(&t);
		} else {
			cr_assert(err.what[0]);
		}
		free(copy);
	}
	tb_free(&good);
}
