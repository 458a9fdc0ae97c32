/* Unit tests for analyzer/detect/detect_cycles.c: lock-order cycles and whether they can deadlock. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "detect/findings.h"
#include "detect/analyze.h"
#include "trace/model.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

#define A 0x1000u
#define B 0x2000u
#define C 0x3000u
#define D 0x4000u
#define E 0x5000u
#define G 0x9000u

static struct tb b;
static struct lw_findings fs;

static void setup(void)
{
	tb_init(&b, 7);
	memset(&fs, 0, sizeof(fs));
	tb_thread(&b, 1, 0);
}

static void teardown(void)
{
	lw_findings_free(&fs);
	tb_free(&b);
}

TestSuite(cycles, .init = setup, .fini = teardown, .timeout = 20);

/* Parses the built trace and runs every detector into fs. */
static void analyze(void)
{
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_model *m;

	cr_assert_eq(lw_trace_parse(b.buf, b.len, "t.trace", &t, &err), 0, "%s", err.what);
	m = lw_model_new();
	lw_model_add_trace(m, &t);
	lw_model_finish(m);
	lw_analyze(m, &fs);
	lw_model_free(m);
	lw_trace_close(&t);
}

static size_t count(enum lw_finding_kind k, enum lw_severity s)
{
	size_t n = 0;

	for (size_t i = 0; i < fs.v.n; i++)
		n += fs.v.v[i]->kind == k && fs.v.v[i]->severity == s;
	return n;
}

static const struct lw_finding *only_cycle(void)
{
	cr_assert_eq(fs.v.n, 1, "expected one finding, got %zu", fs.v.n);
	cr_assert_eq(fs.v.v[0]->kind, LW_FIND_LOCK_ORDER_CYCLE);
	return fs.v.v[0];
}

static void two_threads(void)
{
	tb_thread(&b, 2, 1);
	tb_thread(&b, 3, 1);
}

Test(cycles, two_lock_inversion_is_an_error)
{
	const struct lw_finding *f;

	two_threads();
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 3, B, A);
	analyze();
	f = only_cycle();
	cr_assert_eq(f->severity, LW_SEV_ERROR);
	cr_assert_eq(f->reason, LW_REASON_NONE);
	cr_assert_eq(f->locks.n, 2);
	cr_assert_eq(f->edges.n, 2);
	cr_assert_eq(f->count, 2);
	cr_assert_neq(f->edges.v[0].thread, f->edges.v[1].thread);
	cr_assert_str_eq(f->message, "lock 0x1000 -> lock 0x2000 -> lock 0x1000");
	cr_assert_eq(f->pid, 7);
}

Test(cycles, three_lock_cycle)
{
	tb_thread(&b, 2, 1);
	tb_thread(&b, 3, 1);
	tb_thread(&b, 4, 1);
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 3, B, C);
	tb_edge(&b, 4, C, A);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
	cr_assert_eq(only_cycle()->locks.n, 3);
}

Test(cycles, five_lock_cycle)
{
	uint64_t l[5] = { A, B, C, D, E };

	for (uint32_t t = 2; t <= 6; t++)
		tb_thread(&b, t, 1);
	for (uint32_t i = 0; i < 5; i++)
		tb_edge(&b, 2 + i, l[i], l[(i + 1) % 5]);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
	cr_assert_eq(only_cycle()->edges.n, 5);
}

Test(cycles, consistent_order_has_no_cycle)
{
	two_threads();
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 3, A, B);
	tb_edge(&b, 3, B, C);
	tb_edge(&b, 2, A, C);
	analyze();
	cr_assert_eq(fs.v.n, 0);
}

Test(cycles, repeated_observation_reported_once_with_count)
{
	two_threads();
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 3, B, A);
	analyze();
	cr_assert_eq(only_cycle()->count, 4);
}

Test(cycles, thousands_of_locks_one_back_edge, .timeout = 30)
{
	const uint32_t n = 5000;
	clock_t start = clock();

	two_threads();
	for (uint32_t i = 0; i + 1 < n; i++)
		tb_edge(&b, 2, 0x100000 + (uint64_t)i * 64, 0x100000 + (uint64_t)(i + 1) * 64);
	tb_edge(&b, 3, 0x100000 + (uint64_t)(n - 1) * 64, 0x100000);
	analyze();
	cr_assert_eq(fs.v.n, 1);
	cr_assert_eq(fs.v.v[0]->locks.n, n);
	/* T2 makes all but one of the edges itself. */
	cr_assert_eq(fs.v.v[0]->severity, LW_SEV_WARNING);
	cr_assert_eq(fs.v.v[0]->reason, LW_REASON_SINGLE_THREAD);
	cr_assert_lt((double)(clock() - start) / CLOCKS_PER_SEC, 10.0);
}

Test(cycles, single_thread_is_a_warning)
{
	tb_edge(&b, 1, A, B);
	tb_edge(&b, 1, B, A);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_WARNING);
	cr_assert_eq(only_cycle()->reason, LW_REASON_SINGLE_THREAD);
	cr_assert(strstr(only_cycle()->reason_text, "T1"), "%s", only_cycle()->reason_text);
}

static void edge_under(uint32_t tid, uint64_t gate, uint16_t gate_mode, uint64_t from, uint64_t to)
{
	struct lw_held h[2] = { tb_held(gate, 0, gate_mode), tb_held(from, 0, LW_MODE_WRITE) };

	tb_acquire_full(&b, tid, to, 0, LW_MODE_WRITE, 0, 0, 2, h);
}

Test(cycles, gate_lock_is_a_warning)
{
	two_threads();
	edge_under(2, G, LW_MODE_WRITE, A, B);
	edge_under(3, G, LW_MODE_WRITE, B, A);
	analyze();
	/* The edges G->A, G->B are consistent: only the A/B cycle. */
	cr_assert_eq(only_cycle()->severity, LW_SEV_WARNING);
	cr_assert_eq(only_cycle()->reason, LW_REASON_GATE_LOCK);
	cr_assert(strstr(only_cycle()->reason_text, "lock 0x9000"), "%s",
		  only_cycle()->reason_text);
}

Test(cycles, gate_held_for_reading_by_both_is_no_gate)
{
	two_threads();
	edge_under(2, G, LW_MODE_READ, A, B);
	edge_under(3, G, LW_MODE_READ, B, A);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
}

Test(cycles, gate_held_for_writing_by_one_of_two_still_excludes)
{
	two_threads();
	edge_under(2, G, LW_MODE_WRITE, A, B);
	edge_under(3, G, LW_MODE_READ, B, A);
	analyze();
	cr_assert_eq(only_cycle()->reason, LW_REASON_GATE_LOCK);
}

Test(cycles, join_then_create_is_happens_before)
{
	tb_thread(&b, 2, 1);
	tb_edge(&b, 2, A, B);
	tb_join(&b, 1, 2);
	tb_thread(&b, 3, 1);
	tb_edge(&b, 3, B, A);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_WARNING);
	cr_assert_eq(only_cycle()->reason, LW_REASON_HAPPENS_BEFORE);
	cr_assert(strstr(only_cycle()->reason_text, "T1 joined T2"), "%s",
		  only_cycle()->reason_text);
}

Test(cycles, happens_before_through_the_parent_chain)
{
	tb_thread(&b, 2, 1);
	tb_edge(&b, 2, A, B);
	tb_join(&b, 1, 2);
	tb_thread(&b, 3, 1);
	tb_thread(&b, 4, 3);         /* a grandchild created after the join */
	tb_edge(&b, 4, B, A);
	analyze();
	cr_assert_eq(only_cycle()->reason, LW_REASON_HAPPENS_BEFORE);
}

Test(cycles, concurrent_threads_joined_later_are_an_error)
{
	two_threads();
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 3, B, A);
	tb_join(&b, 1, 2);
	tb_join(&b, 1, 3);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
}

Test(cycles, join_by_an_unrelated_thread_orders_nothing)
{
	tb_thread(&b, 2, 1);
	tb_thread(&b, 5, 1);
	tb_edge(&b, 2, A, B);
	tb_join(&b, 5, 2);           /* T5 joins T2, but T1 creates T3 without waiting for T5 */
	tb_thread(&b, 3, 1);
	tb_edge(&b, 3, B, A);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
}

static void edge_flags(uint32_t tid, uint64_t from, uint64_t to, uint16_t mode, uint16_t from_mode,
		       uint16_t flags)
{
	struct lw_held h = tb_held(from, 0, from_mode);

	tb_acquire_full(&b, tid, to, 0, mode, flags, 0, 1, &h);
}

Test(cycles, trylock_closing_is_a_warning)
{
	two_threads();
	tb_edge(&b, 2, A, B);
	edge_flags(3, B, A, LW_MODE_WRITE, LW_MODE_WRITE, LW_ACQF_TRY);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_WARNING);
	cr_assert_eq(only_cycle()->reason, LW_REASON_TRYLOCK);
	cr_assert(only_cycle()->edges.v[1].try_lock || only_cycle()->edges.v[0].try_lock);
}

Test(cycles, timed_lock_is_a_warning)
{
	two_threads();
	tb_edge(&b, 2, A, B);
	edge_flags(3, B, A, LW_MODE_WRITE, LW_MODE_WRITE, LW_ACQF_TIMED);
	analyze();
	cr_assert_eq(only_cycle()->reason, LW_REASON_TIMED_LOCK);
}

Test(cycles, blocking_observation_wins_over_trylock_one)
{
	two_threads();
	tb_edge(&b, 2, A, B);
	edge_flags(3, B, A, LW_MODE_WRITE, LW_MODE_WRITE, LW_ACQF_TRY);
	edge_flags(3, B, A, LW_MODE_WRITE, LW_MODE_WRITE, 0);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
}

Test(cycles, read_read_is_a_warning)
{
	two_threads();
	tb_lock_init(&b, A, 0, LW_LOCK_RWLOCK, 0, 0);
	/* T2 holds A for reading and takes B; T3 holds B and waits for A for reading. */
	edge_flags(2, A, B, LW_MODE_WRITE, LW_MODE_READ, 0);
	edge_flags(3, B, A, LW_MODE_READ, LW_MODE_WRITE, 0);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_WARNING);
	cr_assert_eq(only_cycle()->reason, LW_REASON_READ_READ);
}

Test(cycles, write_waiting_on_a_reader_is_an_error)
{
	two_threads();
	tb_lock_init(&b, A, 0, LW_LOCK_RWLOCK, 0, 0);
	edge_flags(2, A, B, LW_MODE_WRITE, LW_MODE_READ, 0);
	edge_flags(3, B, A, LW_MODE_WRITE, LW_MODE_WRITE, 0);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
}

Test(cycles, signalling_semaphore_makes_no_edge)
{
	two_threads();
	tb_lock_init(&b, C, 0, LW_LOCK_SEM, 0, 0);
	tb_edge(&b, 2, C, A);        /* "holding" the semaphore after sem_wait */
	tb_edge(&b, 3, A, C);        /* sem_wait while holding A */
	analyze();
	cr_assert_eq(fs.v.n, 0);
}

Test(cycles, semaphore_used_as_a_lock_takes_part)
{
	two_threads();
	tb_lock_init(&b, C, 0, LW_LOCK_SEM, 0, 0);
	tb_sem_locklike(&b, 2, C, 0);
	tb_edge(&b, 2, C, A);
	tb_edge(&b, 3, A, C);
	analyze();
	cr_assert_eq(only_cycle()->severity, LW_SEV_ERROR);
	cr_assert(strstr(only_cycle()->message, "semaphore"), "%s", only_cycle()->message);
}

Test(cycles, reused_address_is_a_new_lock)
{
	struct lw_held h = tb_held(B, 0, LW_MODE_WRITE);

	two_threads();
	tb_lock_init(&b, A, 0, LW_LOCK_MUTEX, 0, 0);
	tb_edge(&b, 2, A, B);        /* A generation 0 */
	tb_lock_init(&b, A, 1, LW_LOCK_MUTEX, 0, 0);
	tb_acquire_full(&b, 3, A, 1, LW_MODE_WRITE, 0, 0, 1, &h);
	analyze();
	cr_assert_eq(fs.v.n, 0);
}

Test(cycles, same_lock_held_again_is_not_an_edge)
{
	tb_edge(&b, 1, A, A);
	analyze();
	cr_assert_eq(fs.v.n, 0);
}

/* Accounts initialised at one site (stack 1), nested as transfer(from, to). */
static void accounts(void)
{
	uint64_t pc = 0x401234;

	tb_stack(&b, 1, 1, &pc);
	tb_lock_init(&b, A, 0, LW_LOCK_MUTEX, 0, 1);
	tb_lock_init(&b, B, 0, LW_LOCK_MUTEX, 0, 1);
	tb_lock_init(&b, C, 0, LW_LOCK_MUTEX, 0, 1);
}

Test(cycles, lock_class_nested_both_directions_is_a_warning)
{
	two_threads();
	accounts();
	tb_edge(&b, 2, A, B);        /* low -> high */
	tb_edge(&b, 3, C, A);        /* high -> low, never the same pair */
	analyze();
	cr_assert_eq(fs.v.n, 1);
	cr_assert_eq(fs.v.v[0]->severity, LW_SEV_WARNING);
	cr_assert_eq(fs.v.v[0]->reason, LW_REASON_LOCK_CLASS);
	cr_assert_eq(fs.v.v[0]->edges.n, 2);
	cr_assert(strstr(fs.v.v[0]->message, "both address orders"), "%s", fs.v.v[0]->message);
}

Test(cycles, lock_class_nested_in_one_direction_is_fine)
{
	two_threads();
	accounts();
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 3, B, C);
	tb_edge(&b, 3, A, C);
	analyze();
	cr_assert_eq(fs.v.n, 0);
}

Test(cycles, instance_cycle_is_not_repeated_as_class_warning)
{
	two_threads();
	accounts();
	tb_edge(&b, 2, A, B);
	tb_edge(&b, 3, B, A);
	analyze();
	cr_assert_eq(fs.v.n, 1);
	cr_assert_eq(fs.v.v[0]->severity, LW_SEV_ERROR);
}

Test(cycles, class_cycle_between_two_init_sites)
{
	uint64_t pa = 0x401000, pb = 0x402000;

	two_threads();
	tb_stack(&b, 1, 1, &pa);
	tb_stack(&b, 2, 1, &pb);
	tb_lock_init(&b, A, 0, LW_LOCK_MUTEX, 0, 1);  /* class X */
	tb_lock_init(&b, C, 0, LW_LOCK_MUTEX, 0, 1);  /* class X */
	tb_lock_init(&b, B, 0, LW_LOCK_MUTEX, 0, 2);  /* class Y */
	tb_lock_init(&b, D, 0, LW_LOCK_MUTEX, 0, 2);  /* class Y */
	tb_edge(&b, 2, A, B);        /* X -> Y */
	tb_edge(&b, 3, D, C);        /* Y -> X, other instances */
	analyze();
	cr_assert_eq(fs.v.n, 1);
	cr_assert_eq(fs.v.v[0]->reason, LW_REASON_LOCK_CLASS);
	cr_assert_eq(fs.v.v[0]->locks.n, 2);
	cr_assert_eq(count(LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_ERROR), 0);
}

Test(cycles, two_processes_do_not_share_locks)
{
	struct tb b2;
	struct lw_trace t1, t2;
	struct lw_trace_error err;
	struct lw_model *m = lw_model_new();

	tb_edge(&b, 1, A, B);
	tb_init(&b2, 8);
	tb_thread(&b2, 1, 0);
	tb_edge(&b2, 1, B, A);
	cr_assert_eq(lw_trace_parse(b.buf, b.len, "1.trace", &t1, &err), 0);
	cr_assert_eq(lw_trace_parse(b2.buf, b2.len, "2.trace", &t2, &err), 0);
	lw_model_add_trace(m, &t1);
	lw_model_add_trace(m, &t2);
	lw_model_finish(m);
	lw_analyze(m, &fs);
	cr_assert_eq(count(LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_ERROR), 0);
	cr_assert_eq(fs.n_processes, 2);
	lw_model_free(m);
	lw_trace_close(&t1);
	lw_trace_close(&t2);
	tb_free(&b2);
}

Test(cycles, deadlock_record_is_an_error)
{
	uint32_t tids[2] = { 2, 3 };
	uint64_t held[2] = { A, B }, waits[2] = { B, A };

	two_threads();
	tb_deadlock2(&b, tids, held, waits);
	analyze();
	cr_assert_eq(count(LW_FIND_DEADLOCK, LW_SEV_ERROR), 1);
	cr_assert_eq(fs.v.v[0]->threads.n, 2);
	cr_assert_eq(fs.v.v[0]->threads.v[0].n_held, 1);
	cr_assert_str_eq(fs.v.v[0]->threads.v[0].waiting_for, "lock 0x2000");
}

Test(cycles, misuse_records)
{
	tb_misuse(&b, 1, LW_MISUSE_UNLOCK_NOT_LOCKED, A);
	tb_misuse(&b, 1, LW_MISUSE_EXIT_HOLDING, B);
	analyze();
	cr_assert_eq(count(LW_FIND_MISUSE, LW_SEV_ERROR), 1);
	cr_assert_eq(count(LW_FIND_MISUSE, LW_SEV_WARNING), 1);
	cr_assert(strstr(fs.v.v[0]->message, "which was not locked"), "%s", fs.v.v[0]->message);
}

/* One thread nesting 512 locks around a ring in eight strides: a thousand cycles that cannot
 * deadlock.  Judged fast (the one-thread rule needs no search), and only the first 20 are
 * listed; the rest are counted. */
Test(cycles, many_one_thread_cycles_are_judged_fast_and_listed_briefly, .timeout = 30)
{
	const uint32_t n = 512;

	for (uint32_t r = 0; r < 8; r++)
		for (uint32_t i = 0; i < n; i++)
			tb_edge(&b, 1, 0x100000 + (uint64_t)i * 64,
				0x100000 + (uint64_t)((i + 1 + 7 * r) % n) * 64);
	analyze();
	cr_assert_eq(count(LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_ERROR), 0);
	cr_assert_eq(count(LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_WARNING), 20);
	cr_assert_gt(fs.unlisted_warn_cycles, 0);
	for (size_t i = 0; i < fs.v.n; i++)
		cr_assert_eq(fs.v.v[i]->reason, LW_REASON_SINGLE_THREAD);
}

/* T2 locks n stripes in ascending order and T3 in descending order, each holding all it
 * took.  Neighbouring stripes make n - 1 inversions that can deadlock; every other cycle
 * (thousands past 7 stripes) goes through a stripe both threads hold, a gate. */
static void stripes(uint32_t n)
{
	struct lw_held held[64];

	two_threads();
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t k = 0; k < i; k++)
			held[k] = tb_held(0x10000 + (uint64_t)k * 64, 0, LW_MODE_WRITE);
		tb_acquire_full(&b, 2, 0x10000 + (uint64_t)i * 64, 0, LW_MODE_WRITE, 0, 0, i, held);
	}
	for (uint32_t i = n; i-- > 0;) {
		uint32_t h = 0;

		for (uint32_t k = n; k-- > i + 1;)
			held[h++] = tb_held(0x10000 + (uint64_t)k * 64, 0, LW_MODE_WRITE);
		tb_acquire_full(&b, 3, 0x10000 + (uint64_t)i * 64, 0, LW_MODE_WRITE, 0, 0, h, held);
	}
	analyze();
}

/* However many cycles cannot deadlock, every one that can is reported; the summary counts
 * say what was left out. */
static void stripes_all_reported(uint32_t n)
{
	stripes(n);
	cr_assert_eq(count(LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_ERROR), n - 1, "%u stripes: %zu errors",
		     n, count(LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_ERROR));
	for (size_t i = 0; i < fs.v.n; i++)
		if (fs.v.v[i]->severity == LW_SEV_ERROR)
			cr_assert_eq(fs.v.v[i]->locks.n, 2);
	if (n >= 8) {
		cr_assert_gt(fs.truncated_sccs, 0);
		cr_assert_eq(fs.deadlock_search_stopped, 0);
		cr_assert_eq(fs.listed_warn_cycles, 20);
		cr_assert_eq(count(LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_WARNING), 20);
		cr_assert_gt(fs.unlisted_warn_cycles, 0);
	}
}

Test(cycles, stripes_7_ascending_and_descending) { stripes_all_reported(7); }
Test(cycles, stripes_8_ascending_and_descending) { stripes_all_reported(8); }
Test(cycles, stripes_16_ascending_and_descending, .timeout = 60) { stripes_all_reported(16); }
Test(cycles, stripes_32_ascending_and_descending, .timeout = 60) { stripes_all_reported(32); }
