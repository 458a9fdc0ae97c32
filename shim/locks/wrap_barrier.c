/* pthread_barrier_*: arrivals and departures (full level), a wait the watchdog can see, and
 * misuse: init with count 0, init of a live barrier, re-init or destroy while a thread waits
 * on it, destroy or wait of a barrier never initialised (issue 22). */
#include <errno.h>
#include "core/defs.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/locks.h"
#include "locks/misuse.h"
#include "locks/uninit.h"
#include "locks/watchdog.h"
#include "locks/wrap.h"

/*
 * What the shim knows of each barrier, by address: entries are never removed (a barrier
 * destroyed and initialised again at its address takes its entry again).  `arrived` counts
 * the threads that entered pthread_barrier_wait in the round not yet complete: the last
 * arrival of a round sets it back to 0 before it calls the real wait, so a program that
 * destroys or re-initialises a barrier after its own wait returned (as it must) finds 0, and
 * one that does so while a thread is inside pthread_barrier_wait, waiting for a round that
 * has not completed, finds more: the verdict never depends on how far the other threads got
 * out of their wait.
 */
enum barrier_state { BARRIER_UNKNOWN_SEEN, BARRIER_LIVE, BARRIER_DESTROYED };
struct barrier {
	uintptr_t addr;              /* 0: free; written once, by CAS */
	uint32_t count;
	uint32_t arrived;            /* atomic */
	uint32_t init_stack, init_tid;
	uint32_t state;              /* enum barrier_state, atomic */
};
#define BARRIER_SLOTS 4096
static struct barrier barriers[BARRIER_SLOTS];
static bool barriers_untracked;  /* the table was full once: an unknown barrier is no misuse */

/* The entry of the barrier at addr, inserted (state BARRIER_UNKNOWN_SEEN) if asked and
 * absent.  NULL: absent, or the table is full. */
static struct barrier *barrier_find(const void *addr, bool insert, bool *inserted)
{
	uintptr_t a = (uintptr_t)addr;
	uint32_t h = (uint32_t)(lw_mix64(a) % BARRIER_SLOTS);
	*inserted = false;
	for (uint32_t i = 0; i < BARRIER_SLOTS; i++) {
		struct barrier *b = &barriers[(h + i) % BARRIER_SLOTS];
		uintptr_t cur = __atomic_load_n(&b->addr, __ATOMIC_ACQUIRE);
		if (cur == a)
			return b;
		if (cur == 0) {
			if (!insert)
				return NULL;
			if (__atomic_compare_exchange_n(&b->addr, &cur, a, false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				*inserted = true;
				return b;
			}
			if (cur == a)
				return b;
		}
	}
	if (insert)
		__atomic_store_n(&barriers_untracked, true, __ATOMIC_RELEASE);
	return NULL;
}

/* A live thread other than self waiting in pthread_barrier_wait on addr, or NULL. */
static struct lw_thread *barrier_waiter(struct lw_thread *self, uintptr_t addr)
{
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
		if (o == self || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		if (__atomic_load_n(&o->wait_addr, __ATOMIC_ACQUIRE) == addr &&
		    o->wait_kind == LW_LOCK_BARRIER)
			return o;
	}
	return NULL;
}

/* Writes `what` about the barrier at addr, naming a thread waiting in an incomplete round
 * (there is one: arrived > 0) as the other side. */
static void misuse_waited(struct lw_thread *t, uint16_t what, const void *addr, uint32_t stack)
{
	const struct lw_lock *l = lw_lock_find((uintptr_t)addr);
	struct lw_thread *w = barrier_waiter(t, (uintptr_t)addr);
	lw_misuse(t, what, LW_LOCK_BARRIER, (uintptr_t)addr, l ? l->gen : 0, stack,
		  w ? w->tid : 0, w ? w->wait_stack : 0, 0);
}

LW_EXPORT int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr,
				   unsigned count)
{
	int e = errno;
	struct lw_thread *t = lw_enter();
	/* Before the real init, which resets what the waiters wait on. */
	bool live = false, waited = false;
	uint32_t old_gen = 0, old_stack = 0, old_tid = 0;
	bool inserted;
	if (t) {
		struct barrier *st = barrier_find(b, false, &inserted);
		if (st && __atomic_load_n(&st->state, __ATOMIC_ACQUIRE) == BARRIER_LIVE) {
			live = true;
			waited = __atomic_load_n(&st->arrived, __ATOMIC_ACQUIRE) != 0;
			old_stack = st->init_stack;
			old_tid = st->init_tid;
			const struct lw_lock *l = lw_lock_find((uintptr_t)b);
			old_gen = l ? l->gen : 0;
		}
		lw_leave();
	}
	errno = e;
	int rc = REAL(barrier_init)(b, attr, count);
	if (!t) {
		if (rc == 0)
			lw_init_unrecorded();
		return rc;
	}
	e = errno;
	if (lw_enter()) {
		uintptr_t site = LW_SITE();
		uint32_t stack = lw_site_stack(site);
		if (rc == 0) {
			if (waited)
				misuse_waited(t, LW_MISUSE_REINIT_WAITED, b, stack);
			else if (live)
				lw_misuse(t, LW_MISUSE_REINIT, LW_LOCK_BARRIER, (uintptr_t)b, old_gen,
					  stack, old_tid, old_stack, 0);
			lw_lock_new_gen(b, LW_LOCK_BARRIER, lw_pshared_in_memory(b, LW_LOCK_BARRIER),
					site);
			lw_init_accepted(b);
			struct barrier *st = barrier_find(b, true, &inserted);
			if (st) {
				st->count = count;
				__atomic_store_n(&st->arrived, 0, __ATOMIC_RELAXED);
				st->init_stack = stack;
				st->init_tid = t->tid;
				__atomic_store_n(&st->state, BARRIER_LIVE, __ATOMIC_RELEASE);
			}
		} else if (rc == EINVAL && count == 0) {
			lw_init_refused(t, b, LW_LOCK_BARRIER, count, site);
		}
		lw_leave();
	}
	errno = e;
	return rc;
}

/* A barrier the shim never saw initialised is used (op: LW_UNINIT_*): said once. */
static void barrier_unknown(struct lw_thread *t, const void *b, uint64_t op, uintptr_t site)
{
	bool inserted;
	bool untracked = __atomic_load_n(&barriers_untracked, __ATOMIC_ACQUIRE);
	struct barrier *st = barrier_find(b, true, &inserted);
	if (st && inserted && !untracked)
		lw_uninit_report(t, b, LW_LOCK_BARRIER, op, site);
}

LW_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
	int e = errno;
	struct lw_thread *t = lw_enter();
	bool blocks = false;
	if (t) {
		uintptr_t site = LW_SITE();
		bool inserted;
		struct barrier *st = barrier_find(b, false, &inserted);
		uint32_t state = st ? __atomic_load_n(&st->state, __ATOMIC_ACQUIRE)
				    : BARRIER_UNKNOWN_SEEN;
		if (!st) {
			barrier_unknown(t, b, LW_UNINIT_DESTROY, site);
		} else if (state == BARRIER_DESTROYED) {
			const struct lw_lock *l = lw_lock_find((uintptr_t)b);
			lw_misuse(t, LW_MISUSE_USE_AFTER_DESTROY, LW_LOCK_BARRIER, (uintptr_t)b,
				  l ? l->gen : 0, lw_site_stack(site), 0, 0, 0);
		} else if (state == BARRIER_LIVE) {
			/* Marked destroyed first, the waiters counted after, as a wait counts
			 * itself first and looks at the state after (issue 22): of a destroy
			 * and a wait that meet, at least one sees the other. */
			__atomic_store_n(&st->state, BARRIER_DESTROYED, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&st->arrived, __ATOMIC_SEQ_CST) != 0) {
				/* glibc's destroy then waits for the waiters to leave, which
				 * they never do. */
				misuse_waited(t, LW_MISUSE_DESTROY_WAITED, b, lw_site_stack(site));
			}
			/* A waiter may arrive at any moment, and glibc's destroy then waits
			 * for its round: published, so the watchdog sees this thread blocked
			 * if it never returns (a destroy that returns is never a hang). */
			blocks = true;
			lw_lock_destroyed(b, site);
		}
		if (blocks)
			lw_wait_begin(t, (uintptr_t)b, 0, LW_LOCK_BARRIER, 0, lw_site_stack(site));
		lw_leave();
	}
	errno = e;
	int rc = REAL(barrier_destroy)(b);
	if (blocks)
		lw_wait_end(t);
	return rc;
}

LW_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		uintptr_t site = LW_SITE();
		lw_sync(t, LW_SYNC_BARRIER_ARRIVE, (uintptr_t)b, 0, site);
		lw_wait_begin(t, (uintptr_t)b, 0, LW_LOCK_BARRIER, 0, lw_site_stack(site));
		/* After the wait is published: a thread counted in `arrived` can be named. */
		bool inserted;
		struct barrier *st = barrier_find(b, false, &inserted);
		if (!st) {
			barrier_unknown(t, b, LW_UNINIT_WAIT, site);
		} else if (__atomic_load_n(&st->state, __ATOMIC_ACQUIRE) == BARRIER_DESTROYED) {
			/* Issue 22: a wait on a barrier destroyed and not initialised again. */
			const struct lw_lock *l = lw_lock_find((uintptr_t)b);
			lw_misuse(t, LW_MISUSE_USE_AFTER_DESTROY, LW_LOCK_BARRIER, (uintptr_t)b,
				  l ? l->gen : 0, lw_site_stack(site), 0, 0, 0);
		} else if (st->count) {
			uint32_t cur = __atomic_load_n(&st->arrived, __ATOMIC_RELAXED), next;
			do
				next = cur + 1 >= st->count ? 0 : cur + 1;
			while (!__atomic_compare_exchange_n(&st->arrived, &cur, next, true,
							    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
			/* Counted, then the state looked at again: a destroy that did not see
			 * this wait counted is one this wait sees (issue 22). */
			if (next != 0 &&
			    __atomic_load_n(&st->state, __ATOMIC_SEQ_CST) == BARRIER_DESTROYED) {
				const struct lw_lock *l = lw_lock_find((uintptr_t)b);
				lw_misuse(t, LW_MISUSE_USE_AFTER_DESTROY, LW_LOCK_BARRIER,
					  (uintptr_t)b, l ? l->gen : 0, lw_site_stack(site), 0, 0,
					  0);
			}
		}
		lw_leave();
	}
	errno = e;
	int rc = REAL(barrier_wait)(b);
	if (t) {
		lw_wait_end(t);
		e = errno;
		if (lw_enter()) {
			lw_sync(t, LW_SYNC_BARRIER_DEPART, (uintptr_t)b, 0, LW_SITE());
			lw_leave();
		}
		errno = e;
	}
	return rc;
}
