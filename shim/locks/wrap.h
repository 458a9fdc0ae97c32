/* Helpers shared by the wrappers: bookkeeping around a real call.  The bookkeeping's fast
 * path makes no system call; every slow path that does (mmap, unwinding, growing the trace)
 * saves and restores errno itself, so the program sees the real call's errno. */
#ifndef LW_WRAP_H
#define LW_WRAP_H

#include <errno.h>
#include "core/defs.h"
#include "core/options.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/locks.h"
#include "locks/reinit.h"

/* Whether a lock call's result means the caller now holds the lock: EOWNERDEAD from a
 * robust mutex whose owner died does. */
#define LW_ACQUIRED(rc) ((rc) == 0 || (rc) == EOWNERDEAD)

/* Before an acquisition: returns whether to commit it once the real call succeeds. */
static inline bool lw_acq_begin(struct lw_acq *a, const void *addr, uint16_t kind, uint16_t mode,
				uint16_t flags, uintptr_t site)
{
	struct lw_thread *t = lw_enter();
	if (!t)
		return false;
	bool ok = lw_acq_lookup(a, t, addr, kind, mode, flags, site);   /* issue 23 (perf) */
	lw_leave();
	return ok;
}

/* After the real call succeeded.  Inline whole (issue 23, perf): GCC would otherwise split
 * it and call its body. */
static inline __attribute__((always_inline)) void lw_acq_end(const struct lw_acq *a)
{
	if (LW_UNLIKELY(lw_guard) || a->t != lw_self)
		return;
	lw_guard = 1;
	if (!lw_acq_commit_fast(a))
		lw_acq_commit(a);
	lw_guard = 0;
}

/* The whole of an acquiring wrapper: look up, real call, commit on success. */
#define LW_ACQUIRE(call, addr, kind, mode, flags) do { \
		struct lw_acq a_; \
		bool rec_ = lw_acq_begin(&a_, (const void *)(addr), kind, mode, flags, LW_SITE()); \
		int rc_ = (call); \
		if (rec_ && LW_ACQUIRED(rc_)) \
			lw_acq_end(&a_); \
		else if (rec_ && rc_ == EDEADLK) \
			lw_acq_refused(&a_, rc_); \
		return rc_; \
	} while (0)

/* A blocking acquisition tries first, so only a busy lock pays for publishing the wait the
 * watchdog reads (and for noticing a relock of a lock the thread already holds). */
#define LW_ACQUIRE_BLOCKING(trycall, call, addr, kind, mode) do { \
		struct lw_acq a_; \
		if (!lw_acq_begin(&a_, (const void *)(addr), kind, mode, 0, LW_SITE())) \
			return (call); \
		int rc_ = (trycall); \
		if (rc_ == EBUSY) { \
			lw_acq_blocking(&a_); \
			rc_ = (call); \
			lw_wait_end(a_.t); \
		} \
		if (LW_ACQUIRED(rc_)) \
			lw_acq_end(&a_); \
		else if (rc_ == EDEADLK) \
			lw_acq_refused(&a_, rc_); \
		return rc_; \
	} while (0)

/* The whole of a releasing wrapper.  In the full level the release is written before the
 * real unlock, so the trace orders it before the next owner's acquisition; otherwise the
 * bookkeeping happens after it, outside the critical section. */
#define LW_RELEASE(call, addr) do { \
		if (lw_order_recorded()) { \
			lw_note_release((const void *)(addr), LW_SITE()); \
			return (call); \
		} \
		int rc_ = (call); \
		lw_note_release((const void *)(addr), LW_SITE()); \
		return rc_; \
	} while (0)

/* After a successful acquisition. */
static inline void lw_note_acquired(const void *addr, uint16_t kind, uint16_t mode,
				    uint16_t flags, uintptr_t site)
{
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_acquired(t, addr, kind, mode, flags, site);
		lw_leave();
	}
}

/* Release bookkeeping (and the check that the thread held the lock). */
static inline void lw_note_release(const void *addr, uintptr_t site)
{
	struct lw_thread *t = lw_enter();
	if (t) {
		if (!lw_release_fast(t, addr))   /* issue 23 (perf) */
			lw_release_checked(t, addr, site);
		lw_leave();
	}
}

static inline void lw_note_init(const void *addr, uint16_t kind, uint16_t flags, uintptr_t site)
{
	if (lw_enter()) {
		lw_lock_new_gen(addr, kind, flags, site);
		lw_leave();
	}
}

/* Issue 22: before the real init (cfa: LW_CFA() in the exported wrapper). */
static inline void lw_note_reinit(const void *addr, uint16_t kind, uintptr_t site, uintptr_t cfa)
{
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_check_reinit(t, addr, kind, site);
		lw_reinit_check(t, addr, kind, site, cfa);
		lw_leave();
	}
}

/* Issue 22: a successful init of a mutex, rwlock, spinlock or condvar, and where from. */
static inline void lw_note_init_at(const void *addr, uint16_t kind, uint16_t flags, uintptr_t site,
				   uintptr_t cfa)
{
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_lock_new_gen(addr, kind, flags, site);
		lw_reinit_noted(t, addr, site, cfa);
		lw_leave();
	}
}

/* Before the real destroy: checks nobody holds or waits on it, then ends its generation. */
static inline void lw_note_destroy(const void *addr, uint16_t kind, uintptr_t site)
{
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_check_destroy(t, addr, kind, site);
		lw_lock_destroyed(addr, site);
		lw_leave();
	}
}

/* ---- shared by the pthread, C11 and GLib wrappers (wrap_cond.c, wrap_thread.c) ---- */
/* A condition wait in progress: the mutex leaves the held set for the wait. */
struct lw_cond_wait {
	struct lw_thread *t;         /* NULL: not recorded */
	const void *c, *m;
	uintptr_t site;
	bool held;                   /* the thread held the mutex, as it must */
	uint32_t count;              /* its recursion count */
};
/* Before the real wait on condition c with mutex m: takes m out of the held set, checks it
 * (misuse records), publishes the wait (a timed one cannot hang).  Keeps errno. */
LW_HIDDEN void lw_cond_wait_begin(struct lw_cond_wait *w, const void *c, const void *m,
				  bool timed, uintptr_t site);
/* Issue 22: a wait that began without its mutex held returned with it (the wait's unlock
 * went through, a normal mutex's does, and it locked it again): the thread holds it now,
 * and a thread that held it does not.  Keeps errno. */
LW_HIDDEN void lw_cond_wait_took(struct lw_cond_wait *w, const void *m, uintptr_t site);
/* After it, however it ended: m is held again.  Keeps errno. */
LW_HIDDEN void lw_cond_wait_end(struct lw_cond_wait *w, const void *c, const void *m,
				uintptr_t site);
/* The same as a pthread cleanup handler (arg: the struct lw_cond_wait), for a cancelled wait. */
LW_HIDDEN void lw_cond_wait_cancelled(void *arg);
/* The body of a condition-wait wrapper over condition c and mutex m: the bookkeeping around
 * the real call (an expression), cancellation included; returns the call's result.  The
 * site is the wrapper's caller. */
#define LW_COND_WAIT(timed, call) do { \
		struct lw_cond_wait w; \
		int rc; \
		lw_cond_wait_begin(&w, c, m, timed, LW_SITE()); \
		pthread_cleanup_push(lw_cond_wait_cancelled, &w); \
		rc = (call); \
		pthread_cleanup_pop(0); \
		lw_cond_wait_end(&w, c, m, LW_SITE()); \
		if (LW_UNLIKELY(!w.held) && w.t && (rc == 0 || rc == ETIMEDOUT)) \
			lw_cond_wait_took(&w, m, LW_SITE()); \
		return rc; \
	} while (0)

/* A thread created through another API than pthread_create's own (thrd_create): the parent
 * calls lw_create_begin, passes the real create function the start it returns (NULL: create
 * the thread unrecorded) and, unless NULL, calls lw_create_end with the result; the new thread calls
 * lw_thread_begin first thing and runs its function inside
 * pthread_cleanup_push(lw_thread_cleanup, the thread returned). */
struct lw_start;
LW_HIDDEN struct lw_start *lw_create_begin(void *(*fn)(void *), void *arg, bool detached,
					   uintptr_t site, struct lw_thread **child);
/* child: what lw_create_begin set (s itself may be gone: the child frees it). */
LW_HIDDEN void lw_create_end(struct lw_start *s, struct lw_thread *child, bool detached,
			     bool created, pthread_t handle);
/* In the new thread: copies out its function and argument, registers it, frees s. */
LW_HIDDEN struct lw_thread *lw_thread_begin(struct lw_start *s, void *(**fn)(void *), void **arg);
LW_HIDDEN void lw_thread_cleanup(void *t);
/* A join through another API (thrd_join): lw_join_begin before the real join, lw_join_end
 * after it with whether it joined.  lw_detached after a successful detach. */
struct lw_join {
	struct lw_thread *t, *j;
	pthread_t th;
	uintptr_t site;
};
/* Full level: a signal or broadcast of the condition variable c (of any API) orders what
 * follows a wait it ends.  At every level, it releases waiters for the destroy check (issue
 * 22).  Keeps errno. */
LW_HIDDEN void lw_cond_note_sync(uint16_t op, const void *c, uintptr_t site);
/* Around the real destroy of condition variable c: the destroy checks, and while waiters
 * remain, the destroy published as a wait for the watchdog (issue 22).  end takes what
 * begin returned. */
LW_HIDDEN struct lw_thread *lw_cond_destroy_begin(const void *c, uintptr_t site);
LW_HIDDEN void lw_cond_destroy_end(struct lw_thread *t);
LW_HIDDEN void lw_join_begin(struct lw_join *w, pthread_t th, uintptr_t site);
LW_HIDDEN void lw_join_end(struct lw_join *w, bool joined);
/* A cleanup handler (pthread_cleanup_push) around the real join: a cancelled join joined
 * nothing. */
LW_HIDDEN void lw_join_cancelled(void *w);
LW_HIDDEN void lw_detached(pthread_t th);
/* A call site (and start routine) that an API built on pthread_create and pthread_join
 * (g_thread_new) sets for the duration of its real call, so those wrappers name the
 * program's call and function, not the library's; 0 for none. */
LW_HIDDEN extern __thread uintptr_t lw_api_site __attribute__((tls_model("initial-exec")));
LW_HIDDEN extern __thread uintptr_t lw_api_start __attribute__((tls_model("initial-exec")));

#endif
