/* Hook mode end to end: programs built with `lockwatch cc` (clang's load/store hooks) run
 * under `lockwatch run` with no --watch, judged on the JSON report: the race samples give
 * the verdicts they give under --watch, races on heap objects and arrays are found, and
 * programs that synchronise only through atomics, condvars, semaphores, barriers and
 * create/join give nothing; a hook-built program runs without lockwatch. */
#include <criterion/criterion.h>
#include "lw_test.h"
#include "race_checks.h"

#define TIMEOUT_MS 20000

static struct lw_result run_hooks(const char *prog)
{
	return lw_run_json_opts(prog, NULL, NULL, NULL, TIMEOUT_MS);
}

static void assert_clean(const char *prog)
{
	struct lw_result r = run_hooks(prog);
	cr_assert_eq(r.status, 0, "%s: exit status %d, stderr: %s", prog, r.status, r.stderr_text);
	cr_assert_not_null(r.report);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "%s: error-level findings", prog);
	lw_result_free(&r);
}

Test(hooks, bank_withdraw_is_a_data_race_and_an_atomicity_violation, .timeout = 30)
{
	struct lw_result r = run_hooks("build/hooks/bank_withdraw");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	int races = lw_count(r.report, "data-race", "error");
	int atom = lw_count(r.report, "atomicity-violation", "error");
	cr_assert_geq(races, 1);
	cr_assert_geq(atom, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), races + atom, "other error-level findings");
	assert_all_on(r.report, "balance");
	cr_assert(some_access_in(lw_find(r.report, "atomicity-violation", "error"),
				 "bank_withdraw.c"), "file:line of the accesses");
	lw_result_free(&r);
}

Test(hooks, bank_withdraw_split_is_an_atomicity_violation_not_a_race, .timeout = 30)
{
	struct lw_result r = run_hooks("build/hooks/bank_withdraw_split");
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

Test(hooks, bank_withdraw_fixed_is_clean, .timeout = 30)
{
	assert_clean("build/hooks/bank_withdraw_fixed");
}

Test(hooks, locked_counter_is_clean, .timeout = 30)
{
	assert_clean("build/hooks/locked_counter");
}

Test(hooks, atomic_counter_is_clean, .timeout = 30)
{
	assert_clean("build/hooks/atomic_counter");
}

Test(hooks, race_counter_is_a_data_race, .timeout = 30)
{
	struct lw_result r = run_hooks("build/hooks/race_counter");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	int races = lw_count(r.report, "data-race", "error");
	cr_assert_geq(races, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), races);
	assert_all_on(r.report, "counter");
	lw_result_free(&r);
}

Test(hooks, a_race_on_a_heap_object_field_is_found_and_its_neighbour_is_not, .timeout = 30)
{
	struct lw_result r = run_hooks("build/hooks/heap_race");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	int races = lw_count(r.report, "data-race", "error");
	cr_assert_geq(races, 1);
	cr_assert_eq(lw_count(r.report, NULL, "error"), races);
	/* Every race is on acct->balance (one address), none on pr->mine[0] / [1]. */
	json_t *f = lw_find(r.report, "data-race", "error");
	const char *addr = json_string_value(json_object_get(json_object_get(f, "variable"),
							     "address"));
	cr_assert_not_null(addr);
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(r.report, "findings"), i, g) {
		const char *a = json_string_value(json_object_get(json_object_get(g, "variable"),
								  "address"));
		cr_assert(a && !strcmp(a, addr), "finding %zu is at %s, not %s", i, a ? a : "?", addr);
	}
	cr_assert(some_access_in(f, "heap_race.c"));
	/* The variable is named after its block: calloc'd in main, 24 bytes, offset 8. */
	json_t *var = json_object_get(f, "variable");
	cr_assert_str_eq(json_string_value(json_object_get(var, "name")),
			 "heap block of 24 bytes from main, offset 8");
	json_t *blk = json_object_get(var, "heap_block");
	cr_assert_not_null(blk, "no heap_block in the variable");
	cr_assert_eq(json_integer_value(json_object_get(blk, "size")), 24);
	cr_assert_eq(json_integer_value(json_object_get(blk, "offset")), 8);
	cr_assert_eq(json_integer_value(json_object_get(blk, "allocated_by")), 1);
	json_t *fr = json_array_get(json_object_get(blk, "stack"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(fr, "function")), "main");
	cr_assert_gt(json_integer_value(json_object_get(fr, "line")), 0);
	lw_result_free(&r);
}

Test(hooks, a_spin_lock_of_c11_atomics_is_race_free, .timeout = 30)
{
	assert_clean("build/hooks/spin_lock");
}

Test(hooks, neighbouring_bytes_of_one_granule_do_not_race, .timeout = 30)
{
	assert_clean("build/hooks/byte_neighbours");
}

Test(hooks, a_free_races_with_an_unordered_read_of_the_block, .timeout = 30)
{
	struct lw_result r = run_hooks("build/hooks/free_race");
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

	/* Read, joined, then freed: ordered. */
	const char *args[] = { "join", NULL };
	r = lw_run_json_opts("build/hooks/free_race", NULL, args, NULL, TIMEOUT_MS);
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	lw_result_free(&r);
}

Test(hooks, a_heap_block_handed_out_again_is_a_new_variable, .timeout = 30)
{
	/* T1's block is freed and the allocator gives its memory to T2's next block, with no
	 * synchronisation lockwatch sees between them: no race. */
	struct lw_result r = run_hooks("build/hooks/heap_reuse");
	cr_assert_neq(r.status, 3, "the allocator did not hand the block out again");
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	lw_result_free(&r);
}

Test(hooks, a_race_on_array_elements_is_found, .timeout = 30)
{
	struct lw_result r = run_hooks("build/hooks/array_race");
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_geq(lw_count(r.report, "data-race", "error"), 1);
	assert_all_on(r.report, "slots");
	lw_result_free(&r);
}

Test(hooks, atomics_condvars_semaphores_barriers_and_joins_are_race_free, .timeout = 30)
{
	assert_clean("build/hooks/race_free");
}

Test(hooks, a_hook_built_program_runs_without_lockwatch, .timeout = 30)
{
	char *d = lw_tmpdir(), out[256];
	snprintf(out, sizeof out, "%s/out", d);
	const char *argv[] = { "build/hooks/race_counter", NULL };
	const char *env[] = { "LD_PRELOAD=", NULL };
	int st = lw_spawn(argv, env, out, NULL, TIMEOUT_MS);
	char *text = lw_slurp(out);
	cr_assert_eq(st, 0);
	cr_assert(text && strstr(text, "counter: 2000"), "output: %s", text ? text : "(none)");
	free(text);
	lw_rmtree(d);
	free(d);
}

Test(hooks, lockwatch_cc_without_arguments_is_a_usage_error, .timeout = 30)
{
	const char *argv[] = { LW_BIN, "cc", NULL };
	cr_assert_eq(lw_spawn(argv, NULL, NULL, NULL, TIMEOUT_MS), 2);
}
