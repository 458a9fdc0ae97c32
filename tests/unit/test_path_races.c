/* Unit tests for analyzer/detect/detect_path_races.c: check-then-act on file paths. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "detect/detect_path_races.h"
#include "detect/findings.h"
#include "trace/model.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

TestSuite(path_races, .timeout = 10);

/* Appends a PATH record: tid does op on path. */
static void tb_path_found(struct tb *b, uint32_t tid, uint16_t op, const char *path, bool found);

static void tb_path(struct tb *b, uint32_t tid, uint16_t op, const char *path)
{
	tb_path_found(b, tid, op, path, op != LW_PATH_CHECK);
}

/* The same, with the call's outcome: for a check, found says whether the path existed. */
static void tb_path_found(struct tb *b, uint32_t tid, uint16_t op, const char *path, bool found)
{
	struct lw_rec_path r;
	size_t n = strlen(path), size = (sizeof(r) + n + 7) & ~(size_t)7;

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_PATH, size);
	r.tid = tid;
	r.op = op;
	r.path_len = (uint16_t)n;
	r.result = found ? (op == LW_PATH_CHECK ? 0 : 3) : -1;
	r.err = found ? 0 : 2;
	r.seq = b->seq++;
	tb_raw(b, &r, sizeof(r));
	tb_raw(b, path, n);
	tb_zeros(b, size - sizeof(r) - n);
}

static void add(struct lw_model *m, struct tb *b)
{
	struct lw_trace t;
	struct lw_trace_error err;

	tb_close(b);
	cr_assert_eq(lw_trace_parse(b->buf, b->len, "t", &t, &err), 0, "%s", err.what);
	lw_model_add_trace(m, &t);
	lw_trace_close(&t);
	tb_free(b);
}

/* Runs the detector alone; returns the number of findings, the first in *first. */
static size_t detect(struct lw_model *m, struct lw_findings *fs)
{
	lw_model_finish(m);
	memset(fs, 0, sizeof(*fs));
	lw_detect_path_races(m, fs);
	return fs->v.n;
}

/* T2 and T3 both: access(path) then open(path, O_CREAT). */
static void two_checkers(struct tb *b, uint16_t create_op, const char *p2, const char *p3)
{
	tb_thread(b, 1, 0);
	tb_thread(b, 2, 1);
	tb_thread(b, 3, 1);
	tb_path(b, 2, LW_PATH_CHECK, p2);
	tb_path(b, 3, LW_PATH_CHECK, p3);
	tb_path(b, 2, create_op, p2);
	tb_path(b, 3, create_op, p3);
	tb_join(b, 1, 2);
	tb_join(b, 1, 3);
}

Test(path_races, two_threads_check_then_create)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE, "/tmp/x.lock", "/tmp/x.lock");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 1);
	cr_assert_eq(fs.v.v[0]->kind, LW_FIND_ATOMICITY);
	cr_assert_eq(fs.v.v[0]->severity, LW_SEV_ERROR);
	cr_assert_str_eq(fs.v.v[0]->path, "/tmp/x.lock");
	cr_assert_eq(fs.v.v[0]->count, 2);
	cr_assert_eq(fs.v.v[0]->threads.n, 3);
	cr_assert_str_eq(fs.v.v[0]->threads.v[0].role, "check");
	cr_assert_str_eq(fs.v.v[0]->threads.v[1].role, "create");
	cr_assert_str_eq(fs.v.v[0]->threads.v[2].role, "interferer");
	cr_assert(strstr(fs.v.v[0]->message, "/tmp/x.lock"));
	lw_findings_free(&fs);
	lw_model_free(m);
}

Test(path_races, o_excl_is_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE_EXCL, "/tmp/x.lock", "/tmp/x.lock");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

Test(path_races, paths_compared_normalised)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE, "/tmp/./d//x.lock", "/tmp/d/e/../x.lock/");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 1);
	cr_assert_str_eq(fs.v.v[0]->path, "/tmp/d/x.lock");
	lw_findings_free(&fs);
	lw_model_free(m);
}

Test(path_races, different_paths_are_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	two_checkers(&b, LW_PATH_CREATE, "/tmp/a", "/tmp/b");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* Main checks and creates, then starts a thread that checks: ordered by the creation. */
Test(path_races, ordered_by_create_is_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_path(&b, 1, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x");
	tb_thread(&b, 2, 1);
	tb_path(&b, 2, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* T2 checks and creates and is joined; only then does T3 start and do the same. */
Test(path_races, ordered_by_join_is_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_path(&b, 2, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	tb_thread(&b, 3, 1);
	tb_path(&b, 3, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 3, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 3);
	tb_path(&b, 1, LW_PATH_UNLINK, "/tmp/x");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* A check that found the path makes the create a plain open, unless another thread can
 * remove the path in between: a concurrent unlink interferes. */
Test(path_races, concurrent_unlink)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_path_found(&b, 2, LW_PATH_CHECK, "/tmp/x", true);
	tb_path(&b, 1, LW_PATH_UNLINK, "/tmp/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 1);
	cr_assert(strstr(fs.v.v[0]->message, "remove"));
	cr_assert(strstr(fs.v.v[0]->message, "finds /tmp/x"), "%s", fs.v.v[0]->message);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* Two processes of one run are concurrent; of two runs (sessions), they are not. */
static size_t two_processes(uint64_t session2)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;
	size_t n;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_path(&b, 1, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x");
	add(m, &b);
	tb_init(&b, 11);
	tb_header(&b)->session = session2;
	tb_thread(&b, 1, 0);
	tb_path(&b, 1, LW_PATH_CHECK, "/tmp/x");
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x");
	add(m, &b);
	n = detect(m, &fs);
	if (n)
		cr_assert(strstr(fs.v.v[0]->message, "of process"));
	lw_findings_free(&fs);
	lw_model_free(m);
	return n;
}

Test(path_races, processes_of_one_run)
{
	cr_assert_eq(two_processes(0x1234), 1);
	cr_assert_eq(two_processes(0x9999), 0);
}

/* Both threads find the file and open it with O_CREAT: plain opens, nobody removes it. */
Test(path_races, check_found_then_create_is_a_plain_open)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_thread(&b, 3, 1);
	tb_path_found(&b, 2, LW_PATH_CHECK, "/tmp/x.db", true);
	tb_path_found(&b, 3, LW_PATH_CHECK, "/tmp/x.db", true);
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x.db");
	tb_path(&b, 3, LW_PATH_CREATE, "/tmp/x.db");
	tb_join(&b, 1, 2);
	tb_join(&b, 1, 3);
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* A check that found nothing is not fooled by a concurrent unlink or check: only a create
 * of the path in between changes what its create does. */
Test(path_races, check_not_found_ignores_unlink_and_checks)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_path_found(&b, 2, LW_PATH_CHECK, "/tmp/x", false);
	tb_path_found(&b, 1, LW_PATH_CHECK, "/tmp/x", false);
	tb_path(&b, 1, LW_PATH_UNLINK, "/tmp/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* T1 checks, starts T2, which creates the path, joins T2, then creates: the program puts
 * T2's create between the check and the create in every run, so nothing is left to chance. */
Test(path_races, ordered_between_by_create_and_join_is_clean)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_path_found(&b, 1, LW_PATH_CHECK, "/tmp/x", false);
	tb_thread(&b, 2, 1);
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/x");
	tb_join(&b, 1, 2);
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x");
	add(m, &b);
	cr_assert_eq(detect(m, &fs), 0);
	lw_findings_free(&fs);
	lw_model_free(m);
}

/* A SYNC record of op with value. */
static void tb_sync_value(struct tb *b, uint32_t tid, uint16_t op, uint64_t value)
{
	struct lw_rec_sync r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.op = op;
	r.value = value;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_SYNC, r);
}

/* A SYNC record of op (LW_SYNC_FORK, LW_SYNC_WAIT_CHILD) about child pid. */
static void tb_child(struct tb *b, uint32_t tid, uint16_t op, int32_t pid)
{
	tb_sync_value(b, tid, op, (uint64_t)pid);
}

/* A process pid (child of ppid, started at start_ns) whose main thread checks the path
 * (found nothing) and creates it. */
static void checker_process(struct lw_model *m, int32_t pid, int32_t ppid, uint64_t start_ns,
			    bool with_check)
{
	struct tb b;

	tb_init(&b, pid);
	tb_header(&b)->ppid = ppid;
	tb_header(&b)->start_ns = start_ns;
	tb_thread(&b, 1, 0);
	if (with_check) {
		tb_path_found(&b, 1, LW_PATH_CHECK, "/tmp/x.db", false);
		tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x.db");
	}
	add(m, &b);
}

/*
 * A shell runs two commands one after the other: it starts pid 11, reaps it, starts pid 12,
 * reaps it.  Each command checks and creates the same file.  With reap == false the shell's
 * wait records are missing: the two commands could overlap.  With exec == true each command
 * first leaves an image with no path calls (a fork child before its exec).
 */
static size_t shell_runs_two(bool reap, bool exec)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;
	size_t n;

	tb_init(&b, 10);
	tb_header(&b)->start_ns = 100;
	tb_thread(&b, 1, 0);
	tb_child(&b, 1, LW_SYNC_FORK, 11);
	if (reap)
		tb_child(&b, 1, LW_SYNC_WAIT_CHILD, 11);
	tb_child(&b, 1, LW_SYNC_FORK, 12);
	if (reap)
		tb_child(&b, 1, LW_SYNC_WAIT_CHILD, 12);
	add(m, &b);
	if (exec) {
		checker_process(m, 12, 10, 300, false);
		checker_process(m, 11, 10, 200, false);
	}
	checker_process(m, 12, 10, 310, true);
	checker_process(m, 11, 10, 210, true);
	n = detect(m, &fs);
	if (n)
		cr_assert(strstr(fs.v.v[0]->message, "of process"));
	lw_findings_free(&fs);
	lw_model_free(m);
	return n;
}

Test(path_races, processes_ordered_by_fork_and_wait)
{
	cr_assert_eq(shell_runs_two(true, false), 0);
	cr_assert_eq(shell_runs_two(true, true), 0);
	cr_assert_eq(shell_runs_two(false, false), 1);
	cr_assert_eq(shell_runs_two(false, true), 1);
}

/* A child started after the parent's check and create is ordered after them; one started
 * before the parent's check is not. */
static size_t parent_and_child(bool fork_first)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;
	size_t n;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	if (fork_first)
		tb_child(&b, 1, LW_SYNC_FORK, 11);
	tb_path_found(&b, 1, LW_PATH_CHECK, "/tmp/x.db", false);
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x.db");
	if (!fork_first)
		tb_child(&b, 1, LW_SYNC_FORK, 11);
	add(m, &b);
	checker_process(m, 11, 10, 200, true);
	n = detect(m, &fs);
	lw_findings_free(&fs);
	lw_model_free(m);
	return n;
}

Test(path_races, child_ordered_after_the_fork)
{
	cr_assert_eq(parent_and_child(false), 0);
	cr_assert_eq(parent_and_child(true), 1);
}

/* A process runs system() (between times 100 and 300), then checks and creates the file; the
 * shell's trace, with no fork record for it, started at child_start and did the same. */
static size_t after_system(uint64_t child_start)
{
	struct tb b;
	struct lw_model *m = lw_model_new();
	struct lw_findings fs;
	size_t n;

	tb_init(&b, 10);
	tb_header(&b)->start_ns = 50;
	tb_thread(&b, 1, 0);
	tb_sync_value(&b, 1, LW_SYNC_SYSTEM_BEGIN, 100);
	tb_sync_value(&b, 1, LW_SYNC_SYSTEM_END, 300);
	tb_path_found(&b, 1, LW_PATH_CHECK, "/tmp/x.db", false);
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/x.db");
	add(m, &b);
	checker_process(m, 11, 10, child_start, true);
	n = detect(m, &fs);
	lw_findings_free(&fs);
	lw_model_free(m);
	return n;
}

Test(path_races, a_child_of_system_ends_before_it_returns)
{
	cr_assert_eq(after_system(200), 0);
	cr_assert_eq(after_system(400), 1);
}

/* ---- file locks (fcntl, lockf, flock) as the protocol that serialises a window ---- */

/* A PATH record of tid's op on path made while its process held the file locks flocks; for
 * a check, found says whether the path existed. */
static void tb_path_flocks(struct tb *b, uint32_t tid, uint16_t op, const char *path,
			   bool found, uint32_t flocks)
{
	size_t at = b->len;

	tb_path_found(b, tid, op, path, found);
	struct lw_rec_path r;
	memcpy(&r, b->buf + at, sizeof(r));
	r.flocks = flocks;
	memcpy(b->buf + at, &r, sizeof(r));
}

/* The LOCK record of a file the process locked, with its signature. */
static void tb_locked_file(struct tb *b, uint32_t tid, const char *path, uint32_t sig)
{
	tb_path_flocks(b, tid, LW_PATH_LOCK, path, true, sig);
}

#define SIG_DB    0x00000401u           /* two bits, as the shim's signatures */
#define SIG_OTHER 0x00000801u           /* shares a bit with SIG_DB */

/*
 * A process, unordered with the others, whose main thread checks the journal (it found
 * nothing) and creates it, holding the file locks check_locks and create_locks; it names
 * lock_path (signature sig) as a file it locked, when lock_path is not NULL.
 */
static void journal_process(struct lw_model *m, int32_t pid, const char *lock_path,
			    uint32_t sig, uint32_t check_locks, uint32_t create_locks)
{
	struct tb b;

	tb_init(&b, pid);
	tb_thread(&b, 1, 0);
	if (lock_path)
		tb_locked_file(&b, 1, lock_path, sig);
	tb_path_flocks(&b, 1, LW_PATH_CHECK, "/tmp/d/t.db-journal", false, check_locks);
	tb_path_flocks(&b, 1, LW_PATH_CREATE, "/tmp/d/t.db-journal", true, create_locks);
	add(m, &b);
}

/* Runs the detector on the model; returns its one finding's severity (-1: none) and frees. */
static int one_verdict(struct lw_model *m, char *reason_text, size_t len)
{
	struct lw_findings fs;
	size_t n = detect(m, &fs);
	int sev = -1;

	cr_assert_leq(n, 1);
	if (n) {
		cr_assert_eq(fs.v.v[0]->kind, LW_FIND_ATOMICITY);
		sev = (int)fs.v.v[0]->severity;
		if (sev == LW_SEV_WARNING) {
			cr_assert_eq(fs.v.v[0]->reason, LW_REASON_FILE_LOCK);
			cr_assert_not_null(fs.v.v[0]->reason_text);
		}
		if (reason_text)
			snprintf(reason_text, len, "%s", fs.v.v[0]->reason_text ?
				 fs.v.v[0]->reason_text : "");
	}
	lw_findings_free(&fs);
	lw_model_free(m);
	return sev;
}

Test(path_races, windows_under_a_common_file_lock_are_a_warning)
{
	struct lw_model *m = lw_model_new();
	char text[512];

	journal_process(m, 10, "/tmp/d/t.db", SIG_DB, SIG_DB, SIG_DB);
	journal_process(m, 11, "/tmp/d/./t.db", SIG_DB, SIG_DB | 0x10000u, SIG_DB);
	cr_assert_eq(one_verdict(m, text, sizeof(text)), LW_SEV_WARNING);
	cr_assert(strstr(text, "file lock") && strstr(text, "/tmp/d/t.db,"), "%s", text);
	cr_assert(strstr(lw_reason_name(LW_REASON_FILE_LOCK), "file-lock"));
}

Test(path_races, traces_without_file_locks_stay_an_error)
{
	/* A shim older than the flocks field wrote 0 there, and no LOCK record. */
	struct lw_model *m = lw_model_new();

	journal_process(m, 10, NULL, 0, 0, 0);
	journal_process(m, 11, NULL, 0, 0, 0);
	cr_assert_eq(one_verdict(m, NULL, 0), LW_SEV_ERROR);
}

Test(path_races, an_interferer_outside_the_lock_is_an_error)
{
	struct lw_model *m = lw_model_new();

	journal_process(m, 10, "/tmp/d/t.db", SIG_DB, SIG_DB, SIG_DB);
	journal_process(m, 11, "/tmp/d/t.db", SIG_DB, SIG_DB, 0);
	cr_assert_eq(one_verdict(m, NULL, 0), LW_SEV_ERROR);
}

Test(path_races, a_create_after_the_unlock_is_an_error)
{
	struct lw_model *m = lw_model_new();

	journal_process(m, 10, "/tmp/d/t.db", SIG_DB, SIG_DB, 0);
	journal_process(m, 11, "/tmp/d/t.db", SIG_DB, SIG_DB, SIG_DB);
	cr_assert_eq(one_verdict(m, NULL, 0), LW_SEV_ERROR);
}

Test(path_races, locks_on_different_files_are_an_error)
{
	/* The same signature by chance, but the two processes locked different files. */
	struct lw_model *m = lw_model_new();

	journal_process(m, 10, "/tmp/d/a.lock", SIG_DB, SIG_DB, SIG_DB);
	journal_process(m, 11, "/tmp/d/b.lock", SIG_DB, SIG_DB, SIG_DB);
	cr_assert_eq(one_verdict(m, NULL, 0), LW_SEV_ERROR);
	/* Signatures that only share a bit are no common file. */
	m = lw_model_new();
	journal_process(m, 10, "/tmp/d/t.db", SIG_DB, SIG_DB, SIG_DB);
	journal_process(m, 11, "/tmp/d/t.db", SIG_OTHER, SIG_OTHER, SIG_OTHER);
	cr_assert_eq(one_verdict(m, NULL, 0), LW_SEV_ERROR);
}

Test(path_races, threads_of_a_process_holding_its_file_lock_are_a_warning)
{
	/* SQLite in one process: the process's fcntl lock covers its connections' threads. */
	struct tb b;
	struct lw_model *m = lw_model_new();

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_thread(&b, 3, 1);
	tb_locked_file(&b, 2, "/tmp/d/t.db", SIG_DB);
	tb_path_flocks(&b, 2, LW_PATH_CHECK, "/tmp/d/t.db-wal", false, SIG_DB);
	tb_path_flocks(&b, 3, LW_PATH_CHECK, "/tmp/d/t.db-wal", false, SIG_DB);
	tb_path_flocks(&b, 2, LW_PATH_CREATE, "/tmp/d/t.db-wal", true, SIG_DB);
	tb_path_flocks(&b, 3, LW_PATH_CREATE, "/tmp/d/t.db-wal", true, SIG_DB);
	tb_join(&b, 1, 2);
	tb_join(&b, 1, 3);
	add(m, &b);
	cr_assert_eq(one_verdict(m, NULL, 0), LW_SEV_WARNING);
}

Test(path_races, a_lock_record_opens_no_window)
{
	/* A thread checks the lock file, locks it, then creates it: the LOCK record between
	 * does not hide the window, nor is it an interferer. */
	struct lw_model *m = lw_model_new();
	struct tb b;

	tb_init(&b, 10);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_path_found(&b, 1, LW_PATH_CHECK, "/tmp/d/x", false);
	tb_locked_file(&b, 1, "/tmp/d/x", SIG_DB);
	tb_path(&b, 1, LW_PATH_CREATE, "/tmp/d/x");
	tb_path(&b, 2, LW_PATH_CREATE, "/tmp/d/x");
	tb_join(&b, 1, 2);
	add(m, &b);
	cr_assert_eq(one_verdict(m, NULL, 0), LW_SEV_ERROR);
}
