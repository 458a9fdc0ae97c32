/* Replaying a full-level trace in seq order with vector clocks: happens-before and held locks. */
#ifndef LW_HB_REPLAY_H
#define LW_HB_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/model.h"

/* A lock a thread holds at some point of the replay. */
struct lw_hb_held {
	uint32_t lock;               /* index in lw_model.locks */
	uint16_t mode;               /* enum lw_mode */
	uint16_t count;              /* recursive acquisitions */
	uint64_t since;              /* seq of the acquisition: the critical section's identity */
};

/* A thread's state during the replay. */
struct lw_hb_thread {
	uint32_t  tid;
	uint32_t *vc;                /* vector clock, indexed by thread index (lw_process.threads) */
	LW_VEC(struct lw_hb_held) held;
	uint32_t  atomic_depth;      /* nesting of LW_SYNC_ATOMIC_BEGIN/END */
	uint64_t  atomic_since;      /* seq of the outermost LW_SYNC_ATOMIC_BEGIN */
	uint64_t  waited;            /* seq of its last return from a condition wait or a
				      * barrier: it waited for the others' changes */
};

struct lw_hb_obj;

/* The replay of one process. */
struct lw_hb {
	struct lw_model     *m;
	uint32_t             proc;
	uint32_t             n;      /* threads, = lw_process.threads.n */
	struct lw_hb_thread *t;      /* n of them */
	struct lw_map        obj_ids;/* (addr, 0) -> index in objs */
	LW_VEC(struct lw_hb_obj *) objs;
};

/* Called for every access, in seq order, with hb describing the moment just before it (for
 * an LW_ACCESS_ATOMIC one, before its own synchronisation); ti is the accessing thread's
 * index, ai the access's index in lw_process.accesses. */
typedef void (*lw_hb_access_fn)(struct lw_hb *hb, uint32_t ti, uint32_t ai, void *ctx);

/* Called for every heap block allocation (LW_REC_ALLOC), in seq order; bi is its index in
 * lw_process.allocs.  Accesses to the block's bytes before it were to an earlier block. */
typedef void (*lw_hb_alloc_fn)(struct lw_hb *hb, uint32_t bi, void *ctx);

/*
 * Replays the events of process proc (recorded at the full level, or in watch windows) in
 * seq order:
 *  - create: the child starts with its parent's clock; join: the joiner takes the child's;
 *  - lock ACQUIRE takes the lock's clock (a reader only what writers released), RELEASE
 *    joins the thread's clock into it (readers' releases accumulate; a writer takes all);
 *  - SEM_POST, COND_SIGNAL/BROADCAST release into the object, a later ACQUIRE of the
 *    semaphore or COND_WAKE takes it;
 *  - the arrivals of a barrier round release into the barrier, each departure takes it (a
 *    departure closes the round of arrivals before it);
 *  - an LW_ACCESS_ATOMIC access acquires and releases its address (seq_cst approximation).
 * Synchronisation objects are known by address: a destroyed and re-initialised lock keeps
 * its clock, which can only hide a race, never invent one.  A dependencies-level trace with
 * LW_HDR_WINDOWS (issue 20, automatic watching) is replayed inside its watch windows only,
 * and each window's fence orders everything before it before everything after it (see
 * hb_replay.c).  Cannot fail.
 */
void lw_hb_replay(struct lw_model *m, uint32_t proc, lw_hb_access_fn fn,
		  lw_hb_alloc_fn alloc_fn, void *ctx);

/* Issue 21: called for every event of a thread, in seq order, with hb describing the moment
 * just before it (before the event's own synchronisation). */
typedef void (*lw_hb_event_fn)(struct lw_hb *hb, uint32_t ti, const struct lw_event *ev,
			       void *ctx);

/* lw_hb_replay, calling ev_fn for every event instead of the access and alloc callbacks. */
void lw_hb_replay_events(struct lw_model *m, uint32_t proc, lw_hb_event_fn ev_fn, void *ctx);

/* Returns the index of thread tid in the replay, or LW_NONE. */
uint32_t lw_hb_thread_index(const struct lw_hb *hb, uint32_t tid);

/* True if lock li counts as a lock in thread tid's held set: semaphores only when the
 * thread uses them as locks (posts what it waited on), never condvars or barriers. */
bool lw_hb_lock_counts(const struct lw_model *m, uint32_t tid, uint32_t li);

#endif
