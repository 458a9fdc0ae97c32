/* pthread_cond_* (the GLIBC_2.3.2 ABI): a wait releases the mutex and takes it again; an
 * untimed wait is published for the watchdog, and the mutex is checked. */
#include "core/defs.h"
#include "core/options.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"
#include "locks/wrap.h"

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
	if (h) {
		w->held = true;
		w->count = h->count;
		h->count = 1;        /* a recursive mutex is released whole by the wait */
		lw_released(t, m);
	} else if (!lw_locks_incomplete()) {
		/* (Its acquisition may be one the shim could not record.) */
		lw_misuse(t, LW_MISUSE_COND_NOT_HELD, LW_LOCK_COND, (uintptr_t)c, 0, stack, 0, 0,
			  (uintptr_t)m);
	}
	struct lw_thread *o = other_mutex_waiter(t, c, m);
	if (o)
		lw_misuse(t, LW_MISUSE_COND_TWO_MUTEXES, LW_LOCK_COND, (uintptr_t)c, 0, stack,
			  o->tid, o->wait_stack, (uintptr_t)m);
	t->wait_mutex = (uintptr_t)m;
	/* A timed wait is published too (for the two-mutex check), but cannot hang. */
	lw_wait_begin(t, (uintptr_t)c, 0, timed ? LW_WAIT_COND_TIMED : LW_WAIT_COND, 0, stack);
	lw_leave();
	errno = e;
}

void lw_cond_wait_end(struct lw_cond_wait *w, const void *c, const void *m, uintptr_t site)
{
	if (!w->t)
		return;
	lw_wait_end(w->t);
	if (LW_UNLIKELY(lw_opt.level == LW_LEVEL_FULL) && lw_enter()) {
		lw_sync(w->t, LW_SYNC_COND_WAKE, (uintptr_t)c, 0, site);
		lw_leave();
	}
	if (!w->held)
		return;
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_acquired(t, m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_COND_REACQ, site);
		struct lw_held_ent *h = lw_held_find(t, m);
		if (h)
			h->count = w->count;
		lw_leave();
	}
	errno = e;
}

/* A wait is a cancellation point: cancelled, the thread holds the mutex again when its
 * cleanup handlers run (and typically unlock it), so the held set must have it back. */
void lw_cond_wait_cancelled(void *arg)
{
	struct lw_cond_wait *w = arg;
	lw_cond_wait_end(w, w->c, w->m, w->site);
}

#define COND_WAIT(timed, call) do { \
		struct lw_cond_wait w; \
		int rc; \
		lw_cond_wait_begin(&w, c, m, timed, LW_SITE()); \
		pthread_cleanup_push(lw_cond_wait_cancelled, &w); \
		rc = (call); \
		pthread_cleanup_pop(0); \
		lw_cond_wait_end(&w, c, m, LW_SITE()); \
		return rc; \
	} while (0)

LW_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	COND_WAIT(false, REAL(cond_wait)(c, m));
}

LW_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
	COND_WAIT(true, REAL(cond_timedwait)(c, m, abs));
}

LW_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
				     const struct timespec *abs)
{
	COND_WAIT(true, REAL(cond_clockwait)(c, m, clk, abs));
}

void lw_cond_note_sync(uint16_t op, const void *c, uintptr_t site)
{
	if (LW_LIKELY(lw_opt.level != LW_LEVEL_FULL))
		return;
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_sync(t, op, (uintptr_t)c, 0, site);
		lw_leave();
	}
	errno = e;
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
	int rc = REAL(cond_init)(c, attr);
	if (rc == 0) {
		int pshared = PTHREAD_PROCESS_PRIVATE;
		if (attr)
			pthread_condattr_getpshared(attr, &pshared);
		lw_note_init(c, LW_LOCK_COND, pshared == PTHREAD_PROCESS_SHARED ? LW_LOCKF_PSHARED : 0,
			     LW_SITE());
	}
	return rc;
}

LW_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	lw_note_destroy(c, LW_LOCK_COND, LW_SITE());
	return REAL(cond_destroy)(c);
}
