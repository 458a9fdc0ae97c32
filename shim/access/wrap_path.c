/* access, stat, open(O_CREAT), unlink, rename: the path calls a check-then-act on files is
 * made of, recorded as PATH records for the analyzer's detect_path_races.c. */

/* The fortified headers define open() and friends inline; we define the real symbols. */
#undef _FORTIFY_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/defs.h"
#include "core/options.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/dedup.h"
#include "locks/locks.h"
#include "locks/wrap.h"
#include "access/wrap_flock.h"

/*
 * Each wrapper calls the real function first and returns its result and errno unchanged;
 * the record is a side effect, written every time (these calls are system calls anyway, and
 * the order of a check and an act is the point), unless the shim itself made the call: the
 * trace writer opens its file with the recursion guard held, so it passes straight through.
 *
 * Paths are recorded absolute when that is cheap: a relative path is prefixed with the
 * working directory (getcwd) or, for the *at calls, with the directory dirfd names
 * (/proc/self/fd/N); when neither can be had it is recorded as given.  Nothing else is
 * normalised here ("." and ".." stay): the analyzer compares paths lexically normalised.
 */

/* open(2)'s rule for when the third argument exists. */
#define LW_OPEN_NEEDS_MODE(flags) (((flags) & O_CREAT) != 0 || ((flags) & O_TMPFILE) == O_TMPFILE)

/* Returns the PATH op for open flags, or 0 when the open is not recorded (no O_CREAT). */
static uint16_t open_op(int flags)
{
	if (!(flags & O_CREAT))
		return 0;
	return (flags & O_EXCL) ? LW_PATH_CREATE_EXCL : LW_PATH_CREATE;
}

/* Writes "/proc/self/fd/N" into buf (at least 32 bytes) without stdio. */
static void fd_link(char *buf, int fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0;
	unsigned v = (unsigned)fd;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	memcpy(buf, prefix, sizeof(prefix) - 1);
	buf += sizeof(prefix) - 1;
	while (n)
		*buf++ = digits[--n];
	*buf = '\0';
}

/* Fills dir with the absolute directory a relative path is resolved against; returns its
 * length, or 0 when it cannot be had. */
static size_t base_dir(int dirfd, char *dir, size_t cap)
{
	if (dirfd == AT_FDCWD)
		return getcwd(dir, cap) ? strlen(dir) : 0;
	char link[32];
	fd_link(link, dirfd);
	ssize_t n = readlink(link, dir, cap - 1);
	if (n <= 0 || dir[0] != '/')
		return 0;               /* not a directory in the file system (a socket, ...) */
	dir[n] = '\0';
	return (size_t)n;
}

/* The hash of the path as recorded (dir, then path). */
static uint64_t path_hash(const char *dir, const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *p = dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ '/') * 0x100000001b3ULL;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

/* In the dependencies level a path call is written the first time this thread makes it on
 * this path from this site with this outcome, like an acquisition: a program that stats a
 * file in a loop does not grow its trace. */
static bool first_path_call(struct lw_thread *t, uint64_t h, uint16_t op, bool ok, uintptr_t site,
			    uint32_t flocks)
{
	/* The file locks held are part of it: a call made once under a file lock and once
	 * without is written both times (a program's distinct lock sets are few). */
	return lw_dedup_insert(lw_mix64(h ^ ((uint64_t)t->tid << 40) ^ ((uint64_t)op << 32) ^
					((uint64_t)ok << 31) ^ (site * 0x9e3779b97f4a7c15ULL) ^
					((uint64_t)lw_trace_epoch << 56) ^
					lw_mix64((uint64_t)flocks + 1)));
}

/*
 * Checks of many paths.  A program that stats every file of a tree wrote a record (about
 * 110 bytes) per file.  But a check matters only when its thread then creates the path (the
 * window of a check-then-act, detect_path_races.c), or as a call of another thread inside
 * such a window, where a mere check cannot break anything.  So in the dependencies level a
 * call site writes its checks of LW_PATH_CHECK_SITE_PATHS distinct paths as before; past
 * that its checks are kept back, the last LW_PATH_PENDING of each thread, and one is written
 * (with the seq it took, so in its place) only when the thread next calls something else on
 * the same path.  The trace then grows with the paths a program acts on, not with those it
 * only looks at.
 */
#define LW_PATH_CHECK_SITE_PATHS 64
#define LW_PATH_CHECK_SITES 1024
#define LW_PATH_PENDING 16

/* Distinct paths written per checking call site (open addressing; a full table counts as
 * every site being past its share). */
static struct { uintptr_t site; uint32_t paths; uint32_t pad; } check_sites[LW_PATH_CHECK_SITES];

/* Whether site has written its share of distinct paths' checks; else counts one more
 * (the caller is about to write a new one). */
static bool site_checks_full(uintptr_t site, bool counting)
{
	uint32_t i = (uint32_t)lw_mix64(site) & (LW_PATH_CHECK_SITES - 1);
	for (uint32_t probes = 0; probes < 32; probes++, i = (i + 1) & (LW_PATH_CHECK_SITES - 1)) {
		uintptr_t cur = __atomic_load_n(&check_sites[i].site, __ATOMIC_ACQUIRE);
		if (cur == 0) {
			uintptr_t expected = 0;
			if (!__atomic_compare_exchange_n(&check_sites[i].site, &expected, site, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				if (expected != site)
					continue;
			}
			cur = site;
		}
		if (cur != site)
			continue;
		if (__atomic_load_n(&check_sites[i].paths, __ATOMIC_RELAXED) >= LW_PATH_CHECK_SITE_PATHS)
			return true;
		if (counting)
			__atomic_add_fetch(&check_sites[i].paths, 1, __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

/* A check kept back (see above). */
struct lw_pending_check {
	uint64_t hash;               /* of the path; 0: none */
	uint64_t seq;
	uint64_t trace_epoch;        /* lw_trace_epoch then: a fork child's is not its parent's */
	int32_t result, err;
	uint32_t stack;
	uint32_t flocks;             /* lw_flock_mask() then */
};
static __thread struct {
	struct lw_pending_check v[LW_PATH_PENDING];
	uint32_t next;
} pending __attribute__((tls_model("initial-exec")));

/* Writes a PATH record of thread t; flocks: the file locks the process held then
 * (lw_flock_mask()), or for op LW_PATH_LOCK the locked file's signature. */
static void write_path(struct lw_thread *t, const char *dir, size_t dlen, const char *path,
		       size_t len, uint16_t op, int result, int err, uint32_t stack, uint64_t seq,
		       uint32_t flocks)
{
	size_t sep = dlen && dir[dlen - 1] != '/';
	uint32_t size = LW_REC_ALIGN((uint32_t)(sizeof(struct lw_rec_path) + len));
	struct lw_rec_path *r = lw_trace_reserve(size);
	if (!r)
		return;
	char *p = (char *)(r + 1);
	r->tid = t->tid;
	r->op = op;
	r->path_len = (uint16_t)len;
	r->result = result;
	r->err = result < 0 ? err : 0;
	r->stack = stack;
	r->flocks = flocks;
	r->seq = seq ? seq : lw_next_seq();
	memcpy(p, dir, dlen);
	if (sep)
		p[dlen] = '/';
	memcpy(p + dlen + sep, path, len - dlen - sep);
	memset(p + len, 0, size - sizeof(*r) - len);
	lw_trace_commit(r, LW_REC_PATH, size);
}

/* Records op on path (relative to dirfd) with the call's result; err is the call's errno.
 * Leaves errno as it found it.  Cannot fail: a record that cannot be written is dropped. */
static void note_path(int dirfd, const char *path, uint16_t op, int result, uintptr_t site)
{
	int err = errno;
	if (!path || !path[0])
		return;
	uint32_t flocks = lw_flock_mask();
	struct lw_thread *t = lw_enter();
	if (!t) {
		errno = err;
		return;
	}
	char dir[PATH_MAX];
	size_t dlen = path[0] == '/' ? 0 : base_dir(dirfd, dir, sizeof(dir));
	size_t sep = dlen && dir[dlen - 1] != '/';
	size_t plen = strnlen(path, UINT16_MAX);
	size_t len = dlen + sep + plen;
	if (len > UINT16_MAX)
		len = UINT16_MAX;       /* cut: the path cannot be resolved anyway */
	if (lw_opt.level == LW_LEVEL_DEPENDENCIES) {
		uint64_t h = path_hash(dlen ? dir : "", path) | 1;
		if (op == LW_PATH_CHECK && site_checks_full(site, false)) {
			/* Kept back: written if the thread acts on the path next. */
			struct lw_pending_check *c = &pending.v[pending.next++ % LW_PATH_PENDING];
			c->hash = h;
			c->result = result;
			c->err = err;
			c->stack = lw_site_stack(site);
			c->trace_epoch = lw_trace_epoch;
			c->seq = lw_next_seq();
			c->flocks = flocks;
			lw_leave();
			errno = err;
			return;
		}
		for (uint32_t i = 0; op != LW_PATH_CHECK && i < LW_PATH_PENDING; i++) {
			struct lw_pending_check *c = &pending.v[i];
			if (c->hash != h)
				continue;
			if (c->trace_epoch == lw_trace_epoch)
				write_path(t, dir, dlen, path, len, LW_PATH_CHECK, c->result, c->err,
					   c->stack, c->seq, c->flocks);
			c->hash = 0;
		}
		if (!first_path_call(t, h, op, result >= 0, site, flocks)) {
			lw_leave();
			errno = err;
			return;
		}
		if (op == LW_PATH_CHECK)
			site_checks_full(site, true);
	}
	write_path(t, dir, dlen, path, len, op, result, err, lw_site_stack(site), 0, flocks);
	lw_leave();
	errno = err;
}

void lw_path_write_lock(struct lw_thread *t, const char *path, size_t len, uint32_t sig,
			uintptr_t site)
{
	if (len > UINT16_MAX)
		len = UINT16_MAX;
	write_path(t, "", 0, path, len, LW_PATH_LOCK, 0, 0, lw_site_stack(site), 0, sig);
}

/* ---- checks ---- */

LW_EXPORT int access(const char *path, int mode)
{
	int rc = REAL(access)(path, mode);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int stat(const char *restrict path, struct stat *restrict st)
{
	int rc = REAL(stat)(path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int stat64(const char *restrict path, struct stat64 *restrict st)
{
	int rc = REAL(stat64)(path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int lstat(const char *restrict path, struct stat *restrict st)
{
	int rc = REAL(lstat)(path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int lstat64(const char *restrict path, struct stat64 *restrict st)
{
	int rc = REAL(lstat64)(path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

/* fstatat(fd, "", st, AT_EMPTY_PATH) is an fstat: note_path skips empty paths. */
LW_EXPORT int fstatat(int dirfd, const char *restrict path, struct stat *restrict st, int flags)
{
	int rc = REAL(fstatat)(dirfd, path, st, flags);
	note_path(dirfd, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int fstatat64(int dirfd, const char *restrict path, struct stat64 *restrict st,
			int flags)
{
	int rc = REAL(fstatat64)(dirfd, path, st, flags);
	note_path(dirfd, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

/* The pre-2.33 ABI: glibc 2.36 still exports these for old binaries, headers no longer
 * declare them. */
LW_EXPORT int __xstat(int ver, const char *path, struct stat *st);
LW_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st);
LW_EXPORT int __lxstat(int ver, const char *path, struct stat *st);
LW_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st);
LW_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
LW_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

LW_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	int rc = REAL(xstat)(ver, path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	int rc = REAL(xstat64)(ver, path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	int rc = REAL(lxstat)(ver, path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	int rc = REAL(lxstat64)(ver, path, st);
	note_path(AT_FDCWD, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	int rc = REAL(fxstatat)(ver, dirfd, path, st, flags);
	note_path(dirfd, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	int rc = REAL(fxstatat64)(ver, dirfd, path, st, flags);
	note_path(dirfd, path, LW_PATH_CHECK, rc, LW_SITE());
	return rc;
}

/* ---- creates: only an open with O_CREAT is recorded ---- */

#define LW_OPEN_MODE(flags, last) ({ \
		mode_t m_ = 0; \
		if (LW_OPEN_NEEDS_MODE(flags)) { \
			va_list ap_; \
			va_start(ap_, last); \
			m_ = (mode_t)va_arg(ap_, int); \
			va_end(ap_); \
		} \
		m_; })

LW_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = LW_OPEN_MODE(flags, flags);
	int rc = REAL(open)(path, flags, mode);
	if (open_op(flags))
		note_path(AT_FDCWD, path, open_op(flags), rc, LW_SITE());
	return rc;
}

LW_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = LW_OPEN_MODE(flags, flags);
	int rc = REAL(open64)(path, flags, mode);
	if (open_op(flags))
		note_path(AT_FDCWD, path, open_op(flags), rc, LW_SITE());
	return rc;
}

LW_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = LW_OPEN_MODE(flags, flags);
	int rc = REAL(openat)(dirfd, path, flags, mode);
	if (open_op(flags))
		note_path(dirfd, path, open_op(flags), rc, LW_SITE());
	return rc;
}

LW_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = LW_OPEN_MODE(flags, flags);
	int rc = REAL(openat64)(dirfd, path, flags, mode);
	if (open_op(flags))
		note_path(dirfd, path, open_op(flags), rc, LW_SITE());
	return rc;
}

LW_EXPORT int creat(const char *path, mode_t mode)
{
	int rc = REAL(creat)(path, mode);
	note_path(AT_FDCWD, path, LW_PATH_CREATE, rc, LW_SITE());
	return rc;
}

LW_EXPORT int creat64(const char *path, mode_t mode)
{
	int rc = REAL(creat64)(path, mode);
	note_path(AT_FDCWD, path, LW_PATH_CREATE, rc, LW_SITE());
	return rc;
}

/* ---- removals and renames ---- */

LW_EXPORT int unlink(const char *path)
{
	int rc = REAL(unlink)(path);
	note_path(AT_FDCWD, path, LW_PATH_UNLINK, rc, LW_SITE());
	return rc;
}

LW_EXPORT int rename(const char *from, const char *to)
{
	int rc = REAL(rename)(from, to);
	note_path(AT_FDCWD, from, LW_PATH_RENAME_FROM, rc, LW_SITE());
	note_path(AT_FDCWD, to, LW_PATH_RENAME_TO, rc, LW_SITE());
	return rc;
}
