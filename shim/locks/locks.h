/* The table of locks (locks.c): identity by (address, generation), flags, first use. */
#ifndef LW_LOCKS_LOCKS_H
#define LW_LOCKS_LOCKS_H

#include <stdbool.h>
#include <stdint.h>

#include "lw_trace_format.h"
#include "core/defs.h"

struct lw_lock {
	uintptr_t addr;              /* 0: free slot; written once, by CAS */
	uint32_t gen;
	uint16_t kind;               /* enum lw_lock_kind */
	uint16_t flags;              /* LW_LOCKF_* */
	uint32_t announced;          /* trace epoch in which LOCK_INIT was written */
	uint32_t init_stack;
	uint32_t foreign;            /* unlocks by a thread that did not hold it (atomic) */
	/* Full level: the only thread that has taken this generation of a mutex or spinlock
	 * (0: none yet, LW_USER_SHARED: two or more have).  See acquire.c, "A lock one
	 * thread uses". */
	uint32_t user;
	/* The last two acquisition keys (see acquire.c) taken of this lock: a loop that walks
	 * more locks than a thread's own cache holds finds its keys here, on the line the
	 * lookup already read, instead of in the process-wide set.  The full level, which
	 * looks up keys only for a lock with one user, keeps one, and in seen[1] the seq of
	 * that user's last release left out of the trace (0: none). */
	uint64_t seen[2];
};
#define lw_lock_unwritten_release(l) (&(l)->seen[1])

#define LW_USER_SHARED UINT32_MAX

/* Shim-internal lock flag (never written to the trace). */
#define LW_LOCKF_DESTROYED (1u << 15)
/* Open addressing on the address.  The hash keeps nearby addresses in nearby slots (so
 * 100k mutexes in one array touch few pages) and folds the high bits in (so locks at the
 * same offset of different thread stacks do not collide).  Its unit is 32 bytes, less than
 * any lock but a spinlock: mutexes 64 bytes apart fill every other slot, and the table
 * spans 1.5 times their memory (in 8-byte units it was 6 times, all of it resident). */
#define LW_LOCK_BITS  21
#define LW_LOCK_SLOTS (1u << LW_LOCK_BITS)
LW_HIDDEN extern struct lw_lock *lw_lock_table;
LW_HIDDEN extern uint32_t lw_trace_epoch;
static inline uint32_t slot_of(uintptr_t a)
{
	return (uint32_t)((a >> 5) ^ (a >> (5 + LW_LOCK_BITS)) ^ (a >> 43)) & (LW_LOCK_SLOTS - 1);
}
LW_HIDDEN struct lw_lock *lw_lock_get_slow(const void *addr, uint16_t kind, uintptr_t site);
/* Finds the lock at addr, registering it (as first used, LW_LOCKF_STATIC) if unknown, and
 * writes its LOCK_INIT to the trace if this trace has not seen it.  Returns NULL only when
 * the lock table is full. */
static inline struct lw_lock *lw_lock_get(const void *addr, uint16_t kind, uintptr_t site)
{
	struct lw_lock *t = lw_lock_table;
	if (LW_LIKELY(t != NULL)) {
		struct lw_lock *l = &t[slot_of((uintptr_t)addr)];
		if (LW_LIKELY(__atomic_load_n(&l->addr, __ATOMIC_ACQUIRE) == (uintptr_t)addr &&
			      __atomic_load_n(&l->announced, __ATOMIC_ACQUIRE) == lw_trace_epoch))
			return l;
	}
	return lw_lock_get_slow(addr, kind, site);
}
/* Starts a new generation at addr (an *_init or sem_open). */
LW_HIDDEN void lw_lock_new_gen(const void *addr, uint16_t kind, uint16_t flags, uintptr_t site);
LW_HIDDEN void lw_lock_destroyed(const void *addr, uintptr_t site);
/* The LW_LOCKF_* flags of a known lock, 0 if unknown.  Never inserts. */
LW_HIDDEN uint16_t lw_lock_flags(uintptr_t addr);
/* The known lock at addr, or NULL.  Never inserts. */
LW_HIDDEN const struct lw_lock *lw_lock_find(uintptr_t addr);
LW_HIDDEN void lw_locks_reset_after_fork(void);

#endif
