/* Unit tests for analyzer/detect/detect_obj_races.c (issue 21): races on the pthread objects
 * themselves, on hand-built full-level traces. */
#include <criterion/criterion.h>
#include <string.h>

#include "detect/findings.h"
#include "trace/model.h"
#include "analyze_helpers.h"

#define M1    0x5000u
#define M2    0x5100u
#define COND  0x5300u
#define BAR   0x5400u
#define BLOCK 0x7000u                /* a heap block holding BAR2 */
#define BAR2  0x7010u

static struct lw_findings fs;

static void teardown(void)
{
	lw_findings_free(&fs);
}

TestSuite(obj_races, .fini = teardown, .timeout = 10);

static void start(struct tb *b)
{
	tb_init(b, 42);
	tb_header(b)->level = LW_LEVEL_FULL;
	tb_thread(b, 1, 0);
}

/* tid's *_init of addr (kind), with flags. */
static void init(struct tb *b, uint32_t tid, uint64_t addr, uint16_t kind, uint16_t flags)
{
	struct lw_rec_lock_init r;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.lock_kind = kind;
	r.flags = flags;
	r.tid = tid;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_LOCK_INIT, r);
}

static void destroy(struct tb *b, uint32_t tid, uint64_t addr)
{
	struct lw_rec_lock_destroy r;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.tid = tid;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_LOCK_DESTROY, r);
}

static size_t races(void)
{
	return tb_count(&fs, LW_FIND_DATA_RACE);
}

Test(obj_races, init_after_the_user_started_races_with_its_lock)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_thread(&b, 2, 1);
	init(&b, 1, M1, LW_LOCK_MUTEX, 0);
	tb_lock(&b, 2, M1);
	tb_unlock(&b, 2, M1);
	tb_join(&b, 1, 2);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 1);
	f = tb_first(&fs, LW_FIND_DATA_RACE);
	cr_assert_eq(f->severity, LW_SEV_ERROR);
	cr_assert(!strncmp(f->variable.name, "mutex ", 6), "%s", f->variable.name);
	cr_assert_eq(f->variable.addr, M1);
	cr_assert_eq(f->accesses.n, 2);
	cr_assert_eq(f->accesses.v[0].thread, 1);
	cr_assert(f->accesses.v[0].write);
	cr_assert_eq(f->accesses.v[1].thread, 2);
	cr_assert(!f->accesses.v[1].write);
	cr_assert(strstr(f->message, "init by T1") && strstr(f->message, "lock by T2"), "%s",
		  f->message);
}

Test(obj_races, init_before_create_is_clean)
{
	struct tb b;

	start(&b);
	init(&b, 1, M1, LW_LOCK_MUTEX, 0);
	tb_thread(&b, 2, 1);
	tb_lock(&b, 2, M1);
	tb_unlock(&b, 2, M1);
	tb_lock(&b, 1, M1);
	tb_unlock(&b, 1, M1);
	tb_join(&b, 1, 2);
	destroy(&b, 1, M1);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 0);
}

/* The init and the publication under another lock that the user takes first. */
Test(obj_races, init_under_another_lock_is_clean)
{
	struct tb b;

	start(&b);
	tb_thread(&b, 2, 1);
	tb_lock(&b, 1, M2);
	init(&b, 1, M1, LW_LOCK_MUTEX, 0);
	tb_unlock(&b, 1, M2);
	tb_lock(&b, 2, M2);
	tb_unlock(&b, 2, M2);
	tb_lock(&b, 2, M1);
	tb_unlock(&b, 2, M1);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 0);
}

/* PTHREAD_MUTEX_INITIALIZER: the shim's LOCK_INIT at the first use is no init. */
Test(obj_races, static_initialiser_is_clean)
{
	struct tb b;

	start(&b);
	tb_thread(&b, 2, 1);
	init(&b, 1, M1, LW_LOCK_MUTEX, LW_LOCKF_STATIC);
	tb_lock(&b, 1, M1);
	tb_unlock(&b, 1, M1);
	tb_lock(&b, 2, M1);
	tb_unlock(&b, 2, M1);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 0);
}

Test(obj_races, destroy_of_a_condvar_after_an_unordered_signal_races)
{
	struct tb b;

	start(&b);
	init(&b, 1, COND, LW_LOCK_COND, 0);
	tb_thread(&b, 2, 1);
	tb_sync(&b, 2, LW_SYNC_COND_SIGNAL, COND);
	destroy(&b, 1, COND);
	tb_join(&b, 1, 2);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 1);
	cr_assert(!strncmp(tb_first(&fs, LW_FIND_DATA_RACE)->variable.name,
			   "condition variable ", 19));
}

Test(obj_races, destroy_after_join_is_clean)
{
	struct tb b;

	start(&b);
	init(&b, 1, COND, LW_LOCK_COND, 0);
	init(&b, 1, BAR, LW_LOCK_BARRIER, 0);
	tb_thread(&b, 2, 1);
	tb_sync(&b, 2, LW_SYNC_COND_SIGNAL, COND);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, BAR);
	tb_sync(&b, 2, LW_SYNC_BARRIER_DEPART, BAR);
	tb_join(&b, 1, 2);
	destroy(&b, 1, COND);
	destroy(&b, 1, BAR);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 0);
}

/* A use in the trace after an unordered destroy races too (the other order). */
Test(obj_races, use_after_an_unordered_destroy_races)
{
	struct tb b;

	start(&b);
	init(&b, 1, BAR, LW_LOCK_BARRIER, 0);
	tb_thread(&b, 2, 1);
	destroy(&b, 1, BAR);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, BAR);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 1);
}

/* The shim's misuse finding on the same event wins: no data race beside it. */
Test(obj_races, destroy_while_locked_is_misuse_not_a_race)
{
	struct tb b;

	start(&b);
	init(&b, 1, M1, LW_LOCK_MUTEX, 0);
	tb_thread(&b, 2, 1);
	tb_lock(&b, 2, M1);
	tb_misuse(&b, 1, LW_MISUSE_DESTROY_LOCKED, M1);
	destroy(&b, 1, M1);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 0);
	cr_assert_geq(tb_count(&fs, LW_FIND_MISUSE), 1);
}

/* Hook mode: the free of the heap block a barrier lives in is a write of the barrier. */
Test(obj_races, free_of_the_block_races_with_an_unordered_use)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_alloc(&b, 1, BLOCK, 64, 0x401000);
	init(&b, 1, BAR2, LW_LOCK_BARRIER, 0);
	tb_thread(&b, 2, 1);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, BAR2);
	tb_sync(&b, 2, LW_SYNC_BARRIER_DEPART, BAR2);
	tb_access(&b, 1, LW_ACCESS_WRITE | LW_ACCESS_FREE, BLOCK, 64, 0x401100, 0);
	tb_analyze(&b, &fs);
	cr_assert_eq(races(), 1);
	f = tb_first(&fs, LW_FIND_DATA_RACE);
	cr_assert(!strncmp(f->variable.name, "barrier ", 8), "%s", f->variable.name);
	cr_assert(f->accesses.v[1].free);
}
