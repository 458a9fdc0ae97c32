/* Trace reader: validates the header and every record, skips holes left by killed writers. */
#include "trace/trace_reader.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(struct lw_trace_error *err, uint64_t off, bool has_off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct lw_trace_error *err, uint64_t off, bool has_off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
	err->offset = off;
	err->has_offset = has_off;
	return -EINVAL;
}

size_t lw_rec_fixed_size(uint32_t kind)
{
	switch (kind) {
	case LW_REC_MODULE:       return sizeof(struct lw_rec_module);
	case LW_REC_STACK:        return sizeof(struct lw_rec_stack);
	case LW_REC_THREAD:       return sizeof(struct lw_rec_thread);
	case LW_REC_THREAD_END:   return sizeof(struct lw_rec_thread_end);
	case LW_REC_JOIN:         return sizeof(struct lw_rec_join);
	case LW_REC_LOCK_INIT:    return sizeof(struct lw_rec_lock_init);
	case LW_REC_LOCK_DESTROY: return sizeof(struct lw_rec_lock_destroy);
	case LW_REC_ACQUIRE:      return sizeof(struct lw_rec_acquire);
	case LW_REC_RELEASE:      return sizeof(struct lw_rec_release);
	case LW_REC_SEM_LOCKLIKE: return sizeof(struct lw_rec_sem_locklike);
	case LW_REC_DEADLOCK:     return sizeof(struct lw_rec_deadlock);
	case LW_REC_MISUSE:       return sizeof(struct lw_rec_misuse);
	case LW_REC_PATH:         return sizeof(struct lw_rec_path);
	case LW_REC_ACCESS:       return sizeof(struct lw_rec_access);
	case LW_REC_SYNC:         return sizeof(struct lw_rec_sync);
	case LW_REC_WATCH:        return sizeof(struct lw_rec_watch);
	case LW_REC_ALLOC:        return sizeof(struct lw_rec_alloc);
	case LW_REC_SEM_SIGNAL:   return sizeof(struct lw_rec_sem_signal);
	case LW_REC_RACE_CAUGHT:  return sizeof(struct lw_rec_race_caught);   /* issue 20 */
	case LW_REC_COLLIDER:     return sizeof(struct lw_rec_collider);
	case LW_REC_COVERAGE:     return sizeof(struct lw_rec_coverage);   /* issue 20 */
	case LW_REC_THREADS_LIKE: return sizeof(struct lw_rec_threads_like); /* issue 23 (perf) */
	default:                  return 0;
	}
}

const char *lw_rec_kind_name(uint32_t kind)
{
	static const char *const names[] = {
		[LW_REC_MODULE] = "module", [LW_REC_STACK] = "stack", [LW_REC_THREAD] = "thread",
		[LW_REC_THREAD_END] = "thread-end", [LW_REC_JOIN] = "join",
		[LW_REC_LOCK_INIT] = "lock-init", [LW_REC_LOCK_DESTROY] = "lock-destroy",
		[LW_REC_ACQUIRE] = "acquire", [LW_REC_RELEASE] = "release",
		[LW_REC_SEM_LOCKLIKE] = "sem-locklike", [LW_REC_DEADLOCK] = "deadlock",
		[LW_REC_MISUSE] = "misuse", [LW_REC_PATH] = "path",
		[LW_REC_ACCESS] = "access", [LW_REC_SYNC] = "sync", [LW_REC_WATCH] = "watch",
		[LW_REC_ALLOC] = "alloc", [LW_REC_SEM_SIGNAL] = "sem-signal",
		[LW_REC_RACE_CAUGHT] = "race-caught", [LW_REC_COLLIDER] = "collider",
		[LW_REC_COVERAGE] = "coverage",
		[LW_REC_THREADS_LIKE] = "threads-like",   /* issue 23 (perf) */
	};

	if (kind < sizeof(names) / sizeof(names[0]) && names[kind])
		return names[kind];
	return "unknown";
}

static uint64_t round8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/*
 * Checks the variable part of a record whose head is already known to be sane (known kind,
 * size >= fixed size, inside the file).  Returns NULL if consistent, else what is wrong.
 */
static const char *check_body(const unsigned char *p, uint32_t kind, uint32_t size, char *buf,
			      size_t buflen)
{
	switch (kind) {
	case LW_REC_MODULE: {
		struct lw_rec_module r;
		uint64_t need;

		memcpy(&r, p, sizeof(r));
		need = round8(sizeof(r) + (uint64_t)r.build_id_len + r.path_len);
		if (need != size) {
			snprintf(buf, buflen, "module record of %" PRIu32 " bytes does not match its "
				 "build-id (%u) and path (%u) lengths", size, r.build_id_len,
				 r.path_len);
			return buf;
		}
		return NULL;
	}
	case LW_REC_STACK: {
		struct lw_rec_stack r;

		memcpy(&r, p, sizeof(r));
		if (sizeof(r) + (uint64_t)r.depth * 8 != size) {
			snprintf(buf, buflen, "stack record of %" PRIu32 " bytes does not match its "
				 "depth %" PRIu32, size, r.depth);
			return buf;
		}
		if (r.id == 0)
			return "stack record with id 0";
		return NULL;
	}
	case LW_REC_LOCK_INIT: {
		struct lw_rec_lock_init r;

		memcpy(&r, p, sizeof(r));
		if ((r.flags & LW_LOCKF_SHARED_MAP) &&
		    size < sizeof(r) + sizeof(struct lw_lock_init_shared)) {
			snprintf(buf, buflen, "lock-init record of %" PRIu32 " bytes is too short "
				 "for the shared mapping its flags announce", size);
			return buf;
		}
		return NULL;
	}
	case LW_REC_ACQUIRE: {
		struct lw_rec_acquire r;

		memcpy(&r, p, sizeof(r));
		if (sizeof(r) + (uint64_t)r.n_held * sizeof(struct lw_held) != size) {
			snprintf(buf, buflen, "acquire record of %" PRIu32 " bytes does not match its "
				 "%" PRIu32 " held locks", size, r.n_held);
			return buf;
		}
		return NULL;
	}
	case LW_REC_DEADLOCK: {
		struct lw_rec_deadlock r;
		uint64_t off = sizeof(r);

		memcpy(&r, p, sizeof(r));
		for (uint32_t i = 0; i < r.n_threads; i++) {
			struct lw_deadlock_thread dt;

			if (off + sizeof(dt) > size) {
				snprintf(buf, buflen, "deadlock record of %" PRIu32 " bytes is too "
					 "short for its %" PRIu32 " threads", size, r.n_threads);
				return buf;
			}
			memcpy(&dt, p + off, sizeof(dt));
			off += sizeof(dt) + (uint64_t)dt.n_held * sizeof(struct lw_held);
			if (off > size) {
				snprintf(buf, buflen, "deadlock record of %" PRIu32 " bytes is too "
					 "short for the held locks of thread %" PRIu32, size, dt.tid);
				return buf;
			}
		}
		if (off != size) {
			snprintf(buf, buflen, "deadlock record of %" PRIu32 " bytes has %" PRIu64
				 " bytes after its %" PRIu32 " threads", size, size - off, r.n_threads);
			return buf;
		}
		return NULL;
	}
	case LW_REC_ACCESS: {
		struct lw_rec_access r;

		memcpy(&r, p, sizeof(r));
		if (r.size == 0)
			return "access record of 0 bytes";
		if (!(r.flags & (LW_ACCESS_READ | LW_ACCESS_WRITE)))
			return "access record that is neither a read nor a write";
		if ((r.flags & LW_ACCESS_UPDATE) &&
		    (r.flags & (LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_AFTER | LW_ACCESS_ATOMIC |
				LW_ACCESS_FREE)) !=
			    (LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_AFTER))
			return "read-modify-write access record that is not a plain read and write "
			       "placed after an event";
		return NULL;
	}
	case LW_REC_ALLOC: {
		struct lw_rec_alloc r;

		memcpy(&r, p, sizeof(r));
		if (r.size == 0)
			return "alloc record of a 0-byte block";
		if (r.fn == 0 || r.fn > LW_ALLOC_FN_MAX) {
			snprintf(buf, buflen, "alloc record with unknown function %u", r.fn);
			return buf;
		}
		if (r.addr + r.size + r.slack < r.addr)
			return "alloc record whose block wraps around the address space";
		return NULL;
	}
	case LW_REC_RACE_CAUGHT: {   /* issue 20 */
		struct lw_rec_race_caught r;

		memcpy(&r, p, sizeof(r));
		if (r.size != 1 && r.size != 2 && r.size != 4 && r.size != 8)
			return "race-caught record whose size is not 1, 2, 4 or 8";
		if (!((r.flags1 | r.flags2) & LW_ACCESS_WRITE))
			return "race-caught record of two reads";
		return NULL;
	}
	case LW_REC_WATCH: {
		struct lw_rec_watch r;

		memcpy(&r, p, sizeof(r));
		if (round8(sizeof(r) + (uint64_t)r.name_len) != size) {
			snprintf(buf, buflen, "watch record of %" PRIu32 " bytes does not match its "
				 "name length %u", size, r.name_len);
			return buf;
		}
		if (r.size == 0)
			return "watch record of 0 bytes";
		return NULL;
	}
	case LW_REC_PATH: {
		struct lw_rec_path r;

		memcpy(&r, p, sizeof(r));
		if (round8(sizeof(r) + (uint64_t)r.path_len) != size) {
			snprintf(buf, buflen, "path record of %" PRIu32 " bytes does not match its "
				 "path length %u", size, r.path_len);
			return buf;
		}
		return NULL;
	}
	default:
		return NULL;
	}
}

/* Checks the record head at off against the records' end.  Returns NULL if it is valid,
 * else what is wrong (in buf or a constant). */
static const char *check_record(const unsigned char *data, uint64_t off, uint64_t end,
				struct lw_rec_head *h, char *buf, size_t buflen)
{
	size_t fixed;

	memcpy(h, data + off, sizeof(*h));
	if (h->magic != LW_REC_MAGIC) {
		snprintf(buf, buflen, "bad record magic 0x%04x", h->magic);
		return buf;
	}
	fixed = lw_rec_fixed_size(h->kind);
	if (!fixed) {
		snprintf(buf, buflen, "unknown record kind %u", h->kind);
		return buf;
	}
	if (h->size % 8) {
		snprintf(buf, buflen, "%s record size %" PRIu32 " is not a multiple of 8",
			 lw_rec_kind_name(h->kind), h->size);
		return buf;
	}
	if (h->size < fixed) {
		snprintf(buf, buflen, "%s record size %" PRIu32 " is smaller than %zu",
			 lw_rec_kind_name(h->kind), h->size, fixed);
		return buf;
	}
	if (h->size > LW_REC_MAX_SIZE) {
		snprintf(buf, buflen, "%s record size %" PRIu32 " is larger than the maximum %u",
			 lw_rec_kind_name(h->kind), h->size, LW_REC_MAX_SIZE);
		return buf;
	}
	if (h->size > end - off) {
		snprintf(buf, buflen, "%s record of %" PRIu32 " bytes overruns the end of the "
			 "trace (%" PRIu64 " bytes left): truncated file?",
			 lw_rec_kind_name(h->kind), h->size, end - off);
		return buf;
	}
	return check_body(data + off, h->kind, h->size, buf, buflen);
}

static uint64_t load_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Validates the header; on success *hdr is a copy with exe NUL-terminated. */
static int check_header(const unsigned char *data, size_t len, struct lw_trace_header *hdr,
			struct lw_trace_error *err)
{
	/* len is the length of the file; data holds at least min(len, sizeof(*hdr)) bytes. */
	size_t have = len < sizeof(hdr->magic) ? len : sizeof(hdr->magic);
	bool zero = true;

	/* Issue 24: an empty file, or one whose magic is zero (a process killed while the shim
	 * created its trace: the magic is written last), holds nothing.  Not corruption. */
	for (size_t i = 0; i < have; i++)
		if (data[i])
			zero = false;
	if (len == 0) {
		fail(err, 0, false, "empty file: holds nothing");
		return -ENODATA;
	}
	if (zero) {
		fail(err, 0, false, "header was never completed (magic is zero): holds nothing");
		return -ENODATA;
	}
	if (len < sizeof(*hdr))
		return fail(err, 0, false, "file of %zu bytes is too short for a trace header", len);
	memcpy(hdr, data, sizeof(*hdr));
	hdr->exe[LW_TRACE_EXE_MAX - 1] = '\0';
	if (memcmp(hdr->magic, LW_TRACE_MAGIC, sizeof(hdr->magic)) != 0)
		return fail(err, 0, true, "not a lockwatch trace (bad magic)");
	if (hdr->version < LW_TRACE_VERSION_MIN || hdr->version > LW_TRACE_VERSION)
		return fail(err, offsetof(struct lw_trace_header, version), true,
			    "unsupported trace version %" PRIu32 " (this lockwatch reads versions "
			    "%u to %u)", hdr->version, LW_TRACE_VERSION_MIN, LW_TRACE_VERSION);
	if (hdr->header_size < sizeof(*hdr) || hdr->header_size % 8 ||
	    hdr->header_size > LW_REC_MAX_SIZE)
		return fail(err, offsetof(struct lw_trace_header, header_size), true,
			    "bad header size %" PRIu32, hdr->header_size);
	if (hdr->header_size > len)
		return fail(err, offsetof(struct lw_trace_header, header_size), true,
			    "file of %zu bytes is shorter than its %" PRIu32 "-byte header", len,
			    hdr->header_size);
	if (hdr->level > LW_LEVEL_FULL)
		return fail(err, offsetof(struct lw_trace_header, level), true,
			    "unknown recording level %" PRIu32, hdr->level);
	if (hdr->flags & LW_HDR_CLOSED) {
		if (hdr->end_offset < hdr->header_size || hdr->end_offset % 8)
			return fail(err, offsetof(struct lw_trace_header, end_offset), true,
				    "bad end offset %" PRIu64, hdr->end_offset);
		if (hdr->end_offset > len)
			return fail(err, offsetof(struct lw_trace_header, end_offset), true,
				    "end offset %" PRIu64 " is past the end of the file (%zu bytes): "
				    "truncated file?", hdr->end_offset, len);
	}
	return 0;
}

int lw_trace_parse(const void *buf, size_t len, const char *name, struct lw_trace *t,
		   struct lw_trace_error *err)
{
	const unsigned char *data = buf;
	LW_VEC(struct lw_record_ref) recs = { 0 };
	uint64_t off, end;
	int rc;

	memset(t, 0, sizeof(*t));
	memset(err, 0, sizeof(*err));
	rc = check_header(data, len, &t->hdr, err);
	if (rc)
		return rc;
	end = (t->hdr.flags & LW_HDR_CLOSED) ? t->hdr.end_offset : len & ~(uint64_t)7;
	off = t->hdr.header_size;
	while (off + 8 <= end) {
		struct lw_rec_head h;
		char why[200];
		const char *bad;

		if (load_u64(data + off) == 0) {
			/* End of the trace, or a hole left by a writer killed mid-record: look for
			 * the next complete record. */
			uint64_t scan = off + 8;

			while (scan + 8 <= end) {
				if (load_u64(data + scan) != 0 &&
				    !check_record(data, scan, end, &h, why, sizeof(why)))
					break;
				scan += 8;
			}
			if (scan + 8 > end)
				break;
			t->hole_bytes += scan - off;
			off = scan;
			continue;
		}
		bad = check_record(data, off, end, &h, why, sizeof(why));
		if (bad) {
			free(recs.v);
			return fail(err, off, true, "%s", bad);
		}
		lw_vec_push(&recs, ((struct lw_record_ref){ off, h.kind, h.size }));
		off += h.size;
	}
	t->end = off < end ? off : end;
	t->name = lw_xstrdup(name);
	t->data = data;
	t->len = len;
	t->recs = recs.v;
	t->n_recs = recs.n;
	return 0;
}

/*
 * Issue 24: whose traces are read.  Unless told to trust them (--trust-dir, trust_dir=1), a
 * trace or directory of traces is read only when it is not a symlink, belongs to the user or
 * to root, and neither its group nor others can write to it: another user's planted or
 * rewritten trace could inject or hide findings, or name files only the user can read.
 */
static bool trust_all;

void lw_trace_set_trust(bool trust)
{
	trust_all = trust;
}

bool lw_trace_trusted(void)
{
	return trust_all;
}

const char *lw_trace_untrusted(const struct stat *st, char *buf, size_t len)
{
	if (trust_all)
		return NULL;
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(buf, len, "belongs to uid %u, not to this user or root",
			 (unsigned)st->st_uid);
		return buf;
	}
	if (st->st_mode & 022) {
		snprintf(buf, len, "is writable by %s", st->st_mode & 002 ? "others" : "its group");
		return buf;
	}
	return NULL;
}

static int open_regular(const char *path, struct stat *st, struct lw_trace_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (trust_all ? 0 : O_NOFOLLOW));
	char why[128];

	if (fd < 0) {
		int e = errno;

		if (e == ELOOP && !trust_all) {
			fail(err, 0, false, "is a symbolic link: not followed (name its target, or "
			     "--trust-dir follows it)");
			return -EPERM;
		}
		fail(err, 0, false, "%s", strerror(e));
		return -e;
	}
	if (fstat(fd, st) < 0) {
		int e = errno;

		fail(err, 0, false, "%s", strerror(e));
		close(fd);
		return -e;
	}
	if (lw_trace_untrusted(st, why, sizeof(why))) {
		fail(err, 0, false, "%s: not read (--trust-dir reads it)", why);
		close(fd);
		return -EPERM;
	}
	if (S_ISDIR(st->st_mode)) {
		fail(err, 0, false, "is a directory");
		close(fd);
		return -EISDIR;
	}
	if (!S_ISREG(st->st_mode)) {
		fail(err, 0, false, "not a regular file");
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* Reads up to len bytes at offset 0 into buf; returns how many it could read (fewer when
 * the file shrank while it was read), or a negative errno. */
static ssize_t read_upto(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Where the file's last data ends (SEEK_DATA/SEEK_HOLE), at most size; size when the file
 * system cannot say. */
static uint64_t data_extent_end(int fd, uint64_t size)
{
	off_t pos = 0, end = 0;

	while ((uint64_t)pos < size) {
		off_t d = lseek(fd, pos, SEEK_DATA);

		if (d < 0)
			return errno == ENXIO ? (uint64_t)end : size;
		off_t h = lseek(fd, d, SEEK_HOLE);

		if (h < 0)
			return size;
		end = h;
		pos = h;
	}
	return (uint64_t)end < size ? (uint64_t)end : size;
}

/*
 * Issue 24: the trace is read with pread into a private buffer, not mapped, so a file that
 * shrinks while it is read (a process closing its trace, anything another user does to it)
 * gives what could be read, never SIGBUS; and at most LW_TRACE_READ_MAX bytes of it.
 */
int lw_trace_open(const char *path, struct lw_trace *t, struct lw_trace_error *err)
{
	unsigned char head[sizeof(struct lw_trace_header)];
	struct lw_trace_header hdr;
	struct stat st;
	unsigned char *buf;
	uint64_t want;
	ssize_t got;
	int fd, rc;

	memset(t, 0, sizeof(*t));
	memset(err, 0, sizeof(*err));
	fd = open_regular(path, &st, err);
	if (fd < 0)
		return fd;
	got = read_upto(fd, head, sizeof(head));
	if (got < 0) {
		close(fd);
		fail(err, 0, false, "%s", strerror((int)-got));
		return (int)got;
	}
	/* The header says how much of the file is the trace: all of it, or end_offset. */
	want = (uint64_t)st.st_size;
	if ((uint64_t)got < sizeof(head) || want > SIZE_MAX)
		want = (uint64_t)got;
	rc = check_header(head, (size_t)want, &hdr, err);
	if (rc) {
		close(fd);
		return rc;
	}
	if ((hdr.flags & LW_HDR_CLOSED) && hdr.end_offset < want)
		want = hdr.end_offset;
	/* Issue 24: a trace never closed (its process killed) ends at its last record: what
	 * lies past the file's last data is holes or unwritten preallocation, all zero, and a
	 * 10 GiB sparse file must not be read into memory. */
	if (!(hdr.flags & LW_HDR_CLOSED)) {
		uint64_t data_end = data_extent_end(fd, want);

		if (data_end < want)
			want = data_end < (uint64_t)got ? (uint64_t)got : data_end;
	}
	if (want > LW_TRACE_READ_MAX) {
		close(fd);
		return fail(err, 0, false, "trace of %" PRIu64 " bytes is larger than the %u MiB "
			    "lockwatch reads of a trace", want, LW_TRACE_READ_MAX >> 20);
	}
	if (want < (uint64_t)got)
		want = (uint64_t)got;
	buf = malloc(want ? (size_t)want : 1);
	if (!buf) {
		close(fd);
		return fail(err, 0, false, "cannot read: out of memory for %" PRIu64 " bytes", want);
	}
	got = read_upto(fd, buf, (size_t)want);
	close(fd);
	if (got < 0) {
		free(buf);
		fail(err, 0, false, "%s", strerror((int)-got));
		return (int)got;
	}
	rc = lw_trace_parse(buf, (size_t)got, path, t, err);
	if (rc) {
		free(buf);
		return rc;
	}
	t->map = buf;
	t->map_len = (size_t)got;
	return 0;
}

int lw_trace_read_header(const char *path, struct lw_trace_header *hdr, struct lw_trace_error *err)
{
	unsigned char buf[sizeof(*hdr)];
	struct stat st;
	ssize_t n;
	int fd, rc;

	memset(err, 0, sizeof(*err));
	fd = open_regular(path, &st, err);
	if (fd < 0)
		return fd;
	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		close(fd);
		fail(err, 0, false, "%s", strerror(e));
		return -e;
	}
	close(fd);
	if ((uint64_t)n < sizeof(buf) && (uint64_t)n < (uint64_t)st.st_size)
		return fail(err, 0, false, "short read");
	rc = check_header(buf, (uint64_t)st.st_size > SIZE_MAX ? SIZE_MAX : (size_t)st.st_size,
			  hdr, err);
	return rc;
}

void lw_trace_close(struct lw_trace *t)
{
	free(t->name);
	free(t->recs);
	free(t->map);
	memset(t, 0, sizeof(*t));
}

void lw_trace_error_format(const char *name, const struct lw_trace_error *err, char *buf, size_t len)
{
	if (err->has_offset)
		snprintf(buf, len, "%s: %s (at offset %" PRIu64 ")", name, err->what, err->offset);
	else
		snprintf(buf, len, "%s: %s", name, err->what);
}
