/* The shim's lock table (issue 18): heap locks created and destroyed by the ten thousand
 * do not fill it, and a lock it could not record never makes a finding. */
#include <criterion/criterion.h>
#include "lw_test.h"

#define PROG(name) "build/tests/programs/" name

/* Four threads churn through 192k heap rwlocks and mutexes at ~100k distinct addresses (it
 * was "lock table full" and a false "unlocked ..., which was not locked"). */
Test(lock_table, heap_locks_created_and_destroyed_do_not_fill_it, .timeout = 120)
{
	struct lw_result r = lw_run_json(PROG("lock_churn"), NULL, NULL, 100000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "lock_churn: 4 threads"), "%s",
		  r.stdout_text);
	cr_assert(!r.stderr_text || !strstr(r.stderr_text, "lock table full"), "%s",
		  r.stderr_text);
	cr_assert(!r.stderr_text || !strstr(r.stderr_text, "could not record"), "%s",
		  r.stderr_text);
	cr_assert_not_null(r.report, "no report: %s", r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, NULL), 0, "%zu findings: %s",
		     json_array_size(json_object_get(r.report, "findings")), r.stderr_text);
	lw_result_free(&r);
}

/* After the churn, two mutexes in reused heap memory (their table slots taken again) taken
 * in both orders by two threads: the inversion is found (it was lost: the table was full). */
Test(lock_table, an_inversion_after_the_churn_is_found, .timeout = 120)
{
	const char *args[] = { "4", "24", "2000", "invert", NULL };
	struct lw_result r = lw_run_json(PROG("lock_churn"), args, NULL, 100000);
	cr_assert_eq(r.status, 66, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_not_null(r.report, "no report: %s", r.stderr_text);
	size_t n = lw_count(r.report, "lock-order-cycle", "error") +
		   lw_count(r.report, "deadlock", "error");
	cr_assert_eq(n, 1, "%zu error cycles: %s", n, r.stderr_text);
	cr_assert_eq(lw_count(r.report, "misuse", NULL), 0, "misuse: %s", r.stderr_text);
	cr_assert(!r.stderr_text || !strstr(r.stderr_text, "lock table full"), "%s",
		  r.stderr_text);
	lw_result_free(&r);
}

/* Spinlocks packed 4 bytes apart fill a run of the table past its probe limit: a mutex and a
 * spinlock there are not recorded.  Locking, waiting and unlocking them correctly, also after
 * destroyed locks free slots in their run, is no misuse; the report says that recording was
 * incomplete (it was three false errors: unlock of a lock not locked, and a wait with a mutex
 * not held). */
Test(lock_table, locks_it_could_not_record_are_no_misuse, .timeout = 60)
{
	struct lw_result r = lw_run_json(PROG("table_full"), NULL, NULL, 40000);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert(r.stdout_text && strstr(r.stdout_text, "table_full: wait timed out"), "%s",
		  r.stdout_text);
	cr_assert(r.stderr_text && strstr(r.stderr_text, "lock table full"),
		  "the table did not fill: %s", r.stderr_text);
	cr_assert(strstr(r.stderr_text, "could not record") &&
		  strstr(r.stderr_text, "lock table was full"), "no warning: %s", r.stderr_text);
	cr_assert_not_null(r.report, "no report: %s", r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, NULL), 0, "findings: %s", r.stderr_text);
	cr_assert_eq(lw_count_in_dump(&r, " misuse "), 0, "misuse records in the trace");
	lw_result_free(&r);
}
