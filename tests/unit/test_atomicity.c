/* Unit tests for the atomicity (check-then-act) half of analyzer/detect/detect_races.c. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "detect/findings.h"
#include "trace/model.h"
#include "report/render.h"
#include "analyze_helpers.h"
#include "trace/trace_reader.h"

#define BAL   0x6000u                /* "balance" */
#define M     0x5000u
#define M2    0x5100u
#define CHECK 0x401020u              /* if (balance >= amount) */
#define LOAD  0x401030u              /* balance -= amount: the load... */
#define STORE 0x401034u              /* ...and the store */

static struct lw_findings fs;

static void teardown(void)
{
	lw_findings_free(&fs);
}

TestSuite(atomicity, .fini = teardown, .timeout = 10);

static void start(struct tb *b)
{
	tb_init(b, 7);
	tb_header(b)->level = LW_LEVEL_FULL;
	tb_watch(b, BAL, 4, "balance");
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

/* balance -= amount: load and store. */
static void act(struct tb *b, uint32_t tid)
{
	tb_read(b, tid, BAL, LOAD);
	tb_write(b, tid, BAL, STORE);
}

Test(atomicity, unlocked_withdraw_is_a_race_and_a_violation)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_read(&b, 2, BAL, CHECK);
	tb_read(&b, 3, BAL, CHECK);
	act(&b, 2);
	act(&b, 3);
	analyze(&b);
	cr_assert_gt(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	f = first(LW_FIND_ATOMICITY);
	cr_assert_eq(f->severity, LW_SEV_ERROR);
	cr_assert_str_eq(f->variable.name, "balance");
	cr_assert(f->observed);
	cr_assert_eq(f->accesses.n, 3);
	cr_assert_str_eq(f->accesses.v[0].role, "check");
	cr_assert_str_eq(f->accesses.v[1].role, "interfering-write");
	cr_assert_str_eq(f->accesses.v[2].role, "act");
	/* T3 checked, T2's write fell in, T3 acted: the act is the store, not the load. */
	cr_assert_eq(f->accesses.v[0].thread, 3);
	cr_assert(!f->accesses.v[0].write);
	cr_assert_eq(f->accesses.v[0].stack.frames[0].pc, CHECK);
	cr_assert_eq(f->accesses.v[1].thread, 2);
	cr_assert(f->accesses.v[1].write);
	cr_assert_eq(f->accesses.v[2].thread, 3);
	cr_assert(f->accesses.v[2].write);
	cr_assert_eq(f->accesses.v[2].stack.frames[0].pc, STORE);
	cr_assert_str_eq(f->interleaving, "T3: read balance (0x401020) ... T2: write balance "
			 "(0x401034) ... T3: write balance (0x401034)");
}

Test(atomicity, check_and_act_in_separate_critical_sections)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, CHECK);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	tb_read(&b, 3, BAL, CHECK);
	tb_unlock(&b, 3, M);
	tb_lock(&b, 2, M);
	act(&b, 2);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	act(&b, 3);
	tb_unlock(&b, 3, M);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	f = first(LW_FIND_ATOMICITY);
	cr_assert(f->observed);
	cr_assert_eq(f->accesses.v[0].n_locks, 1);
	cr_assert_eq(f->locks.v[f->accesses.v[0].locks[0]].addr, M);
	cr_assert_eq(f->accesses.v[2].n_locks, 1);
}

Test(atomicity, one_critical_section_is_clean)
{
	struct tb b;

	start(&b);
	for (uint32_t t = 2; t <= 3; t++) {
		tb_lock(&b, t, M);
		tb_read(&b, t, BAL, CHECK);
		act(&b, t);
		tb_unlock(&b, t, M);
	}
	analyze(&b);
	cr_assert_eq(fs.v.n, 0);
}

Test(atomicity, locked_counter_is_clean_unlocked_counter_races)
{
	struct tb b;

	start(&b);
	for (int i = 0; i < 4; i++)
		for (uint32_t t = 2; t <= 3; t++) {
			tb_lock(&b, t, M);
			act(&b, t);
			tb_unlock(&b, t, M);
		}
	analyze(&b);
	cr_assert_eq(fs.v.n, 0);

	start(&b);
	for (int i = 0; i < 4; i++) {
		tb_read(&b, 2, BAL, LOAD);
		tb_read(&b, 3, BAL, LOAD);
		tb_write(&b, 2, BAL, STORE);
		tb_write(&b, 3, BAL, STORE);
	}
	analyze(&b);
	cr_assert_gt(count(LW_FIND_DATA_RACE), 0);
}

Test(atomicity, atomic_counter_is_clean)
{
	struct tb b;

	start(&b);
	for (int i = 0; i < 4; i++)
		for (uint32_t t = 2; t <= 3; t++)
			tb_access(&b, t, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, BAL, 4,
				  LOAD, 0);
	analyze(&b);
	cr_assert_eq(fs.v.n, 0);
}

Test(atomicity, separate_locks_do_not_make_one_section)
{
	struct tb b;

	/* Check under M, act under M2 (M released in between): not one critical section.
	 * The other thread writes under both, so there is no data race. */
	start(&b);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, CHECK);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	tb_lock(&b, 3, M2);
	tb_write(&b, 3, BAL, 0x401050);
	tb_unlock(&b, 3, M2);
	tb_unlock(&b, 3, M);
	tb_lock(&b, 2, M2);
	act(&b, 2);
	tb_unlock(&b, 2, M2);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
}

Test(atomicity, a_lock_held_throughout_makes_one_section)
{
	struct tb b;

	/* M held from check to act, M2 taken and dropped inside: one section of M. */
	start(&b);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, CHECK);
	tb_acquire_full(&b, 2, M2, 0, LW_MODE_WRITE, 0, 0, 0, NULL);
	tb_release(&b, 2, M2, 0);
	act(&b, 2);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	tb_write(&b, 3, BAL, 0x401050);
	tb_unlock(&b, 3, M);
	analyze(&b);
	cr_assert_eq(fs.v.n, 0);
}

/* Issue 21: an outer lock held from the check through the act makes them one critical
 * section only against a writer that takes it too. */
#define OUTER 0x5200u
static void outer_check_then_act(struct tb *b, bool writer_takes_outer, bool observed)
{
	start(b);
	tb_lock(b, 2, OUTER);
	tb_lock(b, 2, M);
	tb_read(b, 2, BAL, CHECK);
	tb_unlock(b, 2, M);
	if (observed) {
		if (writer_takes_outer)
			tb_lock(b, 3, OUTER);
		tb_lock(b, 3, M);
		tb_write(b, 3, BAL, 0x401050);
		tb_unlock(b, 3, M);
		if (writer_takes_outer)
			tb_unlock(b, 3, OUTER);
	}
	tb_lock(b, 2, M);
	act(b, 2);
	tb_unlock(b, 2, M);
	tb_unlock(b, 2, OUTER);
	if (!observed) {
		/* After the act, and ordered after it by nothing: it could have fallen
		 * between (no lock of its own at all). */
		tb_write(b, 3, BAL, 0x401050);
	}
}

Test(atomicity, an_outer_lock_the_writer_never_takes_does_not_make_one_section)
{
	struct tb b;
	struct lw_finding *f;

	outer_check_then_act(&b, false, true);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	f = first(LW_FIND_ATOMICITY);
	cr_assert(f->observed);
	cr_assert_eq(f->accesses.v[0].n_locks, 2, "the check held the outer lock and m");
	cr_assert_eq(f->accesses.v[1].n_locks, 1, "the write held m only");
}

Test(atomicity, an_outer_lock_the_writer_never_takes_lets_a_concurrent_write_fall_between)
{
	struct tb b;

	outer_check_then_act(&b, false, false);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	cr_assert(!first(LW_FIND_ATOMICITY)->observed);
}

Test(atomicity, an_outer_lock_the_writer_takes_makes_one_section)
{
	struct tb b;

	/* The writer holds the outer lock too: it cannot come between (the trace shows what
	 * a broken lock would do, and the section still counts as one against it). */
	outer_check_then_act(&b, true, true);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
}

Test(atomicity, two_readers_of_an_rwlock_do_not_exclude_each_other)
{
	struct tb b;
	struct lw_held h;

	/* The checker holds the outer rwlock for reading throughout; the writer writes under
	 * a read lock of it as well: no exclusion, so a violation. */
	start(&b);
	tb_acquire_full(&b, 2, OUTER, 0, LW_MODE_READ, 0, 0, 0, NULL);
	h = tb_held(OUTER, 0, LW_MODE_READ);
	tb_acquire_full(&b, 2, M, 0, LW_MODE_WRITE, 0, 0, 1, &h);
	tb_read(&b, 2, BAL, CHECK);
	tb_release(&b, 2, M, 0);
	tb_acquire_full(&b, 3, OUTER, 0, LW_MODE_READ, 0, 0, 0, NULL);
	tb_acquire_full(&b, 3, M, 0, LW_MODE_WRITE, 0, 0, 1, &h);
	tb_write(&b, 3, BAL, 0x401050);
	tb_release(&b, 3, M, 0);
	tb_release(&b, 3, OUTER, 0);
	tb_acquire_full(&b, 2, M, 0, LW_MODE_WRITE, 0, 0, 1, &h);
	act(&b, 2);
	tb_release(&b, 2, M, 0);
	tb_release(&b, 2, OUTER, 0);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
}

Test(atomicity, read_write_read_is_reported_with_a_read_act)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, CHECK);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	tb_write(&b, 3, BAL, 0x401050);
	tb_unlock(&b, 3, M);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, 0x401060);
	tb_unlock(&b, 2, M);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	f = first(LW_FIND_ATOMICITY);
	cr_assert(!f->accesses.v[2].write);
	cr_assert(strstr(f->interleaving, "T2: read balance (0x401060)"), "%s", f->interleaving);
}

Test(atomicity, intended_atomic_region_counts_as_one_section)
{
	struct tb b;

	start(&b);
	tb_sync(&b, 2, LW_SYNC_ATOMIC_BEGIN, 0);
	tb_read(&b, 2, BAL, CHECK);
	tb_write(&b, 3, BAL, 0x401050);
	act(&b, 2);
	tb_sync(&b, 2, LW_SYNC_ATOMIC_END, 0);
	analyze(&b);
	cr_assert_gt(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);

	start(&b);
	tb_read(&b, 2, BAL, CHECK);
	tb_write(&b, 3, BAL, 0x401050);
	act(&b, 2);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
}

Test(atomicity, a_concurrent_write_could_fall_between)
{
	struct tb b;
	struct lw_finding *f;

	/* Nothing fell between T2's check and act in this run, but T3's write is concurrent. */
	start(&b);
	tb_read(&b, 2, BAL, CHECK);
	act(&b, 2);
	tb_write(&b, 3, BAL, 0x401050);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	f = first(LW_FIND_ATOMICITY);
	cr_assert(!f->observed);
	cr_assert_eq(f->accesses.v[0].thread, 2);
	cr_assert_eq(f->accesses.v[1].thread, 3);
	cr_assert_eq(f->accesses.v[2].thread, 2);
	lw_findings_free(&fs);

	/* The same write before the check, concurrent too. */
	start(&b);
	tb_write(&b, 3, BAL, 0x401050);
	tb_read(&b, 2, BAL, CHECK);
	act(&b, 2);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	cr_assert(!first(LW_FIND_ATOMICITY)->observed);
}

/* One atomicity violation, T2's: its check the read at CHECK, its act the store at STORE. */
static void assert_check_at_check_act_at_store(void)
{
	struct lw_finding *f;

	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	f = first(LW_FIND_ATOMICITY);
	cr_assert_eq(f->accesses.v[0].thread, 2);
	cr_assert(!f->accesses.v[0].write);
	cr_assert_eq(f->accesses.v[0].stack.frames[0].pc, CHECK);
	cr_assert_eq(f->accesses.v[2].thread, 2);
	cr_assert(f->accesses.v[2].write);
	cr_assert_eq(f->accesses.v[2].stack.frames[0].pc, STORE);
}

Test(atomicity, accesses_placed_after_one_event_keep_their_sub_order)
{
	struct tb b;

	/* T2's check, load and store all sit after its THREAD record (seq 2), written to the
	 * file out of order (as a thread's chunk and another's can hold them): their subs
	 * give the order, so the check is still the read at CHECK and the act the store. */
	start(&b);
	tb_access_after(&b, 2, LW_ACCESS_WRITE, BAL, STORE, 2, 3);
	tb_access_after(&b, 2, LW_ACCESS_READ, BAL, CHECK, 2, 1);
	tb_access_after(&b, 2, LW_ACCESS_READ, BAL, LOAD, 2, 2);
	tb_write(&b, 3, BAL, 0x401050);
	analyze(&b);
	assert_check_at_check_act_at_store();
}

/* The same with the load and the store in one read-modify-write record (LW_ACCESS_UPDATE):
 * the analyzer sees them as the two accesses they were, the store with its own pc. */
Test(atomicity, a_read_modify_write_record_is_its_load_then_its_store)
{
	struct tb b;
	struct lw_finding *f;

	start(&b);
	tb_update_after(&b, 2, BAL, LOAD, STORE, 0, 2, 2);
	tb_access_after(&b, 2, LW_ACCESS_READ, BAL, CHECK, 2, 1);
	tb_write(&b, 3, BAL, 0x401050);
	analyze(&b);
	assert_check_at_check_act_at_store();

	/* Inside one critical section, a load and store that are one record are clean. */
	lw_findings_free(&fs);
	start(&b);
	for (int i = 0; i < 3; i++)
		for (uint32_t t = 2; t <= 3; t++) {
			tb_lock(&b, t, M);
			tb_update_after(&b, t, BAL, LOAD, STORE, 0, b.seq - 1, 1);
			tb_unlock(&b, t, M);
		}
	analyze(&b);
	cr_assert_eq(fs.v.n, 0, "%zu findings: %zu races, %zu atomicity, %zu misuse", fs.v.n,
		     count(LW_FIND_DATA_RACE), count(LW_FIND_ATOMICITY), count(LW_FIND_MISUSE));

	/* Unlocked, they race: the store with the other thread's load and store. */
	lw_findings_free(&fs);
	start(&b);
	tb_update_after(&b, 2, BAL, LOAD, STORE, 0, 2, 1);
	tb_update_after(&b, 3, BAL, LOAD, STORE, 0, 3, 1);
	analyze(&b);
	cr_assert_gt(count(LW_FIND_DATA_RACE), 0);
	f = first(LW_FIND_DATA_RACE);
	cr_assert(f->accesses.v[0].write || f->accesses.v[1].write);
}

Test(atomicity, writes_ordered_by_create_and_join_cannot_fall_between)
{
	struct tb b;

	tb_init(&b, 7);
	tb_header(&b)->level = LW_LEVEL_FULL;
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_write(&b, 2, BAL, 0x401050);
	tb_join(&b, 1, 2);
	tb_thread(&b, 3, 1);
	tb_read(&b, 3, BAL, CHECK);
	act(&b, 3);
	tb_join(&b, 1, 3);
	tb_read(&b, 1, BAL, CHECK);
	tb_write(&b, 1, BAL, STORE);
	analyze(&b);
	cr_assert_eq(fs.v.n, 0);
}

Test(atomicity, repeats_are_counted_not_repeated)
{
	struct tb b;

	start(&b);
	for (int i = 0; i < 3; i++) {
		tb_lock(&b, 2, M);
		tb_read(&b, 2, BAL, CHECK);
		tb_unlock(&b, 2, M);
		tb_lock(&b, 3, M);
		act(&b, 3);
		tb_unlock(&b, 3, M);
		tb_lock(&b, 2, M);
		act(&b, 2);
		tb_unlock(&b, 2, M);
	}
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
	cr_assert_geq(first(LW_FIND_ATOMICITY)->count, 3);
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

Test(atomicity, json_and_text_shape)
{
	struct tb b;
	json_t *root, *f = NULL, *acc, *v;
	json_error_t je;
	size_t i;
	char *text;
	static const char *const roles[] = { "check", "interfering-write", "act" };
	static const char *const types[] = { "read", "write", "write" };

	start(&b);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, CHECK);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	act(&b, 3);
	tb_unlock(&b, 3, M);
	tb_lock(&b, 2, M);
	act(&b, 2);
	tb_unlock(&b, 2, M);
	analyze(&b);
	text = render(true);
	root = json_loads(text, 0, &je);
	cr_assert_not_null(root, "%s", je.text);
	free(text);
	json_array_foreach(json_object_get(root, "findings"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "kind")), "atomicity-violation"))
			f = v;
	cr_assert_not_null(f);
	cr_assert_eq(json_array_size(json_object_get(root, "findings")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "error");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "variable"), "name")),
			 "balance");
	cr_assert(json_is_true(json_object_get(f, "observed")));
	cr_assert(strstr(json_string_value(json_object_get(f, "interleaving")), "T3: write"));
	acc = json_object_get(f, "accesses");
	cr_assert_eq(json_array_size(acc), 3);
	json_array_foreach(acc, i, v) {
		cr_assert_str_eq(json_string_value(json_object_get(v, "role")), roles[i]);
		cr_assert_str_eq(json_string_value(json_object_get(v, "type")), types[i]);
		cr_assert_eq(json_integer_value(json_object_get(v, "thread")), i == 1 ? 3 : 2);
		cr_assert_eq(json_array_size(json_object_get(v, "locks_held")), 1);
		cr_assert_str_eq(json_string_value(json_array_get(json_object_get(v, "locks_held"), 0)),
				 "lock 0x5000");
	}
	json_decref(root);

	text = render(false);
	cr_assert(strstr(text, "ERROR: atomicity-violation: T2 checks balance"), "%s", text);
	cr_assert(strstr(text, "Interleaving (seen in this run):"), "%s", text);
	cr_assert(strstr(text, "    T3: write balance (0x401034)\n"), "%s", text);
	cr_assert(strstr(text, "check: read of 4 bytes at 0x6000 by thread T2"), "%s", text);
	cr_assert(strstr(text, "interfering write of 4 bytes at 0x6000 by thread T3"), "%s", text);
	cr_assert(strstr(text, "act: write of 4 bytes"), "%s", text);
	free(text);
}

/* while (!ready) pthread_cond_wait(&cv, &m): the waiter reads the flag, waits (the mutex is
 * released), the other thread sets it and signals, the waiter reads it again.  Looking again
 * after a condition wait is how a check is done right, not a check-then-act. */
Test(atomicity, a_recheck_after_a_condition_wait_is_clean)
{
	struct tb b;

	start(&b);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, CHECK);
	tb_unlock(&b, 2, M);                 /* pthread_cond_wait releases the mutex... */
	tb_lock(&b, 3, M);
	tb_write(&b, 3, BAL, STORE);
	tb_sync(&b, 3, LW_SYNC_COND_SIGNAL, 0x7000);
	tb_unlock(&b, 3, M);
	tb_lock(&b, 2, M);                   /* ...and takes it again on the way out */
	tb_sync(&b, 2, LW_SYNC_COND_WAKE, 0x7000);
	tb_read(&b, 2, BAL, CHECK);
	tb_unlock(&b, 2, M);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
}

/* The same reads without the condition wait in between, the second by another statement
 * (the value the check saw is used again after the lock was let go), are a
 * read-write-read interleaving. */
Test(atomicity, a_recheck_without_a_wait_is_a_violation)
{
	struct tb b;

	start(&b);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, CHECK);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	tb_write(&b, 3, BAL, STORE);
	tb_unlock(&b, 3, M);
	tb_lock(&b, 2, M);
	tb_read(&b, 2, BAL, LOAD);
	tb_unlock(&b, 2, M);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 1);
}

/* A consumer that reads what a producer wrote, under their lock, round after round, without
 * waiting when there is something to read: the same statement reading again is the loop's
 * next round, not the act of a check-then-act.  Unlocked, the reads still race. */
Test(atomicity, the_same_read_in_the_next_round_of_a_loop_is_not_an_act)
{
	struct tb b;

	start(&b);
	for (int round = 0; round < 3; round++) {
		tb_lock(&b, 3, M);
		tb_write(&b, 3, BAL, STORE);
		tb_unlock(&b, 3, M);
		tb_lock(&b, 2, M);
		tb_read(&b, 2, BAL, CHECK);
		tb_unlock(&b, 2, M);
	}
	analyze(&b);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
	lw_findings_free(&fs);

	start(&b);
	for (int round = 0; round < 3; round++) {
		tb_write(&b, 3, BAL, STORE);
		tb_read(&b, 2, BAL, CHECK);
	}
	analyze(&b);
	cr_assert_gt(count(LW_FIND_DATA_RACE), 0);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
}

Test(atomicity, a_check_and_an_act_on_other_bytes_of_the_granule_are_not_a_pair)
{
	struct tb b;

	/* T2 reads the first field of an 8-byte granule, then writes the second, which T3
	 * writes in between: another variable, not a check-then-act. */
	start(&b);
	tb_lock(&b, 2, M);
	tb_access(&b, 2, LW_ACCESS_READ, 0x7000, 4, CHECK, 0);
	tb_unlock(&b, 2, M);
	tb_lock(&b, 3, M);
	tb_access(&b, 3, LW_ACCESS_WRITE, 0x7004, 4, 0x401050, 0);
	tb_unlock(&b, 3, M);
	tb_lock(&b, 2, M);
	tb_access(&b, 2, LW_ACCESS_WRITE, 0x7004, 4, STORE, 0);
	tb_unlock(&b, 2, M);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}

Test(atomicity, a_barrier_between_the_check_and_the_act_is_a_new_phase)
{
	struct tb b;

	/* T2 reads balance, waits at a barrier, T3 writes balance, another barrier, and T2
	 * reads it again: the phases are ordered, the second read expects the new value. */
	start(&b);
	tb_read(&b, 2, BAL, CHECK);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, 0x5400);
	tb_sync(&b, 3, LW_SYNC_BARRIER_ARRIVE, 0x5400);
	tb_sync(&b, 2, LW_SYNC_BARRIER_DEPART, 0x5400);
	tb_sync(&b, 3, LW_SYNC_BARRIER_DEPART, 0x5400);
	tb_write(&b, 3, BAL, 0x401050);
	tb_sync(&b, 2, LW_SYNC_BARRIER_ARRIVE, 0x5400);
	tb_sync(&b, 3, LW_SYNC_BARRIER_ARRIVE, 0x5400);
	tb_sync(&b, 2, LW_SYNC_BARRIER_DEPART, 0x5400);
	tb_sync(&b, 3, LW_SYNC_BARRIER_DEPART, 0x5400);
	tb_read(&b, 2, BAL, LOAD);
	analyze(&b);
	cr_assert_eq(count(LW_FIND_ATOMICITY), 0);
	cr_assert_eq(count(LW_FIND_DATA_RACE), 0);
}
