/* pthread_cond_* (the GLIBC_2.3.2 ABI): a wait releases the mutex and takes it again; an
 * untimed wait is published for the watchdog, and the mutex is checked. */
#include "core/defs.h"
#include "core/options.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/misuse.h"
#include "locks/refused.h"
#include "locks/watchdog.h"
#include "locks/wrap.h"

/* Threads in a condition wait now (of any condvar): signals skip the walk when none. */
static uint32_t cond_waiting;        /* atomic */

/* Whether another thread waits on c right now with a mutex other than m. */
static struct lw_thread *other_mutex_waiter(struct lw_thread *self, const void *c,
					    const void *m)
{
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
		if (o == self || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		if (__atomic_load_n(&o->wait_addr, __ATOMIC_ACQUIRE) == (uintptr_t)c &&
		    (o->wait_kind == LW_WAIT_COND || o->wait_kind == LW_WAIT_COND_TIMED) &&
		    o->wait_mutex != (uintptr_t)m)
			return o;
	}
	return NULL;
}

void lw_cond_wait_begin(struct lw_cond_wait *w, const void *c, const void *m, bool timed,
			uintptr_t site)
{
	int e = errno;
	w->c = c;
	w->m = m;
	w->site = site;
	w->held = false;
	w->t = lw_enter();
	if (!w->t)
		return;
	struct lw_thread *t = w->t;
	uint32_t stack = lw_site_stack(site);
	struct lw_held_ent *h = lw_held_find(t, m);
	const struct lw_lock *kl;
	if (h) {
		w->held = true;
		w->count = h->count;
		h->count = 1;        /* a recursive mutex is released whole by the wait */
		lw_released(t, m);
	} else if ((kl = lw_lock_find((uintptr_t)m)) != NULL && kl->kind != LW_LOCK_MUTEX &&
		   kl->kind != 0 &&
		   !(__atomic_load_n(&kl->flags, __ATOMIC_ACQUIRE) & LW_LOCKF_DESTROYED)) {
		/* Issue 22: the "mutex" is a lock of another kind (an rwlock). */
		lw_misuse(t, LW_MISUSE_WRONG_KIND, kl->kind, (uintptr_t)m, kl->gen, stack, 0,
			  kl->init_stack, kl->kind);
	} else if (!lw_locks_incomplete()) {
		/* (Its acquisition may be one the shim could not record.) */
		lw_misuse(t, LW_MISUSE_COND_NOT_HELD, LW_LOCK_COND, (uintptr_t)c, 0, stack, 0, 0,
			  (uintptr_t)m);
	}
	t->wait_mutex = (uintptr_t)m;
	__atomic_store_n(&t->wait_released, 0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&cond_waiting, 1, __ATOMIC_SEQ_CST);
	/* A timed wait is published too (for the two-mutex check), but cannot hang. */
	lw_wait_begin(t, (uintptr_t)c, 0, timed ? LW_WAIT_COND_TIMED : LW_WAIT_COND, 0, stack);
	/* Published first, checked after (issue 22): of two threads that start waiting with
	 * different mutexes at the same time, at least one sees the other.  Checked before
	 * publishing, each could miss the other (about 1 run in 25). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	struct lw_thread *o = other_mutex_waiter(t, c, m);
	if (o)
		lw_misuse(t, LW_MISUSE_COND_TWO_MUTEXES, LW_LOCK_COND, (uintptr_t)c, 0, stack,
			  o->tid, o->wait_stack, o->wait_mutex);
	lw_leave();
	errno = e;
}

void lw_cond_wait_end(struct lw_cond_wait *w, const void *c, const void *m, uintptr_t site)
{
	if (!w->t)
		return;
	lw_wait_end(w->t);
	__atomic_sub_fetch(&cond_waiting, 1, __ATOMIC_RELEASE);
	int e = errno;
	struct lw_thread *t = w->held ? lw_enter() : NULL;
	if (t) {
		lw_acquired(t, m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_COND_REACQ, site);
		struct lw_held_ent *h = lw_held_find(t, m);
		if (h)
			h->count = w->count;
		lw_leave();
	}
	/* The wake after the mutex is taken again, as the call returns: a waiter woken by a
	 * signal, whose signaller then destroyed the condvar before unlocking (POSIX allows
	 * it; glibc's destroy waits for woken waiters to leave), uses the condvar no later
	 * than that unlock (detect_obj_races.c). */
	if (lw_order_recorded() && lw_enter()) {
		lw_sync(w->t, LW_SYNC_COND_WAKE, (uintptr_t)c, 0, site);
		lw_leave();
	}
	errno = e;
}

void lw_cond_wait_took(struct lw_cond_wait *w, const void *m, uintptr_t site)
{
	int e = errno;
	struct lw_thread *t = lw_enter();
	const struct lw_lock *kl = lw_lock_find((uintptr_t)m);
	if (t && (!kl || kl->kind == LW_LOCK_MUTEX)) {
		for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
			if (o == t || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
				continue;
			uint32_t n = __atomic_load_n(&o->n_held, __ATOMIC_ACQUIRE);
			struct lw_held_ent *held = __atomic_load_n(&o->held, __ATOMIC_ACQUIRE);
			for (uint32_t i = 0; held && n <= o->cap_held && i < n; i++)
				if (held[i].addr == (uintptr_t)m)
					lw_forget_held(held[i].lock);
		}
		lw_acquired(t, m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_COND_REACQ, site);
	}
	if (t)
		lw_leave();
	(void)w;
	errno = e;
}

/* A wait is a cancellation point: cancelled, the thread holds the mutex again when its
 * cleanup handlers run (and typically unlock it), so the held set must have it back. */
void lw_cond_wait_cancelled(void *arg)
{
	struct lw_cond_wait *w = arg;
	lw_cond_wait_end(w, w->c, w->m, w->site);
}


LW_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	LW_COND_WAIT(false, REAL(cond_wait)(c, m));
}

LW_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
	LW_COND_WAIT(true, lw_timeout_checked(REAL(cond_timedwait)(c, m, abs), c, LW_LOCK_COND,
					      abs, LW_SITE()));
}

LW_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
				     const struct timespec *abs)
{
	LW_COND_WAIT(true, lw_timeout_checked(REAL(cond_clockwait)(c, m, clk, abs), c,
					      LW_LOCK_COND, abs, LW_SITE()));
}

/* A signal releases one waiter of c that no earlier signal or broadcast released (the
 * longest waiting), a broadcast all of them (issue 22): the destroy check no longer counts a
 * released waiter, which may be still on its way out of the wait.  Counting this way, a
 * program that signals as many times as threads wait, or broadcasts, gets the same verdict
 * in every run.  (A signaller that does not hold the mutex may release a waiter that has
 * not reached the real wait yet: the shim then misses that destroy, never reports a false
 * one.) */
static void release_waiters(struct lw_thread *self, const void *c, bool all)
{
	for (;;) {
		struct lw_thread *best = NULL;
		for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
			if (o == self || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE ||
			    __atomic_load_n(&o->wait_addr, __ATOMIC_ACQUIRE) != (uintptr_t)c ||
			    (o->wait_kind != LW_WAIT_COND && o->wait_kind != LW_WAIT_COND_TIMED) ||
			    __atomic_load_n(&o->wait_released, __ATOMIC_ACQUIRE))
				continue;
			if (all)
				__atomic_store_n(&o->wait_released, 1, __ATOMIC_RELEASE);
			else if (!best || o->wait_since < best->wait_since)
				best = o;
		}
		if (!best)
			return;
		uint32_t expected = 0;
		if (__atomic_compare_exchange_n(&best->wait_released, &expected, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return;
		/* Another signal released it meanwhile: this one releases the next. */
	}
}

void lw_cond_note_sync(uint16_t op, const void *c, uintptr_t site)
{
	bool release = op == LW_SYNC_COND_SIGNAL || op == LW_SYNC_COND_BROADCAST;
	if (!lw_order_recorded() &&
	    (!release || !__atomic_load_n(&cond_waiting, __ATOMIC_SEQ_CST)))
		return;
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		if (release)
			release_waiters(t, c, op == LW_SYNC_COND_BROADCAST);
		lw_sync(t, op, (uintptr_t)c, 0, site);   /* written when lw_order_recorded() */
		lw_leave();
	}
	errno = e;
}

/* Whether a thread other than self is in a condition wait on c (released or not). */
static bool has_waiter(struct lw_thread *self, const void *c)
{
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next)
		if (o != self && __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) == LW_TS_LIVE &&
		    __atomic_load_n(&o->wait_addr, __ATOMIC_ACQUIRE) == (uintptr_t)c &&
		    (o->wait_kind == LW_WAIT_COND || o->wait_kind == LW_WAIT_COND_TIMED))
			return true;
	return false;
}

struct lw_thread *lw_cond_destroy_begin(const void *c, uintptr_t site)
{
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (!t)
		return NULL;
	lw_check_destroy(t, c, LW_LOCK_COND, site);
	lw_lock_destroyed(c, site);
	/* glibc's destroy blocks until every waiter has woken: with one that nothing wakes,
	 * for ever.  Published, the watchdog ends that hang (issue 22). */
	bool waited = has_waiter(t, c);
	if (waited)
		lw_wait_begin(t, (uintptr_t)c, 0, LW_WAIT_COND_DESTROY, 0, lw_site_stack(site));
	lw_leave();
	errno = e;
	return waited ? t : NULL;
}

void lw_cond_destroy_end(struct lw_thread *t)
{
	if (t)
		lw_wait_end(t);
}

LW_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	lw_cond_note_sync(LW_SYNC_COND_SIGNAL, c, LW_SITE());
	return REAL(cond_signal)(c);
}

LW_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	lw_cond_note_sync(LW_SYNC_COND_BROADCAST, c, LW_SITE());
	return REAL(cond_broadcast)(c);
}

LW_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
	lw_note_reinit(c, LW_LOCK_COND, LW_SITE(), LW_CFA());   /* issue 22 */
	int rc = REAL(cond_init)(c, attr);
	if (rc == 0) {
		int pshared = PTHREAD_PROCESS_PRIVATE;
		if (attr)
			pthread_condattr_getpshared(attr, &pshared);
		lw_note_init_at(c, LW_LOCK_COND,
				pshared == PTHREAD_PROCESS_SHARED ? LW_LOCKF_PSHARED : 0, LW_SITE(),
				LW_CFA());
	}
	return rc;
}

LW_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	struct lw_thread *t = lw_cond_destroy_begin(c, LW_SITE());
	int rc = REAL(cond_destroy)(c);
	lw_cond_destroy_end(t);
	return rc;
}
