/* Hook mode end to end: programs built with `lockwatch cc` (clang's load/store hooks) run
 * under `lockwatch run` with no --watch, judged on the JSON report (tests/hook_verdicts.h):
 * the race samples give the verdicts they give under --watch, races on heap objects and
 * arrays are found, heap variables are named after their blocks, a free writes its block,
 * and programs that synchronise only through atomics, condvars, semaphores, barriers and
 * create/join give nothing; a hook-built program runs without lockwatch. */
#include <criterion/criterion.h>
#include "hook_verdicts.h"

#define DIR "build/hooks"

Test(hooks, bank_withdraw_is_a_data_race_and_an_atomicity_violation, .timeout = 30)
{
	bank_withdraw(DIR);
}

Test(hooks, bank_withdraw_split_is_an_atomicity_violation_not_a_race, .timeout = 30)
{
	bank_withdraw_split(DIR);
}

Test(hooks, race_counter_is_a_data_race, .timeout = 30)
{
	race_counter(DIR);
}

Test(hooks, a_race_on_a_heap_object_field_is_found_and_its_neighbour_is_not, .timeout = 30)
{
	heap_race(DIR);
}

Test(hooks, a_race_on_array_elements_is_found, .timeout = 30)
{
	array_race(DIR);
}

Test(hooks, races_through_memcpy_memset_and_string_functions_are_found, .timeout = 60)
{
	mem_race(DIR);
}

Test(hooks, a_heap_block_handed_out_again_is_a_new_variable, .timeout = 30)
{
	heap_reuse(DIR);
}

Test(hooks, a_free_races_with_an_unordered_read_of_the_block, .timeout = 30)
{
	free_race(DIR);
}

Test(hooks, a_lock_one_thread_used_is_left_out_until_handed_over, .timeout = 30)
{
	lock_handover(DIR);
}

Test(hooks, a_read_of_data_nobody_writes_races_with_the_write_that_follows, .timeout = 30)
{
	kept_read(DIR);
}

Test(hooks, a_read_modify_write_is_one_record, .timeout = 30)
{
	rmw_records(DIR);
}

Test(hooks, a_location_taken_from_its_stamping_owner_is_shared, .timeout = 30)
{
	taken_cells(DIR);
}

Test(hooks, locked_atomic_and_otherwise_synchronised_programs_are_clean, .timeout = 60)
{
	clean_programs(DIR);
}

/* locked_counter, not race_counter: race_counter's two threads lose increments whenever
 * they overlap (its race), so its count is 2000 only when they happen not to. */
Test(hooks, a_hook_built_program_runs_without_lockwatch, .timeout = 30)
{
	char *d = lw_tmpdir(), out[256];
	snprintf(out, sizeof out, "%s/out", d);
	const char *argv[] = { "build/hooks/locked_counter", NULL };
	const char *env[] = { "LD_PRELOAD=", NULL };
	int st = lw_spawn(argv, env, out, NULL, HOOK_TIMEOUT_MS);
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
	cr_assert_eq(lw_spawn(argv, NULL, NULL, NULL, HOOK_TIMEOUT_MS), 2);
}

/* A trace that fills up is cut where the shim dropped its first record: a race-free program
 * (bench/lockheavy: two threads taking ascending pairs of 16 mutexes and adding to the
 * counters they protect, 20000 rounds each, some 20 MB of trace) stays clean at
 * max_trace_mb=1, with a warning that the report is incomplete.  (When each thread wrote on
 * into its own chunk while the others' records were dropped, it reported data races on its
 * locked counters in one run in four: hence ten.) */
Test(hooks, a_trace_cut_short_is_not_a_race, .timeout = 120)
{
	static const char *const env[] = { "LOCKWATCH_OPTIONS=max_trace_mb=1", NULL };
	static const char *const args[] = { "20000", NULL };
	for (int i = 0; i < 10; i++) {
		struct lw_result r = lw_run_json_opts(DIR "/lockheavy", NULL, args, env,
						      HOOK_TIMEOUT_MS);
		cr_assert_eq(r.status, 0, "run %d: exit status %d, stderr: %s", i, r.status,
			     r.stderr_text);
		cr_assert(r.stderr_text && strstr(r.stderr_text, "the shim dropped"),
			  "run %d: no warning of dropped records: %s", i,
			  r.stderr_text ? r.stderr_text : "(none)");
		cr_assert_eq(lw_count(r.report, NULL, "error"), 0, "run %d: %s", i,
			     finding_list(r.report));
		lw_result_free(&r);
	}
}
