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
	bool ok = lw_acq_begin_slow(a, t, addr, kind, mode, flags, site);
	lw_leave();
	return ok;
}

/* After the real call succeeded. */
static inline void lw_acq_end(const struct lw_acq *a)
{
	if (LW_UNLIKELY(lw_guard) || a->t != lw_self)
		return;
	lw_guard = 1;
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
		return rc_; \
	} while (0)

/* The whole of a releasing wrapper.  In the full level the release is written before the
 * real unlock, so the trace orders it before the next owner's acquisition; otherwise the
 * bookkeeping happens after it, outside the critical section. */
#define LW_RELEASE(call, addr) do { \
		if (LW_UNLIKELY(lw_opt.level == LW_LEVEL_FULL)) { \
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

#endif
