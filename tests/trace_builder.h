/* Builds lockwatch traces by hand, in memory, for unit tests (follows lw_trace_format.h). */
#ifndef LW_TRACE_BUILDER_H
#define LW_TRACE_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_trace_format.h"

struct tb {
	unsigned char *buf;
	size_t len, cap;
	uint64_t seq;                /* next event order number */
};

static inline void tb_reserve(struct tb *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	while (b->len + n > b->cap)
		b->cap = b->cap ? b->cap * 2 : 8192;
	b->buf = realloc(b->buf, b->cap);
	if (!b->buf)
		abort();
}

/* Appends n raw bytes. */
static inline void tb_raw(struct tb *b, const void *p, size_t n)
{
	if (n == 0)
		return;              /* p may be NULL then, which memcpy does not allow */
	tb_reserve(b, n);
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static inline void tb_zeros(struct tb *b, size_t n)
{
	tb_reserve(b, n);
	memset(b->buf + b->len, 0, n);
	b->len += n;
}

/* Starts a trace: the 4096-byte header of process pid. */
static inline void tb_init(struct tb *b, int32_t pid)
{
	struct lw_trace_header h;

	memset(b, 0, sizeof(*b));
	b->seq = 1;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, LW_TRACE_MAGIC, 8);
	h.version = LW_TRACE_VERSION;
	h.header_size = LW_TRACE_HEADER_SIZE;
	h.session = 0x1234;
	h.pid = pid;
	h.ppid = 1;
	h.level = LW_LEVEL_DEPENDENCIES;
	strcpy(h.exe, "/test/prog");
	tb_raw(b, &h, sizeof(h));
	tb_zeros(b, LW_TRACE_HEADER_SIZE - sizeof(h));
}

static inline struct lw_trace_header *tb_header(struct tb *b)
{
	return (struct lw_trace_header *)b->buf;
}

/* Marks the trace closed at its current end. */
static inline void tb_close(struct tb *b)
{
	tb_header(b)->flags |= LW_HDR_CLOSED;
	tb_header(b)->end_offset = b->len;
}

static inline struct lw_rec_head tb_head(uint16_t kind, size_t size)
{
	struct lw_rec_head h = { LW_REC_MAGIC, kind, (uint32_t)size };

	return h;
}

/* Appends a fixed-size record r of the given kind (size from sizeof). */
#define TB_FIXED(b, kind, r) \
	do { (r).head = tb_head(kind, sizeof(r)); tb_raw(b, &(r), sizeof(r)); } while (0)

static inline void tb_module(struct tb *b, uint64_t base, uint64_t lo, uint64_t hi,
			     const char *path)
{
	struct lw_rec_module r;
	size_t plen = strlen(path), size = (sizeof(r) + plen + 7) & ~(size_t)7;

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_MODULE, size);
	r.base = base;
	r.lo = lo;
	r.hi = hi;
	r.path_len = (uint16_t)plen;
	tb_raw(b, &r, sizeof(r));
	tb_raw(b, path, plen);
	tb_zeros(b, size - sizeof(r) - plen);
}

static inline void tb_stack(struct tb *b, uint32_t id, uint32_t depth, const uint64_t *pcs)
{
	struct lw_rec_stack r;

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_STACK, sizeof(r) + depth * 8);
	r.id = id;
	r.depth = depth;
	tb_raw(b, &r, sizeof(r));
	tb_raw(b, pcs, depth * 8);
}

/* Thread tid created by parent (0 for main) at the next event. */
static inline void tb_thread(struct tb *b, uint32_t tid, uint32_t parent)
{
	struct lw_rec_thread r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.parent = parent;
	r.os_tid = 1000 + (int32_t)tid;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_THREAD, r);
}

static inline void tb_join(struct tb *b, uint32_t joiner, uint32_t joined)
{
	struct lw_rec_join r;

	memset(&r, 0, sizeof(r));
	r.joiner = joiner;
	r.joined = joined;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_JOIN, r);
}

static inline void tb_lock_init(struct tb *b, uint64_t addr, uint32_t gen, uint16_t kind,
				uint16_t flags, uint32_t stack)
{
	struct lw_rec_lock_init r;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.gen = gen;
	r.lock_kind = kind;
	r.flags = flags;
	r.stack = stack;
	r.tid = 1;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_LOCK_INIT, r);
}

/* Issue 18: a process-shared lock's LOCK_INIT with LW_LOCKF_SHARED_MAP and the mapped
 * object (dev, ino, offset) after it; size: the record's, to build a short one on purpose. */
static inline void tb_lock_init_shared(struct tb *b, uint64_t addr, uint16_t flags,
				       uint32_t stack, uint64_t ino, uint64_t offset, size_t size)
{
	struct lw_rec_lock_init r;
	struct lw_lock_init_shared sh = { 0xfe00, ino, offset };

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_LOCK_INIT, size);
	r.addr = addr;
	r.lock_kind = LW_LOCK_MUTEX;
	r.flags = (uint16_t)(flags | LW_LOCKF_PSHARED | LW_LOCKF_SHARED_MAP);
	r.stack = stack;
	r.tid = 1;
	r.seq = b->seq++;
	tb_raw(b, &r, sizeof(r));
	tb_raw(b, &sh, size - sizeof(r));
}

/* A held lock for tb_acquire: write mode, no flags, no stack. */
static inline struct lw_held tb_held(uint64_t addr, uint32_t gen, uint16_t mode)
{
	struct lw_held h;

	memset(&h, 0, sizeof(h));
	h.addr = addr;
	h.gen = gen;
	h.mode = mode;
	return h;
}

static inline void tb_acquire_full(struct tb *b, uint32_t tid, uint64_t addr, uint32_t gen,
				   uint16_t mode, uint16_t flags, uint32_t stack, uint32_t n_held,
				   const struct lw_held *held)
{
	struct lw_rec_acquire r;

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_ACQUIRE, sizeof(r) + n_held * sizeof(struct lw_held));
	r.tid = tid;
	r.n_held = n_held;
	r.addr = addr;
	r.gen = gen;
	r.mode = mode;
	r.flags = flags;
	r.stack = stack;
	r.seq = b->seq++;
	tb_raw(b, &r, sizeof(r));
	tb_raw(b, held, n_held * sizeof(struct lw_held));
}

/* Thread tid took `to` (write) while holding `from` (write), both generation 0. */
static inline void tb_edge(struct tb *b, uint32_t tid, uint64_t from, uint64_t to)
{
	struct lw_held h = tb_held(from, 0, LW_MODE_WRITE);

	tb_acquire_full(b, tid, to, 0, LW_MODE_WRITE, 0, 0, 1, &h);
}

static inline void tb_sem_locklike(struct tb *b, uint32_t tid, uint64_t addr, uint32_t gen)
{
	struct lw_rec_sem_locklike r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.addr = addr;
	r.gen = gen;
	TB_FIXED(b, LW_REC_SEM_LOCKLIKE, r);
}

static inline void tb_misuse(struct tb *b, uint32_t tid, uint16_t what, uint64_t addr)
{
	struct lw_rec_misuse r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.what = what;
	r.lock_kind = LW_LOCK_MUTEX;
	r.addr = addr;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_MISUSE, r);
}

/* A deadlock record: thread tids[i] holds held[i] and waits for waits[i] (one lock each). */
static inline void tb_deadlock2(struct tb *b, const uint32_t tids[2], const uint64_t held[2],
				const uint64_t waits[2])
{
	struct lw_rec_deadlock r;

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_DEADLOCK, sizeof(r) + 2 * (sizeof(struct lw_deadlock_thread) +
							  sizeof(struct lw_held)));
	r.reason = LW_DEADLOCK_CYCLE;
	r.n_threads = 2;
	r.seq = b->seq++;
	tb_raw(b, &r, sizeof(r));
	for (int i = 0; i < 2; i++) {
		struct lw_deadlock_thread t;
		struct lw_held h = tb_held(held[i], 0, LW_MODE_WRITE);

		memset(&t, 0, sizeof(t));
		t.tid = tids[i];
		t.wait_addr = waits[i];
		t.wait_kind = LW_LOCK_MUTEX;
		t.wait_mode = LW_MODE_WRITE;
		t.n_held = 1;
		tb_raw(b, &t, sizeof(t));
		tb_raw(b, &h, sizeof(h));
	}
}

/* Full level: thread tid is about to release lock (addr, gen). */
static inline void tb_release(struct tb *b, uint32_t tid, uint64_t addr, uint32_t gen)
{
	struct lw_rec_release r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.addr = addr;
	r.gen = gen;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_RELEASE, r);
}

/* Full level: tid acquires mutex (addr, 0) with nothing else held; tb_unlock releases it. */
static inline void tb_lock(struct tb *b, uint32_t tid, uint64_t addr)
{
	tb_acquire_full(b, tid, addr, 0, LW_MODE_WRITE, 0, 0, 0, NULL);
}

static inline void tb_unlock(struct tb *b, uint32_t tid, uint64_t addr)
{
	tb_release(b, tid, addr, 0);
}

/* A memory access: flags are LW_ACCESS_* (LW_SRC_ANNOTATION is added). */
static inline void tb_access(struct tb *b, uint32_t tid, uint16_t flags, uint64_t addr,
			     uint16_t size, uint64_t pc, uint32_t stack)
{
	struct lw_rec_access r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.flags = flags | LW_SRC_ANNOTATION;
	r.size = size;
	r.addr = addr;
	r.pc = pc;
	r.stack = stack;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_ACCESS, r);
}

/* Hook mode: an access placed after the event with seq `after`, sub-th there
 * (LW_ACCESS_AFTER); it takes no seq of its own. */
static inline void tb_access_after(struct tb *b, uint32_t tid, uint16_t flags, uint64_t addr,
				   uint64_t pc, uint64_t after, uint32_t sub)
{
	struct lw_rec_access r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.flags = flags | LW_ACCESS_AFTER | LW_SRC_HOOK;
	r.size = 4;
	r.addr = addr;
	r.pc = pc;
	r.sub = sub;
	r.seq = after;
	TB_FIXED(b, LW_REC_ACCESS, r);
}

/* Hook mode: a read-modify-write placed after the event with seq `after`: the read at pc,
 * sub-th there, the write at wpc (its stack id wstack), next (LW_ACCESS_UPDATE). */
static inline void tb_update_after(struct tb *b, uint32_t tid, uint64_t addr, uint64_t pc,
				   uint64_t wpc, uint32_t wstack, uint64_t after, uint32_t sub)
{
	struct lw_rec_access r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.flags = LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_UPDATE | LW_ACCESS_AFTER |
		  LW_SRC_HOOK;
	r.size = 4;
	r.addr = addr;
	r.pc = pc;
	r.value = wpc | (uint64_t)wstack << LW_UPDATE_PC_BITS;
	r.sub = sub;
	r.seq = after;
	TB_FIXED(b, LW_REC_ACCESS, r);
}

static inline void tb_read(struct tb *b, uint32_t tid, uint64_t addr, uint64_t pc)
{
	tb_access(b, tid, LW_ACCESS_READ, addr, 4, pc, 0);
}

static inline void tb_write(struct tb *b, uint32_t tid, uint64_t addr, uint64_t pc)
{
	tb_access(b, tid, LW_ACCESS_WRITE, addr, 4, pc, 0);
}

/* Hook mode: thread tid allocated a heap block [addr, addr+size) at pc (malloc). */
static inline void tb_alloc(struct tb *b, uint32_t tid, uint64_t addr, uint64_t size,
			    uint64_t pc)
{
	struct lw_rec_alloc r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.fn = LW_ALLOC_MALLOC;
	r.addr = addr;
	r.size = size;
	r.pc = pc;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_ALLOC, r);
}

/* A happens-before operation (enum lw_sync_op) on addr. */
static inline void tb_sync(struct tb *b, uint32_t tid, uint16_t op, uint64_t addr)
{
	struct lw_rec_sync r;

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.op = op;
	r.addr = addr;
	r.seq = b->seq++;
	TB_FIXED(b, LW_REC_SYNC, r);
}

/* A watched variable named name at [addr, addr+size). */
static inline void tb_watch(struct tb *b, uint64_t addr, uint32_t size, const char *name)
{
	struct lw_rec_watch r;
	size_t nlen = strlen(name), rsize = (sizeof(r) + nlen + 7) & ~(size_t)7;

	memset(&r, 0, sizeof(r));
	r.head = tb_head(LW_REC_WATCH, rsize);
	r.addr = addr;
	r.size = size;
	r.name_len = (uint16_t)nlen;
	r.armed = 1;
	tb_raw(b, &r, sizeof(r));
	tb_raw(b, name, nlen);
	tb_zeros(b, rsize - sizeof(r) - nlen);
}

static inline void tb_free(struct tb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

#endif
