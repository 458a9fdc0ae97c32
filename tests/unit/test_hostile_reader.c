/* Issue 24: the trace reader and the files the report reads, on input another user controls:
 * a trace that shrinks while it is read, empty and all-zero traces, a huge sparse trace, a
 * suppressions file with a byte order mark, FIFOs and devices. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "report/baseline.h"
#include "report/suppressions.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

/*
 * A file that shrinks while the reader reads it, deterministically: this test binary's own
 * mmap and pread (they come before libc's for the analyzer's objects linked into it) cut the
 * armed file to cut_to bytes right after the reader's first mmap or pread of it, as a
 * process closing its trace (the shim cuts it to its end) would between two reads.
 */
static ino_t armed_ino;
static char armed_path[300];
static off_t cut_to;
static int cuts;

static void maybe_cut(int fd)
{
	struct stat st;

	if (!armed_ino || fd < 0 || fstat(fd, &st) < 0 || st.st_ino != armed_ino)
		return;
	armed_ino = 0;
	if (truncate(armed_path, cut_to) == 0)
		cuts++;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *r = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	if (r != MAP_FAILED)
		maybe_cut(fd);
	return r;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r = syscall(SYS_pread64, fd, buf, n, off);

	if (r >= 0)
		maybe_cut(fd);
	return r;
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off);
}

static char dir[] = "/tmp/lw-hostile-XXXXXX";
static char path[300];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[400];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(hostile_reader, .init = setup, .fini = teardown, .timeout = 30);

static const char *write_file(const char *name, const void *data, size_t len)
{
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

Test(hostile_reader, a_trace_that_shrinks_while_it_is_read_gives_what_could_be_read)
{
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	size_t cut = 0, kept = 0;

	/* An unclosed trace of 2 MiB of records, cut to its first 100 pairs (a record
	 * boundary) while it is read: pages past the cut are gone. */
	tb_init(&b, 7);
	tb_thread(&b, 1, 0);
	for (int i = 0; b.len < (2u << 20); i++) {
		if (i == 100) {
			cut = b.len;
			kept = 1 + 2 * 100;
		}
		tb_lock(&b, 1, 0x1000 + 64 * (uint64_t)(i % 8));
		tb_unlock(&b, 1, 0x1000 + 64 * (uint64_t)(i % 8));
	}
	write_file("shrinks.trace", b.buf, b.len);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	snprintf(armed_path, sizeof armed_path, "%s", path);
	cut_to = (off_t)cut;
	armed_ino = st.st_ino;
	int rc = lw_trace_open(path, &t, &err);
	cr_assert_eq(cuts, 1, "the file was not cut while it was read");
	cr_assert_eq(rc, 0, "%s", err.what);
	cr_assert_eq(t.n_recs, kept, "%zu records, want %zu", t.n_recs, kept);
	lw_trace_close(&t);
	tb_free(&b);
}

Test(hostile_reader, empty_and_all_zero_traces_hold_nothing)
{
	static unsigned char zeros[3 * 4096];
	struct lw_trace t;
	struct lw_trace_error err;

	cr_assert_eq(lw_trace_open(write_file("empty.trace", "", 0), &t, &err), -ENODATA);
	cr_assert(strstr(err.what, "holds nothing"), "%s", err.what);
	/* A process killed during the shim's start-up: space reserved, header never written. */
	cr_assert_eq(lw_trace_open(write_file("zero.trace", zeros, sizeof zeros), &t, &err),
		     -ENODATA);
	cr_assert(strstr(err.what, "holds nothing"), "%s", err.what);
	cr_assert_eq(lw_trace_open(write_file("zero5.trace", zeros, 5), &t, &err), -ENODATA);
}

/* Issue 24: a trace never closed is read up to its last data, however long its holes. */
Test(hostile_reader, a_huge_sparse_unclosed_trace_is_read_to_its_last_data)
{
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	struct timespec t0, t1;

	tb_init(&b, 8);
	tb_thread(&b, 1, 0);
	write_file("sparse.trace", b.buf, b.len);
	tb_free(&b);
	/* Unclosed, and LW_TRACE_READ_MAX + 1 MiB long, all but its first page a hole. */
	cr_assert_eq(truncate(path, (off_t)LW_TRACE_READ_MAX + (1 << 20)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = lw_trace_open(path, &t, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(rc, 0, "rc %d: %s", rc, err.what);
	cr_assert_lt(t.map_len, 1u << 20, "read %zu bytes", t.map_len);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "took %ld s", (long)(t1.tv_sec - t0.tv_sec));
	lw_trace_close(&t);
}

/* A closed trace whose records would go past LW_TRACE_READ_MAX is refused without reading. */
Test(hostile_reader, a_huge_closed_trace_is_refused_at_the_limit_without_reading_it)
{
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	struct timespec t0, t1;

	tb_init(&b, 8);
	tb_thread(&b, 1, 0);
	tb_header(&b)->flags |= LW_HDR_CLOSED;
	tb_header(&b)->end_offset = (uint64_t)LW_TRACE_READ_MAX + (1 << 20);
	write_file("huge.trace", b.buf, b.len);
	tb_free(&b);
	cr_assert_eq(truncate(path, (off_t)LW_TRACE_READ_MAX + (1 << 20)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = lw_trace_open(path, &t, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(rc, -EINVAL, "rc %d", rc);
	cr_assert(strstr(err.what, "larger than the 2048 MiB"), "%s", err.what);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "took %ld s", (long)(t1.tv_sec - t0.tv_sec));
}

Test(hostile_reader, a_suppressions_file_with_a_byte_order_mark_is_read)
{
	static const char text[] = "\xef\xbb\xbf# comment\ndeadlock:my_function\r\nrace:other\n";
	struct lw_suppressions s = { 0 };

	cr_assert_eq(lw_suppressions_load(&s, write_file("bom.supp", text, sizeof text - 1)), 0);
	cr_assert_eq(s.v.n, 2);
	cr_assert_str_eq(s.v.v[0].pattern, "my_function");
	lw_suppressions_free(&s);
}

/* Neither a FIFO nor a device is opened for reading in a way that blocks, nor read on. */
Test(hostile_reader, fifos_and_devices_are_refused)
{
	struct lw_suppressions s = { 0 };
	struct lw_baseline base = { 0 };
	struct lw_trace t;
	struct lw_trace_error err;

	snprintf(path, sizeof path, "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(lw_suppressions_load(&s, path), -1);
	lw_suppressions_free(&s);
	cr_assert_eq(lw_baseline_load(&base, path), -1);
	cr_assert_lt(lw_trace_open(path, &t, &err), 0);
	cr_assert_eq(lw_suppressions_load(&s, "/dev/zero"), -1);
	lw_suppressions_free(&s);
	cr_assert_eq(lw_baseline_load(&base, "/dev/zero"), -1);
	cr_assert_lt(lw_trace_open("/dev/zero", &t, &err), 0);
}

/* The pattern matcher: the same answers, and no exponential time on many '*'s. */
Test(hostile_reader, suppression_patterns_match_in_linear_time)
{
	cr_assert(lw_supp_match("lock*b", "my_lock_a_b"));
	cr_assert(lw_supp_match("^my_*_b$", "my_lock_a_b"));
	cr_assert_not(lw_supp_match("^my_*_a$", "my_lock_a_b"));
	cr_assert(lw_supp_match("^my_*_a", "my_lock_a_b"));
	cr_assert(lw_supp_match("a*a*b$", "xaaab"));
	cr_assert_not(lw_supp_match("a*c", "xaaab"));
	cr_assert(lw_supp_match("*", ""));
	cr_assert(lw_supp_match("$", "abc"));
	cr_assert_not(lw_supp_match("^$", "abc"));
	cr_assert(lw_supp_match("a$b", "xa$b"));

	char pat[200], s[400];
	struct timespec t0, t1;
	size_t n = 0;
	for (int i = 0; i < 60; i++) {
		pat[n++] = '*';
		pat[n++] = 'a';
	}
	pat[n++] = 'b';
	pat[n] = '\0';
	memset(s, 'a', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(lw_supp_match(pat, s));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "took %ld s", (long)(t1.tv_sec - t0.tv_sec));
}
