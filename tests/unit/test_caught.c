/* Unit tests for analyzer/detect/detect_caught.c: races the collider caught in the act
 * (issue 20), on hand-built traces. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "detect/findings.h"
#include "trace/model.h"
#include "report/render.h"
#include "analyze_helpers.h"
#include "trace/trace_reader.h"

#define X 0x6000u

static struct lw_findings fs;

static void teardown(void)
{
	lw_findings_free(&fs);
}

TestSuite(caught, .fini = teardown, .timeout = 10);

static void start(struct tb *b, int level)
{
	tb_init(b, 42);
	tb_header(b)->level = (uint32_t)level;
	tb_thread(b, 1, 0);
	tb_thread(b, 2, 1);
	tb_thread(b, 3, 1);
}

/* Thread 2 held back before its read at pc1 while thread 3 wrote at pc2. */
static void caught(struct tb *b, uint64_t pc1, uint16_t f1, uint64_t pc2, uint16_t f2)
{
	struct lw_rec_race_caught r;

	memset(&r, 0, sizeof(r));
	r.addr = X;
	r.size = 8;
	r.flags1 = f1;
	r.flags2 = f2;
	r.tid1 = 2;
	r.tid2 = 3;
	r.pc1 = pc1;
	r.pc2 = pc2;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_RACE_CAUGHT, r);
}

static void counts(struct tb *b, uint64_t sampled, uint64_t caught_n)
{
	struct lw_rec_collider r;

	memset(&r, 0, sizeof(r));
	r.candidates = 40;
	r.sampled = sampled;
	r.fired = 5;
	r.watched = 4;
	r.caught = caught_n;
	TB_FIXED(b, LW_REC_COLLIDER, r);
}

Test(caught, a_catch_is_a_data_race_at_the_dependencies_level)
{
	struct tb b;

	start(&b, LW_LEVEL_DEPENDENCIES);
	caught(&b, 0x401010, LW_ACCESS_READ, 0x401020, LW_ACCESS_WRITE);
	caught(&b, 0x401010, LW_ACCESS_READ, 0x401020, LW_ACCESS_WRITE);
	counts(&b, 10, 1);
	counts(&b, 12, 2);           /* the last counts */
	tb_analyze(&b, &fs);
	cr_assert_eq(tb_count(&fs, LW_FIND_DATA_RACE), 1, "one per pair of sites");
	struct lw_finding *f = tb_first(&fs, LW_FIND_DATA_RACE);
	/* Two plain moves on memory no DWARF type covers: they may be C11 atomics. */
	cr_assert_eq(f->severity, LW_SEV_WARNING);
	cr_assert(strstr(f->message, "both plain moves"), "%s", f->message);
	cr_assert_eq(f->count, 2);
	cr_assert_not_null(f->caught);
	cr_assert(strstr(f->message, "caught in the act: thread 3 wrote 0x6000 while thread 2's "
				     "read at"), "%s", f->message);
	cr_assert(strstr(f->message, "was in flight"), "%s", f->message);
	cr_assert_eq(f->accesses.n, 2);
	cr_assert_eq(f->accesses.v[0].thread, 3);
	cr_assert(f->accesses.v[0].write);
	cr_assert_eq(f->accesses.v[1].thread, 2);
	cr_assert_not(f->accesses.v[1].write);
	cr_assert_eq(f->accesses.v[1].stack.frames[0].pc, 0x401010);
	cr_assert_eq(fs.collider.processes, 1);
	cr_assert_eq(fs.collider.sampled, 12);
	cr_assert_eq(fs.collider.caught, 2);
}

Test(caught, a_catch_joins_the_happens_before_race_on_the_same_sites)
{
	struct tb b;

	start(&b, LW_LEVEL_FULL);
	tb_read(&b, 2, X, 0x401010);
	tb_write(&b, 3, X, 0x401020);
	caught(&b, 0x401010, LW_ACCESS_READ, 0x401020, LW_ACCESS_WRITE);
	tb_analyze(&b, &fs);
	cr_assert_eq(tb_count(&fs, LW_FIND_DATA_RACE), 1);
	struct lw_finding *f = tb_first(&fs, LW_FIND_DATA_RACE);
	cr_assert_not_null(f->caught, "the happens-before race is marked caught in the act");
	cr_assert(strstr(f->message, "not ordered by happens-before"), "%s", f->message);
}

Test(caught, other_sites_are_another_finding)
{
	struct tb b;

	start(&b, LW_LEVEL_FULL);
	tb_read(&b, 2, X, 0x401010);
	tb_write(&b, 3, X, 0x401020);
	caught(&b, 0x401030, LW_ACCESS_WRITE, 0x401020, LW_ACCESS_WRITE);
	tb_analyze(&b, &fs);
	cr_assert_eq(tb_count(&fs, LW_FIND_DATA_RACE), 2);
}

Test(caught, the_json_and_text_say_caught_in_the_act)
{
	struct tb b;
	char *buf = NULL;
	size_t len = 0;

	start(&b, LW_LEVEL_DEPENDENCIES);
	caught(&b, 0x401010, LW_ACCESS_READ, 0x401020, LW_ACCESS_WRITE);
	counts(&b, 12, 1);
	tb_analyze(&b, &fs);
	FILE *out = open_memstream(&buf, &len);
	lw_render_json(&fs, out);
	fclose(out);
	json_error_t je;
	json_t *root = json_loads(buf, 0, &je);
	cr_assert_not_null(root, "%s", buf);
	json_t *f = json_array_get(json_object_get(root, "findings"), 0);
	cr_assert(json_is_true(json_object_get(f, "caught_in_the_act")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(root, "collider"),
							"sampled")), 12);
	json_decref(root);
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	lw_render_text(&fs, out);
	fclose(out);
	cr_assert(strstr(buf, "lockwatch: 12 samples on 40 code sites, 4 heap addresses watched, "
			      "1 race caught in the act\n"), "%s", buf);
	free(buf);
}

/* A read-modify-write without LOCK is never a C11 atomic operation: a certain race. */
Test(caught, a_plain_read_modify_write_makes_the_catch_an_error)
{
	struct tb b;

	start(&b, LW_LEVEL_DEPENDENCIES);
	caught(&b, 0x401010, LW_ACCESS_READ | LW_ACCESS_WRITE, 0x401020, LW_ACCESS_WRITE);
	counts(&b, 10, 1);
	tb_analyze(&b, &fs);
	struct lw_finding *f = tb_first(&fs, LW_FIND_DATA_RACE);
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, LW_SEV_ERROR);
	cr_assert_null(strstr(f->message, "plain moves"), "%s", f->message);
}

/* An access the collider could not decode (it changed the bytes: a write) is no evidence of
 * a read-modify-write: beside a plain read, the catch stays a warning. */
Test(caught, an_undecoded_write_keeps_the_catch_a_warning)
{
	struct tb b;

	start(&b, LW_LEVEL_DEPENDENCIES);
	caught(&b, 0x401010, LW_ACCESS_READ, 0x401020, LW_ACCESS_WRITE | LW_ACCESS_UNDECODED);
	counts(&b, 10, 1);
	tb_analyze(&b, &fs);
	struct lw_finding *f = tb_first(&fs, LW_FIND_DATA_RACE);
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, LW_SEV_WARNING);
}
