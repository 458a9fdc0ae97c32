/* What a thread holds, and the acquisition records: one per distinct (thread, held set,
 * lock, mode, site) in the dependencies level, one per operation in the full level. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "locks/acquire.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/options.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/dedup.h"
#include "locks/locks.h"
#include "locks/heap_held.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"

uint32_t lw_foreign_unlocks;
bool lw_one_user_unwritten, lw_private_sections;

static bool held_grow(struct lw_thread *t)
{
	uint32_t cap = t->cap_held * 2;
	struct lw_held_ent *n = lw_map_anon(cap * sizeof *n);
	if (!n)
		return false;
	memcpy(n, t->held, t->n_held * sizeof *n);
	/* The old array is not unmapped: the watchdog may be reading it.  Doubling bounds
	 * what is left behind to the size of the new one. */
	__atomic_store_n(&t->held, n, __ATOMIC_RELEASE);
	t->cap_held = cap;
	return true;
}

struct lw_held_ent *lw_held_find(struct lw_thread *t, const void *addr)
{
	for (uint32_t i = t->n_held; i-- > 0;)
		if (t->held[i].addr == (uintptr_t)addr)
			return &t->held[i];
	return NULL;
}

/*
 * A lock one thread uses.
 *
 * At the full level every acquisition and release is in the trace, in order, for the
 * happens-before replay.  But a mutex or spin lock that only one thread has taken orders
 * nothing between threads.  So while one thread is its only user, the trace gets from it
 * only the acquisitions under other locks that the thread's cache of recent ones has not
 * seen (the lock-order graph's edges), each with its release.  The others are left out.
 * Each still takes a seq, from the thread's own block of them (lw_next_private_seq), so
 * that the thread's hook epochs and the accesses placed after them keep their places, and
 * the lock remembers its user's last release left out.
 *
 * Three things bring such a lock's operations back into the trace, each in its place:
 * - The thread writes an access while holding it (a watchpoint hit, an annotation, a hook
 *   access to shared data): the acquisitions it holds and has not written are written first,
 *   with the seqs they took, so that the analyzer knows what the access held; their
 *   releases are then written too.
 * - In hook mode, another thread writes an access of the thread's on its behalf (the
 *   owner's access when a location stops being one thread's, hooks.c): it first writes the
 *   finished critical sections of such locks that contain the access, from the last
 *   LW_PRIVATE_SECTIONS the thread noted (lw_write_private_sections).  An access in an older
 *   section, or in one still held, is written without those locks among those it held:
 *   nobody else had taken them, so they change no verdict, only what the report lists.
 * - A second thread takes the lock: it is shared from then on (until its next generation),
 *   and that thread first writes the user's last left-out release, with the seq it took.
 *   The analyzer sorts it back into its place in the user's order, so the second thread's
 *   acquisition is ordered after exactly what the user did before releasing.
 *
 * The user and the remembered release change only while their lock is held, by its holder
 * (a release is noted before the real unlock at the full level), so the real lock orders
 * them for the next holder.  Read-write locks, semaphores and condition variables are
 * written as before.  A thread's own lock in a loop was two records, 80 bytes, and two
 * bumps of the shared seq counter every round.
 */

/* Writes thread tid's release of (addr, gen), with seq (0: the calling thread's next one, from
 * its block: nothing can follow a release in another thread but an acquisition, which takes
 * its seq from the counter). */
static void write_release_as(uint32_t tid, uintptr_t addr, uint32_t gen, uint64_t seq)
{
	struct lw_rec_release *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->tid = tid;
	r->gen = gen;
	r->addr = addr;
	r->seq = seq ? seq : lw_next_private_seq(true);
	lw_trace_commit(r, LW_REC_RELEASE, sizeof *r);
}

/* Whether t is the only thread that has taken a->l, which it now holds (claiming it when
 * nobody has).  A second thread makes it shared and writes its user's left-out release. */
static bool one_user(struct lw_thread *t, const struct lw_acq *a)
{
	struct lw_lock *l = a->l;
	if ((a->kind != LW_LOCK_MUTEX && a->kind != LW_LOCK_SPIN) || !lw_one_user_unwritten)
		return false;
	uint32_t u = __atomic_load_n(&l->user, __ATOMIC_RELAXED);
	if (LW_LIKELY(u == t->tid))
		return true;
	if (u == LW_USER_SHARED)
		return false;
	if (u == 0) {
		__atomic_store_n(&l->user, t->tid, __ATOMIC_RELAXED);
		return true;
	}
	__atomic_store_n(&l->user, LW_USER_SHARED, __ATOMIC_RELAXED);
	uint64_t s = __atomic_exchange_n(lw_lock_unwritten_release(l), 0, __ATOMIC_RELAXED);
	if (s)
		write_release_as(u, a->addr, a->gen, s);
	return false;
}

/* Writes thread tid's acquisition of (addr, gen) under the n_held locks of held, with seq
 * (0: the next one). */
static void write_acquire_as(uint32_t tid, const struct lw_held_ent *held, uint32_t n_held,
			     uintptr_t addr, uint32_t gen, uint16_t mode, uint16_t flags,
			     uint32_t stack, uint64_t seq)
{
	uint32_t size = (uint32_t)(sizeof(struct lw_rec_acquire) +
				   (size_t)n_held * sizeof(struct lw_held));
	if (size > LW_REC_MAX_SIZE)
		return;
	struct lw_rec_acquire *r = lw_trace_reserve(size);
	if (!r)
		return;
	r->tid = tid;
	r->n_held = n_held;
	r->addr = addr;
	r->gen = gen;
	r->mode = mode;
	r->flags = flags;
	r->stack = stack;
	r->seq = seq ? seq : lw_next_acquire_seq();
	struct lw_held *h = (struct lw_held *)(r + 1);
	for (uint32_t i = 0; i < n_held; i++) {
		h[i].addr = held[i].addr;
		h[i].gen = held[i].gen;
		h[i].mode = held[i].mode;
		h[i].flags = held[i].flags;
		h[i].stack = held[i].stack;
		h[i].pad = 0;
	}
	lw_trace_commit(r, LW_REC_ACQUIRE, size);
}

static void write_acquire(struct lw_thread *t, uintptr_t addr, uint32_t gen, uint16_t mode,
			  uint16_t flags, uint32_t stack)
{
	lw_window_join(t);
	write_acquire_as(t->tid, t->held, t->n_held, addr, gen, mode, flags, stack, 0);
}

/* t's section of held entry e, or NULL when it has none or t has noted newer ones over it. */
static struct lw_private_section *section_of(struct lw_thread *t, const struct lw_held_ent *e)
{
	if (!e->section)
		return NULL;
	struct lw_private_section *s = &t->sections[e->section - 1];
	return s->version == e->section_version ? s : NULL;
}

void lw_write_unwritten_holds(struct lw_thread *t)
{
	for (uint32_t i = 0; i < t->n_held && t->n_unwritten; i++) {
		struct lw_held_ent *e = &t->held[i];
		if (!e->unwritten)
			continue;
		/* In its place (the seq it took), and each recursive hold, so that each of its
		 * releases has one to end. */
		for (uint32_t k = 0; k < e->count; k++)
			write_acquire_as(t->tid, t->held, i, e->addr, e->gen, e->mode, e->flags,
					 e->stack, e->acquired);
		struct lw_private_section *s = section_of(t, e);
		if (s)
			__atomic_store_n(&s->placed, e->section_version, __ATOMIC_RELAXED);
		e->unwritten = false;
		t->n_unwritten--;
	}
}

/* Notes the acquisition of held entry e, left out of the trace: its seq and, in hook mode,
 * its section. */
static void private_acquired(struct lw_thread *t, struct lw_held_ent *e)
{
	e->acquired = lw_next_private_seq(false);
	e->section = 0;
	if (!lw_private_sections)
		return;
	uint32_t i = t->n_sections++ % LW_PRIVATE_SECTIONS;
	struct lw_private_section *s = &t->sections[i];
	uint32_t v = s->version + 1;
	__atomic_store_n(&s->version, v, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->acquired, e->acquired, __ATOMIC_RELAXED);
	__atomic_store_n(&s->released, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->addr, e->addr, __ATOMIC_RELAXED);
	__atomic_store_n(&s->gen, e->gen, __ATOMIC_RELAXED);
	__atomic_store_n(&s->stack, e->stack, __ATOMIC_RELAXED);
	__atomic_store_n(&s->mode, e->mode, __ATOMIC_RELAXED);
	__atomic_store_n(&s->flags, e->flags, __ATOMIC_RELAXED);
	__atomic_store_n(&s->version, v + 1, __ATOMIC_RELEASE);
	e->section = i + 1;
	e->section_version = v + 1;
}

void lw_write_private_sections(uint32_t tid, uint64_t seq)
{
	struct lw_thread *o = lw_private_sections ? lw_thread_by_tid(tid) : NULL;
	if (!o)
		return;
	for (uint32_t i = 0; i < LW_PRIVATE_SECTIONS; i++) {
		struct lw_private_section *s = &o->sections[i];
		uint32_t v = __atomic_load_n(&s->version, __ATOMIC_ACQUIRE);
		if (v == 0 || (v & 1))
			continue;
		uint64_t a = __atomic_load_n(&s->acquired, __ATOMIC_RELAXED);
		uint64_t r = __atomic_load_n(&s->released, __ATOMIC_ACQUIRE);
		uintptr_t addr = __atomic_load_n(&s->addr, __ATOMIC_RELAXED);
		uint32_t gen = __atomic_load_n(&s->gen, __ATOMIC_RELAXED);
		uint32_t stack = __atomic_load_n(&s->stack, __ATOMIC_RELAXED);
		uint16_t mode = __atomic_load_n(&s->mode, __ATOMIC_RELAXED);
		uint16_t flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		/* A section still held is left alone: its thread writes nothing for it, and
		 * would not know that its release must be written.  One that does not contain
		 * the access's epoch, or that was noted over meanwhile, too. */
		if (__atomic_load_n(&s->version, __ATOMIC_RELAXED) != v || r == 0 || a > seq ||
		    seq >= r)
			continue;
		uint32_t p = __atomic_load_n(&s->placed, __ATOMIC_RELAXED);
		if (p == v || !__atomic_compare_exchange_n(&s->placed, &p, v, false,
							   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		write_acquire_as(tid, NULL, 0, addr, gen, mode, flags, stack, a);
		write_release_as(tid, addr, gen, r);
		/* The lock's next user must not write that release again. */
		struct lw_lock *l = (struct lw_lock *)lw_lock_find(addr);
		uint64_t expected = r;
		if (l)
			__atomic_compare_exchange_n(lw_lock_unwritten_release(l), &expected, 0,
						    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
}

/* The hash of the set of locks t holds (order does not matter), computed when an
 * acquisition under them needs it rather than at every push and pop: an acquisition with
 * nothing held, the common case, never pays for it. */
static uint64_t held_hash(struct lw_thread *t)
{
	if (LW_LIKELY(t->held_hash_ok))
		return t->held_hash;
	uint64_t h = 0;
	for (uint32_t i = 0; i < t->n_held; i++) {
		const struct lw_held_ent *e = &t->held[i];
		h ^= lw_mix64(e->addr ^ ((uint64_t)e->gen << 48) ^ ((uint64_t)e->mode << 44) ^
			      ((uint64_t)e->stack << 12));
	}
	t->held_hash = h;
	t->held_hash_ok = true;
	return h;
}

/* Returns true the first time this thread sees key in this trace (thread-local cache in
 * front of the process-wide set). */
/* Whether key is in the thread's own cache of recent keys; puts it there if not. */
static inline bool seen_by_thread(struct lw_thread *t, uint64_t key)
{
	uint64_t *set = &t->seen[(key & (LW_DEDUP_CACHE / 2 - 1)) * 2];
	if (LW_LIKELY(set[0] == key))
		return true;
	if (set[1] == key) {
		set[1] = set[0];
		set[0] = key;
		return true;
	}
	set[1] = set[0];
	set[0] = key;
	return false;
}

static bool first_time(struct lw_thread *t, uint64_t key)
{
	return !seen_by_thread(t, key) && lw_dedup_insert(key);
}

/* Whether this acquisition under held locks is the first of its kind (thread, held set,
 * lock, mode, flags, site) in this trace: what the dependencies level writes.  At the full
 * level (a lock with one user) it is only whether the thread's cache and the lock's memo
 * miss it: a key written twice costs a record, where the process-wide set would cost
 * memory for every key (manylocks: 4 MB) and the trace had every acquisition before. */
/* issue 23 (perf): the key of an acquisition by a thread of a class (threads.c), with the
 * class where the tid was.  A deferred thread writes only what its class has not written;
 * a thread written in full puts its class's key in the set with each key it writes. */
static inline uint64_t class_key(const struct lw_thread *t, uint64_t other)
{
	return lw_mix64(other ^ (0xc1a55ULL << 40) ^
			((uint64_t)t->klass << 8) * 0xff51afd7ed558ccdULL);
}

static __attribute__((noinline)) bool first_of_deferred(struct lw_thread *t, uint64_t other)
{
	uint64_t ckey = class_key(t, other);
	return !seen_by_thread(t, ckey) && lw_dedup_insert(ckey);
}

static bool first_of_tuple(struct lw_thread *t, const struct lw_acq *a)
{
	uint64_t other = (a->addr * 0x9e3779b97f4a7c15ULL) ^
			 ((uint64_t)a->gen << 8 | (uint64_t)a->mode << 4 | a->flags) ^
			 ((uint64_t)a->stack * 0xc2b2ae3d27d4eb4fULL) ^ held_hash(t) ^
			 ((uint64_t)lw_trace_epoch << 56);
	uint64_t key = lw_mix64(other ^ (uint64_t)t->tid << 40);
	uint64_t *memo = a->l->seen;
	if (lw_opt.level == LW_LEVEL_FULL) {
		if (seen_by_thread(t, key) || __atomic_load_n(&memo[0], __ATOMIC_RELAXED) == key)
			return false;
		__atomic_store_n(&memo[0], key, __ATOMIC_RELAXED);
		return true;
	}
	if (LW_UNLIKELY(__atomic_load_n(&t->deferred, __ATOMIC_RELAXED)))
		return first_of_deferred(t, other);
	if (seen_by_thread(t, key) || __atomic_load_n(&memo[0], __ATOMIC_RELAXED) == key ||
	    __atomic_load_n(&memo[1], __ATOMIC_RELAXED) == key)
		return false;
	bool first = lw_dedup_insert(key);
	if (LW_UNLIKELY(t->klass) && first)
		lw_dedup_insert(class_key(t, other));   /* issue 23 (perf) */
	/* Only a key the set has is remembered here, and only after the thread's own cache
	 * missed, so a hot loop never writes the shared line (the trace epoch is in the key: a
	 * fork child's new trace misses and writes its own). */
	__atomic_store_n(&memo[key & 1], key, __ATOMIC_RELAXED);
	return first;
}

static inline void held_remove(struct lw_thread *t, struct lw_held_ent *e);
static void purge_foreign(struct lw_thread *t);

/* Another thread unlocked a lock somebody held (a misuse the program made): drop the locks
 * this thread no longer holds from its held set. */
void lw_held_purge(struct lw_thread *t)
{
	if (t->foreign_seen != __atomic_load_n(&lw_foreign_unlocks, __ATOMIC_RELAXED))
		purge_foreign(t);
}

/* Async-signal-safe (sem_post calls it): it reads the lock table, never adds to it. */
static void purge_foreign(struct lw_thread *t)
{
	t->foreign_seen = __atomic_load_n(&lw_foreign_unlocks, __ATOMIC_ACQUIRE);
	for (uint32_t i = t->n_held; i-- > 0;) {
		struct lw_held_ent *e = &t->held[i];
		struct lw_lock *l = e->lock;
		if (l && __atomic_load_n(&l->foreign, __ATOMIC_ACQUIRE) != e->foreign)
			held_remove(t, e);
	}
}

void lw_acq_commit(const struct lw_acq *a)
{
	struct lw_thread *t = a->t;
	if (LW_UNLIKELY(t->foreign_seen != __atomic_load_n(&lw_foreign_unlocks, __ATOMIC_RELAXED)))
		purge_foreign(t);
	if (t->n_held) {
		struct lw_held_ent *e = lw_held_find(t, (const void *)a->addr);
		if (e && e->gen == a->gen) {
			/* A recursive mutex, a second read lock, another sem_wait: no new order,
			 * but the full level still orders every acquisition it writes (before the
			 * count goes up: a window's first record states the holds as they were). */
			if (lw_order_recorded() && !e->unwritten)
				write_acquire(t, a->addr, a->gen, a->mode, a->flags, a->stack);
			e->count++;
			return;
		}
	}
	bool unwritten = false;
	if (lw_order_recorded()) {
		unwritten = one_user(t, a) && !(t->n_held > 0 && first_of_tuple(t, a));
		if (!unwritten)
			write_acquire(t, a->addr, a->gen, a->mode, a->flags, a->stack);
	} else if (t->n_held > 0 && first_of_tuple(t, a)) {
		write_acquire(t, a->addr, a->gen, a->mode, a->flags, a->stack);
	}
	/* A semaphore that signals is held by nobody ("Semaphores that signal"). */
	if (LW_UNLIKELY(a->kind == LW_LOCK_SEM) &&
	    (__atomic_load_n(&a->l->flags, __ATOMIC_ACQUIRE) & LW_LOCKF_SEM_SIGNALS))
		return;
	if (LW_UNLIKELY(t->n_held == t->cap_held) && !held_grow(t))
		return;
	struct lw_held_ent *e = lw_held_push(t, a, unwritten);
	t->n_unwritten += unwritten;
	if (unwritten)
		private_acquired(t, e);
	t->held_hash_ok = false;
}

void lw_acq_blocking(const struct lw_acq *a)
{
	struct lw_thread *t = a->t;
	if (LW_UNLIKELY(lw_guard) || t != lw_self)
		return;
	lw_guard = 1;
	struct lw_held_ent *e = t->n_held ? lw_held_find(t, (const void *)a->addr) : NULL;
	if (e && e->gen == a->gen && a->kind != LW_LOCK_SEM &&
	    (a->mode == LW_MODE_WRITE || e->mode == LW_MODE_WRITE)) {
		/* Busy, and held by this very thread: a relock of a lock that is not
		 * recursive.  An error-checking mutex refuses it with EDEADLK at once, which
		 * is defined (lw_acq_refused says so after the call); any other never
		 * returns. */
		if (a->kind == LW_LOCK_MUTEX && lw_mutex_errorcheck((const void *)a->addr)) {
			lw_guard = 0;
			return;
		}
		lw_misuse(t, LW_MISUSE_RELOCK, a->kind, a->addr, a->gen, a->stack, t->tid, e->stack, 0);
	}
	lw_wait_begin(t, a->addr, a->gen, a->kind, a->mode, a->stack);
	lw_guard = 0;
}

void lw_acq_refused(const struct lw_acq *a, int rc)
{
	struct lw_thread *t = a->t;
	if (a->kind != LW_LOCK_MUTEX || rc != EDEADLK || LW_UNLIKELY(lw_guard) || t != lw_self ||
	    !lw_mutex_errorcheck((const void *)a->addr))
		return;
	lw_guard = 1;
	int saved = errno;
	struct lw_held_ent *e = t->n_held ? lw_held_find(t, (const void *)a->addr) : NULL;
	lw_misuse(t, LW_MISUSE_RELOCK_REFUSED, a->kind, a->addr, a->gen, a->stack, t->tid,
		  e ? e->stack : 0, (uint64_t)rc);
	errno = saved;
	lw_guard = 0;
}

void lw_acquired(struct lw_thread *t, const void *addr, uint16_t kind, uint16_t mode,
		 uint16_t flags, uintptr_t site)
{
	struct lw_acq a;
	if (lw_acq_lookup(&a, t, addr, kind, mode, flags, site))
		lw_acq_commit(&a);
}

/* The full level's record of t's release of the lock of held entry e (before the real
 * unlock): written, or left out with its seq remembered (see "A lock one thread uses"). */
static void release_full(struct lw_thread *t, const struct lw_held_ent *e)
{
	if (!e->unwritten) {
		lw_window_join(t);
		write_release_as(t->tid, e->addr, e->gen, 0);
		/* Its user's last release is in the trace now. */
		if (e->count == 1 &&
		    __atomic_load_n(&e->lock->user, __ATOMIC_RELAXED) == t->tid)
			__atomic_store_n(lw_lock_unwritten_release(e->lock), 0, __ATOMIC_RELAXED);
	} else if (e->count == 1) {
		uint64_t r = lw_next_private_seq(true);
		__atomic_store_n(lw_lock_unwritten_release(e->lock), r, __ATOMIC_RELAXED);
		struct lw_private_section *s = section_of(t, e);
		if (s)
			__atomic_store_n(&s->released, r, __ATOMIC_RELEASE);
	}
}

static inline void held_remove(struct lw_thread *t, struct lw_held_ent *e)
{
	t->held_hash_ok = false;
	t->n_unwritten -= e->unwritten;
	lw_heap_held_remove(t, e);
	uint32_t i = (uint32_t)(e - t->held);
	if (LW_UNLIKELY(i + 1 != t->n_held))
		memmove(&t->held[i], &t->held[i + 1], (t->n_held - i - 1) * sizeof *e);
	t->n_held--;
}

/* issue 23 (perf): inlined into lw_release_checked, the unlock wrappers' path; the lock
 * released last-taken-first (the top entry) is looked at before any search. */
static inline bool released(struct lw_thread *t, const void *addr)
{
	struct lw_held_ent *e = t->n_held && t->held[t->n_held - 1].addr == (uintptr_t)addr ?
				&t->held[t->n_held - 1] : lw_held_find(t, addr);
	if (!e)
		return false;
	if (lw_order_recorded())
		release_full(t, e);
	if (--e->count == 0)
		held_remove(t, e);
	return true;
}

bool lw_released(struct lw_thread *t, const void *addr)
{
	return released(t, addr);
}

/* Writes a note on semaphore (addr, gen), LW_REC_SEM_LOCKLIKE or LW_REC_SEM_SIGNAL (the same
 * layout): the first time this thread makes it, or every time with always. */
static void sem_note(struct lw_thread *t, uint16_t kind, uintptr_t addr, uint32_t gen,
		     bool always)
{
	uint64_t salt = kind == LW_REC_SEM_LOCKLIKE ? 0x5e5e : 0x5161;
	uint64_t key = lw_mix64(((uint64_t)t->tid << 32 | salt) ^ addr ^ ((uint64_t)gen << 48));
	if (!always && !first_time(t, key))
		return;
	struct lw_rec_sem_locklike *r = lw_trace_reserve(sizeof *r);
	if (r) {
		r->tid = t->tid;
		r->gen = gen;
		r->addr = addr;
		lw_trace_commit(r, kind, sizeof *r);
	}
}

/*
 * Semaphores that signal.
 *
 * A thread's sem_wait puts the semaphore in its held set, and its own sem_post takes it out:
 * a semaphore used as a lock.  A post by a thread that had not waited on it is a signal
 * (LW_REC_SEM_SIGNAL), and from then on the analyzer takes that generation for a lock in no
 * thread.  So the shim holds it in no held set either: the post marks the generation
 * LW_LOCKF_SEM_SIGNALS and counts a foreign unlock of it, so that every waiter that holds
 * it drops it at its next acquisition or post (lw_held_purge: all holders of a counting
 * semaphore, bounded rather than exact), and a wait on it from then on enters no held set.
 * A destroy ends every held entry of the semaphore the same way.
 *
 * Without this a completion semaphore per request (init 0, wait, another thread's post,
 * destroy), or CPython's Condition (each waiter blocks on its own lock, a sem_t, that the
 * notifier releases), left one held entry per request, and every later acquisition's
 * record carried them all.  For the same programs, at the dependencies level, a semaphore
 * that signalled and is initialised again at the same address from the same site goes on
 * in its generation (lw_sem_destroyed_keep_gen, lw_lock_new_gen), so that its init, its
 * signal notes and the acquisitions under it are written once, not once per request.
 */
void lw_sem_posted(struct lw_thread *t, const void *addr)
{
	lw_held_purge(t);
	struct lw_held_ent *e = lw_held_find(t, addr);
	if (!e) {
		/* Posting a semaphore this thread did not wait on: signalling.  Said once per
		 * thread and generation, so that the analyzer never takes it for a lock. */
		struct lw_lock *l = (struct lw_lock *)lw_lock_find((uintptr_t)addr);
		sem_note(t, LW_REC_SEM_SIGNAL, (uintptr_t)addr,
			 l ? __atomic_load_n(&l->gen, __ATOMIC_RELAXED) : 0, false);
		if (l && !(__atomic_fetch_or(&l->flags, LW_LOCKF_SEM_SIGNALS, __ATOMIC_ACQ_REL) &
			   LW_LOCKF_SEM_SIGNALS)) {
			__atomic_add_fetch(&l->foreign, 1, __ATOMIC_RELEASE);
			__atomic_add_fetch(&lw_foreign_unlocks, 1, __ATOMIC_RELEASE);
		}
		return;
	}
	bool ordered = lw_order_recorded();
	sem_note(t, LW_REC_SEM_LOCKLIKE, e->addr, e->gen, ordered);
	if (ordered)
		release_full(t, e);
	if (--e->count == 0)
		held_remove(t, e);
}

void lw_sem_destroying(struct lw_thread *t, const void *addr, uintptr_t site)
{
	lw_check_destroy(t, addr, LW_LOCK_SEM, site);
	struct lw_lock *l = (struct lw_lock *)lw_lock_find((uintptr_t)addr);
	if (l) {
		__atomic_add_fetch(&l->foreign, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&lw_foreign_unlocks, 1, __ATOMIC_RELEASE);
		lw_held_purge(t);
	}
	if (l && lw_opt.level != LW_LEVEL_FULL &&
	    (__atomic_load_n(&l->flags, __ATOMIC_ACQUIRE) & LW_LOCKF_SEM_SIGNALS))
		lw_sem_destroyed_keep_gen(addr, site);
	else
		lw_lock_destroyed(addr, site);
}

/* The live thread other than self that holds addr, and its entry. */
static struct lw_thread *holder_of(struct lw_thread *self, uintptr_t addr,
				   struct lw_held_ent **entry)
{
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
		if (o == self || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		uint32_t n = __atomic_load_n(&o->n_held, __ATOMIC_ACQUIRE);
		struct lw_held_ent *held = __atomic_load_n(&o->held, __ATOMIC_ACQUIRE);
		if (!held || n > o->cap_held)
			continue;
		for (uint32_t i = 0; i < n; i++) {
			if (held[i].addr == addr) {
				*entry = &held[i];
				return o;
			}
		}
	}
	return NULL;
}

void lw_release_checked(struct lw_thread *t, const void *addr, uintptr_t site)
{
	if (LW_LIKELY(released(t, addr)))
		return;
	struct lw_lock *l = lw_lock_get(addr, 0, site);
	uint16_t kind = l ? l->kind : 0;
	uint32_t gen = l ? l->gen : 0;
	/* An unlock by a thread that does not hold the lock still releases it (a normal mutex
	 * lets another thread unlock it): its next owner is ordered after this thread, so the
	 * ordered trace has the release too (issue 20: the reader-writer lesson's last reader
	 * unlocks the room the first one locked). */
	if (l && lw_order_recorded() && (kind == LW_LOCK_MUTEX || kind == LW_LOCK_SPIN ||
					 kind == LW_LOCK_RWLOCK)) {
		lw_window_join(t);
		write_release_as(t->tid, (uintptr_t)addr, gen, 0);
	}
	struct lw_held_ent *e = NULL;
	struct lw_thread *o = holder_of(t, (uintptr_t)addr, &e);
	uint32_t stack = lw_site_stack(site);
	if (o) {
		lw_misuse(t, LW_MISUSE_UNLOCK_OTHER_OWNER, kind, (uintptr_t)addr, gen, stack, o->tid,
			  e->stack, 0);
		/* The owner's held set must forget it: it does so at its next acquisition. */
		if (l) {
			__atomic_add_fetch(&l->foreign, 1, __ATOMIC_RELEASE);
			__atomic_add_fetch(&lw_foreign_unlocks, 1, __ATOMIC_RELEASE);
		}
	} else if (!lw_locks_incomplete()) {
		/* With locks unrecorded (the table was full), its acquisition may be one of
		 * them: not misuse, and the trace's header says that recording was incomplete. */
		lw_misuse(t, LW_MISUSE_UNLOCK_NOT_LOCKED, kind, (uintptr_t)addr, gen, stack, 0, 0, 0);
	}
}

void lw_unlock_refused(struct lw_thread *t, const void *addr, int rc, uintptr_t site)
{
	struct lw_lock *l = lw_lock_get(addr, LW_LOCK_MUTEX, site);
	struct lw_held_ent *e = NULL;
	struct lw_thread *o = holder_of(t, (uintptr_t)addr, &e);
	/* The owner still holds it: its held set stays as it is. */
	lw_misuse(t, LW_MISUSE_UNLOCK_REFUSED, LW_LOCK_MUTEX, (uintptr_t)addr, l ? l->gen : 0,
		  lw_site_stack(site), o ? o->tid : 0, o ? e->stack : 0, (uint64_t)rc);
}

/* Whether glibc's own lock word says the lock is taken (the fields are in the public
 * <bits/struct_mutex.h> and <bits/struct_rwlock.h>; a spinlock is an int). */
static bool lock_word_taken(const void *addr, uint16_t kind)
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
		return true;
	}
}

void lw_check_destroy(struct lw_thread *t, const void *addr, uint16_t kind, uintptr_t site)
{
	struct lw_held_ent *e = NULL;
	struct lw_lock *l = lw_lock_get(addr, kind, site);
	uint32_t gen = l ? l->gen : 0;
	if (kind != LW_LOCK_SEM && kind != LW_LOCK_COND) {
		struct lw_held_ent *mine = lw_held_find(t, addr);
		struct lw_thread *o = mine ? t : holder_of(t, (uintptr_t)addr, &e);
		if (mine)
			e = mine;
		/* Another thread's books lag its real unlock a little (they are kept after
		 * it): believe them only if the lock itself says it is taken. */
		if (o && o != t && LW_PTHREAD_LAYOUT(l ? l->flags : lw_lock_api) &&
		    !lock_word_taken(addr, kind))
			o = NULL;
		if (o)
			lw_misuse(t, LW_MISUSE_DESTROY_LOCKED, kind, (uintptr_t)addr, gen,
				  lw_site_stack(site), o->tid, e->stack, 0);
		return;
	}
	for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
		if (o == t || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		if (__atomic_load_n(&o->wait_addr, __ATOMIC_ACQUIRE) == (uintptr_t)addr &&
		    /* A waiter a signal or broadcast released waits no more (issue 22). */
		    !(kind == LW_LOCK_COND && __atomic_load_n(&o->wait_released, __ATOMIC_ACQUIRE)) &&
		    (o->wait_kind == kind ||
		     (kind == LW_LOCK_COND && (o->wait_kind == LW_WAIT_COND ||
					       o->wait_kind == LW_WAIT_COND_TIMED)))) {
			lw_misuse(t, LW_MISUSE_DESTROY_WAITED, kind, (uintptr_t)addr, gen,
				  lw_site_stack(site), o->tid, o->wait_stack, 0);
			return;
		}
	}
}

void lw_forget_held(struct lw_lock *l)
{
	if (!l)
		return;
	__atomic_add_fetch(&l->foreign, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&lw_foreign_unlocks, 1, __ATOMIC_RELEASE);
}

/* Issue 22: an init of a lock whose current generation a thread holds, or waits for, is
 * undefined behaviour (POSIX): an error. */
void lw_check_reinit(struct lw_thread *t, const void *addr, uint16_t kind, uintptr_t site)
{
	const struct lw_lock *l = lw_lock_find((uintptr_t)addr);
	if (!l || (__atomic_load_n(&l->flags, __ATOMIC_ACQUIRE) & LW_LOCKF_DESTROYED))
		return;
	uint32_t gen = __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
	struct lw_held_ent *e = lw_held_find(t, addr);
	struct lw_thread *o = e ? t : holder_of(t, (uintptr_t)addr, &e);
	if (o && e->gen != gen)
		o = NULL;
	/* Books that lag the real unlock, or missed it: the lock word must say taken. */
	if (o && LW_PTHREAD_LAYOUT(l->flags) && !lock_word_taken(addr, e->kind))
		o = NULL;
	if (o) {
		lw_misuse(t, LW_MISUSE_REINIT_LOCKED, kind, (uintptr_t)addr, gen, lw_site_stack(site),
			  o->tid, e->stack, 0);
		lw_forget_held(e->lock);
		return;
	}
	for (o = lw_registry_head(); o; o = o->next) {
		if (o == t || __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		if (__atomic_load_n(&o->wait_addr, __ATOMIC_ACQUIRE) == (uintptr_t)addr &&
		    o->wait_kind == kind) {
			lw_misuse(t, LW_MISUSE_REINIT_WAITED, kind, (uintptr_t)addr, gen,
				  lw_site_stack(site), o->tid, o->wait_stack, 0);
			return;
		}
	}
}

void lw_sync(struct lw_thread *t, uint16_t op, uintptr_t addr, uint64_t value, uintptr_t site)
{
	if (!lw_order_recorded())
		return;
	lw_window_join(t);
	struct lw_rec_sync *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->tid = t->tid;
	r->op = op;
	r->addr = addr;
	r->value = value;
	r->stack = site ? lw_site_stack_cached(t, site) : 0;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_SYNC, sizeof *r);
}

/* ---- issue 20: watch windows ---- */

int lw_window_open;
uint32_t lw_window_epoch;
static uint64_t window_seq_limit = UINT64_MAX;   /* atomic */

void lw_window_limit(uint64_t seq)
{
	__atomic_store_n(&window_seq_limit, seq, __ATOMIC_RELEASE);
}

void lw_window_spend(void)
{
	if (LW_UNLIKELY(lw_current_seq() > __atomic_load_n(&window_seq_limit, __ATOMIC_RELAXED)))
		__atomic_store_n(&lw_window_open, 0, __ATOMIC_SEQ_CST);
}

void lw_window_join_slow(struct lw_thread *t)
{
	uint32_t ep = __atomic_load_n(&lw_window_epoch, __ATOMIC_ACQUIRE);
	if (!__atomic_load_n(&lw_window_open, __ATOMIC_ACQUIRE) || t->window_seen == ep)
		return;
	t->window_seen = ep;
	/* A seq from the counter ends the thread's block of private ones, which it may have
	 * taken before the window opened. */
	lw_next_seq();
	for (uint32_t i = 0; i < t->n_held; i++) {
		const struct lw_held_ent *e = &t->held[i];
		if (e->unwritten)
			continue;
		for (uint32_t k = 0; k < e->count; k++)
			write_acquire_as(t->tid, t->held, i, e->addr, e->gen, e->mode, e->flags,
					 e->stack, 0);
	}
}

static void window_record(uint16_t op, uint64_t value)
{
	struct lw_rec_sync *r = lw_trace_reserve_shared(sizeof *r);
	if (!r)
		return;
	r->tid = 0;
	r->op = op;
	r->addr = 0;
	r->value = value;
	r->stack = 0;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_SYNC, sizeof *r);
}

void lw_window_mark(bool open)
{
	/* At the full level everything is written anyway: only the flag moves (it says when
	 * watchpoint hits are recorded). */
	bool records = lw_opt.level != LW_LEVEL_FULL;
	if (!records) {
		__atomic_store_n(&lw_window_open, open, __ATOMIC_SEQ_CST);
		return;
	}
	if (open) {
		/* The opening's seq is taken before the flag is set: every record written because
		 * a thread saw the flag sorts after it. */
		uint32_t ep = __atomic_load_n(&lw_window_epoch, __ATOMIC_RELAXED) + 1;
		if (records)
			window_record(LW_SYNC_WINDOW_OPEN, ep);
		__atomic_store_n(&lw_window_epoch, ep, __ATOMIC_SEQ_CST);
		__atomic_store_n(&lw_window_open, 1, __ATOMIC_SEQ_CST);
	} else {
		/* The fence's seq is taken after the flag is cleared: a record written by a thread
		 * that still saw it open may sort after the fence, where the analyzer ignores it. */
		__atomic_store_n(&lw_window_open, 0, __ATOMIC_SEQ_CST);
		if (records)
			window_record(LW_SYNC_FENCE, __atomic_load_n(&lw_window_epoch, __ATOMIC_RELAXED));
	}
}
