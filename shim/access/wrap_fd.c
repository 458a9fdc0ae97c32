/*
 * read, write, readv and writev on a pipe, a FIFO or an eventfd: the order a channel through
 * the kernel gives two threads (issue 20).  A thread that writes to such a channel releases
 * everything it did before; a thread that reads from it acquires every write before its
 * read.  Without this a hand-off through a pipe was invisible, and two threads taking turns
 * on a global, ordered only by pipes, were a false race in every run under automatic
 * watching.  ThreadSanitizer orders file descriptors the same way.
 *
 * The records are SYNC records, written only where the analyzer replays the order (the full
 * level, a watch window: lw_sync), so outside them a read or write costs one load of a flag.
 * The channel is keyed by its inode, which both ends of a pipe share (a socket's two ends do
 * not: sockets are not ordered here).  A stale or reused descriptor can only give an order
 * too many: a race missed, never a false one.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "core/defs.h"
#include "core/real.h"
#include "core/threads.h"
#include "locks/acquire.h"

typedef ssize_t (*rw_fn)(int, void *, size_t);
typedef ssize_t (*rwv_fn)(int, const struct iovec *, int);

static rw_fn real_read, real_write;
static rwv_fn real_readv, real_writev;

/* The key of the channel fd is, or 0 when it is not a pipe, a FIFO or an eventfd (an
 * anonymous inode, whose mode has no file type). */
static uintptr_t channel_of(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return 0;
	if (!S_ISFIFO(st.st_mode) && (st.st_mode & S_IFMT) != 0)
		return 0;
	uint64_t k = ((uint64_t)st.st_dev * 0x9e3779b97f4a7c15ull) ^ (uint64_t)st.st_ino;
	k ^= k >> 29;
	return (uintptr_t)(0xfff0000000000000ull | (k & 0x000fffffffffffffull));
}

static void channel(int fd, uint16_t op)
{
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		uintptr_t key = channel_of(fd);
		if (key)
			lw_sync(t, op, key, (uint64_t)fd, 0);
		lw_leave();
	}
	errno = saved;
}

LW_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	rw_fn f = (rw_fn)lw_real_fn((void **)&real_write, "write");
	if (LW_UNLIKELY(lw_order_recorded()))
		channel(fd, LW_SYNC_CHANNEL_SEND);
	return f ? f(fd, (void *)buf, n) : syscall(SYS_write, fd, buf, n);
}

LW_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	rwv_fn f = (rwv_fn)lw_real_fn((void **)&real_writev, "writev");
	if (LW_UNLIKELY(lw_order_recorded()))
		channel(fd, LW_SYNC_CHANNEL_SEND);
	return f ? f(fd, iov, n) : syscall(SYS_writev, fd, iov, n);
}

LW_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	rw_fn f = (rw_fn)lw_real_fn((void **)&real_read, "read");
	ssize_t rc = f ? f(fd, buf, n) : syscall(SYS_read, fd, buf, n);
	if (rc > 0 && LW_UNLIKELY(lw_order_recorded()))
		channel(fd, LW_SYNC_CHANNEL_RECV);
	return rc;
}

LW_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	rwv_fn f = (rwv_fn)lw_real_fn((void **)&real_readv, "readv");
	ssize_t rc = f ? f(fd, iov, n) : syscall(SYS_readv, fd, iov, n);
	if (rc > 0 && LW_UNLIKELY(lw_order_recorded()))
		channel(fd, LW_SYNC_CHANNEL_RECV);
	return rc;
}
