/* The verdicts hook-mode builds must give, whatever built them: the race samples and the
 * tests/hooks programs in one build directory (build/hooks: clang's load/store hooks;
 * build/hooks-tsan, build/hooks-tsan-clang: ThreadSanitizer's interface), run under
 * `lockwatch run` and judged on the JSON report.  Shared by test_hooks.c and
 * test_hooks_tsan.c. */
#ifndef LW_HOOK_VERDICTS_H
#define LW_HOOK_VERDICTS_H

#include "lw_test.h"
#include "race_checks.h"

#define HOOK_TIMEOUT_MS 20000

static inline struct lw_result run_prog(const char *dir, const char *name,
					const char *const args[])
{
	char prog[256];

	snprintf(prog, sizeof prog, "%s/%s", dir, name);
	return lw_run_json_opts(prog, NULL, args, NULL, HOOK_TIMEOUT_MS);
}

/* The same for a bank sample, until both threads passed the check (lw_run_json_until). */
static inline struct lw_result run_withdraw(const char *dir, const char *name)
{
	char prog[256];

	snprintf(prog, sizeof prog, "%s/%s", dir, name);
	return lw_run_json_until(prog, NULL, NULL, NULL, HOOK_TIMEOUT_MS, "balance: -200");
}

/* Runs dir/name with args, which must exit 0 with nothing at error level; returns the run. */
static inline struct lw_result run_clean(const char *dir, const char *name,
					 const char *const args[])
{
	struct lw_result r = run_prog(dir, name, args);
	cr_assert_eq(r.status, 0, "%s/%s: exit status %d, stderr: %s", dir, name, r.status,
		     r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "%s/%s: error-level findings: %s", dir,
		     name, finding_list(r.report));
	return r;
}

static inline void assert_clean(const char *dir, const char *name, const char *const args[])
{
	struct lw_result r = run_clean(dir, name, args);
	lw_result_free(&r);
}

/* The lesson's withdraw, unlocked: a data race and a check-then-act on balance. */
static inline void bank_withdraw(const char *dir)
{
	struct lw_result r = run_withdraw(dir, "bank_withdraw");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	int races = lw_count(r.report, "data-race", "error");
	int atom = lw_count(r.report, "atomicity-violation", "error");
	cr_assert_geq(races, 1);
	cr_assert_geq(atom, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), races + atom, "other error-level findings");
	assert_all_on(r.report, "balance");
	cr_assert(some_access_at(lw_find(r.report, "atomicity-violation", "error"), NULL,
				 "bank_withdraw.c"), "file:line of the accesses");
	lw_result_free(&r);
}

/* Check and act each under the lock: a check-then-act, no data race. */
static inline void bank_withdraw_split(const char *dir)
{
	struct lw_result r = run_withdraw(dir, "bank_withdraw_split");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, "data-race", NULL), 0, "no data race: every access is locked");
	int atom = lw_count(r.report, "atomicity-violation", "error");
	cr_assert_geq(atom, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), atom);
	assert_all_on(r.report, "balance");
	json_t *f = lw_find(r.report, "atomicity-violation", "error");
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(f, "accesses"), i, a)
		cr_assert_eq(json_array_size(json_object_get(a, "locks_held")), 1,
			     "access %zu holds the lock", i);
	lw_result_free(&r);
}

static inline void race_counter(const char *dir)
{
	struct lw_result r = run_prog(dir, "race_counter", NULL);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	int races = lw_count(r.report, "data-race", "error");
	cr_assert_geq(races, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), races);
	assert_all_on(r.report, "counter");
	lw_result_free(&r);
}

/* A race on a field of a heap object, named after its block, and none on the neighbouring
 * bytes of another object's granule. */
static inline void heap_race(const char *dir)
{
	struct lw_result r = run_prog(dir, "heap_race", NULL);
	json_t *f = assert_races_only_on(&r, "heap block of 24 bytes from main, offset 8");
	cr_assert(some_access_at(f, NULL, "heap_race.c"));
	/* calloc'd in main: 24 bytes, the variable at offset 8. */
	json_t *blk = json_object_get(json_object_get(f, "variable"), "heap_block");
	cr_assert_not_null(blk, "no heap_block in the variable");
	cr_assert_eq(json_integer_value(json_object_get(blk, "size")), 24);
	cr_assert_eq(json_integer_value(json_object_get(blk, "offset")), 8);
	cr_assert_eq(json_integer_value(json_object_get(blk, "allocated_by")), 1);
	json_t *fr = json_array_get(json_object_get(blk, "stack"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(fr, "function")), "main");
	cr_assert_gt(json_integer_value(json_object_get(fr, "line")), 0);
	lw_result_free(&r);
}

static inline void array_race(const char *dir)
{
	struct lw_result r = run_prog(dir, "array_race", NULL);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_geq(lw_count(r.report, "data-race", "error"), 1);
	assert_all_on(r.report, "slots");
	lw_result_free(&r);
}

/* A block freed by one thread and handed to another by the allocator is a new variable. */
static inline void heap_reuse(const char *dir)
{
	struct lw_result r = run_prog(dir, "heap_reuse", NULL);
	cr_assert_neq(r.status, 3, "the allocator did not hand the block out again");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	lw_result_free(&r);
}

/* The bytes of the memory and string functions (tests/hooks/mem_race): a struct copy and a
 * memcpy, a memset, and strcpy, strlen and strcmp each race with the other thread's store,
 * and two memcpys of one buffer with each other;
 * the same under one lock, after a join, or on the threads' own data are not races, nor is a
 * copy out of a slot under its lock, round after round, a check-then-act; and the program
 * computes the same with and without lockwatch. */
static inline void mem_race(const char *dir)
{
	static const char *const racy[][2] = {
		{ "copy", "config.values[5]" },
		{ "memset", "buffer[10]" },
		{ "string", "name" },
		{ "search", "name" },       /* strchr, strrchr, memchr, strnlen */
		{ "dup", "name" },          /* strdup, strndup */
		{ "bulk", "bulk" },
	};
	for (size_t i = 0; i < sizeof racy / sizeof racy[0]; i++) {
		const char *args[] = { racy[i][0], NULL };
		struct lw_result r = run_prog(dir, "mem_race", args);
		cr_assert_eq(r.status, 66, "%s: exit status %d, stderr: %s", racy[i][0], r.status,
			     r.stderr_text);
		json_t *f = lw_find(r.report, "data-race", "error");
		cr_assert_not_null(f, "%s: no data race: %s", racy[i][0], finding_list(r.report));
		cr_assert(some_access_at(f, "main", "mem_race.c"), "%s: no access of main: %s",
			  racy[i][0], finding_list(r.report));
		/* strlen then strcmp read name twice: when the writer's strcpy falls between
		 * them, that is an atomicity violation on name too. */
		int errors = lw_count(r.report, "data-race", "error") +
			     lw_count(r.report, "atomicity-violation", "error");
		cr_assert_eq(lw_count(r.report, NULL, "error"), errors, "%s: findings: %s",
			     racy[i][0], finding_list(r.report));
		size_t k;
		json_t *g;
		json_array_foreach(json_object_get(r.report, "findings"), k, g)
			cr_assert_str_eq(variable(g), racy[i][1], "%s: finding %zu", racy[i][0], k);
		if (!strcmp(racy[i][0], "bulk")) {
			/* Each 1 KiB copy is one record (the writer's written on its behalf
			 * when the reader takes the granules), not 128, and the two race
			 * once.  (A few other records are reads of the strings main compares
			 * its argument with.) */
			int accesses = lw_count_records(&r, "access");
			int copies = lw_count_in_dump(&r, " size 1024 ");
			cr_assert_eq(copies, 2, "bulk: %d records of 1 KiB", copies);
			cr_assert_lt(accesses, 16, "bulk: %d access records", accesses);
			cr_assert_eq(lw_count(r.report, "data-race", NULL), 1, "bulk: %s",
				     finding_list(r.report));
		}
		lw_result_free(&r);
	}
	static const char *const clean[] = { "locked", "joined", "own", "loop" };
	for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
		const char *args[] = { clean[i], NULL };
		assert_clean(dir, "mem_race", args);
	}

	static const char *const own[] = { "own", NULL };
	struct lw_result r = run_clean(dir, "mem_race", own);
	char *d = lw_tmpdir(), out[256], prog[256];
	snprintf(out, sizeof out, "%s/out", d);
	snprintf(prog, sizeof prog, "%s/mem_race", dir);
	const char *argv[] = { prog, "own", NULL };
	const char *env[] = { "LD_PRELOAD=", NULL };
	cr_assert_eq(lw_spawn(argv, env, out, NULL, HOOK_TIMEOUT_MS), 0);
	char *text = lw_slurp(out);
	cr_assert(text && r.stdout_text && strstr(text, "mem_race own ") == text &&
		  !strcmp(text, r.stdout_text),
		  "without lockwatch: %s, with: %s", text ? text : "(none)",
		  r.stdout_text ? r.stdout_text : "(none)");
	free(text);
	lw_rmtree(d);
	free(d);
	lw_result_free(&r);
}

/* A free writes its whole block: an unordered read of it races; read, join, free does not. */
static inline void free_race(const char *dir)
{
	struct lw_result r = run_prog(dir, "free_race", NULL);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, "data-race", "error"), 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 1);
	json_t *f = lw_find(r.report, "data-race", "error");
	cr_assert_str_eq(variable(f), "heap block of 10 bytes from main, offset 5");
	bool freed = false;
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(f, "accesses"), i, a)
		freed |= json_is_true(json_object_get(a, "free"));
	cr_assert(freed, "neither access is the free");
	lw_result_free(&r);

	static const char *const join[] = { "join", NULL };
	assert_clean(dir, "free_race", join);
}

/* A mutex one thread took 1000 times, then handed to another (tests/programs/lock_handover):
 * its rounds are not in the trace, and the second thread's acquisition is still ordered after
 * the first thread's write of `shared`; a write after the first thread's last release is a
 * race. */
static inline void lock_handover(const char *dir)
{
	struct lw_result r = run_clean(dir, "lock_handover", NULL);
	int acquires = lw_count_records(&r, "acquire");
	cr_assert_lt(acquires, 10, "%d acquisitions written", acquires);
	lw_result_free(&r);

	static const char *const late[] = { "late", NULL };
	r = run_prog(dir, "lock_handover", late);
	assert_races_only_on(&r, "shared");
	lw_result_free(&r);
}

/* Reads of a global that threads share and none has written since are kept out of the
 * trace until a write needs them (tests/hooks/kept_read): a kept read, made after the
 * reader's last release, still races with the write that follows; written in its place, it
 * does not when the reader posted the writer after it. */
static inline void kept_read(const char *dir)
{
	/* moved: A's kept read moves to its later read, after the post B waits for. */
	static const char *const modes[][2] = { { NULL }, { "moved", NULL } };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		struct lw_result r = run_prog(dir, "kept_read", modes[i]);
		cr_assert_eq(r.status, 66, "%s: exit status %d, stderr: %s",
			     modes[i][0] ? modes[i][0] : "default", r.status, r.stderr_text);
		json_t *f = lw_find(r.report, "data-race", "error");
		cr_assert_not_null(f, "no data race: %s", finding_list(r.report));
		assert_all_on(r.report, "config");
		cr_assert(some_access_at(f, "thread_a", NULL) || some_access_at(f, "read_setting", NULL),
			  "the race is not A's read and B's write");
		cr_assert(some_access_at(f, "thread_b", NULL), "the race is not A's read and B's write");
		lw_result_free(&r);
	}

	static const char *const ordered[] = { "ordered", NULL };
	assert_clean(dir, "kept_read", ordered);
}

/* locked_counter's counter += 1 (1000 rounds in each of two threads), once both threads use
 * the counter: each load and its store are one read-modify-write record (LW_ACCESS_UPDATE),
 * and the run is clean.  The only lone stores are the owners' last ones, written on their
 * behalf when the counter changed hands. */
static inline void rmw_records(const char *dir)
{
	struct lw_result r = run_clean(dir, "locked_counter", NULL);
	int updates = lw_count_in_dump(&r, " update: write pc ");
	int stores = lw_count_in_dump(&r, " w after size 8 ");
	cr_assert_geq(updates, 500, "%d read-modify-write records", updates);
	cr_assert_leq(stores, 2, "%d stores not joined to their loads", stores);
	lw_result_free(&r);
}

/* taken_cells: x[k] taken from an owner stamping it with plain stores, 64 times over, each
 * from a new owner.  The owner's 2-byte read after the taking is in the trace every time:
 * no stamp of the owner's landed over the taking.  The races of the taker's writes with
 * the owner's increments are found. */
static inline void taken_cells(const char *dir)
{
	struct lw_result r = run_prog(dir, "taken_cells", NULL);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(lw_find(r.report, "data-race", "error"), "no data race: %s",
			   finding_list(r.report));
	int reads = lw_count_in_dump(&r, " r after size 2 ");
	cr_assert_eq(reads, 64, "%d of the owners' 64 reads after the taking are in the trace",
		     reads);
	lw_result_free(&r);
}

/* Race-free programs: locks, atomics, condvars, semaphores, barriers, create/join, a spin
 * lock of C11 atomics, and two threads on neighbouring bytes of one granule. */
static inline void clean_programs(const char *dir)
{
	assert_clean(dir, "bank_withdraw_fixed", NULL);
	assert_clean(dir, "locked_counter", NULL);
	assert_clean(dir, "atomic_counter", NULL);
	assert_clean(dir, "race_free", NULL);
	assert_clean(dir, "spin_lock", NULL);
	assert_clean(dir, "byte_neighbours", NULL);
}

#endif
