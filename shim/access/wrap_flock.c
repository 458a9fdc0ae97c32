/* fcntl, lockf, flock and close: which files the process holds a file lock on, so that a
 * PATH record says what file-lock protocol its call ran under (detect_path_races.c). */

#undef _FORTIFY_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/defs.h"
#include "core/layers.h"
#include "core/real.h"
#include "core/threads.h"
#include "locks/dedup.h"
#include "locks/locks.h"
#include "access/wrap_flock.h"

/*
 * The state is per process, like POSIX record locks themselves: a small table of files
 * (dev, ino, from fstat of the descriptor), each with the byte ranges the process holds
 * locked, by kind (a POSIX fcntl or lockf lock; an open-file-description lock, F_OFD_*; a
 * flock).  A lock adds its range (a change of mode of a held range is still a held range);
 * an unlock removes what it overlaps, splitting a range it falls inside.  A file is held
 * while any range is.  lw_flock_mask is the OR of the held files' signatures (two bits of
 * 32 from a hash of dev and ino), which every PATH record carries (its flocks field).
 *
 * SQLite's in-process emulation (only the first of a process's connections on a file calls
 * fcntl, the others count) is covered since the state belongs to the process, not the
 * thread.  Approximations, each of which can only keep a file held longer than it is:
 *   - close() of any descriptor of a file drops the process's POSIX locks on it, as the
 *     kernel does; closes the shim cannot see (glibc's internal ones, fclose, dup2 over a
 *     descriptor) do not.  OFD and flock locks end with the last descriptor of their open
 *     file description, which the shim does not count: only their unlock drops them.
 *   - A file with more ranges than LW_FLOCK_RANGES of a kind, or more files than
 *     LW_FLOCK_FILES, stays held (for that kind) until an unlock of the whole file.
 *   - Locks inherited across exec are not known to the new image.
 * A fork child starts with no POSIX locks (the kernel does not pass them on) and keeps the
 * OFD and flock ones (they belong to the descriptors it shares).
 *
 * The table is updated under a spin lock that is never held across a system call; a signal
 * handler that interrupts its own thread inside it skips its update (it cannot wait for
 * itself): the calls stay async-signal-safe, without malloc.
 */

#define LW_FLOCK_FILES 32
#define LW_FLOCK_RANGES 8

enum lw_flock_kind {
	LW_FK_POSIX = 0,             /* fcntl F_SETLK(W), lockf: the process's */
	LW_FK_OFD   = 1,             /* F_OFD_SETLK(W): the open file description's */
	LW_FK_FLOCK = 2,             /* flock: the open file description's, whole file */
	LW_FK_N     = 3,
};

struct lw_flock_range {
	uint64_t lo, hi;             /* [lo, hi); hi UINT64_MAX: to the end, however far */
	uint8_t kind;                /* enum lw_flock_kind */
	uint8_t used;
};

struct lw_flock_file {
	uint64_t dev, ino;
	uint32_t sig;                /* 0: the slot is free */
	uint8_t overflow[LW_FK_N];   /* ranges of the kind it could not keep: held */
	struct lw_flock_range r[LW_FLOCK_RANGES];
};

static struct lw_flock_file files[LW_FLOCK_FILES];
static int table_lock;                            /* spin lock of files[] */
static uint32_t held_mask;                        /* atomic: lw_flock_mask() */
static uint32_t held_files;                       /* atomic: files with a held range */
static __thread int in_table __attribute__((tls_model("initial-exec")));

uint32_t lw_flock_mask(void)
{
	return __atomic_load_n(&held_mask, __ATOMIC_ACQUIRE);
}

/* The file's signature: two distinct bits of 32.  Never 0. */
static uint32_t signature(uint64_t dev, uint64_t ino)
{
	uint64_t h = lw_mix64(dev * 0x9e3779b97f4a7c15ULL ^ ino);
	unsigned a = (unsigned)(h & 31), b = (unsigned)((h >> 5) & 31);

	if (b == a)
		b = (a + 1) & 31;
	return (1u << a) | (1u << b);
}

static bool file_held(const struct lw_flock_file *f)
{
	if (!f->sig)
		return false;
	for (int k = 0; k < LW_FK_N; k++)
		if (f->overflow[k])
			return true;
	for (int i = 0; i < LW_FLOCK_RANGES; i++)
		if (f->r[i].used)
			return true;
	return false;
}

/* Takes the table lock; returns false (nothing taken) when this thread already holds it (a
 * signal handler inside the wrapper it interrupted). */
static bool table_enter(void)
{
	if (in_table)
		return false;
	in_table = 1;
	while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&table_lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	return true;
}

/* Recomputes the mask and frees the files no longer held; releases the table lock. */
static void table_leave(void)
{
	uint32_t mask = 0, n = 0;

	for (int i = 0; i < LW_FLOCK_FILES; i++) {
		if (!files[i].sig)
			continue;
		if (file_held(&files[i])) {
			mask |= files[i].sig;
			n++;
		} else {
			memset(&files[i], 0, sizeof(files[i]));
		}
	}
	__atomic_store_n(&held_mask, mask, __ATOMIC_RELEASE);
	__atomic_store_n(&held_files, n, __ATOMIC_RELEASE);
	__atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE);
	in_table = 0;
}

/* The file (dev, ino), added if create; NULL when absent or the table is full. */
static struct lw_flock_file *find_file(uint64_t dev, uint64_t ino, bool create)
{
	struct lw_flock_file *free_slot = NULL;

	for (int i = 0; i < LW_FLOCK_FILES; i++) {
		if (files[i].sig && files[i].dev == dev && files[i].ino == ino)
			return &files[i];
		if (!files[i].sig && !free_slot)
			free_slot = &files[i];
	}
	if (!create || !free_slot)
		return NULL;
	free_slot->dev = dev;
	free_slot->ino = ino;
	free_slot->sig = signature(dev, ino);
	return free_slot;
}

/* Keeps [lo, hi) of kind k, or marks the kind overflowed when no slot is free. */
static void add_piece(struct lw_flock_file *f, enum lw_flock_kind k, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return;
	for (int i = 0; i < LW_FLOCK_RANGES; i++) {
		if (!f->r[i].used) {
			f->r[i] = (struct lw_flock_range){ .lo = lo, .hi = hi, .kind = (uint8_t)k,
							   .used = 1 };
			return;
		}
	}
	f->overflow[k] = 1;
}

/* Removes [lo, hi) of kind k from f's ranges. */
static void remove_range(struct lw_flock_file *f, enum lw_flock_kind k, uint64_t lo, uint64_t hi)
{
	if (lo == 0 && hi == UINT64_MAX)
		f->overflow[k] = 0;
	for (int i = 0; i < LW_FLOCK_RANGES; i++) {
		struct lw_flock_range r = f->r[i];

		if (!r.used || r.kind != k || r.hi <= lo || r.lo >= hi)
			continue;
		f->r[i].used = 0;
		add_piece(f, k, r.lo, lo);
		add_piece(f, k, hi, r.hi);
	}
}

/* Applies a successful lock (unlock when !lock) of [lo, hi) of kind k on the file open as
 * fd; st is its fstat.  Returns the file's signature when the process took a lock on it,
 * else 0.  A lock on a file past the
 * table's LW_FLOCK_FILES is not kept: that file protects nothing, as before file locks were
 * known. */
static uint32_t apply(const struct stat *st, enum lw_flock_kind k, bool lock, uint64_t lo,
		      uint64_t hi)
{
	uint32_t sig = 0;

	if (!table_enter())
		return 0;
	struct lw_flock_file *f = find_file((uint64_t)st->st_dev, (uint64_t)st->st_ino, lock);
	if (f) {
		remove_range(f, k, lo, hi);
		if (lock) {
			add_piece(f, k, lo, hi);
			sig = f->sig;
		}
	}
	table_leave();
	return sig;
}

/* Writes the LOCK record of the file open as fd (its path from /proc/self/fd), st its
 * fstat, once per file and trace, however often it is locked (each SQLite transaction). */
static void note_locked_file(int fd, const struct stat *st, uint32_t sig, uintptr_t site)
{
	int err = errno;
	struct lw_thread *t = lw_enter();

	if (t && !lw_dedup_insert(lw_mix64((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ULL ^
					   (uint64_t)st->st_ino ^ 0x464c4f434b000000ULL ^
					   ((uint64_t)lw_trace_epoch << 56)))) {
		lw_leave();
	} else if (t) {
		char link[32], path[4096];
		static const char prefix[] = "/proc/self/fd/";
		char digits[12];
		int n = 0;
		unsigned v = (unsigned)fd;

		do
			digits[n++] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		memcpy(link, prefix, sizeof(prefix) - 1);
		char *p = link + sizeof(prefix) - 1;
		while (n)
			*p++ = digits[--n];
		*p = '\0';
		ssize_t len = readlink(link, path, sizeof(path));
		if (len <= 0 || len >= (ssize_t)sizeof(path)) {
			memcpy(path, "(unknown file)", 14);
			len = 14;
		}
		lw_path_write_lock(t, path, (size_t)len, sig, site);
		lw_leave();
	}
	errno = err;
}

/* The byte range [lo, hi) a struct flock names on fd (st: its fstat).  False when it
 * cannot be had (the call then failed anyway, or lseek did). */
static bool flock_range(int fd, const struct flock *fl, const struct stat *st, uint64_t *lo,
			uint64_t *hi)
{
	int64_t base = 0;

	if (fl->l_whence == SEEK_CUR) {
		off_t cur = lseek(fd, 0, SEEK_CUR);
		if (cur < 0)
			return false;
		base = cur;
	} else if (fl->l_whence == SEEK_END) {
		base = st->st_size;
	}
	int64_t start = base + fl->l_start;
	if (fl->l_len > 0) {
		*lo = (uint64_t)(start < 0 ? 0 : start);
		*hi = (uint64_t)(start + fl->l_len);
	} else if (fl->l_len == 0) {
		*lo = (uint64_t)(start < 0 ? 0 : start);
		*hi = UINT64_MAX;
	} else {
		int64_t s = start + fl->l_len;
		*lo = (uint64_t)(s < 0 ? 0 : s);
		*hi = (uint64_t)(start < 0 ? 0 : start);
	}
	return true;
}

/* After a successful fcntl lock command on fd. */
static void note_fcntl(int fd, int cmd, const struct flock *fl, uintptr_t site)
{
	int err = errno;
	struct stat st;
	uint64_t lo, hi;

	if (!fl || fstat(fd, &st) != 0 || !flock_range(fd, fl, &st, &lo, &hi)) {
		errno = err;
		return;
	}
	enum lw_flock_kind k = (cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW) ? LW_FK_OFD : LW_FK_POSIX;
	uint32_t due = apply(&st, k, fl->l_type != F_UNLCK, lo, hi);
	if (due)
		note_locked_file(fd, &st, due, site);
	errno = err;
}

static bool is_lock_cmd(int cmd)
{
	return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
}

/* fcntl's third argument is an int or a pointer; glibc reads it as a pointer too. */
#define LW_FCNTL_BODY(real)                                                           \
	va_list ap;                                                                   \
	va_start(ap, cmd);                                                            \
	void *arg = va_arg(ap, void *);                                               \
	va_end(ap);                                                                   \
	int rc = REAL(real)(fd, cmd, arg);                                            \
	if (rc == 0 && is_lock_cmd(cmd) && !lw_guard)                                 \
		note_fcntl(fd, cmd, (const struct flock *)arg, LW_SITE());            \
	return rc;

LW_EXPORT int fcntl(int fd, int cmd, ...)
{
	LW_FCNTL_BODY(fcntl)
}

LW_EXPORT int fcntl64(int fd, int cmd, ...)
{
	LW_FCNTL_BODY(fcntl64)
}

/* lockf(3): a POSIX lock of len bytes from the current offset (0: to the end, negative:
 * before it). */
static void note_lockf(int fd, int cmd, off_t len, uintptr_t site)
{
	if (cmd != F_LOCK && cmd != F_TLOCK && cmd != F_ULOCK)
		return;
	struct flock fl = { .l_type = cmd == F_ULOCK ? F_UNLCK : F_WRLCK, .l_whence = SEEK_CUR,
			    .l_start = 0, .l_len = len };
	note_fcntl(fd, F_SETLK, &fl, site);
}

LW_EXPORT int lockf(int fd, int cmd, off_t len)
{
	int rc = REAL(lockf)(fd, cmd, len);
	if (rc == 0 && !lw_guard)
		note_lockf(fd, cmd, len, LW_SITE());
	return rc;
}

LW_EXPORT int lockf64(int fd, int cmd, off64_t len)
{
	int rc = REAL(lockf64)(fd, cmd, len);
	if (rc == 0 && !lw_guard)
		note_lockf(fd, cmd, (off_t)len, LW_SITE());
	return rc;
}

LW_EXPORT int flock(int fd, int op)
{
	int rc = REAL(flock)(fd, op);
	if (rc != 0 || lw_guard || !(op & (LOCK_SH | LOCK_EX | LOCK_UN)))
		return rc;
	int err = errno;
	struct stat st;
	if (fstat(fd, &st) == 0) {
		uint32_t due = apply(&st, LW_FK_FLOCK, !(op & LOCK_UN), 0, UINT64_MAX);
		if (due)
			note_locked_file(fd, &st, due, LW_SITE());
	}
	errno = err;
	return rc;
}

/* close drops the process's POSIX locks on the file; it costs an fstat only while the
 * process holds a file lock at all. */
LW_EXPORT int close(int fd)
{
	struct stat st;
	bool known = !lw_guard && __atomic_load_n(&held_files, __ATOMIC_ACQUIRE) != 0 &&
		     fstat(fd, &st) == 0;
	int rc = REAL(close)(fd);
	if (known) {
		int err = errno;
		if (table_enter()) {
			struct lw_flock_file *f = find_file((uint64_t)st.st_dev,
							    (uint64_t)st.st_ino, false);
			if (f)
				remove_range(f, LW_FK_POSIX, 0, UINT64_MAX);
			table_leave();
		}
		errno = err;
	}
	return rc;
}

/* A fork child: the kernel gave it none of the parent's POSIX locks. */
static void flock_forked(void)
{
	__atomic_store_n(&table_lock, 0, __ATOMIC_RELAXED);
	in_table = 0;
	if (!table_enter())
		return;
	for (int i = 0; i < LW_FLOCK_FILES; i++)
		if (files[i].sig)
			remove_range(&files[i], LW_FK_POSIX, 0, UINT64_MAX);
	table_leave();
}

/* Its own entry, beside access/layer.c's, so that the file locks' fork rule stays here. */
LW_LAYER(access_flock) = {
	.name = "access-flock",
	.rank = 2,
	.forked = flock_forked,
};
