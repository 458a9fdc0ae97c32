/* What a thread holds, and the acquisition records: one per distinct (thread, held set,
 * lock, mode, site) in the dependencies level, one per operation in the full level. */
#include <string.h>
#include <sys/mman.h>
#include "lw_shim.h"

static bool held_grow(struct lw_thread *t)
{
	uint32_t cap = t->cap_held * 2;
	struct lw_held_ent *n = lw_map_anon(cap * sizeof *n);
	if (!n)
		return false;
	memcpy(n, t->held, t->n_held * sizeof *n);
	if (t->held != t->inline_held)
		munmap(t->held, t->cap_held * sizeof *n);
	t->held = n;
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

static void write_acquire(struct lw_thread *t, uintptr_t addr, uint32_t gen, uint16_t mode,
			  uint16_t flags, uint32_t stack)
{
	uint32_t size = (uint32_t)(sizeof(struct lw_rec_acquire) +
				   (size_t)t->n_held * sizeof(struct lw_held));
	if (size > LW_REC_MAX_SIZE)
		return;
	struct lw_rec_acquire *r = lw_trace_reserve(size);
	if (!r)
		return;
	r->tid = t->tid;
	r->n_held = t->n_held;
	r->addr = addr;
	r->gen = gen;
	r->mode = mode;
	r->flags = flags;
	r->stack = stack;
	r->seq = lw_next_seq();
	struct lw_held *h = (struct lw_held *)(r + 1);
	for (uint32_t i = 0; i < t->n_held; i++) {
		h[i].addr = t->held[i].addr;
		h[i].gen = t->held[i].gen;
		h[i].mode = t->held[i].mode;
		h[i].flags = t->held[i].flags;
		h[i].stack = t->held[i].stack;
		h[i].pad = 0;
	}
	lw_trace_commit(r, LW_REC_ACQUIRE, size);
}

/* Returns true the first time this thread sees key in this trace (thread-local cache in
 * front of the process-wide set). */
static bool first_time(struct lw_thread *t, uint64_t key)
{
	uint64_t *slot = &t->seen[key & (LW_DEDUP_CACHE - 1)];
	if (*slot == key)
		return false;
	*slot = key;
	return lw_dedup_insert(key);
}

/* Returns the stack id of a call site, from the thread's own cache when it can. */
static inline uint32_t site_stack(struct lw_thread *t, uintptr_t site)
{
	struct lw_site_cache_ent *c = &t->sites[(site ^ (site >> 7)) & (LW_SITE_CACHE - 1)];
	if (LW_LIKELY(c->site == site))
		return c->stack;
	uint32_t stack = lw_site_stack(site);
	c->site = site;
	c->stack = stack;
	return stack;
}

bool lw_acq_begin_slow(struct lw_acq *a, struct lw_thread *t, const void *addr, uint16_t kind,
		       uint16_t mode, uint16_t flags, uintptr_t site)
{
	struct lw_lock *l = lw_lock_get(addr, kind, site);
	if (LW_UNLIKELY(!l))
		return false;
	a->t = t;
	a->addr = (uintptr_t)addr;
	a->gen = __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
	a->stack = site_stack(t, site);
	a->kind = kind;
	a->mode = mode;
	a->flags = flags & (LW_ACQF_TRY | LW_ACQF_TIMED | LW_ACQF_COND_REACQ);
	return true;
}

void lw_acq_commit(const struct lw_acq *a)
{
	struct lw_thread *t = a->t;
	if (t->n_held) {
		struct lw_held_ent *e = lw_held_find(t, (const void *)a->addr);
		if (e && e->gen == a->gen) {
			/* A recursive mutex, a second read lock, another sem_wait: no new order. */
			e->count++;
			return;
		}
	}
	if (LW_UNLIKELY(lw_opt.level == LW_LEVEL_FULL)) {
		write_acquire(t, a->addr, a->gen, a->mode, a->flags, a->stack);
	} else if (t->n_held > 0) {
		uint64_t key = lw_mix64((a->addr * 0x9e3779b97f4a7c15ULL) ^
					((uint64_t)t->tid << 40 | (uint64_t)a->gen << 8 |
					 (uint64_t)a->mode << 4 | a->flags) ^
					((uint64_t)a->stack * 0xc2b2ae3d27d4eb4fULL) ^ t->held_hash);
		if (first_time(t, key))
			write_acquire(t, a->addr, a->gen, a->mode, a->flags, a->stack);
	}
	if (LW_UNLIKELY(t->n_held == t->cap_held) && !held_grow(t))
		return;
	struct lw_held_ent *e = &t->held[t->n_held++];
	e->addr = a->addr;
	e->gen = a->gen;
	e->mode = a->mode;
	e->flags = a->flags;
	e->kind = a->kind;
	e->stack = a->stack;
	e->count = 1;
	e->hash = lw_mix64(a->addr ^ ((uint64_t)a->gen << 48) ^ ((uint64_t)a->mode << 44) ^
			   ((uint64_t)a->stack << 12));
	t->held_hash ^= e->hash;
}

void lw_acquired(struct lw_thread *t, const void *addr, uint16_t kind, uint16_t mode,
		 uint16_t flags, uintptr_t site)
{
	struct lw_acq a;
	if (lw_acq_begin_slow(&a, t, addr, kind, mode, flags, site))
		lw_acq_commit(&a);
}

static void write_release(struct lw_thread *t, uintptr_t addr, uint32_t gen)
{
	struct lw_rec_release *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->tid = t->tid;
	r->gen = gen;
	r->addr = addr;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_RELEASE, sizeof *r);
}

static inline void held_remove(struct lw_thread *t, struct lw_held_ent *e)
{
	t->held_hash ^= e->hash;
	uint32_t i = (uint32_t)(e - t->held);
	if (LW_UNLIKELY(i + 1 != t->n_held))
		memmove(&t->held[i], &t->held[i + 1], (t->n_held - i - 1) * sizeof *e);
	t->n_held--;
}

bool lw_released(struct lw_thread *t, const void *addr)
{
	struct lw_held_ent *e = lw_held_find(t, addr);
	if (!e)
		return false;
	if (lw_opt.level == LW_LEVEL_FULL)
		write_release(t, e->addr, e->gen);
	if (--e->count == 0)
		held_remove(t, e);
	return true;
}

void lw_sem_posted(struct lw_thread *t, const void *addr)
{
	struct lw_held_ent *e = lw_held_find(t, addr);
	if (!e)
		return;        /* posting a semaphore this thread did not wait on: signalling */
	uint64_t key = lw_mix64(((uint64_t)t->tid << 32 | 0x5e5e) ^ e->addr ^
				((uint64_t)e->gen << 48));
	if (lw_opt.level == LW_LEVEL_FULL || first_time(t, key)) {
		struct lw_rec_sem_locklike *r = lw_trace_reserve(sizeof *r);
		if (r) {
			r->tid = t->tid;
			r->gen = e->gen;
			r->addr = e->addr;
			lw_trace_commit(r, LW_REC_SEM_LOCKLIKE, sizeof *r);
		}
	}
	if (lw_opt.level == LW_LEVEL_FULL)
		write_release(t, e->addr, e->gen);
	if (--e->count == 0)
		held_remove(t, e);
}
