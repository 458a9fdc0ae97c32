/* Unit tests for analyzer/trace/model.c and analyzer/detect/happens_before.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "detect/happens_before.h"
#include "trace/model.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

TestSuite(model, .timeout = 10);

static struct lw_trace traces[4];
static size_t n_traces;

static void add(struct lw_model *m, struct tb *b)
{
	struct lw_trace_error err;

	cr_assert_eq(lw_trace_parse(b->buf, b->len, "t", &traces[n_traces], &err), 0, "%s", err.what);
	lw_model_add_trace(m, &traces[n_traces]);
	lw_trace_close(&traces[n_traces]);   /* the model keeps its own copies */
	n_traces++;
}

Test(model, threads_locks_and_acquisitions)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_thread *t;

	tb_init(&b, 3);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_lock_init(&b, 0x10, 0, LW_LOCK_RWLOCK, 0, 0);
	tb_edge(&b, 2, 0x10, 0x20);
	tb_join(&b, 1, 2);
	add(m, &b);
	lw_model_finish(m);
	cr_assert_eq(m->procs.n, 1);
	cr_assert_eq(m->procs.v[0].hdr.pid, 3);
	t = lw_model_thread(m, 0, 2);
	cr_assert_not_null(t);
	cr_assert_eq(t->parent, 1);
	cr_assert(t->known);
	cr_assert_eq(lw_model_thread(m, 0, 1)->n_joins, 1);
	cr_assert_eq(m->locks.n, 2);
	cr_assert_eq(m->locks.v[lw_model_find_lock(m, 0, 0x10, 0)].kind, LW_LOCK_RWLOCK);
	cr_assert_eq(lw_model_find_lock(m, 0, 0x10, 1), LW_NONE);
	cr_assert_eq(m->acqs.n, 1);
	cr_assert_eq(m->acqs.v[0].n_held, 1);
	lw_model_free(m);
	tb_free(&b);
}

Test(model, repeated_acquisitions_are_counted_once)
{
	struct tb b;
	struct lw_model *m = lw_model_new();

	tb_init(&b, 3);
	tb_header(&b)->level = LW_LEVEL_FULL;
	for (int i = 0; i < 100; i++)
		tb_edge(&b, 1, 0x10, 0x20);
	tb_edge(&b, 2, 0x10, 0x20);      /* another thread: another observation */
	add(m, &b);
	lw_model_finish(m);
	cr_assert_eq(m->acqs.n, 2);
	cr_assert_eq(m->acqs.v[0].count, 100);
	cr_assert_eq(m->acqs.v[1].count, 1);
	lw_model_free(m);
	tb_free(&b);
}

Test(model, locks_are_per_process)
{
	struct tb b1, b2;
	struct lw_model *m = lw_model_new();

	tb_init(&b1, 10);
	tb_edge(&b1, 1, 0x10, 0x20);
	tb_init(&b2, 11);
	tb_edge(&b2, 1, 0x10, 0x20);
	add(m, &b1);
	add(m, &b2);
	lw_model_finish(m);
	cr_assert_eq(m->locks.n, 4);
	cr_assert_neq(lw_model_find_lock(m, 0, 0x10, 0), lw_model_find_lock(m, 1, 0x10, 0));
	lw_model_free(m);
	tb_free(&b1);
	tb_free(&b2);
}

Test(model, forked_child_inherits_the_module_map)
{
	struct tb parent, child;
	struct lw_model *m = lw_model_new();

	tb_init(&parent, 100);
	tb_module(&parent, 0x400000, 0x400000, 0x500000, "/bin/prog");
	tb_init(&child, 101);
	tb_header(&child)->ppid = 100;
	tb_header(&child)->flags |= LW_HDR_FORKED;
	tb_header(&child)->start_ns = 5;
	tb_module(&child, 0x7f0000, 0x7f0000, 0x7f1000, "/lib/dlopened.so");
	add(m, &child);
	add(m, &parent);
	lw_model_finish(m);
	cr_assert_eq(m->procs.v[0].modules.n, 2);
	cr_assert_str_eq(m->procs.v[0].modules.v[0].path, "/bin/prog");
	cr_assert_str_eq(m->procs.v[0].modules.v[1].path, "/lib/dlopened.so");
	cr_assert_eq(m->procs.v[1].modules.n, 1);
	lw_model_free(m);
	tb_free(&parent);
	tb_free(&child);
}

Test(model, unknown_ids_are_tolerated)
{
	struct tb b;
	struct lw_model *m = lw_model_new();

	tb_init(&b, 3);
	tb_join(&b, 7, 8);               /* threads never described */
	tb_misuse(&b, 9, LW_MISUSE_JOIN_TWICE, 8);
	add(m, &b);
	lw_model_finish(m);
	cr_assert_not_null(lw_model_thread(m, 0, 7));
	cr_assert_not(lw_model_thread(m, 0, 8)->known);
	cr_assert_null(lw_model_stack(m, 0, 42));
	cr_assert_eq(m->misuses.n, 1);
	cr_assert_eq(m->misuses.v[0].lock, LW_NONE);
	lw_model_free(m);
	tb_free(&b);
}

Test(model, happens_before_by_join_and_create)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_hb_why why;
	uint32_t first;

	tb_init(&b, 3);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_thread(&b, 3, 1);             /* concurrent with 2 */
	tb_join(&b, 1, 2);
	tb_thread(&b, 4, 1);             /* after 2 */
	tb_thread(&b, 5, 3);             /* 3's child: concurrent with 2 */
	add(m, &b);
	lw_model_finish(m);
	cr_assert(lw_hb_lifetime_before(m, 0, 2, 4, &why));
	cr_assert_eq(why.joiner, 1);
	cr_assert_eq(why.joined, 2);
	cr_assert_eq(why.creator, 1);
	cr_assert_lt(why.join_seq, why.create_seq);
	cr_assert_not(lw_hb_lifetime_before(m, 0, 4, 2, NULL));
	cr_assert_not(lw_hb_ordered(m, 0, 2, 3, NULL, NULL));
	cr_assert_not(lw_hb_ordered(m, 0, 2, 5, NULL, NULL));
	cr_assert_not(lw_hb_ordered(m, 0, 1, 2, NULL, NULL));   /* parent and child overlap */
	cr_assert(lw_hb_ordered(m, 0, 4, 2, &first, NULL));
	cr_assert_eq(first, 2);
	lw_model_free(m);
	tb_free(&b);
}
