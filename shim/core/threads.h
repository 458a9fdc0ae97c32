/* The registry of threads (threads.c): each thread's state, and entering and leaving the shim. */
#ifndef LW_CORE_THREADS_H
#define LW_CORE_THREADS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lw_trace_format.h"
#include "core/defs.h"
#include "core/init.h"

struct lw_held_ent {
	uintptr_t addr;
	uint32_t gen;
	uint16_t mode;
	uint16_t flags;
	uint16_t kind;
	uint16_t heap;               /* LW_HELD_HEAPISH (locks/heap_held.h) or 0 */
	uint32_t stack;
	uint32_t count;              /* recursive holds */
	uint32_t foreign;            /* the lock's foreign-unlock count when taken */
	struct lw_lock *lock;        /* its entry in the lock table */
	bool unwritten;              /* full level: taken while one thread used it, and its
				      * acquisition is not in the trace (nor will its release be) */
	uint64_t acquired;           /* with unwritten: the seq its acquisition took */
	uint32_t section;            /* with unwritten, in hook mode: 1 + its index in the
				      * thread's sections, 0 if none */
	uint32_t section_version;    /* that section's version when it was noted */
};

/* Hook mode: a recent critical section of a lock only its thread had taken, left out of the
 * trace (acquire.c).  Another thread that writes an access of this thread's on its behalf
 * (hooks.c) first writes the sections that contain it, so that the analyzer knows what the
 * access held.  Written by the thread, read by others: version is odd while it changes. */
#define LW_PRIVATE_SECTIONS 64
struct lw_private_section {
	uint32_t version;            /* atomic */
	uint32_t placed;             /* atomic: the version whose records are in the trace */
	uint64_t acquired;           /* seq of the acquisition */
	uint64_t released;           /* atomic: seq of the release, 0 while held */
	uintptr_t addr;
	uint32_t gen, stack;
	uint16_t mode, flags;
};

#define LW_DEDUP_CACHE 256
#define LW_SITE_CACHE  128

struct lw_site_cache_ent { uintptr_t site; uint32_t stack; uint32_t pad; };

/* Hook mode: this thread's recent accesses to shared granules (hooks.c). */
#define LW_HOOK_RECENT 64
struct lw_hook_recent { uint64_t granule; uint32_t releases; uint32_t write; uint64_t cell; };
/* Hook mode: the thread's latest read of a granule that threads share and none has written
 * since (hooks.c, "Reads of data nobody writes"), kept out of the trace until a write to it,
 * or its eviction, needs it. */
#define LW_RO_READS 64
#define LW_RO_BUSY    1u           /* version: its thread is changing it */
#define LW_RO_WRITTEN 2u           /* version: its record is in the trace */
struct lw_ro_read {
	uint32_t version;            /* atomic: counts by 4, with the two flags above */
	uint32_t sub;
	uint64_t granule;            /* 0: none */
	uint64_t seq;                /* the thread's epoch at the read */
	uint64_t where;              /* as a cell's (hooks.c) */
};

enum lw_thread_state {
	LW_TS_FREE = 0, LW_TS_LIVE = 1, LW_TS_ENDED = 2,
};

struct lw_thread {
	struct lw_thread *next;      /* registry, never unlinked */
	int state;                   /* enum lw_thread_state, atomic */
	int detached;
	int joined;
	uint32_t tid;
	pid_t os_tid;
	pthread_t handle;
	struct lw_held_ent *held;
	uint32_t n_held, cap_held;
	uint32_t n_unwritten;        /* held entries with `unwritten` set */
	uint64_t held_hash;          /* valid when held_hash_ok */
	bool held_hash_ok;
	/* What the thread blocks on, published only on the slow path (the lock was busy, or
	 * the call always blocks), read by the watchdog (watchdog.c). */
	uintptr_t wait_addr;         /* atomic; 0: not blocked */
	uint32_t wait_gen;
	uint16_t wait_kind;          /* enum lw_lock_kind or LW_WAIT_* */
	uint16_t wait_mode;
	uint32_t wait_stack;
	uint32_t wait_seq;           /* atomic; bumped at every wait */
	uint64_t wait_since;         /* CLOCK_MONOTONIC ns */
	uintptr_t wait_mutex;        /* the mutex of a condition wait */
	uint32_t wait_released;      /* atomic; a condition wait a signal or broadcast may have
				      * ended (issue 22: the destroy check skips it) */
	uint32_t foreign_seen;       /* lw_foreign_unlocks when the held set was last checked */
	uint64_t seen[LW_DEDUP_CACHE];        /* recent dedup keys */
	struct lw_site_cache_ent sites[LW_SITE_CACHE]; /* recent call sites and their stacks */
	struct lw_held_ent inline_held[16];
	struct lw_hook_recent hook_recent[LW_HOOK_RECENT]; /* hooks.c: reads, then writes */
	struct lw_ro_read ro_reads[LW_RO_READS];          /* hooks.c: reads nobody's writes */
	struct lw_private_section sections[LW_PRIVATE_SECTIONS]; /* a ring, hook mode only */
	uint32_t n_sections;         /* sections noted so far */
	uint32_t parent;             /* creating thread, 0 if unknown */
	uint64_t start_seq;          /* seq of its THREAD record (its creation) */
	/* Hook mode (hooks.c, "Owners' plain stores"): while hook_bias is set, the thread
	 * stamps the cells it owns with plain stores, each inside hook_restamping; a thread
	 * clears it, and waits those stores out, before it takes one of the thread's cells. */
	uint32_t hook_bias;          /* atomic */
	uint32_t hook_restamping;    /* atomic; written by the thread only */
	/* The chunk of the trace it is filling at the full level, [chunk_lo, chunk_hi) (atomic,
	 * written by the thread: trace_writer.c, read by trace_residency.c). */
	uint64_t chunk_lo, chunk_hi;
	/* Issue 20: the last watch window (lw_window_epoch) the thread wrote records in. */
	uint32_t window_seen;
	/* issue 23 (perf): thread classes (threads.c).  klass: 1 + index of the thread's class
	 * (start routine, creation site), 0 for none.  deferred (atomic): the thread's THREAD
	 * record is not written yet, and its acquisitions are deduplicated by class; the first
	 * record it must write writes it (lw_thread_materialize). */
	uint32_t klass;
	uint32_t deferred;
	uint32_t counted;            /* it ended deferred: no record names it */
	uint32_t create_stack;
	uintptr_t start_routine;
};


LW_HIDDEN extern __thread struct lw_thread *lw_self __attribute__((tls_model("initial-exec")));
LW_HIDDEN extern __thread int lw_guard __attribute__((tls_model("initial-exec")));

/* Returns the calling thread's state with the guard taken, or NULL when the call must pass
 * straight through (recording off, inside the shim, or during set-up). */
static inline struct lw_thread *lw_enter(void)
{
	if (LW_UNLIKELY(lw_guard))
		return NULL;
	if (LW_UNLIKELY(__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)) {
		if (lw_state != LW_UNINIT)
			return NULL;
		lw_guard = 1;
		lw_init();
		lw_guard = 0;
		if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
			return NULL;
	}
	lw_guard = 1;
	if (LW_UNLIKELY(lw_self == NULL)) {
		extern struct lw_thread *lw_thread_adopt(void);
		if (lw_thread_adopt() == NULL) {
			lw_guard = 0;
			return NULL;
		}
	}
	return lw_self;
}

static inline void lw_leave(void)
{
	lw_guard = 0;
}

LW_HIDDEN struct lw_thread *lw_thread_adopt(void);
LW_HIDDEN struct lw_thread *lw_thread_claim(uint32_t tid);
LW_HIDDEN uint32_t lw_thread_new_tid(void);
LW_HIDDEN void lw_thread_started(struct lw_thread *t, uint32_t parent, uint32_t create_stack,
				 uintptr_t start_routine, uint64_t seq);
LW_HIDDEN void lw_thread_ended(struct lw_thread *t);
/* issue 23 (perf): writes a deferred thread's THREAD record now (once). */
LW_HIDDEN void lw_thread_materialize_slow(struct lw_thread *t);
static inline void lw_thread_materialize(struct lw_thread *t)
{
	if (LW_UNLIKELY(t && __atomic_load_n(&t->deferred, __ATOMIC_RELAXED)))
		lw_thread_materialize_slow(t);
}
/* issue 23 (perf): the counted threads' final counts, written before the trace closes. */
LW_HIDDEN void lw_thread_classes_flush(void);
LW_HIDDEN struct lw_thread *lw_thread_by_handle(pthread_t h);
/* The thread whose tid is tid, live, or ended and not yet freed; NULL if none. */
LW_HIDDEN struct lw_thread *lw_thread_by_tid(uint32_t tid);
/* Whether a thread is being created whose handle the shim does not know yet. */
LW_HIDDEN bool lw_thread_pending(void);
LW_HIDDEN void lw_thread_release(struct lw_thread *t);
LW_HIDDEN int lw_threads_live(void);
/* Issue 20: the shim's own threads besides the watchdog (the samplers of automatic watching
 * and of the collider), which the watchdog's count of the process's threads must leave out.
 * Atomic; each owner adds its thread (lw_internal_thread_start) and takes it out when it ends
 * or in a fork() child (lw_internal_thread_gone). */
LW_HIDDEN extern int lw_internal_threads;
/* Starts fn(arg) as one of those threads: detached, with stack_size bytes of stack and every
 * signal blocked, and counted in lw_internal_threads from before it exists, with *alive (its
 * owner's flag, atomic) set.  Returns 0, or a negative errno when it cannot be created (then
 * it is not counted).  The calling thread's signal mask is as it was. */
LW_HIDDEN int lw_internal_thread_start(void *(*fn)(void *), void *arg, size_t stack_size,
				       int *alive);
/* The thread whose flag is alive ended, or is not in this fork() child: the watchdog counts
 * it no more.  Only the first call after a start takes it out; async-signal-safe. */
LW_HIDDEN void lw_internal_thread_gone(int *alive);
LW_HIDDEN void lw_threads_reset_after_fork(struct lw_thread *self);
LW_HIDDEN struct lw_thread *lw_registry_head(void);
/* The thread waits no more (see shim/locks/watchdog.h, lw_wait_begin). */
static inline void lw_wait_end(struct lw_thread *t)
{
	__atomic_store_n(&t->wait_addr, 0, __ATOMIC_RELEASE);
}

#endif
