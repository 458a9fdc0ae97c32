/* Unit tests for merged runs: a lock-order cycle whose two halves were recorded by two
 * processes of the same program (two test runs), in two trace directories, is still found. */
#include <criterion/criterion.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "detect/analyze.h"
#include "detect/findings.h"
#include "trace/model.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

/* The "program": its global locks and the functions that initialise heap locks. */
pthread_mutex_t merge_lock_x = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t merge_lock_y = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void merge_make_account(void)
{
	__asm__ volatile("");
}

__attribute__((noinline)) void merge_make_ledger(void)
{
	__asm__ volatile("");
}

static struct lw_findings fs;
static char *dirs[2];

static void teardown(void)
{
	char cmd[600];

	lw_findings_free(&fs);
	for (int i = 0; i < 2; i++)
		if (dirs[i]) {
			snprintf(cmd, sizeof cmd, "rm -rf '%s'", dirs[i]);
			if (system(cmd) != 0)
				fprintf(stderr, "cannot remove %s\n", dirs[i]);
			free(dirs[i]);
			dirs[i] = NULL;
		}
}

TestSuite(merge, .fini = teardown, .timeout = 20);

struct span {
	uint64_t base, lo, hi;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct span *s = arg;

	(void)size;
	s->base = info->dlpi_addr;
	s->lo = UINT64_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + p->p_vaddr < s->lo)
			s->lo = info->dlpi_addr + p->p_vaddr;
		if (info->dlpi_addr + p->p_vaddr + p->p_memsz > s->hi)
			s->hi = info->dlpi_addr + p->p_vaddr + p->p_memsz;
	}
	return 1;                    /* the first object is the program itself */
}

/* Starts the trace of one process of this test program (the same executable each time, as
 * in two runs of one test suite), with its main thread and one worker, T2. */
static void start_process(struct tb *b, int32_t pid)
{
	static char exe[4096];
	struct span s = { 0 };
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	cr_assert_gt(n, 0);
	exe[n] = '\0';
	dl_iterate_phdr(phdr_cb, &s);
	tb_init(b, pid);
	snprintf(tb_header(b)->exe, sizeof tb_header(b)->exe, "%.1000s", exe);
	tb_module(b, s.base, s.lo, s.hi, exe);
	tb_thread(b, 1, 0);
	tb_thread(b, 2, 1);
}

/* Writes the trace into dir/lockwatch.<pid>.trace. */
static void write_trace(struct tb *b, const char *dir)
{
	char path[600];
	FILE *f;

	tb_close(b);
	snprintf(path, sizeof path, "%s/lockwatch.%d.trace", dir, (int)tb_header(b)->pid);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(b->buf, 1, b->len, f), b->len);
	cr_assert_eq(fclose(f), 0);
	tb_free(b);
}

/* Loads both directories, as "lockwatch report DIR1 DIR2" does, and analyzes them. */
static void report_both(void)
{
	struct lw_strvec paths = { 0 };
	struct lw_model *m = lw_model_new();

	for (int i = 0; i < 2; i++)
		cr_assert_eq(lw_collect_traces(dirs[i], &paths), 0);
	cr_assert_eq(paths.n, 2);
	cr_assert_eq(lw_load_traces(m, &paths), 0);
	lw_analyze(m, &fs);
	lw_model_free(m);
	lw_strvec_free(&paths);
}

static void make_dirs(void)
{
	for (int i = 0; i < 2; i++) {
		dirs[i] = strdup("/tmp/lockwatch-merge-XXXXXX");
		cr_assert_not_null(mkdtemp(dirs[i]));
	}
}

static const struct lw_finding *the_cycle(void)
{
	const struct lw_finding *found = NULL;

	for (size_t i = 0; i < fs.v.n; i++)
		if (fs.v.v[i]->kind == LW_FIND_LOCK_ORDER_CYCLE) {
			cr_assert_null(found, "more than one cycle");
			found = fs.v.v[i];
		}
	cr_assert_not_null(found, "the cycle across the two runs was not found");
	return found;
}

static bool names(const struct lw_finding *f, const char *needle)
{
	for (size_t i = 0; i < f->locks.n; i++)
		if (strstr(f->locks.v[i].name, needle))
			return true;
	return false;
}

Test(merge, global_locks_halves_in_two_runs)
{
	uint64_t x = (uint64_t)(uintptr_t)&merge_lock_x, y = (uint64_t)(uintptr_t)&merge_lock_y;
	struct tb b;
	const struct lw_finding *f;

	make_dirs();
	start_process(&b, 100);              /* run 1: only x then y */
	tb_edge(&b, 2, x, y);
	write_trace(&b, dirs[0]);
	start_process(&b, 200);              /* run 2: only y then x */
	tb_edge(&b, 2, y, x);
	write_trace(&b, dirs[1]);
	report_both();
	f = the_cycle();
	cr_assert(names(f, "merge_lock_x") && names(f, "merge_lock_y"));
	cr_assert_eq(f->edges.n, 2);
	/* One program's two global locks: the same locks in every process, so two threads
	 * of one run doing what the two runs did would deadlock. */
	cr_assert_eq(f->severity, LW_SEV_ERROR, "severity %d: %s", f->severity,
		     f->reason_text ? f->reason_text : "");
	cr_assert_eq(lw_findings_count(&fs, LW_SEV_ERROR), 1);
	cr_assert(strstr(f->message, "pid 100") && strstr(f->message, "pid 200"), "%s", f->message);
}

Test(merge, heap_locks_by_init_site_in_two_runs)
{
	/* Heap locks at different addresses in each run, grouped by the function that
	 * initialised them. */
	uint64_t pcs_a[1] = { (uint64_t)(uintptr_t)&merge_make_account + 1 };
	uint64_t pcs_l[1] = { (uint64_t)(uintptr_t)&merge_make_ledger + 1 };
	struct tb b;
	const struct lw_finding *f;

	make_dirs();
	start_process(&b, 300);
	tb_stack(&b, 1, 1, pcs_a);
	tb_stack(&b, 2, 1, pcs_l);
	tb_lock_init(&b, 0x10000, 0, LW_LOCK_MUTEX, 0, 1);
	tb_lock_init(&b, 0x20000, 0, LW_LOCK_MUTEX, 0, 2);
	tb_edge(&b, 2, 0x10000, 0x20000);    /* account, then ledger */
	write_trace(&b, dirs[0]);
	start_process(&b, 400);
	tb_stack(&b, 1, 1, pcs_a);
	tb_stack(&b, 2, 1, pcs_l);
	tb_lock_init(&b, 0x50000, 0, LW_LOCK_MUTEX, 0, 1);
	tb_lock_init(&b, 0x60000, 0, LW_LOCK_MUTEX, 0, 2);
	tb_edge(&b, 2, 0x60000, 0x50000);    /* ledger, then account */
	write_trace(&b, dirs[1]);
	report_both();
	f = the_cycle();
	cr_assert(names(f, "merge_make_account") && names(f, "merge_make_ledger"));
	/* Other instances of these classes might never meet: a warning that says so. */
	cr_assert_eq(f->severity, LW_SEV_WARNING);
	cr_assert_eq(f->reason, LW_REASON_LOCK_CLASS);
}

Test(merge, one_run_with_one_half_finds_nothing)
{
	uint64_t x = (uint64_t)(uintptr_t)&merge_lock_x, y = (uint64_t)(uintptr_t)&merge_lock_y;
	struct tb b;

	make_dirs();
	start_process(&b, 500);
	tb_edge(&b, 2, x, y);
	write_trace(&b, dirs[0]);
	start_process(&b, 600);
	tb_edge(&b, 2, x, y);                /* the same order again */
	write_trace(&b, dirs[1]);
	report_both();
	cr_assert_eq(fs.v.n, 0);
}

/* Issue 18: two processes that share memory map a page of process-shared locks at different
 * addresses; each took the two locks in another order.  The mapped object and offset are one
 * lock in both: the halves make a cycle, an error as for globals. */
Test(merge, shared_memory_locks_at_two_addresses_are_one_lock)
{
	struct tb b;
	const size_t full = sizeof(struct lw_rec_lock_init) + sizeof(struct lw_lock_init_shared);
	const struct lw_finding *f;

	make_dirs();
	start_process(&b, 700);
	tb_lock_init_shared(&b, 0x7f0000001000, 0, 0, 99, 0x1000, full);
	tb_lock_init_shared(&b, 0x7f0000001028, 0, 0, 99, 0x1028, full);
	tb_edge(&b, 2, 0x7f0000001000, 0x7f0000001028);
	write_trace(&b, dirs[0]);
	start_process(&b, 800);
	tb_lock_init_shared(&b, 0x7e0000005000, LW_LOCKF_STATIC, 0, 99, 0x1000, full);
	tb_lock_init_shared(&b, 0x7e0000005028, LW_LOCKF_STATIC, 0, 99, 0x1028, full);
	tb_edge(&b, 2, 0x7e0000005028, 0x7e0000005000);
	write_trace(&b, dirs[1]);
	report_both();
	f = the_cycle();
	cr_assert(names(f, "process-shared mutex"), "%s", f->locks.v[0].name);
	cr_assert_eq(f->severity, LW_SEV_ERROR, "severity %d: %s", f->severity,
		     f->reason_text ? f->reason_text : "");
	cr_assert(strstr(f->message, "pid 700") && strstr(f->message, "pid 800"), "%s", f->message);
}

/* The same addresses in two processes, but other objects (another inode, or another offset):
 * other locks, and no cycle. */
Test(merge, other_shared_objects_are_other_locks)
{
	struct tb b;
	const size_t full = sizeof(struct lw_rec_lock_init) + sizeof(struct lw_lock_init_shared);

	make_dirs();
	start_process(&b, 900);
	tb_lock_init_shared(&b, 0x7f0000001000, 0, 0, 99, 0x1000, full);
	tb_lock_init_shared(&b, 0x7f0000001028, 0, 0, 99, 0x1028, full);
	tb_edge(&b, 2, 0x7f0000001000, 0x7f0000001028);
	write_trace(&b, dirs[0]);
	start_process(&b, 1000);
	tb_lock_init_shared(&b, 0x7f0000001000, 0, 0, 98, 0x1000, full);
	tb_lock_init_shared(&b, 0x7f0000001028, 0, 0, 99, 0x2028, full);
	tb_edge(&b, 2, 0x7f0000001028, 0x7f0000001000);
	write_trace(&b, dirs[1]);
	report_both();
	cr_assert_eq(fs.v.n, 0);
}
