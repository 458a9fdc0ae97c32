/* Unit tests for analyzer/detect/detect_path_races.c: check-then-act on file paths. */
#include <criterion/criterion.h>
#include <string.h>

#include "detect/detect_path_races.h"
#include "detect/findings.h"
#include "trace/model.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

TestSuite(path_races, .timeout = 10);

/* Appends a PATH record: tid does op on path. */
static void tb_path(struct tb *b, uint32_t tid, uint16_t op, const char *path)
{
	struct lw_rec_path r;
	size_t n = strlen(path), size = (sizeof(r) + n + 7) & ~(size_t)7;

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_PATH, size);
	r.tid = tid;
	r.op = op;
	r.path_len = (uint16_t)n;
	r.result = op == LW_PATH_CHECK ? -1 : 3;
	r.err = op == LW_PATH_CHECK ? 2 : 0;
	r.seq = b->seq++;
	tb_raw(b, &r, sizeof(r));
	tb_raw(b, path, n);
	tb_zeros(b, size - sizeof(r) - n);
}

static void add(struct lw_model *m, struct tb *b)
{
	struct lw_trace t;
	struct lw_trace_error err;

	tb_close(b);
	cr_assert_eq(lw_trace_parse(b->buf, b->len, "t", &t, &err), 0, "%s", err.what);
	lw_model_add_trace(m, &t);
	lw_trace_close(&t);
	tb_free(b);
}

/* Runs the detector alone; returns the number of findings, the first in *first. */
static size_t detect(struct lw_model *m, struct lw_findings *fs)
{
	lw_model_finish(m);
	memset(fs, 0, sizeof(*fs));
	lw_detect_path_races(m, fs);
	return fs->v.n;
}

/* T2 and T3 both: access(path) then open(path, O_CREAT). */
static void two_checkers(struct tb *b, uint16_t create_op, const char *p2, const char *p3)
{
	tb_thread(b, 1, 0);
	tb_thread(b, 2, 1);
	tb_thread(b, 3, 1);
	tb_path(b, 2, LW_PATH_CHECK, p2);
	tb_path(b, 3, LW_PATH_CHECK, p3);
	tb_path(b, 2, create_op, p2);
	tb_path(b, 3, create_op, p3);
	tb_join(b, 1, 2);
	tb_join(b, 1, 3);
}

Test(path_races, two_threads_check_then_create)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE, "/tmp/x.lock", "/tmp/x.lock");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 1);
	cr_assert_eq(fs.v.v[0]->kind, LW_FIND_ATOMICITY);
	cr_assert_eq(fs.v.v[0]->severity, LW_SEV_ERROR);
	cr_assert_str_eq(fs.v.v[0]->path, "/tmp/x.lock");
	cr_assert_eq(fs.v.v[0]->count, 2);
	cr_assert_eq(fs.v.v[0]->threads.n, 3);
	cr_assert_str_eq(fs.v.v[0]->threads.v[0].role, "check");
	cr_assert_str_eq(fs.v.v[0]->threads.v[1].role, "create");
	cr_assert_str_eq(fs.v.v[0]->threads.v[2].role, "interferer");
	cr_assert(strstr(fs.v.v[0]->message, "/tmp/x.lock"));
	lw_findings_free(&fs);
	lw_model_free(m);
}

Test(path_races, o_excl_is_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE_EXCL, "/tmp/x.lock", "/tmp/x.lock");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

Test(path_races, paths_compared_normalised)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE, "/tmp/./d//x.lock", "/tmp/d/e/../x.lock/");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 1);
	cr_assert_str_eq(fs.v.v[0]->path, "/tmp/d/x.lock");
	lw_findings_free(&fs);
	lw_model_free(m);
}

Test(path_races, different_paths_are_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE, "/tmp/a", "/tmp/b");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* Main checks and creates, then starts a thread that checks: ordered by the creation. */
Test(path_races, ordered_by_create_is_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_path(&b, 1, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x");
	tb_thread(&b, 2, 1);
	tb_path(&b, 2, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* T2 checks and creates and is joined; only then does T3 start and do the same. */
Test(path_races, ordered_by_join_is_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_path(&b, 2, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	tb_thread(&b, 3, 1);
	tb_path(&b, 3, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 3, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 3);
	tb_path(&b, 1, LW_PATH_UNLINK, "/tmp/x");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* A concurrent unlink by another thread is interference too. */
Test(path_races, concurrent_unlink)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_path(&b, 2, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 1, LW_PATH_UNLINK, "/tmp/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 1);
	cr_assert(strstr(fs.v.v[0]->message, "remove"));
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* Two processes of one run are concurrent; of two runs (sessions), they are not. */
static size_t two_processes(uint64_t session2)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;
	size_t n;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_path(&b, 1, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x");
	add(m, &b);
	tb_init(&b, 11);
	tb_header(&b)->session = session2;
	tb_thread(&b, 1, 0);
	tb_path(&b, 1, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x");
	add(m, &b);
	n = detect(m, &fs);
	if (n)
		cr_assert(strstr(fs.v.v[0]->message, "of process"));
	lw_findings_free(&fs);
	lw_model_free(m);
	return n;
}

Test(path_races, processes_of_one_run)
{
	cr_assert_eq(two_processes(0x1234), 1);
	cr_assert_eq(two_processes(0x9999), 0);
}
