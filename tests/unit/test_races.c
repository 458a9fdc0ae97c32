/* Unit tests for analyzer/detect/hb_replay.c and the data-race half of detect_races.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "detect/findings.h"
#include "trace/model.h"
#include "report/render.h"
#include "analyze_helpers.h"
#include "trace/trace_reader.h"

#define X     0x6000u                /* the shared variable, watched as "balance" */
#define FLAG  0x6100u
#define M1    0x5000u
#define M2    0x5100u
#define SEM   0x5200u
#define COND  0x5300u
#define BAR   0x5400u
#define RW    0x5500u

static struct lw_findings fs;

static void teardown(void)
{
	lw_findings_free(&fs);
}

TestSuite(races, .fini = teardown, .timeout = 10);

/* A full-level trace: main (T1) created T2 and T3, and "balance" is watched at X. */
static void start(struct tb *b)
{
	tb_init(b, 42);
	tb_header(b)->level = LW_LEVEL_FULL;
	tb_watch(b, X, 4, "balance");
	tb_thread(b, 1, 0);
	tb_thread(b, 2, 1);
	tb_thread(b, 3, 1);
}

static void analyze(struct tb *b)
{
	tb_analyze(b, &fs);
}

static size_t count(enum lw_finding_kind k)
{
	return tb_count(&fs, k);
}

static struct lw_finding *first(enum lw_finding_kind k)
{
	return tb_first(&fs, k);
}

Test(races, unordered_writes_race_and_name_the_variable)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	f = first(LW_FIND_DATA_RACE);
	cr_assert_eq(f->severity, LW_SEV_ERROR);
	cr_assert_str_eq(f->variable.name, "balance");
	cr_assert_eq(f->variable.addr, X);
	cr_assert_eq(f->variable.size, 4);
	cr_assert_eq(f->accesses.n, 2);
	cr_assert_eq(f->accesses.v[0].thread, 2);
	cr_assert_eq(f->accesses.v[1].thread, 3);
	cr_assert(f->accesses.v[0].write && f->accesses.v[1].write);
	/* No stack recorded: the pc alone is the stack. */
	cr_assert_eq(f->accesses.v[0].stack.n, 1);
	cr_assert_eq(f->accesses.v[0].stack.frames[0].pc, 0x401010);
	cr_assert_eq(f->accesses.v[1].stack.frames[0].pc, 0x401020);
	cr_assert(strstr(f->message, "balance"), "%s", f->message);
}

Test(races, unwatched_variable_is_named_by_address)
{
	struct tb b;

	start(&b);
	tb_read(&b, 2, 0x7000, 0x401010);
	tb_write(&b, 3, 0x7000, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	cr_assert_str_eq(first(LW_FIND_DATA_RACE)->variable.name, "0x7000");
}

Test(races, heap_variable_is_named_after_its_block)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_alloc(&b, 1, 0x9000, 24, 0x401500);
	tb_write(&b, 2, 0x9008, 0x401010);
	tb_write(&b, 3, 0x9008, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	f = first(LW_FIND_DATA_RACE);
	/* No symbols here: the block is named after its allocating pc, never its address. */
	cr_assert(!strncmp(f->variable.name, "heap block of 24 bytes from ", 28), "%s",
		  f->variable.name);
	cr_assert(strstr(f->variable.name, ", offset 8"), "%s", f->variable.name);
	cr_assert(f->variable.heap);
	cr_assert_eq(f->variable.block_addr, 0x9000);
	cr_assert_eq(f->variable.block_size, 24);
	cr_assert_eq(f->variable.block_thread, 1);
	cr_assert_eq(f->variable.block_stack.n, 1);
	cr_assert_eq(f->variable.block_stack.frames[0].pc, 0x401500);
}

Test(races, a_new_heap_block_ends_the_old_ones_races)
{
	struct tb b;

	/* T2's write was to the first block at 0x9000; T3's to a second block the allocator
	 * made at the same place: not a race, though nothing orders the two. */
	start(&b);
	tb_alloc(&b, 2, 0x9000, 16, 0x401500);
	tb_write(&b, 2, 0x9008, 0x401010);
	tb_alloc(&b, 3, 0x9000, 16, 0x401600);
	tb_write(&b, 3, 0x9008, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

Test(races, accesses_to_one_heap_block_still_race)
{
	struct tb b;

	/* The block allocated after the first write does not cover it: the race stays. */
	start(&b);
	tb_write(&b, 2, 0x9008, 0x401010);
	tb_alloc(&b, 3, 0xa000, 16, 0x401600);
	tb_write(&b, 3, 0x9008, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	cr_assert(!first(LW_FIND_DATA_RACE)->variable.heap);
}

Test(races, a_plain_read_races_with_an_unordered_atomic_write)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_read(&b, 2, X, 0x401010);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, X, 4, 0x401020, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	f = first(LW_FIND_DATA_RACE);
	cr_assert(!f->accesses.v[0].atomic && f->accesses.v[1].atomic);
	cr_assert(strstr(f->message, "read by T2 and atomic write by T3"), "%s", f->message);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
}

Test(races, atomics_never_race_with_each_other)
{
	struct tb b;

	start(&b);
	tb_access(&b, 2, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, X, 4, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, X, 4, 0x401020, 0);
	tb_access(&b, 2, LW_ACCESS_READ | LW_ACCESS_ATOMIC, X, 4, 0x401030, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

Test(races, a_plain_write_published_by_an_atomic_does_not_race_with_it)
{
	struct tb b;

	/* T2 initialises X, then stores FLAG; T3 loads FLAG, then updates X atomically. */
	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_access(&b, 2, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, FLAG, 4, 0x401020, 0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_ATOMIC, FLAG, 4, 0x401030, 0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, X, 4, 0x401040, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

Test(races, a_free_races_with_any_unordered_access_to_its_block)
{
	struct tb b;

	/* T2 reads byte 40 of a 64-byte block; T3 frees the block: the free covers it, well
	 * past an ordinary access's first bytes. */
	start(&b);
	tb_access(&b, 2, LW_ACCESS_READ, 0x9028, 1, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_WRITE | LW_ACCESS_FREE, 0x9000, 64, 0x401020, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	cr_assert(first(LW_FIND_DATA_RACE)->accesses.v[1].free);
	cr_assert(strstr(first(LW_FIND_DATA_RACE)->message, "read by T2 and free by T3"), "%s",
		  first(LW_FIND_DATA_RACE)->message);
}

Test(races, reads_never_race)
{
	struct tb b;

	start(&b);
	tb_read(&b, 2, X, 0x401010);
	tb_read(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

Test(races, disjoint_bytes_do_not_race_overlapping_do)
{
	struct tb b;

	start(&b);
	tb_access(&b, 2, LW_ACCESS_WRITE, 0x7000, 4, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_WRITE, 0x7004, 4, 0x401020, 0);   /* other half */
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	start(&b);
	tb_access(&b, 2, LW_ACCESS_WRITE, 0x7000, 8, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_READ, 0x7004, 2, 0x401020, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

/* One call of a string function is several records of one site: strlen's 7 bytes are pieces
 * of 4, 2 and 1 bytes.  The last piece does not stand for the first: a later unordered write
 * of the first piece's bytes races with it (it raced with nothing, in some runs of
 * tests/hooks/mem_race dup), and the race is named after those bytes (it was named after the
 * second piece's, "name[2]" for "name", in some runs of mem_race search). */
Test(races, every_piece_of_one_site_races)
{
	struct tb b;

	start(&b);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7000, 4, 0x401010, 0);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7004, 2, 0x401010, 0);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7006, 1, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_WRITE, 0x7000, 4, 0x401020, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	cr_assert_eq(first(LW_FIND_DATA_RACE)->variable.addr, 0x7000);
	lw_findings_free(&fs);

	/* The watched "balance" read as 2 bytes, then 1: the race of the write with the first
	 * piece is found, and first. */
	start(&b);
	tb_access(&b, 2, LW_ACCESS_READ, X, 2, 0x401010, 0);
	tb_access(&b, 2, LW_ACCESS_READ, X + 2, 1, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_WRITE, X, 4, 0x401020, 0);
	analyze(&b);
	cr_assert_geq(count(LW_FIND_DATA_RACE), 1);
	cr_assert_str_eq(first(LW_FIND_DATA_RACE)->variable.name, "balance");
}

/* The pieces keep their own clocks: a piece read before a release that orders it before the
 * other thread's write does not race with it because a later piece of the same site, after
 * the release, is unordered (that one touched other bytes). */
Test(races, a_piece_ordered_by_a_release_stays_ordered)
{
	struct tb b;

	start(&b);
	tb_lock(&b, 2, M1);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7000, 4, 0x401010, 0);
	tb_unlock(&b, 2, M1);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7004, 2, 0x401010, 0);
	tb_lock(&b, 3, M1);
	tb_access(&b, 3, LW_ACCESS_WRITE, 0x7000, 4, 0x401020, 0);
	tb_unlock(&b, 3, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	/* The write of the later piece's bytes races with it. */
	start(&b);
	tb_lock(&b, 2, M1);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7000, 4, 0x401010, 0);
	tb_unlock(&b, 2, M1);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7004, 2, 0x401010, 0);
	tb_lock(&b, 3, M1);
	tb_access(&b, 3, LW_ACCESS_WRITE, 0x7004, 4, 0x401020, 0);
	tb_unlock(&b, 3, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, same_thread_never_races)
{
	struct tb b;

	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_write(&b, 2, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

Test(races, mutex_orders_and_locks_held_are_reported)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_lock(&b, 2, M1);
	tb_write(&b, 2, X, 0x401010);
	tb_unlock(&b, 2, M1);
	tb_lock(&b, 3, M1);
	tb_write(&b, 3, X, 0x401020);
	tb_unlock(&b, 3, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	/* Two different locks do not order anything. */
	start(&b);
	tb_lock(&b, 2, M1);
	tb_write(&b, 2, X, 0x401010);
	tb_unlock(&b, 2, M1);
	tb_lock(&b, 3, M2);
	tb_write(&b, 3, X, 0x401020);
	tb_unlock(&b, 3, M2);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	f = first(LW_FIND_DATA_RACE);
	cr_assert_eq(f->accesses.v[0].n_locks, 1);
	cr_assert_eq(f->accesses.v[1].n_locks, 1);
	cr_assert_eq(f->locks.v[f->accesses.v[0].locks[0]].addr, M1);
	cr_assert_eq(f->locks.v[f->accesses.v[1].locks[0]].addr, M2);
}

Test(races, write_before_lock_is_not_protected_by_it)
{
	struct tb b;

	/* T2 writes, then locks and unlocks; T3 locks and reads: ordered (release after the
	 * write).  T3 reading before its lock is not. */
	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_lock(&b, 2, M1);
	tb_unlock(&b, 2, M1);
	tb_lock(&b, 3, M1);
	tb_read(&b, 3, X, 0x401020);
	tb_unlock(&b, 3, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	start(&b);
	tb_lock(&b, 2, M1);
	tb_unlock(&b, 2, M1);
	tb_write(&b, 2, X, 0x401010);
	tb_lock(&b, 3, M1);
	tb_read(&b, 3, X, 0x401020);
	tb_unlock(&b, 3, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, create_and_join_order)
{
	struct tb b;

	tb_init(&b, 42);
	tb_header(&b)->level = LW_LEVEL_FULL;
	tb_thread(&b, 1, 0);
	tb_write(&b, 1, X, 0x401000);        /* before the create */
	tb_thread(&b, 2, 1);
	tb_write(&b, 2, X, 0x401010);
	tb_join(&b, 1, 2);
	tb_read(&b, 1, X, 0x401020);         /* after the join */
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	tb_init(&b, 42);
	tb_header(&b)->level = LW_LEVEL_FULL;
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_write(&b, 2, X, 0x401010);
	tb_read(&b, 1, X, 0x401020);         /* before the join */
	tb_join(&b, 1, 2);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, parent_after_create_races_with_child)
{
	struct tb b;

	tb_init(&b, 42);
	tb_header(&b)->level = LW_LEVEL_FULL;
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_write(&b, 1, X, 0x401000);        /* after the create */
	tb_read(&b, 2, X, 0x401010);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

/* Issue 21: the semaphore's init, after start() created the threads, races with their post
 * and wait (detect_obj_races.c): only the races on balance count here. */
static size_t races_on_balance(void)
{
	size_t n = 0;

	for (size_t i = 0; i < fs.v.n; i++)
		if (fs.v.v[i]->kind == LW_FIND_DATA_RACE && !strcmp(fs.v.v[i]->variable.name, "balance"))
			n++;
	return n;
}

Test(races, semaphore_post_orders_a_later_wait)
{
	struct tb b;

	start(&b);
	tb_lock_init(&b, SEM, 0, LW_LOCK_SEM, 0, 0);
	tb_write(&b, 2, X, 0x401010);
	tb_sync(&b, 2, LW_SYNC_SEM_POST, SEM);
	tb_lock(&b, 3, SEM);                 /* sem_wait */
	tb_read(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(races_on_balance(), 0);
	lw_findings_free(&fs);

	/* Posted before the write: orders nothing about it. */
	start(&b);
	tb_lock_init(&b, SEM, 0, LW_LOCK_SEM, 0, 0);
	tb_sync(&b, 2, LW_SYNC_SEM_POST, SEM);
	tb_write(&b, 2, X, 0x401010);
	tb_lock(&b, 3, SEM);
	tb_read(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(races_on_balance(), 1);
}

Test(races, condvar_signal_orders_the_wake)
{
	struct tb b;

	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_sync(&b, 2, LW_SYNC_COND_SIGNAL, COND);
	tb_sync(&b, 3, LW_SYNC_COND_WAKE, COND);
	tb_read(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_sync(&b, 2, LW_SYNC_COND_BROADCAST, COND + 8);   /* another condvar */
	tb_sync(&b, 3, LW_SYNC_COND_WAKE, COND);
	tb_read(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, barrier_rounds)
{
	struct tb b;

	/* Round 1 orders T2's write before T3's read; T2's write after its departure races with
	 * T3's read before round 2. */
	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, BAR);
	tb_sync(&b, 3, LW_SYNC_BARRIER_ARRIVE, BAR);
	tb_sync(&b, 2, LW_SYNC_BARRIER_DEPART, BAR);
	tb_write(&b, 2, FLAG, 0x401030);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, BAR);  /* round 2 starts before T3 leaves 1 */
	tb_sync(&b, 3, LW_SYNC_BARRIER_DEPART, BAR);
	tb_read(&b, 3, X, 0x401020);
	tb_read(&b, 3, FLAG, 0x401040);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	cr_assert_eq(first(LW_FIND_DATA_RACE)->variable.addr, FLAG);
	lw_findings_free(&fs);

	/* Reading before the departure: no order. */
	start(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, BAR);
	tb_read(&b, 3, X, 0x401020);
	tb_sync(&b, 3, LW_SYNC_BARRIER_ARRIVE, BAR);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, atomics_never_race_and_synchronise)
{
	struct tb b;

	start(&b);
	tb_access(&b, 2, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, X, 4, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, X, 4, 0x401020, 0);
	tb_access(&b, 2, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, X, 4, 0x401010, 0);
	analyze(&b);
	cr_assert_eq(fs.v.n, 0);

	/* Message passing through an atomic flag orders the plain data. */
	start(&b);
	tb_write(&b, 2, 0x7000, 0x401010);
	tb_access(&b, 2, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, FLAG, 4, 0x401014, 0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_ATOMIC, FLAG, 4, 0x401024, 0);
	tb_read(&b, 3, 0x7000, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	/* The same with a plain flag: both the flag and the data race. */
	start(&b);
	tb_write(&b, 2, 0x7000, 0x401010);
	tb_write(&b, 2, FLAG, 0x401014);
	tb_read(&b, 3, FLAG, 0x401024);
	tb_read(&b, 3, 0x7000, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 2);
}

Test(races, a_hook_atomic_synchronises_its_whole_granule)
{
	struct tb b;

	/* The hooks' filter left only the owner's last atomic of a granule in the trace (a
	 * store to FLAG + 4, after its release of a spin lock at FLAG): it still orders the
	 * owner's data write before the other thread's acquisition of the lock at FLAG. */
	start(&b);
	tb_write(&b, 2, 0x7000, 0x401010);
	tb_access(&b, 2, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC | LW_SRC_HOOK, FLAG + 4, 4, 0x401014,
		  0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC | LW_SRC_HOOK, FLAG, 1,
		  0x401024, 0);
	tb_read(&b, 3, 0x7000, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	/* Annotated atomics are all in the trace: each synchronises its own address only. */
	start(&b);
	tb_write(&b, 2, 0x7000, 0x401010);
	tb_access(&b, 2, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, FLAG + 4, 4, 0x401014, 0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, FLAG, 1, 0x401024, 0);
	tb_read(&b, 3, 0x7000, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, rwlock_readers_do_not_order_each_other)
{
	struct tb b;

	/* A writer's section orders a later reader's. */
	start(&b);
	tb_acquire_full(&b, 2, RW, 0, LW_MODE_WRITE, 0, 0, 0, NULL);
	tb_write(&b, 2, X, 0x401010);
	tb_release(&b, 2, RW, 0);
	tb_acquire_full(&b, 3, RW, 0, LW_MODE_READ, 0, 0, 0, NULL);
	tb_read(&b, 3, X, 0x401020);
	tb_release(&b, 3, RW, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	lw_findings_free(&fs);

	/* Writing under a read lock races with another reader's write... */
	start(&b);
	tb_acquire_full(&b, 2, RW, 0, LW_MODE_READ, 0, 0, 0, NULL);
	tb_write(&b, 2, X, 0x401010);
	tb_release(&b, 2, RW, 0);
	tb_acquire_full(&b, 3, RW, 0, LW_MODE_READ, 0, 0, 0, NULL);
	tb_write(&b, 3, X, 0x401020);
	tb_release(&b, 3, RW, 0);
	/* ...but a writer acquires what readers released. */
	tb_acquire_full(&b, 1, RW, 0, LW_MODE_WRITE, 0, 0, 0, NULL);
	tb_write(&b, 1, X, 0x401030);
	tb_release(&b, 1, RW, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	cr_assert_eq(first(LW_FIND_DATA_RACE)->accesses.v[0].thread, 2);
	cr_assert_eq(first(LW_FIND_DATA_RACE)->accesses.v[1].thread, 3);
}

Test(races, one_finding_per_site_pair_with_a_count)
{
	struct tb b;

	start(&b);
	for (int i = 0; i < 5; i++) {
		tb_write(&b, 2, X, 0x401010);
		tb_write(&b, 3, X, 0x401020);
	}
	tb_read(&b, 3, X, 0x401030);       /* another site pair: (write 0x401010, read 0x401030) */
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 2);
	cr_assert_gt(first(LW_FIND_DATA_RACE)->count, 1);
}

Test(races, dependencies_level_is_not_analysed)
{
	struct tb b;

	start(&b);
	tb_header(&b)->level = LW_LEVEL_DEPENDENCIES;
	tb_write(&b, 2, X, 0x401010);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

static char *render(bool json)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert(f);
	if (json)
		lw_render_json(&fs, f);
	else
		lw_render_text(&fs, f);
	fclose(f);
	return out;
}

Test(races, json_and_text_shape)
{
	struct tb b;
	json_t *root, *f, *acc, *a0, *a1;
	json_error_t je;
	char *text;

	start(&b);
	tb_lock(&b, 2, M1);
	tb_read(&b, 2, X, 0x401010);
	tb_unlock(&b, 2, M1);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	text = render(true);
	root = json_loads(text, 0, &je);
	cr_assert_not_null(root, "%s: %s", je.text, text);
	free(text);
	f = json_array_get(json_object_get(root, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "data-race");
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "error");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "variable"), "name")),
			 "balance");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "variable"),
							   "address")), "0x6000");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(f, "variable"), "size")), 4);
	acc = json_object_get(f, "accesses");
	cr_assert_eq(json_array_size(acc), 2);
	a0 = json_array_get(acc, 0);
	a1 = json_array_get(acc, 1);
	cr_assert_eq(json_integer_value(json_object_get(a0, "thread")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(a0, "type")), "read");
	cr_assert_str_eq(json_string_value(json_object_get(a1, "type")), "write");
	cr_assert_eq(json_array_size(json_object_get(a0, "locks_held")), 1);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(a0, "locks_held"), 0)),
			 "lock 0x5000");
	cr_assert_eq(json_array_size(json_object_get(a1, "locks_held")), 0);
	cr_assert_eq(json_array_size(json_object_get(a0, "stack")), 1);
	cr_assert_null(json_object_get(a0, "role"));
	json_decref(root);

	text = render(false);
	cr_assert(strstr(text, "ERROR: data-race: data race on balance"), "%s", text);
	cr_assert(strstr(text, "write of 4 bytes at 0x6000 by thread T3"), "%s", text);
	cr_assert(strstr(text, "previous read of 4 bytes at 0x6000 by thread T2"), "%s", text);
	cr_assert(strstr(text, "holding lock 0x5000"), "%s", text);
	cr_assert(strstr(text, "holding no lock"), "%s", text);
	free(text);
}

Test(races, reader_accepts_and_checks_the_new_records)
{
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_rec_watch *w;
	size_t at;

	start(&b);
	tb_sync(&b, 2, LW_SYNC_SEM_POST, SEM);
	tb_write(&b, 2, X, 0x401010);
	cr_assert_eq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0, "%s", err.what);
	cr_assert_eq(t.n_recs, 6);
	cr_assert_eq(t.recs[0].kind, LW_REC_WATCH);
	cr_assert_eq(t.recs[4].kind, LW_REC_SYNC);
	cr_assert_eq(t.recs[5].kind, LW_REC_ACCESS);
	lw_trace_close(&t);
	/* A name length that disagrees with the record's size. */
	w = (struct lw_rec_watch *)(b.buf + LW_TRACE_HEADER_SIZE);
	w->name_len = 200;
	cr_assert_neq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0);
	cr_assert(strstr(err.what, "watch record"), "%s", err.what);
	w->name_len = 7;
	/* An access of zero bytes. */
	at = b.len - sizeof(struct lw_rec_access);
	((struct lw_rec_access *)(b.buf + at))->size = 0;
	cr_assert_neq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0);
	cr_assert(strstr(err.what, "0 bytes"), "%s", err.what);
	((struct lw_rec_access *)(b.buf + at))->size = 4;
	((struct lw_rec_access *)(b.buf + at))->flags = LW_SRC_ANNOTATION;
	cr_assert_neq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0);
	/* Valid again; then the last record cut short. */
	((struct lw_rec_access *)(b.buf + at))->flags = LW_ACCESS_READ;
	cr_assert_eq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0, "%s", err.what);
	lw_trace_close(&t);
	cr_assert_neq(lw_trace_parse(b.buf, b.len - 8, "t", &t, &err), 0);
	tb_free(&b);
}

/* A trace the shim cut short: T2's release of M1 was the first record dropped, so T3's
 * records, written after it, are left out rather than make T3's locked write race with
 * T2's. */
static void cut_short(struct tb *b, bool with_cut_seq)
{
	start(b);
	tb_lock(b, 2, M1);
	tb_write(b, 2, X, 0x401010);
	uint64_t cut = b->seq - 1;
	tb_lock(b, 3, M1);
	tb_write(b, 3, X, 0x401020);
	tb_unlock(b, 3, M1);
	tb_header(b)->flags |= LW_HDR_TRUNCATED;
	tb_header(b)->dropped = 1;
	tb_header(b)->cut_seq = with_cut_seq ? cut : 0;
}

Test(races, a_trace_cut_short_is_read_up_to_its_cut)
{
	struct tb b;

	cut_short(&b, true);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

/* The same trace from a shim that did not say where it cut: read whole, as before. */
Test(races, a_trace_without_a_cut_seq_is_read_whole)
{
	struct tb b;

	cut_short(&b, false);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

/* ---- issue 20: automatic watching's windows at the dependencies level ---- */

/* A dependencies-level trace with watch windows; T1 created T2 and T3. */
static void start_windowed(struct tb *b)
{
	tb_init(b, 43);
	tb_header(b)->level = LW_LEVEL_DEPENDENCIES;
	tb_header(b)->flags |= LW_HDR_WINDOWS;
	tb_watch(b, X, 4, "balance");
	tb_thread(b, 1, 0);
	tb_thread(b, 2, 1);
	tb_thread(b, 3, 1);
}

static void window_open(struct tb *b)
{
	tb_sync(b, 0, LW_SYNC_WINDOW_OPEN, 0);
}

static void fence(struct tb *b)
{
	tb_sync(b, 0, LW_SYNC_FENCE, 0);
}

Test(races, a_window_is_replayed_at_the_dependencies_level)
{
	struct tb b;

	start_windowed(&b);
	window_open(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, a_fence_orders_the_accesses_of_two_windows)
{
	struct tb b;

	start_windowed(&b);
	window_open(&b);
	tb_write(&b, 2, X, 0x401010);
	fence(&b);
	window_open(&b);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

/* After the fence, both threads start new epochs: their next accesses race again. */
Test(races, accesses_after_a_fence_still_race_with_each_other)
{
	struct tb b;

	start_windowed(&b);
	window_open(&b);
	tb_write(&b, 2, X, 0x401010);
	fence(&b);
	window_open(&b);
	tb_write(&b, 2, X, 0x401030);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
}

Test(races, accesses_outside_windows_are_left_out)
{
	struct tb b;

	start_windowed(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

/* A dependencies-level acquisition (no release ever written) outside a window is not a lock
 * the thread holds inside the next one. */
Test(races, an_acquisition_outside_windows_is_not_held_in_them)
{
	struct tb b;

	start_windowed(&b);
	tb_lock(&b, 2, M1);
	window_open(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_write(&b, 3, X, 0x401020);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 1);
	cr_assert_eq(first(LW_FIND_DATA_RACE)->accesses.v[0].n_locks, 0);
}

/* The acquisition was before the window; its release inside still orders the next owner. */
Test(races, a_release_in_a_window_orders_the_next_owner)
{
	struct tb b;

	start_windowed(&b);
	window_open(&b);
	tb_write(&b, 2, X, 0x401010);
	tb_unlock(&b, 2, M1);
	tb_lock(&b, 3, M1);
	tb_write(&b, 3, X, 0x401020);
	tb_unlock(&b, 3, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

/* A check in one window and its act in the next: another thread's write between them is
 * ordered by the fence, and no check-then-act spans it. */
Test(races, no_check_then_act_spans_a_fence)
{
	struct tb b;

	start_windowed(&b);
	window_open(&b);
	tb_lock(&b, 2, M1);
	tb_read(&b, 2, X, 0x401010);
	tb_unlock(&b, 2, M1);
	fence(&b);
	window_open(&b);
	tb_lock(&b, 3, M1);
	tb_write(&b, 3, X, 0x401020);
	tb_unlock(&b, 3, M1);
	tb_lock(&b, 2, M1);
	tb_write(&b, 2, X, 0x401030);
	tb_unlock(&b, 2, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

/* The same in one window is the split critical section's check-then-act. */
Test(races, a_check_then_act_inside_one_window_is_reported)
{
	struct tb b;

	start_windowed(&b);
	window_open(&b);
	tb_lock(&b, 2, M1);
	tb_read(&b, 2, X, 0x401010);
	tb_unlock(&b, 2, M1);
	tb_lock(&b, 3, M1);
	tb_write(&b, 3, X, 0x401020);
	tb_unlock(&b, 3, M1);
	tb_lock(&b, 2, M1);
	tb_write(&b, 2, X, 0x401030);
	tb_unlock(&b, 2, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
}

/* A watchpoint sees an atomic load as a plain mov: once it saw a locked read-modify-write
 * of a variable, its plain accesses there are atomic too. */
Test(races, a_watchpoint_load_of_an_atomic_variable_does_not_race)
{
	struct tb b;

	start(&b);
	tb_access(&b, 2, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC | LW_SRC_WATCHPOINT,
		  X, 4, 0x401010, 0);
	tb_access(&b, 3, LW_ACCESS_READ | LW_SRC_WATCHPOINT, X, 4, 0x401020, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

/* `if (++readers == 1)` unoptimised reads back its own store: that read checks nothing
 * another thread did, so the next critical section's write is no act of a check-then-act. */
Test(races, reading_back_ones_own_write_is_no_check)
{
	struct tb b;

	start(&b);
	tb_lock(&b, 2, M1);
	tb_read(&b, 2, X, 0x401010);
	tb_write(&b, 2, X, 0x401014);
	tb_read(&b, 2, X, 0x401018);
	tb_unlock(&b, 2, M1);
	tb_lock(&b, 3, M1);
	tb_write(&b, 3, X, 0x401014);
	tb_unlock(&b, 3, M1);
	tb_lock(&b, 2, M1);
	tb_read(&b, 2, X, 0x401030);
	tb_write(&b, 2, X, 0x401034);
	tb_unlock(&b, 2, M1);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
}

/* The coverage record becomes the report's coverage line. */
Test(races, the_coverage_record_is_summed_and_said)
{
	struct tb b;
	struct lw_rec_coverage r;
	char line[512];

	start_windowed(&b);
	memset(&r, 0, sizeof(r));
	r.status = LW_COVERAGE_WATCHED;
	r.flags = LW_COVF_WHOLE_RUN;
	r.globals = r.globals_watched = 3;
	r.granules = r.granules_watched = 3;
	r.windows = 1;
	r.run_ns = r.window_ns = 1000;
	r.seq = b.seq++;
	TB_FIXED(&b, LW_REC_COVERAGE, r);
	analyze(&b);
	cr_assert(lw_coverage_line(&fs.coverage, line, sizeof(line)));
	cr_assert_str_eq(line, "watched 3 of 3 globals for the whole run");
}

Test(races, refused_perf_events_are_one_line_with_the_fix)
{
	struct tb b;
	struct lw_rec_coverage r;
	char line[512];

	start_windowed(&b);
	memset(&r, 0, sizeof(r));
	r.status = LW_COVERAGE_REFUSED;
	r.err = EACCES;
	r.seq = b.seq++;
	TB_FIXED(&b, LW_REC_COVERAGE, r);
	analyze(&b);
	cr_assert(lw_coverage_line(&fs.coverage, line, sizeof(line)));
	cr_assert(strstr(line, "sysctl kernel.perf_event_paranoid=2"), "%s", line);
	cr_assert_null(strchr(line, '\n'));
}
