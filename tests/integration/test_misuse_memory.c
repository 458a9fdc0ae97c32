/* Issue 22: memory holding a locked lock freed or unmapped, a lock initialised again while
 * held, the process ended holding locks; and their clean counterparts.  Each scenario runs
 * LW_RUNS times and must get the same verdict every time. */
#include <criterion/criterion.h>
#include "lw_test.h"

#define LW_RUNS 20

/* Runs the scenario LW_RUNS times: each run's only finding is one misuse of severity whose
 * message has `words` (severity NULL: no finding at all), and lockwatch's exit status is
 * 66 for an error, else `status` (the program's own). */
static void expect(const char *scenario, const char *severity, const char *words, int status)
{
	for (int i = 0; i < LW_RUNS; i++) {
		const char *args[] = { scenario, NULL };
		struct lw_result r = lw_run_json("build/tests/programs/misuse_memory", args, NULL,
						 20000);
		cr_assert_not_null(r.report, "%s run %d: no report; stderr: %s", scenario, i,
				   r.stderr_text);
		int n = lw_count(r.report, NULL, NULL);
		if (!severity) {
			cr_assert_eq(n, 0, "%s run %d: %d findings", scenario, i, n);
		} else {
			cr_assert_eq(n, 1, "%s run %d: %d findings", scenario, i, n);
			json_t *f = lw_find(r.report, "misuse", severity);
			cr_assert_not_null(f, "%s run %d: no %s misuse", scenario, i, severity);
			const char *msg = json_string_value(json_object_get(f, "message"));
			cr_assert(msg && strstr(msg, words), "%s run %d: message '%s'", scenario, i,
				  msg);
		}
		int want = severity && !strcmp(severity, "error") ? 66 : status;
		cr_assert_eq(r.status, want, "%s run %d: exit %d, not %d", scenario, i, r.status,
			     want);
		lw_result_free(&r);
	}
}

Test(misuse_memory, free_of_a_block_whose_mutex_the_freeing_thread_holds, .timeout = 120)
{
	expect("free-locked", "error", "freed the heap block at", 0);
}

Test(misuse_memory, free_of_a_block_whose_mutex_another_thread_holds, .timeout = 120)
{
	expect("free-locked-other", "error", "locked by thread T2", 0);
}

Test(misuse_memory, free_of_unlocked_mutexes_is_clean, .timeout = 120)
{
	expect("free-clean", NULL, NULL, 0);
}

Test(misuse_memory, free_while_another_blocks_lock_is_held_is_clean, .timeout = 120)
{
	expect("free-clean-held-elsewhere", NULL, NULL, 0);
}

Test(misuse_memory, munmap_of_memory_holding_a_locked_mutex, .timeout = 120)
{
	expect("munmap-locked", "error", "unmapped the memory at", 0);
}

Test(misuse_memory, munmap_after_the_unlock_is_clean, .timeout = 120)
{
	expect("munmap-clean", NULL, NULL, 0);
}

Test(misuse_memory, init_of_a_mutex_its_thread_holds, .timeout = 120)
{
	expect("reinit-locked", "error", "again while thread T1 held it", 0);
}

Test(misuse_memory, init_of_a_mutex_another_thread_holds, .timeout = 120)
{
	expect("reinit-locked-other", "error", "again while thread T2 held it", 0);
}

Test(misuse_memory, init_after_destroy_is_clean, .timeout = 120)
{
	expect("reinit-clean", NULL, NULL, 0);
}

Test(misuse_memory, exit_from_main_holding_a_lock_is_a_warning, .timeout = 120)
{
	expect("exit-main-holding", "warning", "T1 ended the process", 3);
}

Test(misuse_memory, return_from_main_holding_a_lock_is_a_warning, .timeout = 120)
{
	expect("return-main-holding", "warning", "T1 ended the process", 3);
}

Test(misuse_memory, exit_from_another_thread_holding_a_lock_is_a_warning, .timeout = 120)
{
	expect("exit-thread-holding", "warning", "T2 ended the process", 4);
}

Test(misuse_memory, exit_after_the_unlocks_is_clean, .timeout = 120)
{
	expect("exit-clean", NULL, NULL, 3);
}
