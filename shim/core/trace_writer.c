/* The crash-safe trace file: records written through a shared file mapping, committed by
 * storing each record's head word last. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "core/trace_writer.h"
#include "core/fds.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/threads.h"
#include "core/trace_residency.h"

#define LW_GROW_STEP (1u << 20)
/* Issue 24: a new trace starts this small and doubles (to LW_GROW_STEP, then by steps), so
 * that a process killed early leaves little allocated on disk. */
#define LW_INIT_SIZE (64u << 10)

static struct {
	int fd;
	dev_t dev;
	ino_t ino;
	char path[sizeof lw_opt.trace_dir + 64]; /* absolute, to reopen the file by */
	lw_spin_t grow_lock;
	int broken;                  /* atomic: growing failed, stop writing */
	/* Read by every record, written rarely: a cache line of their own, away from the
	 * counters every thread writes, and not in the same 128-byte pair of lines either
	 * (x86's adjacent-line prefetcher pairs them: a counter two cores fight over next
	 * door made the first load of every reservation miss). */
	char *map __attribute__((aligned(128))); /* [0, mapped) of the file; [0, limit) is
						   * kept for it in the address space */
	uint64_t limit;
	uint64_t mapped;             /* issue 24: mapped so far, grown with the file */
	pid_t pid;                   /* issue 24: the process the trace is of */
	uint64_t size;               /* bytes allocated in the file (atomic) */
	int closed;                  /* atomic */
	int full;                    /* atomic: the limit was reached, every record is dropped */
	/* Issue 21: room the other threads' records take after the close, [exit_next,
	 * exit_end) (atomic), reserved by lw_trace_close ("After the close"). */
	uint64_t exit_next, exit_end;
	int exit_ready;              /* atomic: they are set */
	bool chunked;                /* full level: each thread writes into chunks of its own */
	uint32_t gen;                /* bumped by each open: a thread's chunk of another file
				      * (a fork child's parent's) is not used */
	/* Written by every record: the event counter and the tail side by side, since a thread
	 * takes both, one after the other. */
	uint64_t seq __attribute__((aligned(128))); /* atomic event counter */
	uint64_t tail;               /* next free offset (atomic) */
	char pad[112];
} W = { .fd = -1 };

static struct lw_trace_header *header(void)
{
	return (struct lw_trace_header *)W.map;
}

__thread struct lw_epoch lw_epoch __attribute__((tls_model("initial-exec")));
__thread struct lw_hook_tls lw_hook __attribute__((tls_model("initial-exec")));

/* The thread's block of positions for lw_next_private_seq: (next, end].  Any position taken
 * from the counter ends it, so that the thread's positions keep increasing.  The blocks
 * start at one position and double while nothing else ends them: a thread that alternates
 * with other events wastes no more positions than it takes, and the cells' 31-bit epochs
 * (hooks.c) still name positions that are recent.
 *
 * A lock acquisition takes LW_SEQ_AFTER_ACQUIRE more positions with its own, in the same
 * bump of the counter, as the block for the releases that follow it: a release orders what
 * came before it ahead of the next acquisition, in any thread, which takes its position
 * from the counter, past the block.  So a thread taking a nested pair and releasing it bumps
 * the shared counter twice a round, not four times (lockheavy's two threads fought over
 * that cache line for a fifth of their time), for a counter that grows 1.5 times as fast. */
#define LW_SEQ_BLOCK_MAX 1024u
#define LW_SEQ_AFTER_ACQUIRE 2u
static __thread struct { uint64_t next, end, gen; uint32_t size; } seq_block
	__attribute__((tls_model("initial-exec")));

static void note_seq(uint64_t s)
{
	lw_epoch.seq = s;
	lw_epoch.sub = 0;
	lw_hook_note_seq(s);
}

/* The next position from the counter, with room positions after it as the thread's block. */
static uint64_t counter_seq(uint32_t room)
{
	uint64_t s = __atomic_add_fetch(&W.seq, 1 + room, __ATOMIC_RELAXED) - room;
	seq_block.next = s;
	seq_block.end = s + room;
	seq_block.size = room;
	seq_block.gen = W.gen;
	note_seq(s);
	return s;
}

uint64_t lw_next_acquire_seq(void)
{
	return counter_seq(LW_SEQ_AFTER_ACQUIRE);
}

uint64_t lw_next_private_seq(bool release)
{
	/* A block of another trace (a fork child's parent's) is not this one's. */
	if (LW_UNLIKELY(seq_block.next == seq_block.end || seq_block.gen != W.gen)) {
		uint32_t n = seq_block.size && seq_block.gen == W.gen ? seq_block.size * 2 : 1;
		if (n > LW_SEQ_BLOCK_MAX)
			n = LW_SEQ_BLOCK_MAX;
		seq_block.next = __atomic_fetch_add(&W.seq, n, __ATOMIC_RELAXED);
		seq_block.end = seq_block.next + n;
		seq_block.size = n;
		seq_block.gen = W.gen;
	}
	uint64_t s = ++seq_block.next;
	if (release)
		lw_epoch.releases++;
	note_seq(s);
	return s;
}

uint64_t lw_next_seq(void)
{
	lw_epoch.releases++;
	return counter_seq(0);
}

uint64_t lw_current_seq(void)
{
	return __atomic_load_n(&W.seq, __ATOMIC_RELAXED);
}

/* Creates dir and its parents as needed (mode 0700).  Returns 0 or -errno. */
static int make_dirs(const char *dir)
{
	char path[sizeof lw_opt.trace_dir];
	size_t n = strlen(dir);
	if (n >= sizeof path)
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];
			path[i] = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				return -errno;
			path[i] = c;
		}
	}
	return 0;
}

/* The soft RLIMIT_FSIZE, or UINT64_MAX.  Growing a file past it raises SIGXFSZ, which
 * would kill the program: the trace must stop short of it instead. */
static uint64_t fsize_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return (uint64_t)rl.rlim_cur;
}

static bool fd_costly;               /* W.fd is below the soft limit: close after use */

/* Moves the trace's descriptor out of the program's way if it can (core/fds.c); when it
 * cannot, the writer keeps none between uses: it opens the file by its path while it grows
 * or closes the trace, and closes it again. */
static int place_fd(int fd)
{
	return lw_fd_place(fd, &fd_costly);
}

/* Done with the descriptor for now: closed when it takes one of the program's numbers. */
static void put_fd(void)
{
	if (fd_costly && W.fd >= 0) {
		close(W.fd);
		W.fd = -1;
	}
}

/* Returns a descriptor of our trace file, or -1.  The program may have closed ours
 * (closefrom, close_range) and even reused its number: then the file is opened again by
 * its absolute path, without following a symlink, and accepted only if it is the same
 * inode.  Never closes a descriptor that is not ours. */
static int trace_fd(void)
{
	struct stat st;
	if (W.fd >= 0 && fstat(W.fd, &st) == 0 && st.st_dev == W.dev && st.st_ino == W.ino)
		return W.fd;
	int fd = open(W.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_dev != W.dev || st.st_ino != W.ino) {
		close(fd);
		return -1;
	}
	W.fd = place_fd(fd);
	return W.fd;
}

/* The first record that cannot be written: from now on none is, and the header says from
 * which seq on the trace is not whole (lockwatch-trace(5)).  A record takes its seq after its
 * room (a release may carry one its thread reserved earlier, but the acquisition that
 * follows it takes its own after), and a release its record before the real unlock, so
 * every event the seq says came before is in the file. */
static void mark_full(void)
{
	int expected = 0;
	if (__atomic_compare_exchange_n(&W.full, &expected, 1, false, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED)) {
		__atomic_store_n(&header()->cut_seq, lw_current_seq(), __ATOMIC_RELAXED);
		__atomic_or_fetch(&header()->flags, LW_HDR_TRUNCATED, __ATOMIC_RELEASE);
	}
}

/*
 * Issue 24: the trace is mapped as it grows, not max_trace_mb up front: RLIMIT_AS counts a
 * mapping whether or not it is touched, and a program near its limit must be able to map as
 * much with the shim as without.  The first piece is placed at a random spot of a region
 * of the address space that neither the loader, brk nor mmap's top-down search reaches in
 * practice (32 to 48 TiB), each next piece right after the last (MAP_FIXED_NOREPLACE, so
 * nothing of the program's is ever replaced); the records' addresses never move.  If
 * something else sits there after all, recording stops as when the disk is full.
 */
#define LW_MAP_STEP (4ull << 20)
#define LW_MAP_STEP_MAX (64ull << 20)
#define LW_MAP_REGION 0x200000000000ull
#define LW_MAP_SLOTS 16384u          /* 1 GiB apart: 16 TiB */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Maps [from, to) of the file at map + from, without replacing anything.  Returns false
 * when it cannot. */
static bool map_piece(char *map, int fd, uint64_t from, uint64_t to)
{
	char *want = map + from;
	char *got = mmap(want, to - from, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE | MAP_FIXED_NOREPLACE, fd, (off_t)from);
	if (got == want)
		return true;
	if (got != MAP_FAILED)               /* a kernel older than MAP_FIXED_NOREPLACE */
		munmap(got, to - from);
	return false;
}

/* The mapping's size for a file of `need` bytes: at least the next step, doubling up to
 * LW_MAP_STEP_MAX at a time, within the limit (page-rounded). */
static uint64_t map_target(uint64_t mapped, uint64_t need, uint64_t limit)
{
	uint64_t step = mapped < LW_MAP_STEP ? LW_MAP_STEP
					     : (mapped < LW_MAP_STEP_MAX ? mapped : LW_MAP_STEP_MAX);
	uint64_t t = mapped + step;
	if (t < need)
		t = (need + LW_MAP_STEP - 1) & ~(LW_MAP_STEP - 1);
	uint64_t top = (limit + 4095) & ~4095ull;
	return t > top ? top : t;
}

/* Maps the first piece of the trace at a random spot of the region; falls back to where
 * the kernel puts it.  Returns the mapping or MAP_FAILED, and its size in *len. */
static char *map_first(int fd, uint64_t limit, uint64_t *len)
{
	*len = map_target(0, LW_GROW_STEP, limit);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t r = ((uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_nsec) * 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 4; i++) {
		uint64_t slot = (r >> (20 + 8 * i)) % LW_MAP_SLOTS;
		char *at = (char *)(uintptr_t)(LW_MAP_REGION + slot * (1ull << 30));
		if (map_piece(at, fd, 0, *len))
			return at;
	}
	return mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
}

/* Makes sure the file has at least `need` bytes.  Returns true when it has.  With `ahead`,
 * grows the file early, before a writer needs the room: returns at once when another thread
 * is growing it, and a failure only leaves the writers to find it when they get there. */
static bool grow(uint64_t need, bool ahead)
{
	int saved = errno;
	while (__atomic_load_n(&W.size, __ATOMIC_ACQUIRE) < need) {
		if (__atomic_load_n(&W.broken, __ATOMIC_RELAXED)) {
			errno = saved;
			return false;
		}
		if ((ahead && __atomic_load_n(&W.grow_lock.v, __ATOMIC_RELAXED)) ||
		    !lw_spin_trylock(&W.grow_lock)) {
			if (ahead)
				break;
			sched_yield();
			continue;
		}
		uint64_t size = __atomic_load_n(&W.size, __ATOMIC_RELAXED);
		if (__atomic_load_n(&W.closed, __ATOMIC_RELAXED)) {
			/* The end is set (lw_trace_close): a record past it must stay unwritten. */
			lw_spin_unlock(&W.grow_lock);
			errno = saved;
			return false;
		}
		if (size < need) {
			uint64_t gran = size < LW_GROW_STEP ? LW_INIT_SIZE : LW_GROW_STEP;
			uint64_t want = (need + gran - 1) / gran * gran;
			/* At least a step of LW_TRACE_WINDOW, or the size itself while smaller:
			 * few grows for a small trace. */
			uint64_t step = size < LW_TRACE_WINDOW ? size : LW_TRACE_WINDOW;
			if (want < size + step && size + step <= W.limit)
				want = size + step;
			if (want > W.limit)
				want = W.limit;
			/* The program may have lowered RLIMIT_FSIZE since the start. */
			uint64_t fsize = fsize_limit();
			if (want > fsize)
				want = fsize & ~(uint64_t)(LW_GROW_STEP - 1);
			int err = 0;
			int fd = trace_fd();
			if (ahead && want < need) {
				put_fd();
				lw_spin_unlock(&W.grow_lock);
				break;
			}
			if (want < need)
				err = EFBIG;
			else if (fd < 0)
				err = EBADF;
			else
				err = posix_fallocate(fd, (off_t)size, (off_t)(want - size));
			/* Issue 24: the mapping follows the file, before anyone may write there. */
			if (!err && want > W.mapped) {
				uint64_t to = map_target(W.mapped, want, W.limit);
				if (map_piece(W.map, fd, W.mapped, to))
					W.mapped = to;
				else
					err = ENOMEM;
			}
			if (err) {
				__atomic_store_n(&W.broken, 1, __ATOMIC_RELAXED);
				mark_full();
				lw_msg("cannot grow the trace file (%s); recording stops, the program "
				       "goes on", strerror(err));
			} else {
				__atomic_store_n(&W.size, want, __ATOMIC_RELEASE);
			}
			put_fd();
		}
		lw_spin_unlock(&W.grow_lock);
	}
	errno = saved;
	return true;
}

#define LW_DROP_BATCH 1024u

/* A reservation starting at `from` has taken the shared tail past a multiple of
 * LW_TRACE_WINDOW: the pages behind it are dropped (trace_residency.c), unless another thread
 * is growing the file (then the next window does it). */
static void crossed(uint64_t from)
{
	if (!lw_spin_trylock(&W.grow_lock))
		return;
	lw_trace_advance(W.map, from);
	lw_spin_unlock(&W.grow_lock);
}

/* Takes n bytes at the shared tail into *off, growing the file as needed (and ahead of the
 * writers: once past half the last step, so that none waits for it later).  Returns false
 * when they cannot be had: the trace closed, the file cannot grow, or the limit is reached,
 * which with last_try marks the trace full and truncated. */
static bool take(uint64_t n, bool last_try, uint64_t *off)
{
	uint64_t o = __atomic_fetch_add(&W.tail, n, __ATOMIC_RELAXED);
	if (LW_UNLIKELY(o + n > W.limit || __atomic_load_n(&W.closed, __ATOMIC_RELAXED))) {
		if (last_try && o + n > W.limit)
			mark_full();
		return false;
	}
	uint64_t have = __atomic_load_n(&W.size, __ATOMIC_ACQUIRE);
	if (LW_UNLIKELY(o + n > have) && !grow(o + n, false))
		return false;
	uint64_t margin = have < LW_GROW_STEP ? have / 2 : LW_GROW_STEP / 2;
	if (LW_UNLIKELY(o + n + margin > have) && have < W.limit)
		grow(o + n + margin, true);
	if (LW_UNLIKELY((o ^ (o + n)) >= LW_TRACE_WINDOW))
		crossed(o);
	*off = o;
	return true;
}

/*
 * After the close.
 *
 * The shim closes the trace in its destructor, at exit, while the program's other threads
 * may still run until the process ends: their last records describe what they did in that
 * moment, races included (issue 21: a race two threads made while main returned was
 * missed in some runs).  So the close leaves them room: each thread goes on filling the
 * chunk it has, and what does not fit there takes up to LW_EXIT_ROOM bytes of the file past
 * the end the close set, which moves the end past each record it takes.  The first record that finds no room at all ends the trace for
 * every thread (W.full), and the header's cut_seq, without LW_HDR_TRUNCATED, says from
 * which seq on the trace is not whole: a reader leaves out the records after it, as after a
 * cut of a full trace (lockwatch-trace(5)), and says so.  Nothing is counted as dropped: the
 * program's run was over.
 */
#define LW_EXIT_ROOM (256u << 10)

/* Takes size bytes of the room left after the close, or NULL when it is used up (and then
 * ends the trace, once). */
static void *exit_room(uint32_t size)
{
	/* The close sets the room up right after it marks the trace closed: a few
	 * instructions, unless it was preempted (or this is a signal handler of the closing
	 * thread: then, after a while, the record is lost and the trace cut). */
	for (unsigned spins = 0; !__atomic_load_n(&W.exit_ready, __ATOMIC_ACQUIRE) &&
				 spins < 1000; spins++)
		sched_yield();
	if (!__atomic_load_n(&W.full, __ATOMIC_RELAXED)) {
		uint64_t o = __atomic_fetch_add(&W.exit_next, size, __ATOMIC_ACQUIRE);
		if (o + size > o && o + size <= __atomic_load_n(&W.exit_end, __ATOMIC_RELAXED)) {
			/* The end moves past it first: a record the process's end tears is a
			 * hole below the end, which readers skip. */
			uint64_t e = __atomic_load_n(&header()->end_offset, __ATOMIC_RELAXED);
			while (e < o + size &&
			       !__atomic_compare_exchange_n(&header()->end_offset, &e, o + size, true,
							    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
				;
			return W.map + o;
		}
		int expected = 0;
		if (__atomic_compare_exchange_n(&W.full, &expected, 1, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			__atomic_store_n(&header()->cut_seq, lw_current_seq(), __ATOMIC_RELEASE);
	}
	return NULL;
}

void *lw_trace_reserve_shared(uint32_t size)
{
	if (LW_UNLIKELY(W.map == NULL))
		return NULL;
	/* issue 23 (perf): a deferred thread writes its THREAD record before its first other
	 * record (the dependencies level's records all come this way, not through a chunk). */
	lw_thread_materialize(lw_self);
	/* Issue 21: once the trace is closed (at exit), a thread still running writes into the
	 * room the close left (exit_room). */
	if (LW_UNLIKELY(__atomic_load_n(&W.closed, __ATOMIC_RELAXED)))
		return exit_room(size);
	/* Once full, a drop touches nothing the other threads write: the thread counts its
	 * drops and adds them to the header's count a batch at a time. */
	if (LW_UNLIKELY(__atomic_load_n(&W.full, __ATOMIC_RELAXED))) {
		static __thread uint32_t unsaid __attribute__((tls_model("initial-exec")));
		if (++unsaid == LW_DROP_BATCH) {
			__atomic_add_fetch(&header()->dropped, unsaid, __ATOMIC_RELAXED);
			unsaid = 0;
		}
		return NULL;
	}
	uint64_t off;
	if (LW_UNLIKELY(!take(size, true, &off))) {
		if (!__atomic_load_n(&W.closed, __ATOMIC_RELAXED))
			__atomic_add_fetch(&header()->dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return W.map + off;
}

/*
 * At the full level every thread writes a record per synchronisation, and a tail that every
 * writer bumps would bounce one cache line between the CPUs on each record.  So a thread
 * takes the file in chunks instead (512 bytes first, doubling up to 256 KiB, so that a
 * thread that writes little wastes little) and fills its chunk alone.  The unused end of a
 * chunk is a hole of zeros, which a reader skips (lockwatch-trace(5)).  Records then appear
 * in the file out of seq order; readers order them by seq.  A chunk is faulted in when it is
 * taken and leaves the process's memory when it is finished (trace_residency.c); the chunks
 * are large so that this costs few system calls.
 *
 * The chunk is used only inside the shim (lw_guard held), where a signal handler cannot
 * record through it (its own lw_enter() fails), so nothing else on the thread touches it
 * meanwhile and a plain add takes the room.  The SIGTRAP handler, which records whatever
 * the thread was doing, uses lw_trace_reserve_shared().
 */
#define LW_CHUNK_MIN 512u
#define LW_CHUNK_MAX (256u << 10)

struct lw_chunk {
	uint64_t start;              /* where the chunk begins */
	uint64_t pos, end;           /* [pos, end) is free */
	uint32_t gen;                /* W.gen when it was taken */
	uint32_t next;               /* size of the next chunk */
};
static __thread struct lw_chunk chunk __attribute__((tls_model("initial-exec")));

/* Takes a new chunk for the calling thread and reserves size bytes at its start.  Returns
 * NULL when there is none to take (the caller falls back to the shared tail). */
static void *new_chunk(uint32_t size)
{
	if (chunk.gen == W.gen)
		lw_trace_chunk_done(W.map, chunk.start, chunk.end);
	uint32_t want = chunk.gen == W.gen && chunk.next ? chunk.next : LW_CHUNK_MIN;
	if (want < size)
		want = size;
	uint64_t off;
	if (!take(want, false, &off))
		return NULL;         /* the shared tail may still have room for this record */
	chunk.start = off;
	chunk.end = off + want;
	chunk.pos = off + size;
	chunk.gen = W.gen;
	chunk.next = want < LW_CHUNK_MAX ? want * 2 : LW_CHUNK_MAX;
	lw_trace_chunk_taken(W.map, off, off + want);
	struct lw_thread *t = lw_self;
	if (t) {
		__atomic_store_n(&t->chunk_hi, chunk.end, __ATOMIC_RELAXED);
		__atomic_store_n(&t->chunk_lo, chunk.start, __ATOMIC_RELAXED);
	}
	return W.map + off;
}

/* lw_trace_reserve's way when the record does not fit in the thread's chunk, or the thread
 * has none. */
static __attribute__((noinline)) void *reserve_slow(uint32_t size)
{
	if (LW_UNLIKELY(W.map == NULL))
		return NULL;
	if (W.chunked && lw_guard) {
		void *p = __atomic_load_n(&W.full, __ATOMIC_RELAXED) ? NULL : new_chunk(size);
		if (p)
			return p;
	}
	return lw_trace_reserve_shared(size);
}

/* Whether the calling thread's chunk is one of this trace's and may still be written: not
 * once the trace is full (a thread writing on in its chunk while the others' records are
 * dropped would leave a trace whose order lies).  After the close it may ("After the
 * close"): the chunk lies below the end. */
static inline bool chunk_open(void)
{
	return W.chunked && chunk.gen == W.gen &&
	       LW_LIKELY(!__atomic_load_n(&W.full, __ATOMIC_RELAXED));
}

void *lw_trace_reserve(uint32_t size)
{
	if (LW_LIKELY(lw_guard && chunk.pos + size <= chunk.end && chunk_open())) {
		uint64_t off = chunk.pos;
		chunk.pos = off + size;
		return W.map + off;
	}
	return reserve_slow(size);
}

bool lw_trace_last_in_chunk(const void *rec, uint32_t size)
{
	return chunk_open() && (const char *)rec + size == W.map + chunk.pos;
}

void lw_trace_commit(void *rec, uint16_t kind, uint32_t size)
{
	union { struct lw_rec_head h; uint64_t w; } head = {
		.h = { .magic = LW_REC_MAGIC, .kind = kind, .size = size },
	};
	__atomic_store_n((uint64_t *)rec, head.w, __ATOMIC_RELEASE);
}

static int trace_open(bool forked_child);
static void lw_trace_close_(bool only_thread);

int lw_trace_open(bool forked_child)
{
	int saved = errno;
	int rc = trace_open(forked_child);
	errno = saved;
	return rc;
}

/* Makes lw_opt.trace_dir absolute, from the working directory at the first open: a
 * program that changes directory and then forks must not scatter its children's traces
 * (nor write them into a directory it chdir'd to).  Leaves it as is when it cannot. */
static bool absolute_trace_dir(void)
{
	char cwd[sizeof lw_opt.trace_dir];
	if (lw_opt.trace_dir[0] == '/' || !getcwd(cwd, sizeof cwd))
		return false;
	size_t c = strlen(cwd), d = strlen(lw_opt.trace_dir);
	if (c + 1 + d >= sizeof lw_opt.trace_dir)
		return false;
	memmove(lw_opt.trace_dir + c + 1, lw_opt.trace_dir, d + 1);
	memcpy(lw_opt.trace_dir, cwd, c);
	lw_opt.trace_dir[c] = '/';
	return true;
}

/* Hands the absolute trace directory on to the programs this one runs: LOCKWATCH_OPTIONS
 * gets trace_dir=DIR appended (the last one counts), so that a child that starts after a
 * chdir (make -C, a daemon's workers) writes where the first program started.  Done once,
 * at start-up; putenv on a variable that exists replaces one pointer of the environment. */
static void export_trace_dir(void)
{
	static char env[sizeof "LOCKWATCH_OPTIONS=" + 4096 + sizeof lw_opt.trace_dir + 16];
	const char *old = getenv("LOCKWATCH_OPTIONS");
	const char *dir = lw_opt.trace_dir;
	char q = strchr(dir, '\'') ? '"' : '\'';
	if (strchr(dir, '\'') && strchr(dir, '"'))
		return;
	int n = snprintf(env, sizeof env, "LOCKWATCH_OPTIONS=%s%strace_dir=%c%s%c", old ? old : "",
			 old && *old ? ":" : "", q, dir, q);
	if (n < 0 || (size_t)n >= sizeof env)
		return;
	putenv(env);
}

static int trace_open(bool forked_child)
{
	if (absolute_trace_dir() && !forked_child)
		export_trace_dir();
	int err = make_dirs(lw_opt.trace_dir);
	if (err) {
		lw_msg("cannot create trace directory %s: %s; not recording", lw_opt.trace_dir,
		       strerror(-err));
		return err;
	}
	/* Issue 24: the directory is opened without following a symlink, and trusted (by its
	 * descriptor, so that it cannot be swapped after the check) only when it is the
	 * user's or root's and nobody else can write to it; trust_dir=1 overrides both. */
	int dfd = open(lw_opt.trace_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
				(lw_opt.trust_dir ? 0 : O_NOFOLLOW));
	if (dfd < 0) {
		err = -errno;
		struct stat lst;
		if (errno == ELOOP || (errno == ENOTDIR && lstat(lw_opt.trace_dir, &lst) == 0 &&
				       S_ISLNK(lst.st_mode)))
			lw_msg("trace directory %s is a symbolic link, not followed; not recording "
			       "(trust_dir=1 follows it)", lw_opt.trace_dir);
		else
			lw_msg("cannot open trace directory %s: %s; not recording",
			       lw_opt.trace_dir, strerror(errno));
		return err;
	}
	struct stat dst;
	if (!lw_opt.trust_dir && fstat(dfd, &dst) == 0 &&
	    ((dst.st_uid != geteuid() && dst.st_uid != 0) || (dst.st_mode & 022))) {
		close(dfd);
		if (dst.st_uid != geteuid() && dst.st_uid != 0)
			lw_msg("trace directory %s belongs to uid %u, not to this user or root; "
			       "not recording (trust_dir=1 uses it anyway)", lw_opt.trace_dir,
			       (unsigned)dst.st_uid);
		else
			lw_msg("trace directory %s is writable by %s; not recording (trust_dir=1 "
			       "uses it anyway)", lw_opt.trace_dir,
			       (dst.st_mode & 002) ? "others" : "its group");
		return -EPERM;
	}
	char name[64];
	int fd = -1;
	pid_t pid = getpid();
	for (int i = 0; i < 100 && fd < 0; i++) {
		if (i == 0)
			snprintf(name, sizeof name, "lockwatch.%d.trace", (int)pid);
		else
			snprintf(name, sizeof name, "lockwatch.%d.%d.trace", (int)pid, i);
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	err = fd < 0 ? -errno : 0;
	if (fd < 0) {
		close(dfd);
		lw_msg("cannot create a trace file in %s: %s; not recording", lw_opt.trace_dir,
		       strerror(-err));
		return err;
	}
	/* Keep the descriptor out of the low numbers programs tend to dup2 over, and out of
	 * the program's range altogether where it can be (issue 24). */
	fd = place_fd(fd);
	struct stat st;
	uint64_t limit = lw_opt.max_trace_bytes;
	uint64_t fsize = fsize_limit();
	if (limit > fsize)
		limit = fsize & ~(uint64_t)(LW_GROW_STEP - 1);
	if (limit < LW_GROW_STEP)
		err = EFBIG;             /* RLIMIT_FSIZE below one step: not even a header */
	if (err || fstat(fd, &st) < 0 || (err = posix_fallocate(fd, 0, LW_INIT_SIZE)) != 0) {
		if (!err)
			err = errno;
		lw_msg("cannot size the trace file %s/%s: %s; not recording", lw_opt.trace_dir,
		       name, strerror(err));
		unlinkat(dfd, name, 0);
		close(dfd);
		close(fd);
		return -err;
	}
	close(dfd);
	uint64_t mapped;
	char *map = map_first(fd, limit, &mapped);
	if (map == MAP_FAILED) {
		err = -errno;
		lw_msg("cannot map the trace file: %s; not recording", strerror(errno));
		close(fd);
		return err;
	}
	W.fd = fd;
	snprintf(W.path, sizeof W.path, "%s/%s", lw_opt.trace_dir, name);
	W.dev = st.st_dev;
	W.ino = st.st_ino;
	W.limit = limit;
	W.mapped = mapped;
	W.size = LW_INIT_SIZE;
	W.pid = pid;
	W.tail = LW_TRACE_HEADER_SIZE;
	W.closed = 0;
	W.exit_next = W.exit_end = 0;
	W.exit_ready = 0;
	W.full = 0;
	W.broken = 0;
	W.grow_lock.v = 0;
	W.seq = 0;
	lw_trace_residency_reset(LW_TRACE_HEADER_SIZE);
	lw_epoch.seq = 0;            /* a fork child's: the parent's seqs are not this trace's */
	W.chunked = lw_opt.level == LW_LEVEL_FULL;
	W.gen++;

	struct lw_trace_header *h = (struct lw_trace_header *)map;
	h->version = LW_TRACE_VERSION;
	h->header_size = LW_TRACE_HEADER_SIZE;
	h->session = lw_opt.session;
	h->pid = (int32_t)pid;
	h->ppid = (int32_t)getppid();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	h->level = (uint32_t)lw_opt.level;
	h->flags = forked_child ? LW_HDR_FORKED : 0;
	ssize_t n = readlink("/proc/self/exe", h->exe, sizeof h->exe - 1);
	h->exe[n > 0 ? n : 0] = '\0';
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h->magic, LW_TRACE_MAGIC, sizeof h->magic);
	__atomic_store_n(&W.map, map, __ATOMIC_RELEASE);
	put_fd();
	if (lw_opt.verbose)
		lw_msg("recording to %s/%s", lw_opt.trace_dir, name);
	return 0;
}

void lw_trace_close(bool only_thread)
{
	int saved = errno;
	lw_trace_close_(only_thread);
	errno = saved;
}

static void lw_trace_close_(bool only_thread)
{
	if (!W.map || __atomic_exchange_n(&W.closed, 1, __ATOMIC_ACQ_REL))
		return;
	/* Under the grow lock, so that no record's room appears past the end afterwards: a
	 * thread whose reservation crossed the file's size and that grows it later finds the
	 * trace closed (grow) and leaves its record unwritten, zeros below the end at most. */
	while (!lw_spin_trylock(&W.grow_lock))
		sched_yield();
	uint64_t end = __atomic_load_n(&W.tail, __ATOMIC_ACQUIRE);
	uint64_t size = __atomic_load_n(&W.size, __ATOMIC_ACQUIRE);
	if (end > size)
		end = size;
	/* The room for the records the other threads still make ("After the close"), past
	 * the end, which each one they take there moves (exit_room): what the file has, or
	 * can have. */
	uint64_t room_end = end;
	if (!only_thread && !__atomic_load_n(&W.full, __ATOMIC_RELAXED)) {
		room_end = end + LW_EXIT_ROOM < W.limit ? end + LW_EXIT_ROOM : W.limit;
		int fd = room_end > size ? trace_fd() : -1;
		if (room_end > size &&
		    (fd < 0 || posix_fallocate(fd, (off_t)size, (off_t)(room_end - size)) != 0))
			room_end = size;
		if (room_end > size)
			__atomic_store_n(&W.size, size = room_end, __ATOMIC_RELEASE);
	}
	struct lw_trace_header *h = header();
	h->end_offset = end;
	__atomic_store_n(&W.exit_end, room_end, __ATOMIC_RELAXED);
	__atomic_store_n(&W.exit_next, end, __ATOMIC_RELAXED);
	__atomic_store_n(&W.exit_ready, 1, __ATOMIC_RELEASE);
	lw_spin_unlock(&W.grow_lock);
	__atomic_or_fetch(&h->flags, LW_HDR_CLOSED, __ATOMIC_RELEASE);
	/* Trimming while another thread may still write through the mapping would turn its
	 * store into SIGBUS: only trim when this thread is the last. */
	int fd = trace_fd();
	if (only_thread && !W.broken) {
		if (fd >= 0 && ftruncate(fd, (off_t)end) == 0)
			__atomic_store_n(&W.size, end, __ATOMIC_RELEASE);
	} else if (fd >= 0) {
		/* Others may still write below the size: free the unused tail's blocks past
		 * their room without shrinking the file (readers stop at end_offset). */
		uint64_t from = (room_end + 4095) & ~(uint64_t)4095;
		if (size > from)
			fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
				  (off_t)(size - from));
	}
	put_fd();
	if (lw_opt.verbose)
		lw_msg("trace closed: %llu bytes, %llu records dropped", (unsigned long long)end,
		       (unsigned long long)h->dropped);
}

bool lw_trace_owned_here(void)
{
	return W.map && W.pid == (pid_t)syscall(SYS_getpid);
}

void lw_trace_note_locks_unrecorded(void)
{
	if (W.map)
		__atomic_add_fetch(&header()->locks_unrecorded, 1, __ATOMIC_RELAXED);
}

/* Issue 20: the header says the trace has watch windows (LW_HDR_WINDOWS). */
void lw_trace_mark_windows(void)
{
	if (W.map)
		__atomic_or_fetch(&header()->flags, LW_HDR_WINDOWS, __ATOMIC_RELEASE);
}

void lw_trace_forget(void)
{
	/* The parent's mapping is shared with the parent: the child must not write into it.
	 * Only this thread exists in the child, so nobody else is using it. */
	if (W.map)
		munmap(W.map, W.mapped);
	if (W.fd >= 0)
		close(W.fd);
	W.map = NULL;
	W.fd = -1;
}
