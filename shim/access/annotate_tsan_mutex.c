/* ThreadSanitizer's mutex annotations (<sanitizer/tsan_interface.h>, __tsan_mutex_*): how a
 * lock the program builds itself (on futexes, on atomics) tells the shim it is one.  Its
 * acquisitions and releases are recorded as a mutex's (LW_LOCKF_API_ANNOTATED), for cycles,
 * misuse and the watchdog; what its implementation calls between the pre and post
 * annotations is not recorded (a diverted region is), as in ThreadSanitizer. */
#include "locks/wrap.h"
#include "core/msg.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/trace_writer.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"

/* The flag bits of tsan_interface.h (its "static const unsigned" values). */
#define TSAN_MUTEX_LINKER_INIT      (1u << 0)
#define TSAN_MUTEX_WRITE_REENTRANT  (1u << 1)
#define TSAN_MUTEX_READ_REENTRANT   (1u << 2)
#define TSAN_MUTEX_READ_LOCK        (1u << 3)
#define TSAN_MUTEX_TRY_LOCK         (1u << 4)
#define TSAN_MUTEX_TRY_LOCK_FAILED  (1u << 5)
#define TSAN_MUTEX_RECURSIVE_LOCK   (1u << 6)
#define TSAN_MUTEX_RECURSIVE_UNLOCK (1u << 7)
#define TSAN_MUTEX_NOT_STATIC       (1u << 8)

/* A lock operation between its pre and post annotations; they nest (a lock whose slow path
 * diverts to take another lock) up to LW_TSAN_PENDING deep, deeper ones are not recorded. */
#define LW_TSAN_PENDING 4
struct pending {
	uintptr_t addr;
	struct lw_acq acq;
	bool recorded;               /* acq is valid: commit it at post_lock */
	int guard;                   /* lw_guard before the pre annotation */
};
static __thread struct pending pending[LW_TSAN_PENDING] __attribute__((tls_model("initial-exec")));
static __thread unsigned n_pending __attribute__((tls_model("initial-exec")));
/* The guard saved by pre_divert, one per pending operation. */
static __thread int divert_guard[LW_TSAN_PENDING] __attribute__((tls_model("initial-exec")));

/* Inside an operation, the lock's own implementation runs: the shim passes its calls
 * through.  Returns the guard to restore. */
static int ignore_begin(void)
{
	int g = lw_guard;
	lw_guard = 1;
	return g;
}

/* An unlock or signal: nothing to commit at its post annotation. */
static void push_ignored(void *addr)
{
	if (n_pending < LW_TSAN_PENDING) {
		pending[n_pending].addr = (uintptr_t)addr;
		pending[n_pending].recorded = false;
		pending[n_pending].guard = ignore_begin();
	}
	n_pending++;
}

static uint16_t kind_of(unsigned flags)
{
	return (flags & (TSAN_MUTEX_READ_LOCK | TSAN_MUTEX_READ_REENTRANT)) ? LW_LOCK_RWLOCK
									    : LW_LOCK_MUTEX;
}

LW_EXPORT void __tsan_mutex_create(void *addr, unsigned flags)
{
	int e = errno;
	uint16_t f = LW_LOCKF_API_ANNOTATED;
	if (flags & TSAN_MUTEX_WRITE_REENTRANT)
		f |= LW_LOCKF_RECURSIVE;
	if (flags & TSAN_MUTEX_LINKER_INIT)
		f |= LW_LOCKF_STATIC;
	lw_note_init(addr, kind_of(flags), f, LW_SITE());
	errno = e;
}

LW_EXPORT void __tsan_mutex_destroy(void *addr, unsigned flags)
{
	int e = errno;
	uint16_t api = lw_lock_api;
	lw_lock_api = LW_LOCKF_API_ANNOTATED;
	lw_note_destroy(addr, kind_of(flags), LW_SITE());
	lw_lock_api = api;
	errno = e;
}

/* A lock the program builds cannot say whether it will block, so every untried acquisition
 * is published as a wait until post_lock: the watchdog reports only waits that last. */
LW_EXPORT void __tsan_mutex_pre_lock(void *addr, unsigned flags)
{
	int e = errno;
	if (n_pending >= LW_TSAN_PENDING) {
		n_pending++;
		return;
	}
	struct pending *p = &pending[n_pending++];
	uint16_t api = lw_lock_api;
	lw_lock_api = LW_LOCKF_API_ANNOTATED;
	uint16_t mode = (flags & TSAN_MUTEX_READ_LOCK) ? LW_MODE_READ : LW_MODE_WRITE;
	uint16_t acqf = (flags & TSAN_MUTEX_TRY_LOCK) ? LW_ACQF_TRY : 0;
	p->addr = (uintptr_t)addr;
	p->recorded = lw_acq_begin(&p->acq, addr, kind_of(flags), mode, acqf, LW_SITE());
	if (p->recorded && !acqf) {
		/* A relock of a lock that is not reentrant never returns: lw_acq_blocking notes
		 * it, and only then (a reentrant lock held by its thread is no wait). */
		const struct lw_lock *l = lw_lock_find(p->addr);
		bool reentrant = (l && (l->flags & LW_LOCKF_RECURSIVE)) ||
				 (flags & TSAN_MUTEX_WRITE_REENTRANT);
		struct lw_thread *t = lw_self;
		if (!(reentrant && t && lw_held_find(t, addr)))
			lw_acq_blocking(&p->acq);
	}
	lw_lock_api = api;
	p->guard = ignore_begin();
	errno = e;
}

LW_EXPORT void __tsan_mutex_post_lock(void *addr, unsigned flags, int recursion)
{
	if (n_pending == 0)
		return;
	if (n_pending > LW_TSAN_PENDING) {
		n_pending--;
		return;
	}
	int e = errno;
	struct pending *p = &pending[--n_pending];
	lw_guard = p->guard;
	if (!p->recorded || p->addr != (uintptr_t)addr) {
		errno = e;
		return;
	}
	if (!(p->acq.flags & LW_ACQF_TRY))
		lw_wait_end(p->acq.t);
	if (!(flags & TSAN_MUTEX_TRY_LOCK_FAILED)) {
		uint16_t api = lw_lock_api;
		lw_lock_api = LW_LOCKF_API_ANNOTATED;
		/* A monitor's wait gives back several levels at once: take them back. */
		int levels = (flags & TSAN_MUTEX_RECURSIVE_LOCK) && recursion > 1 ? recursion : 1;
		for (int i = 0; i < levels; i++)
			lw_acq_end(&p->acq);
		lw_lock_api = api;
	}
	errno = e;
}

/* Returns the levels released: all of them with __tsan_mutex_recursive_unlock, else 0. */
LW_EXPORT int __tsan_mutex_pre_unlock(void *addr, unsigned flags)
{
	int e = errno, levels = 0;
	uint16_t api = lw_lock_api;
	lw_lock_api = LW_LOCKF_API_ANNOTATED;
	struct lw_thread *t = lw_enter();
	if (t) {
		struct lw_held_ent *h = (flags & TSAN_MUTEX_RECURSIVE_UNLOCK) ? lw_held_find(t, addr)
									       : NULL;
		if (h) {
			levels = (int)h->count;
			h->count = 1;
		}
		lw_release_checked(t, addr, LW_SITE());
		lw_leave();
	}
	lw_lock_api = api;
	/* The unlock's own implementation runs until post_unlock. */
	push_ignored(addr);
	errno = e;
	return levels;
}

LW_EXPORT void __tsan_mutex_post_unlock(void *addr, unsigned flags)
{
	if (n_pending == 0)
		return;
	if (n_pending-- <= LW_TSAN_PENDING)
		lw_guard = pending[n_pending].guard;
}

/* A signal or broadcast on the lock (a condition built into it) orders nothing the shim
 * records at the default level; its implementation is passed through. */
LW_EXPORT void __tsan_mutex_pre_signal(void *addr, unsigned flags)
{
	push_ignored(addr);
}

LW_EXPORT void __tsan_mutex_post_signal(void *addr, unsigned flags)
{
	__tsan_mutex_post_unlock(addr, flags);
}

/* Between pre_divert and post_divert, inside an operation, the thread does something else
 * (runs a scheduler, takes another lock): recorded as usual. */
LW_EXPORT void __tsan_mutex_pre_divert(void *addr, unsigned flags)
{
	if (n_pending == 0 || n_pending > LW_TSAN_PENDING)
		return;
	divert_guard[n_pending - 1] = lw_guard;
	lw_guard = pending[n_pending - 1].guard;
}

LW_EXPORT void __tsan_mutex_post_divert(void *addr, unsigned flags)
{
	if (n_pending == 0 || n_pending > LW_TSAN_PENDING)
		return;
	lw_guard = divert_guard[n_pending - 1];
}
