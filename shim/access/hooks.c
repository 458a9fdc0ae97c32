/* Compiler load/store hooks: clang's -fsanitize-coverage=trace-loads,trace-stores callbacks
 * and the atomic ones `lockwatch cc` adds, filtered online so that only what the race and
 * atomicity analyses need reaches the trace. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "access/hooks.h"
#include "access/watch.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/init.h"
#include "core/msg.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"

/*
 * The filter.
 *
 * 1. Stack addresses never enter: each thread's stack bounds (pthread_getattr_np, once per
 *    thread) sit in initial-exec TLS beside the epoch key, and one subtraction and compare
 *    drops an access to them.  But for the part of a thread's stack from the lowest address
 *    it handed to a thread it created (the start routine's argument) up: the frames that
 *    hold a local other threads were given a pointer to (issue 21).
 *
 * 2. A location touched by one thread only stays out of the trace.  Memory is shadowed in
 *    8-byte granules by a 16-byte cell in one big MAP_NORESERVE table (2^31 cells, 32 GiB of
 *    address space; only the pages of cells in use cost memory), indexed by the granule's low
 *    31 bits; the address bits above them are a tag in the cell, so two granules that share
 *    a cell are told apart (they then count as shared: recorded, never missed).
 *
 *      state: tag:13 | tid:16 | SHARED:1 | WRITE:1 | ATOMIC:1 | BUSY:1 | seq:31
 *      where: pc:47 | offset in the granule:3 | log2 size:2 | stack id:12 (0: too large)
 *
 *    The two words cannot change together, so a thread that stores an access in a cell
 *    claims it first (BUSY, by compare-and-swap from the state it read), writes `where`,
 *    then publishes the new state; a thread that finds BUSY waits, and one that takes the
 *    cell from its owner reads `where` after its exchange succeeded.  So the access written
 *    on the owner's behalf is the owner's, never that of a thread that lost a race for the
 *    cell (which gave false races between neighbouring bytes of a new heap block).
 *
 *    While a granule is owned (SHARED clear), the cell is the owner's last access that
 *    matters: the first write of its current epoch, else the first read.  An epoch is the
 *    stretch between two events of the thread in the trace (lock operations, syncs, thread
 *    events), named by the seq of the event that opened it: within an epoch every access of
 *    a thread has the same vector clock, so one of them stands for all in the race analysis.
 *    The fast path of a hook is therefore: the stack test, one load of the cell, one compare
 *    against (tag | my tid | my epoch's seq), and for a write the WRITE bit.  Nothing is
 *    stored while a thread keeps to its own data within an epoch.
 *
 * 3. When a second thread touches an owned granule, the cell turns SHARED (by CAS) and the
 *    owner's last access is written to the trace, on the owner's behalf, as an ACCESS record
 *    with LW_ACCESS_AFTER and the seq of the event that opened its epoch.  The analyzer sorts
 *    it just after that event, which is exactly where it belongs in the owner's own order:
 *    after every event of the owner that preceded it, before every one that followed.  The
 *    happens-before replay then gives it the clock the owner had at the access, so a release
 *    the owner made after it orders it before the second thread's access (no false race),
 *    and a release made before it does not (the race is kept).  Its held locks in the replay
 *    are those of that moment, so a check inside a critical section stays inside it.
 *    An atomic access opens an epoch of its own (it takes a seq), so an owned atomic written
 *    at a transition carries its own seq, not AFTER: it is a synchronisation at its place.
 *
 *    One exception: a granule last touched by the thread's creator before it created the
 *    thread (the owner's epoch is older than the creation) moves to the new thread instead
 *    of turning shared, since everything the creator did then happens before everything
 *    the new thread does.  The creator's access is still written, for the threads created
 *    before it.  This keeps "initialise, then hand to a new thread" out of the trace.
 *
 * 4. From then on every access to the granule is recorded, except a repeat: a thread's read
 *    (or write) of a shared granule right after its own read (or write) of it, with no event
 *    of the thread other than lock acquisitions in between and no other thread's write
 *    (every write to a shared granule, recorded or not, gives the cell a state it never
 *    held before: the writer and its count of such writes).  A run of reads, or of writes,
 *    shrinks to its first; a read-modify-write loop keeps each read with its write, which
 *    the analyzer needs to tell it from a check-then-act.  Whatever another thread's
 *    access races with the repeat, it races with the recorded one too: the two follow the
 *    same releases of the thread, and what happens before the first happens before the
 *    second.  An acquisition between them may put the repeat in a critical section the
 *    first is not in; the first then stands for it as the check of a check-then-act.  So
 *    the repeat adds no pair the analyses would not already report, though a report may
 *    show the earlier access.
 *
 *    A plain access takes no seq of its own: it is written with LW_ACCESS_AFTER, its
 *    epoch's seq and the next number of the thread's lw_epoch.sub, so the one counter all
 *    threads bump is left to the events that order threads.  A write of the bytes the
 *    thread's last record read, with nothing of the thread's between them (x++), joins
 *    that record instead of taking one of its own (join_read, LW_ACCESS_UPDATE).
 *
 * 5. Reads of data nobody writes.  A shared granule that no thread has written since it
 *    became shared (its state has no tid: a read made it shared) cannot race yet, and a
 *    thread's reads of it are not written when they happen, however many releases lie
 *    between them: each thread keeps its latest one, with its place (epoch, sub), in a small
 *    table (struct lw_ro_read, by granule).  The first write to the granule writes every
 *    thread's kept read of it first, on its behalf, in its place; a read pushed out of the
 *    table, or kept when its thread ends, is written then.  Only the latest read of a thread
 *    matters: what happens before it happens before the earlier ones, so a write that
 *    races with an earlier read races with it too.  A global read after every lock call
 *    (a pointer to a table, a count, a setting) was a record each time.  A read of bytes
 *    the kept read already covers takes a medium path (kept_read_again): in the same
 *    epoch nothing changes, in a later one the kept read moves to it.
 *
 * 6. Owners' plain stores.  A thread that keeps to its own data still stamps each cell it
 *    touches in a new epoch (a lock call makes one), and a compare-and-swap there was the
 *    largest cost of a loop around a lock of its own.  So a thread owns its cells with a bias
 *    (lw_thread.hook_bias, granted at its first hook when the kernel offers membarrier(2)'s
 *    private expedited command, and to tids up to 65535): while it has it, it stamps them
 *    with plain stores, each inside hook_restamping.  A thread about to take a cell from its
 *    owner (to share it, or as a new thread from its creator) first revokes the owner's
 *    bias: it clears the flag, issues the membarrier, which puts a full barrier into every
 *    running thread of the process, and waits while the owner's hook_restamping is set.
 *    After that, either the owner's store was over before the taker read the cell, or the
 *    owner sees the flag clear and takes the exchange, as every thread did before.  One
 *    system call per thread whose data another thread takes while it runs, at most (a
 *    thread's bias ends with it).
 *
 * What is lost: within an epoch, the owner's other accesses to the same granule (another
 * field's bytes, a read after the write) are not written at the transition, so a race on
 * them alone is missed; so are races on stack variables another thread was given a pointer
 * to other than through the start routine's argument, and the owner's accesses to them
 * before it created that thread.  A thread's kept read of data nobody writes replaces its earlier reads of the same
 * bytes: two reads of a thread, with another thread's write that could have come between
 * them but came after both, are the data race of the second with the write, and not also
 * an atomicity violation of the pair.  Tids above 65535 share cells' tid field with lower
 * ones.
 */

static struct lw_cell *shadow;
static int hooks_on;
static bool bias_ok;          /* membarrier(2)'s private expedited command is registered */

/* Registers the process for membarrier(2)'s private expedited command.  Returns whether it
 * can be used. */
static bool membarrier_register(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	return cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	       syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void lw_hooks_init(void)
{
	if (shadow)
		return;
	void *m = mmap(NULL, LW_CELL_COUNT * sizeof(struct lw_cell), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		lw_msg("hooks: cannot reserve the shadow table (%s); the compiler hooks record "
		       "nothing", strerror(errno));
		return;
	}
	shadow = m;
	bias_ok = membarrier_register();
	__atomic_store_n(&hooks_on, 1, __ATOMIC_RELEASE);
}

void lw_hooks_after_fork(void)
{
	if (shadow)
		madvise(shadow, LW_CELL_COUNT * sizeof(struct lw_cell), MADV_DONTNEED);
	lw_hook.key = 0;
	/* The child is a new process to membarrier(2). */
	bias_ok = bias_ok && membarrier_register();
	/* The reads the forking thread kept are its parent's. */
	if (lw_self)
		memset(lw_self->ro_reads, 0, sizeof lw_self->ro_reads);
}

/* Sets up the calling thread's hook state: its stack bounds and epoch key. */
static void thread_init(struct lw_thread *t)
{
	pthread_attr_t at;
	void *lo = NULL;
	size_t size = 0;

	if (pthread_getattr_np(pthread_self(), &at) == 0) {
		if (pthread_attr_getstack(&at, &lo, &size) != 0)
			size = 0;
		pthread_attr_destroy(&at);
	}
	/* A local the thread handed to a thread it created is watched from there up (issue 21;
	 * lw_hook_stack_escapes). */
	if (lw_hook.stack_escape && lw_hook.stack_escape - (uintptr_t)lo < size)
		size = lw_hook.stack_escape - (uintptr_t)lo;
	lw_hook.stack_lo = (uintptr_t)lo;
	lw_hook.stack_span = size;
	lw_hook.shadow = shadow;
	lw_hook.tid = t->tid;
	lw_hook.parent = t->parent;
	lw_hook.start_seq = t->start_seq;
	/* The thread's own epoch: its last event (issue 21: the counter's last position, which
	 * a lock left out of the trace or an acquisition's reserved block of positions may have
	 * carried past that event, put the thread's first accesses after its releases, "holding
	 * no lock").  A thread with no event yet stands at the counter, after its creation. */
	uint64_t epoch = lw_epoch.seq ? lw_epoch.seq : lw_current_seq();
	lw_hook.key = LW_ST_TID(t->tid) | (epoch & LW_CELL_SEQ_MASK);
	__atomic_store_n(&t->hook_bias, bias_ok && t->tid <= 0xffffu, __ATOMIC_RELAXED);
}

#define LW_UNBIAS_SPINS (1u << 16)

/* The owner's bias on the cells of tid (see "Owners' plain stores") is revoked: it stamps
 * them by exchange from now on, and no plain store of its is still to land.  t: the calling
 * thread.  Returns whether there was a bias to revoke (the cell may have changed since). */
static bool owner_unbiased(struct lw_thread *t, uint32_t tid)
{
	struct lw_thread *o = lw_thread_by_tid(tid);
	if (!o || o == t || !__atomic_load_n(&o->hook_bias, __ATOMIC_ACQUIRE))
		return false;
	__atomic_store_n(&o->hook_bias, 0, __ATOMIC_SEQ_CST);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	/* A few instructions, unless the owner was preempted there, or a signal handler of its
	 * blocks: then, after a while, the taker goes on, at the risk of one access of the
	 * owner's left out of the trace, rather than hang the program. */
	for (unsigned spins = 0; __atomic_load_n(&o->hook_restamping, __ATOMIC_ACQUIRE) &&
				 spins < LW_UNBIAS_SPINS; spins++)
		lw_spin_wait(spins);
	return true;
}

/* Stamps cell c, found in state s, with state n (and, when where is not 0, that `where`) by
 * plain stores, when the calling thread t still has its bias on its cells.  Returns false
 * when it must take the exchange. */
static inline bool biased_store(struct lw_thread *t, struct lw_cell *c, uint64_t s,
				uint64_t where, uint64_t n)
{
	if (!t || !__atomic_load_n(&t->hook_bias, __ATOMIC_RELAXED))
		return false;
	/* A signal handler's hook nests inside: a count, not a flag. */
	uint32_t r = __atomic_load_n(&t->hook_restamping, __ATOMIC_RELAXED);
	__atomic_store_n(&t->hook_restamping, r + 1, __ATOMIC_RELAXED);
	/* The store above before the load below, against a revoker's membarrier. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	bool done = __atomic_load_n(&t->hook_bias, __ATOMIC_RELAXED) &&
		    __atomic_load_n(&c->state, __ATOMIC_RELAXED) == s;
	if (done) {
		if (where)
			__atomic_store_n(&c->where, where, __ATOMIC_RELAXED);
		__atomic_store_n(&c->state, n, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&t->hook_restamping, r, __ATOMIC_RELEASE);
	return done;
}

/* The full seq whose low 32 bits are low, at or before the current one. */
static uint64_t seq_from_low(uint64_t low)
{
	uint64_t cur = lw_current_seq();
	uint64_t s = (cur & ~LW_CELL_SEQ_MASK) | low;
	if (s > cur && s > LW_CELL_SEQ_MASK)
		s -= LW_CELL_SEQ_MASK + 1;
	return s;
}

/* Writes an access record.  Returns it, or NULL when it was lost. */
static struct lw_rec_access *write_access(uint32_t tid, uint16_t flags, uint16_t size,
					  uintptr_t addr, uintptr_t pc, uint32_t stack,
					  uint64_t seq, uint32_t sub)
{
	struct lw_rec_access *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return NULL;
	r->tid = tid;
	r->flags = flags;
	r->size = size;
	r->addr = addr;
	r->pc = pc;
	r->value = 0;
	r->stack = stack;
	r->sub = sub;
	r->seq = seq;
	lw_trace_commit(r, LW_REC_ACCESS, sizeof *r);
	return r;
}

/* The calling thread's last record, when it is a plain read placed after its last event, and
 * that place (seq, sub): the write of a read-modify-write joins it (join_read). */
static __thread struct {
	struct lw_rec_access *r;
	uint64_t seq;
	uint32_t sub;
} last_read __attribute__((tls_model("initial-exec")));

/* A plain write of [addr, addr+size) at pc (stack), about to be placed after the thread's last
 * event: when the thread's last record is its read of the same bytes, with nothing of the
 * thread's since, the read becomes a read-modify-write (LW_ACCESS_UPDATE: the write at the
 * next sub, its pc and stack id in the record's value) instead of a second record.  The
 * record is the last one in the thread's chunk of the trace, so nobody has read past it; its
 * value is stored before its flags.  Returns whether the write was joined. */
static inline __attribute__((always_inline)) bool join_read(uintptr_t addr, unsigned size,
							     unsigned flags, uintptr_t pc,
							     uint32_t stack)
{
	struct lw_rec_access *r = last_read.r;
	last_read.r = NULL;
	if (!r || (flags & (LW_ACCESS_READ | LW_ACCESS_ATOMIC | LW_ACCESS_FREE)) ||
	    last_read.seq != lw_epoch.seq || last_read.sub != lw_epoch.sub ||
	    stack > LW_UPDATE_STACK_MAX || LW_UPDATE_PC(pc) != pc ||
	    !lw_trace_last_in_chunk(r, sizeof *r) || r->addr != addr || r->size != size)
		return false;
	__atomic_store_n(&r->value, (uint64_t)pc | (uint64_t)stack << LW_UPDATE_PC_BITS,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&r->flags, (uint16_t)(r->flags | LW_ACCESS_WRITE | LW_ACCESS_UPDATE),
			 __ATOMIC_RELEASE);
	lw_epoch.sub++;
	return true;
}

/* The owners' accesses a range's slow path (slow_range) writes on their behalf, gathered: a
 * run of whole granules that one owner accessed the same way, at the same place, in the same
 * epoch (a memcpy of its own) is one record, as the taker's is.  Empty when end == addr. */
struct owner_run {
	uint32_t tid, stack;
	uint16_t flags;
	uintptr_t addr, end, pc;
	uint64_t seq;
};

static void write_owners_access(uint32_t tid, uint16_t flags, uintptr_t addr, uint16_t size,
				uintptr_t pc, uint32_t stack, uint64_t seq)
{
	lw_write_private_sections(tid, seq);
	write_access(tid, flags, size, addr, pc, stack, seq, 0);
}

static void flush_owner_run(struct owner_run *r)
{
	if (r->end > r->addr)
		write_owners_access(r->tid, r->flags, r->addr, (uint16_t)(r->end - r->addr), r->pc,
				    r->stack, r->seq);
	r->addr = r->end = 0;
}

/* Writes the owner's access a cell holds, on the owner's behalf, or adds it to run (when
 * not NULL). */
static void write_previous(uint64_t state, uint64_t where, uint64_t granule,
			   struct owner_run *run)
{
	uint32_t tid = (uint32_t)((state & LW_ST_TIDMASK) >> 35);
	uintptr_t addr = (uintptr_t)(((state & LW_ST_TAGMASK) >> 51) << LW_TAG_SHIFT |
				     (granule & LW_CELL_MASK) << 3 | ((where >> 47) & 7));
	uint16_t size = (uint16_t)(1u << ((where >> 50) & 3));
	uint16_t flags = LW_SRC_HOOK | (state & LW_ST_WRITE ? LW_ACCESS_WRITE : LW_ACCESS_READ) |
			 (state & LW_ST_ATOMIC ? LW_ACCESS_ATOMIC : LW_ACCESS_AFTER);
	uintptr_t pc = (uintptr_t)(where & LW_WH_PC);
	uint32_t stack = (uint32_t)(where >> 52);
	if (!tid)
		return;
	uint64_t seq = seq_from_low(state & LW_CELL_SEQ_MASK);
	if (!run || size != 8 || (flags & LW_ACCESS_ATOMIC)) {
		write_owners_access(tid, flags, addr, size, pc, stack, seq);
		return;
	}
	if (run->end == addr && run->tid == tid && run->flags == flags && run->pc == pc &&
	    run->stack == stack && run->seq == seq && run->end - run->addr < LW_ACCESS_CHECKED) {
		run->end += 8;
		return;
	}
	flush_owner_run(run);
	*run = (struct owner_run){ tid, stack, flags, addr, addr + 8, pc, seq };
}

static unsigned log2_size(unsigned n)
{
	return n >= 8 ? 3 : n >= 4 ? 2 : n >= 2 ? 1 : 0;
}

/* The where word of an access at pc of size bytes at addr, but for its stack id. */
static inline uint64_t where_of(uintptr_t pc, uintptr_t addr, unsigned size)
{
	return ((uint64_t)pc & LW_WH_PC) | (uint64_t)(addr & 7) << 47 |
	       (uint64_t)log2_size(size) << 50;
}

/* Stack id `stack` in its place in a where word (0: too large). */
static inline uint64_t where_stack_bits(uint32_t stack)
{
	return (uint64_t)(stack <= LW_WH_MAX_STACK ? stack : 0) << 52;
}

/* The stack id of an access at pc, in its place in a cell's where word. */
static uint64_t where_stack(struct lw_thread *t, uintptr_t pc)
{
	return where_stack_bits(lw_access_stack(t, pc));
}

/* The same from the thread's cache of sites only, into *bits.  Returns false when the cache
 * does not have pc (finding its stack is the slow path's work). */
static inline bool cached_where_stack(const struct lw_thread *t, uintptr_t pc, uint64_t *bits)
{
	const struct lw_site_cache_ent *e = &t->sites[(pc ^ (pc >> 7)) & (LW_SITE_CACHE - 1)];
	if (e->site != pc)
		return false;
	*bits = where_stack_bits(e->stack);
	return true;
}

/* The state of a shared granule this thread has just written: one the cell never held
 * before (the thread's count of such writes), so that a thread can tell from the state alone
 * whether anybody wrote the granule since it last looked. */
static uint64_t written_state(uint64_t tag, uint64_t me)
{
	return tag | LW_ST_SHARED | me | (++lw_hook.writes & LW_CELL_SEQ_MASK);
}

/* The bytes of a granule that [addr, addr+size) covers, as a mask (addr's granule). */
static inline uint32_t granule_bytes(uintptr_t addr, unsigned size)
{
	return size >= 8 ? 0xffu : ((1u << size) - 1) << (addr & 7);
}

/* Whether this access to a shared granule repeats the thread's recorded accesses to it: the
 * same kind (read or write), of bytes they covered (bytes: granule_bytes), since the
 * thread's last event that could order it before another thread (lw_epoch.releases: any but
 * a lock acquisition), with no other thread's write in between (the cell's state before this
 * access is the one that access saw, or left).  Notes this access either way: a run of the
 * same kind adds its bytes to the run's.  Only a run of reads, or of writes, shrinks to its
 * first access of each byte: a read-modify-write loop keeps every read with its write, since
 * a read whose write was left out would look like the check of a check-then-act, and a write
 * of another field of the granule is recorded (issue 21: a race on the second field of a
 * struct was missed).  The kind is bit 0 of `write`, the bytes bits 8 to 15. */
static inline __attribute__((always_inline)) bool recent_repeat(struct lw_thread *t,
								 uint64_t granule, bool write,
								 uint32_t bytes, uint64_t before,
								 uint64_t after)
{
	struct lw_hook_recent *r =
		&t->hook_recent[(granule ^ (granule >> 9)) & (LW_HOOK_RECENT - 1)];
	uint32_t releases = lw_epoch.releases + 1;  /* never 0 (an unused entry's) until it wraps */
	bool run = r->granule == granule && r->releases == releases && r->cell == before &&
		   (r->write & 1) == write;
	bool repeat = run && !(bytes & ~(r->write >> 8));
	r->granule = granule;
	r->releases = releases;
	r->write = (uint32_t)write | (bytes | (run ? r->write >> 8 : 0)) << 8;
	r->cell = after;
	return repeat;
}

/* Writes thread tid's read (granule g, where, in epoch seq at sub) on its behalf; t: the
 * calling thread, when it is tid. */
static void write_ro_read(struct lw_thread *t, uint32_t tid, uint64_t g, uint64_t where,
			  uint64_t seq, uint32_t sub)
{
	if (t && t->n_unwritten)
		lw_write_unwritten_holds(t);
	lw_write_private_sections(tid, seq);
	write_access(tid, LW_SRC_HOOK | LW_ACCESS_READ | LW_ACCESS_AFTER,
		     (uint16_t)(1u << ((where >> 50) & 3)), (uintptr_t)(g << 3 | ((where >> 47) & 7)),
		     (uintptr_t)(where & LW_WH_PC), (uint32_t)(where >> 52), seq, sub);
}

/* Writes the read kept in e, thread o's, unless it is in the trace already or o is changing
 * it; with g, only a read of granule g.  t: the calling thread. */
static void write_kept_read(struct lw_thread *t, struct lw_thread *o, struct lw_ro_read *e,
			    uint64_t g)
{
	uint32_t v = __atomic_load_n(&e->version, __ATOMIC_ACQUIRE);
	if (v & (LW_RO_BUSY | LW_RO_WRITTEN))
		return;
	uint64_t granule = __atomic_load_n(&e->granule, __ATOMIC_RELAXED);
	uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	uint64_t where = __atomic_load_n(&e->where, __ATOMIC_RELAXED);
	uint32_t sub = __atomic_load_n(&e->sub, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!granule || (g && granule != g) ||
	    !__atomic_compare_exchange_n(&e->version, &v, v | LW_RO_WRITTEN, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	uint32_t tid = __atomic_load_n(&o->tid, __ATOMIC_RELAXED);
	write_ro_read(t == o ? t : NULL, tid, granule, where, seq, sub);
}

/* Thread o's place for a kept read of granule g. */
static struct lw_ro_read *ro_slot(struct lw_thread *o, uint64_t g)
{
	return &o->ro_reads[(g ^ (g >> 7)) & (LW_RO_READS - 1)];
}

/* The bytes of a granule a `where` word names: offset and log2 size. */
#define LW_WH_BYTES (0x1full << 47)

/* Stores the calling thread's read of granule g (where) in its slot e, found at version v
 * with neither flag, at the thread's present place: versioned, for the writers that read
 * the slot from other threads (write_kept_read). */
static void store_kept_read(struct lw_ro_read *e, uint32_t v, uint64_t g, uint64_t where)
{
	__atomic_store_n(&e->version, v | LW_RO_BUSY, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->granule, g, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, lw_epoch.seq, __ATOMIC_RELAXED);
	__atomic_store_n(&e->sub, ++lw_epoch.sub, __ATOMIC_RELAXED);
	__atomic_store_n(&e->where, where, __ATOMIC_RELAXED);
	__atomic_store_n(&e->version, v + 4, __ATOMIC_RELEASE);
}

/* Keeps this thread's read of read-only shared granule g (where) in place of the one it kept
 * of the same bytes, writing the one it pushes out (another granule's, or other bytes of
 * this one: a read of a neighbouring field is not the same read). */
static void keep_read(struct lw_thread *t, uint64_t g, uint64_t where)
{
	struct lw_ro_read *e = ro_slot(t, g);
	if (__atomic_load_n(&e->granule, __ATOMIC_RELAXED) != g ||
	    ((__atomic_load_n(&e->where, __ATOMIC_RELAXED) ^ where) & LW_WH_BYTES))
		write_kept_read(t, t, e, 0);
	if (!lw_epoch.seq)
		lw_next_seq();   /* no event of this thread in the trace yet to place it after */
	/* Only this thread sets BUSY; a writer that flagged the old read meanwhile has written
	 * it, and the new one replaces it either way. */
	uint32_t v = __atomic_load_n(&e->version, __ATOMIC_RELAXED) & ~(LW_RO_BUSY | LW_RO_WRITTEN);
	store_kept_read(e, v, g, where);
}

/* The medium path of a plain read of [addr, addr+size) in cell state s, when the granule is
 * data nobody writes and the thread's kept read of it is of the same bytes: within the same
 * epoch that read stands for this one (the same clock, the same granule read again); in a
 * later epoch it moves to this one, as keep_read would move it, with its stack id from the
 * thread's cache of sites.  Under the guard, so that a signal handler's hook leaves the
 * slot alone.  Returns false when the slow path must do it.  A global reloaded after every
 * lock call took the slow path's several hundred instructions each time. */
static __attribute__((noinline)) bool kept_read_again(uint64_t s, uintptr_t addr, unsigned size,
						      uintptr_t pc)
{
	uint64_t g = addr >> 3;
	struct lw_thread *t = lw_self;
	if ((s & (LW_ST_TAGMASK | LW_ST_TIDMASK | LW_ST_SHARED | LW_ST_BUSY)) !=
	    (LW_ST_TAG(addr) | LW_ST_SHARED) || lw_guard || !t || !lw_epoch.seq)
		return false;
	struct lw_ro_read *e = ro_slot(t, g);
	uint32_t v = __atomic_load_n(&e->version, __ATOMIC_RELAXED);
	uint64_t kept = __atomic_load_n(&e->where, __ATOMIC_RELAXED);
	uint64_t wh = where_of(pc, addr, size), stack;
	if ((v & (LW_RO_BUSY | LW_RO_WRITTEN)) ||
	    __atomic_load_n(&e->granule, __ATOMIC_RELAXED) != g || ((kept ^ wh) & LW_WH_BYTES))
		return false;
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == lw_epoch.seq)
		return true;
	if ((kept & LW_WH_PC) != (wh & LW_WH_PC)) {
		if (!cached_where_stack(t, pc, &stack))
			return false;
		kept = wh | stack;
	}
	lw_guard = 1;
	store_kept_read(e, v, g, kept);
	lw_guard = 0;
	return true;
}

/* The first write to read-only shared granule g: every thread's kept read of it goes into
 * the trace first. */
static void write_kept_reads_of(struct lw_thread *t, uint64_t g)
{
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next)
		if (__atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_FREE)
			write_kept_read(t, o, ro_slot(o, g), g);
}

void lw_hooks_thread_ended(struct lw_thread *t)
{
	/* By the thread itself: whoever takes its cells from now on has no bias to revoke
	 * (and no system call to make); its own last hooks stamp by exchange. */
	__atomic_store_n(&t->hook_bias, 0, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < LW_RO_READS; i++)
		write_kept_read(t, t, &t->ro_reads[i], 0);
}

/* Claims cell c, found in state s, stores where and publishes state n: a thread that takes
 * the cell from its owner reads a `where` that goes with the state it took.  Returns false
 * when the cell changed meanwhile; with prev, the `where` it replaced. */
static bool claim_and_store(struct lw_cell *c, uint64_t s, uint64_t where, uint64_t n,
			    uint64_t *prev)
{
	if (!__atomic_compare_exchange_n(&c->state, &s, s | LW_ST_BUSY, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	if (prev)
		*prev = __atomic_load_n(&c->where, __ATOMIC_RELAXED);
	__atomic_store_n(&c->where, where, __ATOMIC_RELAXED);
	__atomic_store_n(&c->state, n, __ATOMIC_RELEASE);
	return true;
}

/* Whether cell c holds an access at the place of where word wh (but for its stack id). */
static inline bool holds_place(const struct lw_cell *c, uint64_t wh)
{
	return (__atomic_load_n(&c->where, __ATOMIC_RELAXED) &
		~((uint64_t)LW_WH_MAX_STACK << 52)) == wh;
}

/* Thread t stamps its own cell c, found in state s (0: a new one), with state n, and with
 * `where` unless it is 0 (the cell holds the same place): by plain stores under t's bias,
 * else by exchange.  Returns false when the cell changed meanwhile. */
static inline bool stamp_own(struct lw_thread *t, struct lw_cell *c, uint64_t s,
			     uint64_t where, uint64_t n)
{
	if (s && biased_store(t, c, s, where, n))
		return true;
	if (where)
		return claim_and_store(c, s, where, n, NULL);
	return __atomic_compare_exchange_n(&c->state, &s, n, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/* One granule of an access: [addr, addr+size) lies inside granule g.  Returns true when the
 * access must be recorded. */
static inline __attribute__((always_inline)) bool on_granule(struct lw_thread *t, uint64_t g,
							      uintptr_t addr, unsigned size,
							      unsigned flags, uintptr_t pc,
							      uint64_t aseq, struct owner_run *run)
{
	struct lw_cell *c = &shadow[g & LW_CELL_MASK];
	uint64_t tag = LW_ST_TAG(g << 3), me = LW_ST_TID(t->tid);
	bool w = flags & LW_ACCESS_WRITE, at = flags & LW_ACCESS_ATOMIC;
	uint64_t epoch = lw_hook.key & LW_CELL_SEQ_MASK;
	/* This access as a cell holds it while it owns the granule: the state, and the where
	 * word but for its stack id (looked up only when the word changes). */
	uint64_t own = tag | me | (w ? LW_ST_WRITE : 0) | (at ? LW_ST_ATOMIC : 0) |
		       ((at ? aseq : epoch) & LW_CELL_SEQ_MASK);
	uint64_t wh = where_of(pc, addr, size);

	for (unsigned spins = 0;; spins++) {
		uint64_t s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE), n, where;
		if (s & LW_ST_BUSY) {
			/* Another thread is between claiming the cell and publishing it: a few
			 * instructions, unless it was preempted there. */
			lw_spin_wait(spins);
			continue;
		}
		if (s == 0 || (s & (LW_ST_TAGMASK | LW_ST_TIDMASK | LW_ST_SHARED)) == (tag | me)) {
			/* Owned by this thread (or new): keep the access that matters. */
			if (s && (s & LW_CELL_SEQ_MASK) == epoch && !at &&
			    ((s & LW_ST_ATOMIC) || (s & LW_ST_WRITE) || !w))
				return false;
			/* The same place as the access the cell holds (a loop, epoch after
			 * epoch): only the state changes, and `where` stays right for it. */
			if (stamp_own(t, c, s, s && holds_place(c, wh) ? 0 : wh | where_stack(t, pc),
				      own))
				return false;
			continue;
		}
		if (!(s & LW_ST_SHARED) &&
		    owner_unbiased(t, (uint32_t)((s & LW_ST_TIDMASK) >> 35)))
			continue;   /* the owner may have stamped it meanwhile */
		if ((s & (LW_ST_TAGMASK | LW_ST_SHARED)) == (tag | LW_ST_SHARED)) {
			bool read_only = !(s & LW_ST_TIDMASK);
			if (!w && !at) {
				if (!read_only)
					return !recent_repeat(t, g, false,
							      granule_bytes(addr, size), s, s);
				keep_read(t, g, wh | where_stack(t, pc));
				return false;
			}
			/* A write (or an atomic) changes the state, even when it is not
			 * recorded, for the others' repeats. */
			n = written_state(tag, me);
			if (!__atomic_compare_exchange_n(&c->state, &s, n, false, __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED))
				continue;
			if (read_only)
				write_kept_reads_of(t, g);
			return at || !recent_repeat(t, g, true, granule_bytes(addr, size), s, n);
		}
		if ((s & (LW_ST_TAGMASK | LW_ST_SHARED)) == tag && lw_hook.parent &&
		    (s & LW_ST_TIDMASK) == LW_ST_TID(lw_hook.parent) &&
		    seq_from_low(s & LW_CELL_SEQ_MASK) < lw_hook.start_seq) {
			/* The creator's, from before it created this thread: ordered before
			 * everything this thread does.  Ownership moves here; the creator's
			 * access goes into the trace for the threads created earlier. */
			if (!claim_and_store(c, s, wh | where_stack(t, pc), own, &where))
				continue;
			write_previous(s, where, g, run);
			return false;
		}
		/* Another thread's granule, or another granule's cell: both become shared, and
		 * the owner's access goes into the trace first. */
		n = w || at ? written_state(tag, me) : tag | LW_ST_SHARED | (epoch & LW_CELL_SEQ_MASK);
		if (!__atomic_compare_exchange_n(&c->state, &s, n, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		/* The owner published `where` before the state this exchange took. */
		where = __atomic_load_n(&c->where, __ATOMIC_RELAXED);
		if (!(s & LW_ST_SHARED))
			write_previous(s, where, g, run);
		if (!at)
			recent_repeat(t, g, w, granule_bytes(addr, size), n, n);
		return true;
	}
}

/* Writes the calling thread's access of [addr, addr+size), which on_granule said the trace
 * needs (aseq: an atomic's own seq, else 0).  A plain access is placed after its thread's
 * last event, in the order of its sub there, rather than taking a seq of its own from the
 * counter every thread shares: at the full level one thread's records of one epoch may lie
 * in the file out of their order (a record written on the owner's behalf sits in another
 * thread's chunk), and the check of a check-then-act must sort before its act. */
static inline __attribute__((always_inline)) void record_access(struct lw_thread *t,
								 uintptr_t addr, unsigned size,
								 unsigned flags, uintptr_t pc,
								 uint64_t aseq)
{
	if (t->n_unwritten)
		lw_write_unwritten_holds(t);
	uint16_t f = (uint16_t)(flags | LW_SRC_HOOK);
	uint64_t seq = aseq;
	uint32_t sub = 0, stack = lw_access_stack(t, pc);
	if (!seq && lw_epoch.seq) {
		if (join_read(addr, size, flags, pc, stack))
			return;
		seq = lw_epoch.seq;
		sub = ++lw_epoch.sub;
		f |= LW_ACCESS_AFTER;
	} else if (!seq) {
		seq = lw_next_seq();
	}
	struct lw_rec_access *r = write_access(t->tid, f, (uint16_t)size, addr, pc, stack, seq, sub);
	bool plain_read = (flags & (LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC |
				    LW_ACCESS_FREE)) == LW_ACCESS_READ;
	last_read.r = plain_read && (f & LW_ACCESS_AFTER) ? r : NULL;
	last_read.seq = seq;
	last_read.sub = sub;
}

/* Whether a slow path may record: not before the shim is ready, nor inside it. */
static inline bool slow_ok(void)
{
	return !lw_guard && __atomic_load_n(&hooks_on, __ATOMIC_ACQUIRE);
}

/* The slow paths' way in, once slow_ok: the calling thread, entered (lw_enter) and with its
 * hooks set up, or NULL. */
static inline struct lw_thread *slow_enter(void)
{
	struct lw_thread *t = lw_enter();
	if (t && LW_UNLIKELY(lw_hook.key == 0 || lw_hook.tid != t->tid))
		thread_init(t);
	return t;
}

/* The slow path (hooks.h), also of a free (LW_ACCESS_FREE: a write to the block's first
 * LW_ACCESS_FREE_MAX bytes). */
void lw_hook_slow(uintptr_t addr, unsigned size, unsigned flags, uintptr_t pc)
{
	if (!slow_ok())
		return;
	int saved = errno;
	struct lw_thread *t = slow_enter();
	if (!t)
		goto out;
	if (addr - lw_hook.stack_lo < lw_hook.stack_span || size == 0)
		goto leave;
	/* An atomic's record is its own event, and the analyzer must know what it held. */
	if ((flags & LW_ACCESS_ATOMIC) && t->n_unwritten)
		lw_write_unwritten_holds(t);
	uint64_t aseq = (flags & LW_ACCESS_ATOMIC) ? lw_next_seq() : 0;
	uint64_t first = addr >> 3, last = (addr + size - 1) >> 3;
	bool record = false;
	if (last < first || last - first > (flags & LW_ACCESS_FREE ? LW_ACCESS_FREE_MAX / 8 : 8))
		last = first;
	for (uint64_t g = first; g <= last; g++) {
		/* The bytes of the access in this granule: [from, to). */
		uintptr_t from = g == first ? addr : g << 3;
		uintptr_t to = (g + 1) << 3 < addr + size ? (g + 1) << 3 : addr + size;
		record |= on_granule(t, g, from, (unsigned)(to - from), flags, pc, aseq, NULL);
	}
	if (record)
		record_access(t, addr, size, flags, pc, aseq);
leave:
	lw_leave();
out:
	errno = saved;
}

/* The slow path of whole granules [addr, addr+size) of a range (hook_range), off the
 * thread's stack: each granule takes its way through the filter, and those the trace needs
 * are written as one record for each run of them (of LW_ACCESS_CHECKED bytes at most)
 * rather than one a granule, so that a 4 KiB memcpy of shared data is one record, not 512;
 * so are the owners' accesses it takes (struct owner_run).  Same guarantees. */
static __attribute__((noinline)) void slow_range(uintptr_t addr, size_t size, unsigned flags,
						 uintptr_t pc)
{
	if (!slow_ok())
		return;
	int saved = errno;
	struct lw_thread *t = slow_enter();
	if (!t)
		goto out;
	uint64_t first = addr >> 3, end = first + (size >> 3), run_lo = 0, run = 0;
	struct owner_run owners = { 0 };
	for (uint64_t g = first; g < end; g++) {
		bool rec = on_granule(t, g, (uintptr_t)(g << 3), 8, flags, pc, 0, &owners);
		if (rec && run && run < LW_ACCESS_CHECKED / 8) {
			run++;
			continue;
		}
		if (run)
			record_access(t, (uintptr_t)(run_lo << 3), (unsigned)(run * 8), flags, pc, 0);
		run = rec;
		run_lo = g;
	}
	if (run)
		record_access(t, (uintptr_t)(run_lo << 3), (unsigned)(run * 8), flags, pc, 0);
	flush_owner_run(&owners);
	lw_leave();
out:
	errno = saved;
}

void lw_hooks_free(uintptr_t addr, size_t size, uintptr_t pc)
{
	if (addr && size)
		lw_hook_slow(addr, size < LW_ACCESS_FREE_MAX ? (unsigned)size : LW_ACCESS_FREE_MAX,
			     LW_ACCESS_WRITE | LW_ACCESS_FREE, pc);
}

/* The medium path of a plain access inside one granule: cell c (found in state s) is this
 * thread's, holding a plain access of an earlier epoch, or a read of this one when this is a
 * write (own: the state it takes; wh: its `where` but for the stack id).  The cell takes
 * this access, as the slow path's owner case would: by one store (or exchange, without the
 * bias) when it is at the place the cell holds, else with its stack id from the thread's
 * cache of sites.  Returns false when the slow path must do it (anything else, or a lost
 * race). */
static inline __attribute__((always_inline)) bool restamp(struct lw_cell *c, uint64_t s,
							  uint64_t own, uint64_t wh, uintptr_t pc)
{
	const uint64_t who = LW_ST_TAGMASK | LW_ST_TIDMASK;
	if (s == 0 || (s & (who | LW_ST_SHARED | LW_ST_BUSY | LW_ST_ATOMIC)) != (own & who))
		return false;
	struct lw_thread *t = lw_self;
	uint64_t stack;
	if (holds_place(c, wh))
		return stamp_own(t, c, s, 0, own);
	if (!t || !cached_where_stack(t, pc, &stack))
		return false;
	return stamp_own(t, c, s, wh | stack, own);
}

/* The medium path of a hook inside one granule that the fast path did not settle, the
 * granule's cell found in state s: the thread's own granule in a new epoch (restamp), a
 * read of data nobody writes (kept_read_again), else the slow path.  Inlined into one
 * function per kind and size of access (hooks.h, lw_medium_fn), where size and flags are
 * constants. */
static inline __attribute__((always_inline)) void hook_medium(uintptr_t addr, unsigned size,
							       unsigned flags, uintptr_t pc,
							       uint64_t s)
{
	struct lw_cell *c = &lw_hook.shadow[(addr >> 3) & LW_CELL_MASK];
	if (!(s & LW_ST_SHARED)) {
		if (restamp(c, s, lw_hook.key | LW_ST_TAG(addr) |
				  (flags & LW_ACCESS_WRITE ? LW_ST_WRITE : 0),
			    where_of(pc, addr, size), pc))
			return;
	} else if (!(s & LW_ST_TIDMASK) && !(flags & LW_ACCESS_WRITE) &&
		   kept_read_again(s, addr, size, pc)) {
		return;
	}
	lw_hook_slow(addr, size, flags, pc);
}

void lw_hook_medium_any(uintptr_t addr, unsigned size, unsigned flags, uintptr_t pc, uint64_t s)
{
	hook_medium(addr, size, flags, pc, s);
}

#define LW_MEDIUM(n)                                                                          \
	void lw_hook_medium_read##n(uintptr_t addr, uintptr_t pc, uint64_t s)                 \
	{ hook_medium(addr, n, LW_ACCESS_READ, pc, s); }                                      \
	void lw_hook_medium_write##n(uintptr_t addr, uintptr_t pc, uint64_t s)                \
	{ hook_medium(addr, n, LW_ACCESS_WRITE, pc, s); }

LW_MEDIUM(1)
LW_MEDIUM(2)
LW_MEDIUM(4)
LW_MEDIUM(8)
LW_MEDIUM(16)

#define LW_PC() ((uintptr_t)__builtin_return_address(0))

#define LW_HOOKS(n)                                                                           \
	LW_EXPORT void __sanitizer_cov_load##n(void *p)                                       \
	{ lw_hook_fast((uintptr_t)p, n, LW_ACCESS_READ, LW_PC(), lw_hook_medium_read##n); }   \
	LW_EXPORT void __sanitizer_cov_store##n(void *p)                                      \
	{ lw_hook_fast((uintptr_t)p, n, LW_ACCESS_WRITE, LW_PC(), lw_hook_medium_write##n); } \
	LW_EXPORT void __lockwatch_cov_atomic_load##n(void *p)                                \
	{ lw_hook_slow((uintptr_t)p, n, LW_ACCESS_READ | LW_ACCESS_ATOMIC, LW_PC()); }        \
	LW_EXPORT void __lockwatch_cov_atomic_store##n(void *p)                               \
	{ lw_hook_slow((uintptr_t)p, n, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, LW_PC()); }

LW_HOOKS(1)
LW_HOOKS(2)
LW_HOOKS(4)
LW_HOOKS(8)
LW_HOOKS(16)

/* An atomic read-modify-write (atomicrmw, cmpxchg): `lockwatch cc` calls it just before the
 * operation (its release) and just after (its acquire). */
LW_EXPORT void __lockwatch_cov_atomic_rmw(void *p, uint64_t size)
{
	lw_hook_slow((uintptr_t)p, size > 16 ? 16 : (unsigned)size,
		  LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, LW_PC());
}

/* Forgets the owners of the cells of [addr, addr+size): a block the allocator just handed
 * out starts with no owner, whoever used the memory before.  A large range's whole pages of
 * cells go back to the kernel instead of being cleared. */
void lw_hooks_forget(uintptr_t addr, size_t size)
{
	uint64_t first = addr >> 3, last = (addr + size - 1) >> 3;

	if (!__atomic_load_n(&hooks_on, __ATOMIC_ACQUIRE) || size == 0 || last < first)
		return;
	uint64_t n = last - first + 1 < LW_CELL_COUNT ? last - first + 1 : LW_CELL_COUNT;
	uint64_t i = first & LW_CELL_MASK;
	while (n) {
		uint64_t run = LW_CELL_COUNT - i < n ? LW_CELL_COUNT - i : n;
		struct lw_cell *c = &shadow[i], *end = c + run;
		uintptr_t lo = ((uintptr_t)c + 4095) & ~(uintptr_t)4095;
		uintptr_t hi = (uintptr_t)end & ~(uintptr_t)4095;
		if (run * sizeof *c >= (64u << 10) && hi > lo) {
			memset(c, 0, lo - (uintptr_t)c);
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
			memset((void *)hi, 0, (uintptr_t)end - hi);
		} else {
			for (; c < end; c++)
				__atomic_store_n(&c->state, 0, __ATOMIC_RELAXED);
		}
		n -= run;
		i = 0;
	}
}

/* One aligned piece of a range: 8, 4, 2 or 1 bytes, as a's alignment and n allow.  Returns
 * its size. */
static inline __attribute__((always_inline)) size_t range_piece(uintptr_t a, size_t n,
								 unsigned flags, uintptr_t pc)
{
	if (!(a & 7) && n >= 8) {
		lw_hook_fast(a, 8, flags, pc, LW_HOOK_MEDIUM(8, flags));
		return 8;
	} else if (!(a & 3) && n >= 4) {
		lw_hook_fast(a, 4, flags, pc, LW_HOOK_MEDIUM(4, flags));
		return 4;
	} else if (!(a & 1) && n >= 2) {
		lw_hook_fast(a, 2, flags, pc, LW_HOOK_MEDIUM(2, flags));
		return 2;
	}
	lw_hook_fast(a, 1, flags, pc, LW_HOOK_MEDIUM(1, flags));
	return 1;
}

/* A range as aligned pieces of 8, 4, 2 and 1 bytes, each inside one granule, so that each
 * takes the fast path and its cell holds exactly its bytes.  A range on the thread's stack
 * costs nothing; its whole granules are checked in one loop, with what the fast path needs
 * loaded once (a memcpy of the thread's own 4 KiB costs some 1,000 of them).  Before the
 * thread's hooks are set up (or with them off, or inside the shim) the first piece goes the
 * slow way, and the rest only if that set them up. */
static inline __attribute__((always_inline)) void hook_range(uintptr_t a, size_t n,
							      unsigned flags, uintptr_t pc)
{
	uintptr_t lo = lw_hook.stack_lo, span = lw_hook.stack_span;

	if (n == 0 || a + n < a || (a - lo < span && a + n - 1 - lo < span))
		return;
	if (LW_UNLIKELY(lw_hook.key == 0)) {
		lw_hook_slow(a, 1, flags, pc);
		if (lw_hook.key == 0)
			return;
		/* The loop takes that byte again: the fast path settles it. */
	}
	for (size_t k; n && (a & 7); a += k, n -= k)
		k = range_piece(a, n, flags, pc);
	/* Whole granules, unless the range meets the stack (the pieces then skip its part),
	 * four at a time while each is the thread's own in this epoch: the fast path's test
	 * (a read is settled by the thread's read or write, a write by its write), with the
	 * tag the same for all of them up to where the index wraps. */
	if (n >= 8 && !(lo - a < n || a - lo < span)) {
		const uint64_t ignored = flags & LW_ACCESS_WRITE ? 0 : LW_ST_WRITE;
		const uint64_t write = flags & LW_ACCESS_WRITE ? LW_ST_WRITE : 0;
		while (n >= 8 && lw_hook.key) {
			uint64_t mine = lw_hook.key | LW_ST_TAG(a) | write;
			uint64_t first = (a >> 3) & LW_CELL_MASK;
			size_t run = n / 8 < LW_CELL_COUNT - first ? n / 8 : LW_CELL_COUNT - first;
			const struct lw_cell *c = &lw_hook.shadow[first];
			size_t i = 0, j;
#define LW_OFF(k) ((__atomic_load_n(&c[(k)].state, __ATOMIC_RELAXED) & ~ignored) ^ mine)
			while (i + 4 <= run &&
			       !(LW_OFF(i) | LW_OFF(i + 1) | LW_OFF(i + 2) | LW_OFF(i + 3)))
				i += 4;
			while (i < run && !LW_OFF(i))
				i++;
			a += i * 8, n -= i * 8;
			if (i == run)
				continue;
			/* The granules from i on that the fast path does not settle: one goes
			 * its medium way, a run of them the slow way together. */
			for (j = i + 1; j < run && j - i < LW_ACCESS_CHECKED / 8 && LW_OFF(j); j++)
				;
#undef LW_OFF
			if (j - i == 1)
				LW_HOOK_MEDIUM(8, flags)(a, pc,
					__atomic_load_n(&c[i].state, __ATOMIC_RELAXED));
			else
				slow_range(a, (j - i) * 8, flags, pc);
			a += (j - i) * 8, n -= (j - i) * 8;
		}
	}
	for (size_t k; n; a += k, n -= k)
		k = range_piece(a, n, flags, pc);
}

void lw_hook_read_range(uintptr_t addr, size_t size, uintptr_t pc)
{
	hook_range(addr, size, LW_ACCESS_READ, pc);
}

void lw_hook_write_range(uintptr_t addr, size_t size, uintptr_t pc)
{
	hook_range(addr, size, LW_ACCESS_WRITE, pc);
}
