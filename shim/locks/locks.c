/* The lock table: every lock the program used, by address, with its generation. */
#include <string.h>
#include <sys/mman.h>
#include "locks/locks.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/msg.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"
#include "locks/misuse.h"

#define LW_LOCK_MAX_PROBES 256

_Static_assert(sizeof(struct lw_lock) == 48, "a lock's entry stays 48 bytes: 100k locks cost 7 MB");

struct lw_lock *lw_lock_table;
#define table lw_lock_table
uint32_t lw_trace_epoch = 1;
static int full_warned;


static struct lw_lock *find_or_insert(uintptr_t addr, bool *inserted)
{
	*inserted = false;
	if (LW_UNLIKELY(!table)) {
		struct lw_lock *t = lw_map_anon(LW_LOCK_SLOTS * sizeof *t);
		if (!t)
			return NULL;
		struct lw_lock *expected = NULL;
		if (!__atomic_compare_exchange_n(&table, &expected, t, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			munmap(t, LW_LOCK_SLOTS * sizeof *t);
	}
	uint32_t i = slot_of(addr);
	for (int n = 0; n < LW_LOCK_MAX_PROBES; n++, i = (i + 1) & (LW_LOCK_SLOTS - 1)) {
		uintptr_t cur = __atomic_load_n(&table[i].addr, __ATOMIC_ACQUIRE);
		if (cur == addr)
			return &table[i];
		if (cur == 0) {
			if (__atomic_compare_exchange_n(&table[i].addr, &cur, addr, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				*inserted = true;
				return &table[i];
			}
			if (cur == addr)
				return &table[i];
		}
	}
	if (!__atomic_exchange_n(&full_warned, 1, __ATOMIC_RELAXED))
		lw_msg("lock table full; locks first used from now on are not recorded");
	return NULL;
}

/* A new generation: nobody has used the lock in it yet. */
static void lock_forget_user(struct lw_lock *l)
{
	__atomic_store_n(&l->user, 0, __ATOMIC_RELAXED);
	__atomic_store_n(lw_lock_unwritten_release(l), 0, __ATOMIC_RELAXED);
}

static void announce(struct lw_lock *l, uint16_t kind, uint16_t flags, uint32_t stack)
{
	struct lw_rec_lock_init *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->addr = l->addr;
	r->gen = l->gen;
	r->lock_kind = kind;
	r->flags = flags & (uint16_t)~LW_LOCKF_DESTROYED;
	r->stack = stack;
	r->tid = lw_self ? lw_self->tid : 0;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_LOCK_INIT, sizeof *r);
}

struct lw_lock *lw_lock_get_slow(const void *addr, uint16_t kind, uintptr_t site)
{
	bool inserted;
	struct lw_lock *l = find_or_insert((uintptr_t)addr, &inserted);
	if (LW_UNLIKELY(!l))
		return NULL;
	uint32_t ep = __atomic_load_n(&l->announced, __ATOMIC_ACQUIRE);
	if (LW_LIKELY(ep == lw_trace_epoch))
		return l;
	/* First use in this trace: whoever wins the exchange writes the LOCK_INIT. */
	if (__atomic_compare_exchange_n(&l->announced, &ep, lw_trace_epoch, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (inserted || l->kind == 0 || (l->flags & LW_LOCKF_DESTROYED)) {
			/* Used again after destroy without a new init: a semaphore has no static
			 * initialiser, and glibc marks a destroyed mutex with kind -1, so
			 * either is misuse (memory reused with PTHREAD_MUTEX_INITIALIZER is
			 * not). */
			if ((l->flags & LW_LOCKF_DESTROYED) && lw_self &&
			    ((l->kind == LW_LOCK_SEM && kind == LW_LOCK_SEM) ||
			     (kind == LW_LOCK_MUTEX && ((const pthread_mutex_t *)addr)->__data.__kind == -1)))
				lw_misuse(lw_self, LW_MISUSE_USE_AFTER_DESTROY, kind, l->addr,
					  l->gen, lw_site_stack(site), 0, 0, 0);
			if (kind)
				l->kind = kind;
			l->flags = LW_LOCKF_STATIC;
			l->init_stack = lw_site_stack(site);
		}
		announce(l, l->kind, l->flags, l->init_stack);
	}
	return l;
}

void lw_lock_new_gen(const void *addr, uint16_t kind, uint16_t flags, uintptr_t site)
{
	bool inserted;
	struct lw_lock *l = find_or_insert((uintptr_t)addr, &inserted);
	if (!l)
		return;
	__atomic_add_fetch(&l->gen, 1, __ATOMIC_ACQ_REL);
	lock_forget_user(l);
	l->kind = kind;
	l->flags = flags;
	l->init_stack = lw_site_stack(site);
	__atomic_store_n(&l->announced, lw_trace_epoch, __ATOMIC_RELEASE);
	announce(l, kind, flags, l->init_stack);
}

void lw_lock_destroyed(const void *addr, uintptr_t site)
{
	bool inserted;
	struct lw_lock *l = find_or_insert((uintptr_t)addr, &inserted);
	if (!l)
		return;
	struct lw_rec_lock_destroy *r = lw_trace_reserve(sizeof *r);
	if (r) {
		r->addr = l->addr;
		r->gen = l->gen;
		r->stack = lw_site_stack(site);
		r->tid = lw_self ? lw_self->tid : 0;
		r->seq = lw_next_seq();
		lw_trace_commit(r, LW_REC_LOCK_DESTROY, sizeof *r);
	}
	/* A later use without *_init (memory reused with a static initialiser) is a new lock. */
	__atomic_add_fetch(&l->gen, 1, __ATOMIC_ACQ_REL);
	lock_forget_user(l);
	l->flags |= LW_LOCKF_DESTROYED;
	__atomic_store_n(&l->announced, 0, __ATOMIC_RELEASE);
}

void lw_locks_reset_after_fork(void)
{
	/* The child writes a new trace: every lock must be announced again. */
	lw_trace_epoch++;
	/* Its lock entries still name the parent's users, whose tids the child's threads
	 * take again: the child writes every lock operation (acquire.c, "A lock one thread
	 * uses"). */
	lw_one_user_unwritten = false;
	lw_private_sections = false;
	full_warned = 0;
}

const struct lw_lock *lw_lock_find(uintptr_t addr)
{
	if (!table)
		return NULL;
	uint32_t i = slot_of(addr);
	for (int n = 0; n < LW_LOCK_MAX_PROBES; n++, i = (i + 1) & (LW_LOCK_SLOTS - 1)) {
		uintptr_t cur = __atomic_load_n(&table[i].addr, __ATOMIC_ACQUIRE);
		if (cur == addr)
			return &table[i];
		if (cur == 0)
			return NULL;
	}
	return NULL;
}

uint16_t lw_lock_flags(uintptr_t addr)
{
	const struct lw_lock *l = lw_lock_find(addr);
	return l ? l->flags : 0;
}
