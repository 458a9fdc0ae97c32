/* The table of locks (locks.c): identity by (address, generation), flags, first use. */
#ifndef LW_LOCKS_LOCKS_H
#define LW_LOCKS_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
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

/* Shim-internal lock flags (never written to the trace). */
#define LW_LOCKF_DESTROYED (1u << 15)
/* Semaphores (acquire.c, "Semaphores that signal"): this generation was posted by a thread
 * that had not waited on it, so it enters no held set; and, at the dependencies level, it
 * was destroyed with its generation kept for a sem_init at the same address and site. */
#define LW_LOCKF_SEM_SIGNALS  (1u << 14)
#define LW_LOCKF_SEM_GEN_KEPT (1u << 13)
/* Another process may hold, unlock, post or signal the lock (it is process-shared and lives
 * in a MAP_SHARED mapping, or where it lives is unknown).  Set when its LOCK_INIT is written
 * (locks.c). */
#define LW_LOCKF_XPROC     (1u << 12)
#define LW_LOCKF_SHIM_ONLY (LW_LOCKF_DESTROYED | LW_LOCKF_SEM_SIGNALS | LW_LOCKF_SEM_GEN_KEPT | \
			    LW_LOCKF_XPROC)
/* lw_lock.announced of a generation kept at its destroy: the epoch with this bit. */
#define LW_ANNOUNCED_KEPT 0x80000000u
/* Open addressing on the address.  The hash keeps nearby addresses in nearby slots (so
 * 100k mutexes in one array touch few pages): within each 64 MB of address space (2^21 slots
 * of 32 bytes) the slot is the offset, turned by an amount drawn from the higher bits (so
 * locks at the same offset of different thread stacks, or of different malloc arenas, which
 * glibc aligns to 64 MB, do not fall in the same slots: with an XOR of the higher bits they
 * did, and four threads' OpenSSL objects made one run of 12k slots).  Its unit is 32 bytes,
 * less than any lock but a spinlock: mutexes 64 bytes apart fill every other slot, and the
 * table spans 1.5 times their memory (in 8-byte units it was 6 times, all of it resident).
 * Destroyed locks' slots are taken again (locks.c). */
#define LW_LOCK_BITS  21
#define LW_LOCK_SLOTS (1u << LW_LOCK_BITS)
LW_HIDDEN extern struct lw_lock *lw_lock_table;
LW_HIDDEN extern uint32_t lw_trace_epoch;
static inline uint32_t slot_of(uintptr_t a)
{
	uint32_t turn = (uint32_t)(((uint64_t)(a >> (5 + LW_LOCK_BITS)) * 0x9e3779b97f4a7c15ull) >>
				   (64 - LW_LOCK_BITS));
	return ((uint32_t)(a >> 5) + turn) & (LW_LOCK_SLOTS - 1);
}
/* Lock operations the shim could not record (the table was full, or a signal handler's call
 * came while its thread inserted): from the first on, an unlock or a wait that finds no
 * acquisition in the books may be one of theirs, so it is not called misuse. */
LW_HIDDEN extern uint64_t lw_locks_unrecorded;
LW_HIDDEN void lw_locks_note_unrecorded(void);
static inline bool lw_locks_incomplete(void)
{
	return __atomic_load_n(&lw_locks_unrecorded, __ATOMIC_ACQUIRE) != 0;
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
/* A semaphore that signals is destroyed at the dependencies level: its LOCK_DESTROY is
 * written once per generation, and the generation is kept for a sem_init at the same
 * address and site (acquire.c, "Semaphores that signal"). */
LW_HIDDEN void lw_sem_destroyed_keep_gen(const void *addr, uintptr_t site);

/* Process-shared objects. */
struct lw_thread;
/* In a fork() child: drops from t's held set the locks another process may hold (a
 * process-shared lock in shared memory stays its parent's).  Writes nothing. */
LW_HIDDEN void lw_locks_fork_child_held(struct lw_thread *t);
/* Whether another process may hold, unlock, post or signal the object of that kind at addr.
 * Never faults; says true when it cannot tell (the object is gone). */
LW_HIDDEN bool lw_lock_cross_process(uintptr_t addr, uint16_t kind);
/* LW_LOCKF_PSHARED when the glibc object at obj (readable) says it is process-shared. */
LW_HIDDEN uint16_t lw_pshared_in_memory(const void *obj, uint16_t kind);
/* Finds addr in /proc/self/maps without malloc: 1 and *id filled when its mapping is
 * MAP_SHARED, 0 when it is private, -1 when unknown. */
LW_HIDDEN int lw_shared_mapping(uintptr_t addr, struct lw_lock_init_shared *id);
/* Copies len bytes at addr into buf; false, never a fault, when they are not mapped. */
LW_HIDDEN bool lw_mem_read(uintptr_t addr, void *buf, size_t len);

/* The LW_LOCKF_API_* of the lock the calling wrapper serves (0: pthreads): a lock first seen
 * in use is registered with it, and a lock not of glibc's pthread layout is not read as one
 * (wrap_c11.c, wrap_glib.c, access/annotate_tsan_mutex.c set it for their calls). */
LW_HIDDEN extern __thread uint16_t lw_lock_api __attribute__((tls_model("initial-exec")));
/* Whether flags (LW_LOCKF_*) name a lock whose memory is laid out as glibc's pthread one. */
#define LW_PTHREAD_LAYOUT(flags) (((flags) & LW_LOCKF_API_MASK) <= LW_LOCKF_API_C11)

#endif
