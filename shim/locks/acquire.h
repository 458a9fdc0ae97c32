/* Acquisitions and releases (acquire.c): held sets, dependency records, the full level's order. */
#ifndef LW_LOCKS_ACQUIRE_H
#define LW_LOCKS_ACQUIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/options.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/heap_held.h"
#include "locks/locks.h"

/* An acquisition is looked up before the real call (outside the critical section) and
 * committed after it succeeded. */
struct lw_acq {
	struct lw_thread *t;
	struct lw_lock *l;
	uintptr_t addr;
	uint32_t gen, stack, foreign;
	uint16_t kind, mode, flags;
};
/* Drops from t's held set the locks another thread unlocked for it. */
LW_HIDDEN void lw_held_purge(struct lw_thread *t);
/* Unlocks of a lock by a thread that did not hold it, process-wide (atomic). */
LW_HIDDEN extern uint32_t lw_foreign_unlocks;
/* Release bookkeeping; notes an unlock of a lock the thread does not hold. */
LW_HIDDEN void lw_release_checked(struct lw_thread *t, const void *addr, uintptr_t site);
/* Threads holding or waiting on addr, for destroy checks. */
LW_HIDDEN void lw_check_destroy(struct lw_thread *t, const void *addr, uint16_t kind, uintptr_t site);
/* Issue 22: before the real *_init, checks nobody holds or waits on the lock's current
 * generation (MISUSE records). */
/* Issue 22: every holder of l drops it from its held set at its next acquisition or end. */
LW_HIDDEN void lw_forget_held(struct lw_lock *l);
LW_HIDDEN void lw_check_reinit(struct lw_thread *t, const void *addr, uint16_t kind, uintptr_t site);
/* Full level: a happens-before operation other than acquire/release. */
/* Process order (wrap_wait.c): a SYNC record of op LW_SYNC_FORK or LW_SYNC_WAIT_CHILD for the
 * child pid, written at every level. */
LW_HIDDEN void lw_record_child(struct lw_thread *t, uint16_t op, pid_t pid);
LW_HIDDEN void lw_sync(struct lw_thread *t, uint16_t op, uintptr_t addr, uint64_t value,
		       uintptr_t site);
LW_HIDDEN void lw_acq_commit(const struct lw_acq *a);
/* The lock was busy: notes a relock by its owner and publishes the wait. */
LW_HIDDEN void lw_acq_blocking(const struct lw_acq *a);
/* The acquisition failed with rc: notes an error-checking mutex's refused relock (EDEADLK),
 * a warning.  Keeps errno. */
LW_HIDDEN void lw_acq_refused(const struct lw_acq *a, int rc);
/* A mutex unlock that the mutex refused with rc (a non-owner's, or of an unlocked mutex, on a
 * mutex that checks): a warning, and no change to anyone's held set. */
LW_HIDDEN void lw_unlock_refused(struct lw_thread *t, const void *addr, int rc, uintptr_t site);
/* Whether glibc's mutex type (in the public <bits/struct_mutex.h>, kept also by a static
 * initialiser) is error-checking: its owner's relock fails with EDEADLK. */
static inline bool lw_mutex_errorcheck(const void *addr)
{
	int k = __atomic_load_n(&((const pthread_mutex_t *)addr)->__data.__kind, __ATOMIC_RELAXED);
	return k >= 0 && (k & 3) == PTHREAD_MUTEX_ERRORCHECK;
}
/* Whether glibc refuses an unlock of the mutex by a thread that does not own it (EPERM):
 * error-checking, recursive, robust and priority-inheritance mutexes (glibc's pthreadP.h:
 * the kind's bit 16 is robust, 32 priority inheritance). */
#define LW_GLIBC_MUTEX_ROBUST 16
#define LW_GLIBC_MUTEX_PI     32
static inline bool lw_mutex_checks_owner(const void *addr)
{
	int k = __atomic_load_n(&((const pthread_mutex_t *)addr)->__data.__kind, __ATOMIC_RELAXED);
	return k >= 0 && ((k & 3) == PTHREAD_MUTEX_ERRORCHECK || (k & 3) == PTHREAD_MUTEX_RECURSIVE ||
			  (k & (LW_GLIBC_MUTEX_ROBUST | LW_GLIBC_MUTEX_PI)));
}
/* Records that t now holds lock (after the real call succeeded). */
LW_HIDDEN void lw_acquired(struct lw_thread *t, const void *addr, uint16_t kind, uint16_t mode,
			   uint16_t flags, uintptr_t site);
/* Records that t released lock; returns false when t did not hold it. */
LW_HIDDEN bool lw_released(struct lw_thread *t, const void *addr);
/* Full level: whether the operations of a lock only one thread has taken are left out of
 * the trace (acquire.c, "A lock one thread uses"), and whether the thread notes their
 * critical sections (hook mode). */
LW_HIDDEN extern bool lw_one_user_unwritten, lw_private_sections;
/* Writes the acquisitions of the locks t holds that the trace does not have, before an
 * access record of t: the analyzer must know what the access held. */
LW_HIDDEN void lw_write_unwritten_holds(struct lw_thread *t);
/* Before an access of thread tid's, in its epoch `seq`, is written on its behalf: writes
 * the critical sections of tid's that contain it and that the trace does not have. */
LW_HIDDEN void lw_write_private_sections(uint32_t tid, uint64_t seq);
/* Finds a held entry, or NULL. */
LW_HIDDEN struct lw_held_ent *lw_held_find(struct lw_thread *t, const void *addr);
LW_HIDDEN void lw_sem_posted(struct lw_thread *t, const void *addr);
/* Before the real sem_destroy: every held entry of the semaphore ends, and its generation
 * ends (or is kept, see lw_sem_destroyed_keep_gen). */
LW_HIDDEN void lw_sem_destroying(struct lw_thread *t, const void *addr, uintptr_t site);

/* Issue 20 (automatic watching): watch windows.  While one is open (lw_window_open), the
 * dependencies level writes every synchronisation as the full level does, so that the
 * analyzer's happens-before replay is exact for the accesses inside the window; when it
 * closes, a FENCE orders every thread's past before every thread's future.  Set only by the
 * sampler (shim/access/autowatch.c) through lw_window_mark. */
LW_HIDDEN extern int lw_window_open;         /* atomic */
LW_HIDDEN extern uint32_t lw_window_epoch;   /* atomic: windows opened so far */
/* Whether synchronisation is written in order now: the full level, or a window is open.
 * The wrappers' one test of what to write. */
static inline bool lw_order_recorded(void)
{
	return LW_UNLIKELY(lw_opt.level == LW_LEVEL_FULL) ||
	       LW_UNLIKELY(__atomic_load_n(&lw_window_open, __ATOMIC_ACQUIRE) != 0);
}
/* Before t writes a record of the order in an open window: at its first one in this window,
 * writes again the acquisitions of the locks it holds (the analyzer forgets every held set at
 * a fence), and ends its block of private seqs so that its next record sorts after the
 * window's opening.  Cheap when t already did. */
LW_HIDDEN void lw_window_join_slow(struct lw_thread *t);
/* Closes the window when the trace has passed the position the sampler allowed it. */
LW_HIDDEN void lw_window_spend(void);
static inline void lw_window_join(struct lw_thread *t)
{
	uint32_t ep = __atomic_load_n(&lw_window_epoch, __ATOMIC_ACQUIRE);
	if (LW_LIKELY(ep == 0))
		return;              /* no windows: the full level, or watch=off */
	if (LW_UNLIKELY(t->window_seen != ep))
		lw_window_join_slow(t);
	lw_window_spend();
}
/* The last position windows may take (the sampler's trace budget). */
LW_HIDDEN void lw_window_limit(uint64_t seq);
/* The sampler opens (open) or closes a window: writes LW_SYNC_WINDOW_OPEN or LW_SYNC_FENCE
 * (tid 0) in the right order with the flag.  At the full level it only moves the flag. */
LW_HIDDEN void lw_window_mark(bool open);


/*
 * issue 23 (perf): the wrappers' fast path, inline.
 *
 * lw_acq_lookup is the whole of the lookup before the real call; lw_acq_commit_fast and
 * lw_release_fast do the common commit and release themselves (the thread holds nothing
 * before, or releases the lock it took last; no watch window is open and the level is not
 * full; no foreign unlock happened since the thread last looked; not a semaphore) and
 * return false for everything else, which goes to lw_acq_commit and lw_release_checked as
 * before.  They write what those would have written, so nothing the shim detects changes.
 */
/* The stack id of site from the thread's own cache of recent sites, under key; captured
 * (lw_site_stack) and cached when missing. */
static inline uint32_t lw_site_cache_stack(struct lw_thread *t, uintptr_t key, uintptr_t site)
{
	struct lw_site_cache_ent *c = &t->sites[(key ^ (key >> 7)) & (LW_SITE_CACHE - 1)];
	if (LW_LIKELY(c->site == key))
		return c->stack;
	uint32_t stack = lw_site_stack(site);
	c->site = key;
	c->stack = stack;
	return stack;
}
/* Returns the stack id of a call site, from the thread's own cache when it can.  The cache
 * is keyed by the site and the depth of the stack there (below the thread's descriptor, at
 * its stack's top): a site that other paths reach has a stack for each (lw_site_stack). */
static inline uint32_t lw_site_stack_cached(struct lw_thread *t, uintptr_t site)
{
	uintptr_t depth = (uintptr_t)__builtin_thread_pointer() - (uintptr_t)__builtin_frame_address(0);
	return lw_site_cache_stack(t, site + depth * 0x9e3779b97f4a7c15ull, site);
}
/* Fills a for an acquisition of addr by t; returns false when the lock table cannot hold it
 * (the acquisition goes unrecorded). */
static inline bool lw_acq_lookup(struct lw_acq *a, struct lw_thread *t, const void *addr,
				 uint16_t kind, uint16_t mode, uint16_t flags, uintptr_t site)
{
	struct lw_lock *l = lw_lock_get(addr, kind, site);
	if (LW_UNLIKELY(!l))
		return false;
	a->t = t;
	a->l = l;
	a->addr = (uintptr_t)addr;
	a->gen = __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
	a->foreign = __atomic_load_n(&l->foreign, __ATOMIC_ACQUIRE);
	a->stack = lw_site_stack_cached(t, site);
	a->kind = kind;
	a->mode = mode;
	a->flags = flags & (LW_ACQF_TRY | LW_ACQF_TIMED | LW_ACQF_COND_REACQ);
	return true;
}
/* Pushes a's held entry on t's held set (room checked by the caller), counted in the
 * heap-held set (issue 22: free() and munmap() check it). */
static inline struct lw_held_ent *lw_held_push(struct lw_thread *t, const struct lw_acq *a,
					      bool unwritten)
{
	struct lw_held_ent *e = &t->held[t->n_held++];
	e->addr = a->addr;
	e->gen = a->gen;
	e->mode = a->mode;
	e->flags = a->flags;
	e->kind = a->kind;
	e->stack = a->stack;
	e->count = 1;
	e->foreign = a->foreign;
	e->lock = a->l;
	e->unwritten = unwritten;
	lw_heap_held_add(t, e);
	return e;
}
/* With t = a->t the caller, inside the guard: commits a when t holds nothing (what
 * lw_acq_commit does then: no record, one held entry); false when it must go there. */
static inline bool lw_acq_commit_fast(const struct lw_acq *a)
{
	struct lw_thread *t = a->t;
	if (t->n_held != 0 || t->cap_held == 0 || a->kind == LW_LOCK_SEM || lw_order_recorded() ||
	    t->foreign_seen != __atomic_load_n(&lw_foreign_unlocks, __ATOMIC_RELAXED))
		return false;
	lw_held_push(t, a, false);
	t->held_hash_ok = false;
	return true;
}
/* Inside the guard: releases addr when it is t's last-taken entry, held once, outside the
 * ordered trace (what lw_release_checked does then); false when it must go there. */
static inline bool lw_release_fast(struct lw_thread *t, const void *addr)
{
	uint32_t n = t->n_held;
	if (n == 0)
		return false;
	struct lw_held_ent *e = &t->held[n - 1];
	if (e->addr != (uintptr_t)addr || e->count != 1 || lw_order_recorded())
		return false;
	e->count = 0;
	t->held_hash_ok = false;
	t->n_unwritten -= e->unwritten;
	lw_heap_held_remove(t, e);
	t->n_held = n - 1;
	return true;
}
#endif
