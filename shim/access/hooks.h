/* The compiler hooks' shadow cells and fast path, inline for every hook interface
 * (hooks.c: clang's load/store hooks; hooks_tsan.c: ThreadSanitizer's), and their way into
 * the access filter (hooks.c). */
#ifndef LW_HOOKS_H
#define LW_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lw_trace_format.h"
#include "core/defs.h"
#include "core/threads.h"
#include "core/trace_writer.h"

/* A granule's shadow cell (hooks.c, "The filter", says what it holds):
 *   state: tag:13 | tid:16 | SHARED:1 | WRITE:1 | ATOMIC:1 | BUSY:1 | seq:31
 *   where: pc:47 | offset in the granule:3 | log2 size:2 | stack id:12 (0: too large) */
#define LW_CELL_BITS    31
#define LW_CELL_COUNT   (1ull << LW_CELL_BITS)
#define LW_CELL_MASK    (LW_CELL_COUNT - 1)
#define LW_TAG_SHIFT    (3 + LW_CELL_BITS)        /* address bits above the index */
#define LW_ST_TAG(a)    ((uint64_t)((a) >> LW_TAG_SHIFT) << 51)
#define LW_ST_TAGMASK   (0x1fffull << 51)
#define LW_ST_TID(t)    ((uint64_t)((t) & 0xffffu) << 35)
#define LW_ST_TIDMASK   (0xffffull << 35)
#define LW_ST_SHARED    (1ull << 34)
#define LW_ST_WRITE     (1ull << 33)
#define LW_ST_ATOMIC    (1ull << 32)
#define LW_ST_BUSY      (1ull << 31)        /* its owner is writing `where` */
#define LW_WH_PC        ((1ull << 47) - 1)
#define LW_WH_MAX_STACK 0xfffu

struct lw_cell {
	uint64_t state;
	uint64_t where;
};

/* The slow path of every hook, and the whole path of an atomic access (flags with
 * LW_ACCESS_ATOMIC): records nothing before the shim is ready or inside the shim; can't
 * fail; leaves errno as it found it. */
LW_HIDDEN void lw_hook_slow(uintptr_t addr, unsigned size, unsigned flags, uintptr_t pc);

/* The medium path of a plain access inside one granule whose cell the fast path found in
 * state s and could not settle: one function for each kind and size of access, and one
 * for any (lw_hook_medium_any).  Same guarantees. */
typedef void lw_medium_fn(uintptr_t addr, uintptr_t pc, uint64_t s);
LW_HIDDEN lw_medium_fn lw_hook_medium_read1, lw_hook_medium_read2, lw_hook_medium_read4,
	lw_hook_medium_read8, lw_hook_medium_read16, lw_hook_medium_write1,
	lw_hook_medium_write2, lw_hook_medium_write4, lw_hook_medium_write8,
	lw_hook_medium_write16;
LW_HIDDEN void lw_hook_medium_any(uintptr_t addr, unsigned size, unsigned flags, uintptr_t pc,
				  uint64_t s);
/* The medium path of an access of n bytes (1, 2, 4, 8 or 16) and flags. */
#define LW_HOOK_MEDIUM(n, flags) \
	((flags) & LW_ACCESS_WRITE ? lw_hook_medium_write##n : lw_hook_medium_read##n)

/* A plain access of size bytes at addr (LW_ACCESS_READ or LW_ACCESS_WRITE) by the code at
 * pc, medium being its medium path (NULL: lw_hook_medium_any).  The fast path: a stack
 * address, or the thread's own granule in its current epoch (a read is settled by its read
 * or write there, a write by its write).  It calls nothing but, last, the medium or the
 * slow path, so that a hook built on it needs no stack frame: this is what every access to
 * a thread's own data costs.  Same guarantees. */
static inline __attribute__((always_inline)) void lw_hook_fast(uintptr_t addr, unsigned size,
							       unsigned flags, uintptr_t pc,
							       lw_medium_fn *medium)
{
	if (addr - lw_hook.stack_lo < lw_hook.stack_span)
		return;
	/* Set up (the key) and inside one granule: for an 8-byte access, an aligned one; a
	 * byte always. */
	uint64_t key = lw_hook.key;
	if (LW_LIKELY(key != 0) && LW_LIKELY((addr & 7) + size <= 8)) {
		uint64_t mine = key | LW_ST_TAG(addr);
		uint64_t s = __atomic_load_n(&lw_hook.shadow[(addr >> 3) & LW_CELL_MASK].state,
					     __ATOMIC_RELAXED);
		if (flags & LW_ACCESS_WRITE ? LW_LIKELY(s == (mine | LW_ST_WRITE))
					    : LW_LIKELY((s & ~LW_ST_WRITE) == mine))
			return;
		if (medium)
			medium(addr, pc, s);
		else
			lw_hook_medium_any(addr, size, flags, pc, s);
		return;
	}
	lw_hook_slow(addr, size, flags, pc);
}

/* A plain read or write of size bytes from addr, of any size (memcpy's, say), by the code at
 * pc.  Same guarantees. */
LW_HIDDEN void lw_hook_read_range(uintptr_t addr, size_t size, uintptr_t pc);
LW_HIDDEN void lw_hook_write_range(uintptr_t addr, size_t size, uintptr_t pc);

/* Whether ThreadSanitizer's own runtime is loaded (its __tsan_* entry points and ours cannot
 * both serve the program). */
LW_HIDDEN bool lw_tsan_runtime_loaded(void);

/* Maps the shadow table when hooks are in use.  Never fails: says why on stderr and leaves
 * the hooks off. */
LW_HIDDEN void lw_hooks_init(void);
/* In a fork() child: forgets every location's owner (the child's threads are new). */
LW_HIDDEN void lw_hooks_after_fork(void);
/* Thread t ends (called by t): its reads kept out of the trace go in, and its bias on its
 * cells ends (hooks.c). */
LW_HIDDEN void lw_hooks_thread_ended(struct lw_thread *t);
/* A heap block was handed out at [addr, addr+size): its cells forget their owners. */
LW_HIDDEN void lw_hooks_forget(uintptr_t addr, size_t size);
/* The program is freeing the heap block [addr, addr+size) from pc: a write to all of it (its
 * first LW_ACCESS_FREE_MAX bytes), recorded when another thread touched it.  Keeps errno. */
LW_HIDDEN void lw_hooks_free(uintptr_t addr, size_t size, uintptr_t pc);
/* The program's allocator handed the calling thread the block p of size bytes (p may be
 * NULL) at pc, by fn (enum lw_alloc_fn): its cells forget their owners and an ALLOC record
 * names it (shim/access/hooks_heap.c).  p must come from the C library's malloc.  Keeps errno. */
LW_HIDDEN void lw_hooks_allocated(void *p, size_t size, uint16_t fn, uintptr_t pc);

#endif
