/* An init of a lock that is initialised, not destroyed, and not in use (issue 22): undefined
 * behaviour for POSIX, C11 and GLib alike ("attempting to initialize an already initialized
 * mutex results in undefined behavior"), harmless with glibc only while nothing uses it.
 *
 * The shim cannot see an object's storage end: a stack frame that returns, or a heap block
 * freed without a destroy (glibc's destroys do nothing, so many programs skip them), leaves a
 * generation that looks live, and a new object at the same address is no re-init.  So the
 * check is made only where the storage certainly did not end: a lock in the executable's
 * image, and two inits made from one frame of one thread (its caller's stack pointer the
 * same, the call sites different: one function body; two inits from one call site are a
 * loop over a block-scope lock, a new object each time).  A generation started by a first
 * use (a static initialiser) is not checked: an init after PTHREAD_MUTEX_INITIALIZER is the
 * common way to re-arm a lock.  Nor is one started before a fork (the child's re-init of
 * its locks is the usual idiom). */
#include <pthread.h>

#include "locks/reinit.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/heap_held.h"
#include "locks/locks.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"

#define INIT_SLOTS 1024
static struct init_ent {
	uintptr_t addr;              /* atomic; written last (0 while being written) */
	uintptr_t cfa, site;
	uint32_t gen, tid;
} inits[INIT_SLOTS];

static struct init_ent *slot(uintptr_t addr)
{
	return &inits[lw_mix64(addr) % INIT_SLOTS];
}

void lw_reinit_noted(struct lw_thread *t, const void *addr, uintptr_t site, uintptr_t cfa)
{
	const struct lw_lock *l = lw_lock_find((uintptr_t)addr);
	if (!l)
		return;
	/* Initialised again while this thread held it (REINIT_LOCKED): the new lock is not
	 * held, so its hold ends here, or a destroy after would call it locked. */
	struct lw_held_ent *h = lw_held_find(t, addr);
	if (h && h->gen != __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE))
		lw_released(t, addr);
	struct init_ent *e = slot((uintptr_t)addr);
	__atomic_store_n(&e->addr, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&e->cfa, cfa, __ATOMIC_RELAXED);
	__atomic_store_n(&e->site, site, __ATOMIC_RELAXED);
	__atomic_store_n(&e->gen, __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE), __ATOMIC_RELAXED);
	__atomic_store_n(&e->tid, t->tid, __ATOMIC_RELAXED);
	__atomic_store_n(&e->addr, (uintptr_t)addr, __ATOMIC_RELEASE);
}

/* Whether glibc's lock word says the lock is taken (pthread and C11 layouts only). */
static bool word_taken(const void *addr, uint16_t kind)
{
	switch (kind) {
	case LW_LOCK_MUTEX:
		return __atomic_load_n(&((const pthread_mutex_t *)addr)->__data.__lock,
				       __ATOMIC_ACQUIRE) != 0;
	case LW_LOCK_RWLOCK: {
		const pthread_rwlock_t *rw = addr;
		return __atomic_load_n(&rw->__data.__cur_writer, __ATOMIC_ACQUIRE) != 0 ||
		       (__atomic_load_n(&rw->__data.__readers, __ATOMIC_ACQUIRE) >> 3) != 0;
	}
	case LW_LOCK_SPIN:
		return __atomic_load_n((const int *)addr, __ATOMIC_ACQUIRE) != 0;
	default:
		return false;
	}
}

/* Whether a thread's held set has this generation of the lock (for locks whose memory the
 * shim cannot read as glibc's). */
static bool held_by_anyone(const void *addr, uint32_t gen)
{
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
		if (__atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		uint32_t n = __atomic_load_n(&o->n_held, __ATOMIC_ACQUIRE);
		struct lw_held_ent *held = __atomic_load_n(&o->held, __ATOMIC_ACQUIRE);
		if (!held || n > o->cap_held)
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (held[i].addr == (uintptr_t)addr && held[i].gen == gen)
				return true;
	}
	return false;
}

void lw_reinit_check(struct lw_thread *t, const void *addr, uint16_t kind, uintptr_t site,
		     uintptr_t cfa)
{
	const struct lw_lock *l = lw_lock_find((uintptr_t)addr);
	if (!l)
		return;
	uint16_t flags = __atomic_load_n(&l->flags, __ATOMIC_ACQUIRE);
	uint32_t gen = __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
	if ((flags & LW_LOCKF_DESTROYED) ||
	    (__atomic_load_n(&l->announced, __ATOMIC_ACQUIRE) & ~LW_ANNOUNCED_KEPT) != lw_trace_epoch)
		return;
	/* Someone waits on it, or holds it: a condvar's waiter is this check's to report;
	 * the rest is acquire.c's (REINIT_LOCKED, REINIT_WAITED). */
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
		if (o == t || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		if (__atomic_load_n(&o->wait_addr, __ATOMIC_ACQUIRE) != (uintptr_t)addr)
			continue;
		if (kind == LW_LOCK_COND && (o->wait_kind == LW_WAIT_COND ||
					     o->wait_kind == LW_WAIT_COND_TIMED) &&
		    !__atomic_load_n(&o->wait_released, __ATOMIC_ACQUIRE))
			lw_misuse(t, LW_MISUSE_REINIT_WAITED, kind, (uintptr_t)addr, gen,
				  lw_site_stack(site), o->tid, o->wait_stack, 0);
		return;
	}
	/* An rwlock's word is the readers' count, which an unlock too many leaves wrong: its
	 * books say better. */
	if (LW_PTHREAD_LAYOUT(flags) && kind != LW_LOCK_RWLOCK ? word_taken(addr, kind)
							       : held_by_anyone(addr, gen))
		return;
	struct init_ent *e = slot((uintptr_t)addr);
	if (__atomic_load_n(&e->addr, __ATOMIC_ACQUIRE) != (uintptr_t)addr)
		return;
	uintptr_t e_cfa = __atomic_load_n(&e->cfa, __ATOMIC_RELAXED);
	uintptr_t e_site = __atomic_load_n(&e->site, __ATOMIC_RELAXED);
	uint32_t e_gen = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
	uint32_t e_tid = __atomic_load_n(&e->tid, __ATOMIC_RELAXED);
	if (__atomic_load_n(&e->addr, __ATOMIC_ACQUIRE) != (uintptr_t)addr || e_gen != gen)
		return;
	bool image = (uintptr_t)addr - lw_exe_lo < lw_exe_hi - lw_exe_lo;
	bool one_frame = e_tid == t->tid && e_cfa == cfa && e_site != site;
	if (!image && !one_frame)
		return;
	lw_misuse(t, LW_MISUSE_REINIT_LIVE, kind, (uintptr_t)addr, gen, lw_site_stack(site), e_tid,
		  l->init_stack, image ? 1 : 0);
}
