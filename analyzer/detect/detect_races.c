/* Data races and atomicity violations (check-then-act) over the access records. */
#include "detect/detect_races.h"
#include "detect/findings.h"
#include "detect/hb_replay.h"
#include "trace/symbolize.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Memory is shadowed in 8-byte granules.  A granule keeps, per (thread, site, read/write)
 * and bytes, the latest access and its epoch: if that access happens before a later one, so
 * do all the earlier ones from the same thread of those bytes, and if it does not, the pair
 * is reported once anyway.  (An access replaces the entries of its kind whose bytes it
 * covers, not those of other bytes: see remember.)
 *
 * Atomicity follows AVIO's unserializable interleavings for a check that is a read: a thread
 * reads x (the check), then reads or writes x (the act) outside one critical section, and
 * another thread's write to x fell between them (R-W-R, R-W-W).  The write-first cases of
 * AVIO's table (W-W-R, W-R-W) are left out: without AVIO's training runs they flag every
 * pair of consecutive critical sections, such as a locked counter's.
 *
 * A check and an act are one critical section only for a lock held from the one through the
 * other that the interfering writer also takes (in a mode that excludes the checker's: not
 * both readers of an rwlock), or inside one LW_ATOMIC region.  An outer lock the writer never
 * takes protects nothing against it: the writer's write can still fall between a check and
 * an act made in two critical sections of the lock it does take (issue 21).
 */

#define MAX_ACCESS_BYTES LW_ACCESS_CHECKED /* longer accesses are checked on their first
						* bytes */
#define MAX_HISTORY      256u        /* shadow entries and gaps per granule: beyond it the
				      * oldest is forgotten, so a hostile trace stays linear */

struct snap_ent {
	uint32_t lock;               /* index in lw_model.locks, LW_NONE: an LW_ATOMIC region */
	uint16_t mode;               /* enum lw_mode */
	uint64_t since;
};

struct shadow_ent {
	uint32_t ti;                 /* thread index */
	uint32_t clock;              /* its epoch: the thread's own clock at the access */
	uint32_t access;             /* index in lw_process.accesses */
	uint8_t  mask;               /* bytes of the granule it touched */
	bool     write;
	bool     atomic;
	uint64_t site;
};

/* A read that may be the check of a check-then-act. */
struct cand {
	uint32_t  ti;
	uint32_t  access;
	uint32_t *vc;                /* its thread's clock at the check */
};

/* A check and its act: a later write by another thread that the act does not happen before
 * could have fallen between them. */
struct gap {
	uint32_t ti;
	uint32_t check, act;
	uint32_t act_clock;
	uint8_t  mask;
};

struct granule {
	uint64_t                  key;       /* address >> 3 */
	LW_VEC(struct shadow_ent) ents;
	LW_VEC(struct cand)       cands;
	LW_VEC(struct gap)        gaps;
};

/* A finding already made, to count repeats instead of reporting them again. */
struct fkey {
	enum lw_finding_kind kind;
	char                *var;
	uint64_t             s1, s2;
	bool                 w1, w2;
	struct lw_finding   *f;
};

struct race_ctx {
	struct lw_model    *m;
	uint32_t            proc;
	struct lw_findings *fs;
	const struct lw_process *p;
	LW_VEC(struct granule) g;
	struct lw_map       gidx;    /* (addr >> 3, 0) -> index in g */
	uint32_t           *hoff, *hn;   /* per access: its held snapshot in pool */
	LW_VEC(struct snap_ent) pool;
	bool               *rmw_load;/* per access: the load of a read-modify-write */
	bool               *as_atomic;/* per access: a watchpoint's plain access to an atomic
				       * variable (issue 20, find_atomic_granules) */
	LW_VEC(struct fkey) keys;
	struct lw_map       kidx;    /* (hash, probe) -> index in keys */
	LW_VEC(char *)      names;
	struct lw_map       nidx;    /* (addr, 0) -> index in names */
	/* The pair of accesses last reported as a race, plus one (0: none): two accesses of
	 * many granules (two memcpys) race once, not once a granule. */
	uint32_t            last_first, last_second;
};

static uint64_t site_of(const struct lw_access *a)
{
	return a->pc ? a->pc : (UINT64_C(1) << 63) | a->stack;
}

static bool is_write(const struct lw_access *a)
{
	return (a->flags & LW_ACCESS_WRITE) != 0;
}

static uint32_t access_len(const struct lw_access *a)
{
	if (a->flags & LW_ACCESS_FREE)  /* a free writes the whole block */
		return a->size > LW_ACCESS_FREE_MAX ? LW_ACCESS_FREE_MAX : a->size;
	return a->size > MAX_ACCESS_BYTES ? MAX_ACCESS_BYTES : a->size;
}

/* The bytes of granule gk that access a touches. */
static uint8_t granule_mask(const struct lw_access *a, uint64_t gk)
{
	uint64_t lo = a->addr, hi = a->addr + access_len(a), glo = gk << 3, ghi = glo + 8;
	uint8_t mask = 0;

	if (hi < lo)
		hi = UINT64_MAX;
	for (uint64_t b = lo > glo ? lo : glo; b < (hi < ghi ? hi : ghi); b++)
		mask |= (uint8_t)(1u << (b - glo));
	return mask;
}

static struct granule *granule(struct race_ctx *c, uint64_t gk)
{
	uint32_t i;

	if (!lw_map_get(&c->gidx, gk, 0, &i)) {
		i = (uint32_t)c->g.n;
		lw_vec_push(&c->g, ((struct granule){ .key = gk }));
		lw_map_put(&c->gidx, gk, 0, i);
	}
	return &c->g.v[i];
}

/* Names the variable at addr: watch name, ELF symbol, or the bare address.  Owned by c. */
/* The heap block addr was in at seq, unless a watch names addr. */
static const struct lw_alloc *block_of(struct race_ctx *c, uint64_t addr, uint64_t seq)
{
	if (lw_model_watch(c->m, c->proc, addr))
		return NULL;
	return lw_model_alloc(c->m, c->proc, addr, seq);
}

/* "heap block of 24 bytes from new_account", and ", offset 8" inside it: where the block was
 * allocated, never its address, so that the same variable has the same name in every run. */
static void block_name(struct race_ctx *c, const struct lw_alloc *b, uint64_t addr, char *buf,
		       size_t len)
{
	struct lw_fstack st = lw_finding_pc_stack(c->m, c->proc, b->pc);
	char from[256] = "an unknown place";

	if (st.n && st.frames[0].function)
		snprintf(from, sizeof(from), "%s", st.frames[0].function);
	else if (st.n)
		lw_fframe_format(&st.frames[0], from, sizeof(from));
	lw_fstack_free(&st);
	if (addr == b->addr)
		snprintf(buf, len, "heap block of %" PRIu64 " bytes from %s", b->size, from);
	else
		snprintf(buf, len, "heap block of %" PRIu64 " bytes from %s, offset %" PRIu64,
			 b->size, from, addr - b->addr);
}

static const char *var_name(struct race_ctx *c, uint64_t addr, uint64_t seq)
{
	const struct lw_watch *w = lw_model_watch(c->m, c->proc, addr);
	const struct lw_alloc *b = block_of(c, addr, seq);
	uint32_t bk = b ? (uint32_t)(b - c->p->allocs.v) + 1 : 0;
	char buf[512];
	uint32_t i;

	if (lw_map_get(&c->nidx, addr, bk, &i))
		return c->names.v[i];
	if (w && addr == w->addr)
		snprintf(buf, sizeof(buf), "%s", w->name);
	else if (w)
		snprintf(buf, sizeof(buf), "%s+%" PRIu64, w->name, addr - w->addr);
	else if (b)
		block_name(c, b, addr, buf, sizeof(buf));
	else if (!lw_symbolize_data(lw_model_symbolizer(c->m, c->proc), addr, buf, sizeof(buf),
				    NULL, NULL))
		snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	lw_map_put(&c->nidx, addr, bk, (uint32_t)c->names.n);
	lw_vec_push(&c->names, lw_xstrdup(buf));
	return c->names.v[c->names.n - 1];
}

/* The held snapshot of the thread at access ai: its counting locks and LW_ATOMIC region. */
static void snapshot(struct race_ctx *c, const struct lw_hb *hb, uint32_t ti, uint32_t ai)
{
	const struct lw_hb_thread *t = &hb->t[ti];

	c->hoff[ai] = (uint32_t)c->pool.n;
	for (size_t i = 0; i < t->held.n; i++)
		if (lw_hb_lock_counts(c->m, t->tid, t->held.v[i].lock))
			lw_vec_push(&c->pool, ((struct snap_ent){ t->held.v[i].lock,
								  t->held.v[i].mode,
								  t->held.v[i].since }));
	if (t->atomic_depth)
		lw_vec_push(&c->pool, ((struct snap_ent){ LW_NONE, LW_MODE_WRITE,
							  t->atomic_since }));
	c->hn[ai] = (uint32_t)(c->pool.n - c->hoff[ai]);
}

/* Whether access w holds lock li in a mode that excludes a holder in mode. */
static bool holds_excluding(const struct race_ctx *c, uint32_t w, uint32_t li, uint16_t mode)
{
	for (uint32_t i = 0; i < c->hn[w]; i++) {
		const struct snap_ent *z = &c->pool.v[c->hoff[w] + i];

		if (z->lock == li && (z->mode != LW_MODE_READ || mode != LW_MODE_READ))
			return true;
	}
	return false;
}

/* True if check a and act b are one critical section against the write w (LW_NONE: against
 * any write): a lock held continuously from a to b that w also takes, or one LW_ATOMIC
 * region (see the top of this file). */
static bool same_section(const struct race_ctx *c, uint32_t a, uint32_t b, uint32_t w)
{
	for (uint32_t i = 0; i < c->hn[a]; i++)
		for (uint32_t k = 0; k < c->hn[b]; k++) {
			const struct snap_ent *x = &c->pool.v[c->hoff[a] + i];
			const struct snap_ent *y = &c->pool.v[c->hoff[b] + k];

			if (x->lock != y->lock || x->since != y->since)
				continue;
			if (x->lock == LW_NONE)
				return true;
			if (w != LW_NONE && holds_excluding(c, w, x->lock, x->mode))
				return true;
		}
	return false;
}

/* True if one lock (or LW_ATOMIC region) was held continuously from access a to access b,
 * whoever else takes it (issue 20: a read back of one's own write). */
static bool same_lock_section(const struct race_ctx *c, uint32_t a, uint32_t b)
{
	for (uint32_t i = 0; i < c->hn[a]; i++)
		for (uint32_t k = 0; k < c->hn[b]; k++) {
			const struct snap_ent *x = &c->pool.v[c->hoff[a] + i];
			const struct snap_ent *y = &c->pool.v[c->hoff[b] + k];

			if (x->lock == y->lock && x->since == y->since)
				return true;
		}
	return false;
}

/* Returns the existing finding for this key (its count raised), or NULL after recording the
 * key for finding f (set by the caller through *slot). */
static struct lw_finding **dedup(struct race_ctx *c, enum lw_finding_kind kind, const char *var,
				 uint64_t s1, bool w1, uint64_t s2, bool w2, bool *is_new)
{
	uint64_t h = LW_FNV_INIT;
	uint32_t i;

	h = lw_fnv1a(h, &kind, sizeof(kind));
	h = lw_fnv1a(h, var, strlen(var));
	h = lw_fnv1a(h, &s1, sizeof(s1));
	h = lw_fnv1a(h, &s2, sizeof(s2));
	h = lw_fnv1a(h, &w1, sizeof(w1));
	h = lw_fnv1a(h, &w2, sizeof(w2));
	h ^= c->proc;
	for (uint64_t probe = 0;; probe++) {
		struct fkey *k;

		if (!lw_map_get(&c->kidx, h, probe, &i)) {
			lw_map_put(&c->kidx, h, probe, (uint32_t)c->keys.n);
			lw_vec_push(&c->keys, ((struct fkey){ kind, lw_xstrdup(var), s1, s2, w1, w2,
							      NULL }));
			*is_new = true;
			return &c->keys.v[c->keys.n - 1].f;
		}
		k = &c->keys.v[i];
		if (k->kind == kind && k->s1 == s1 && k->s2 == s2 && k->w1 == w1 && k->w2 == w2 &&
		    strcmp(k->var, var) == 0) {
			*is_new = false;
			return &k->f;
		}
	}
}

/* Adds access ai to finding f (role may be NULL). */
static void add_access(struct race_ctx *c, struct lw_finding *f, uint32_t ai, const char *role)
{
	const struct lw_access *a = &c->p->accesses.v[ai];
	struct lw_faccess fa = { .thread = a->tid, .write = is_write(a), .role = role,
				 .addr = a->addr, .size = a->size,
				 .atomic = (a->flags & LW_ACCESS_ATOMIC) != 0,
				 .free = (a->flags & LW_ACCESS_FREE) != 0 };

	fa.stack = a->stack ? lw_finding_stack(c->m, c->proc, a->stack)
			    : lw_finding_pc_stack(c->m, c->proc, a->pc);
	if (!fa.stack.n && a->pc)
		fa.stack = lw_finding_pc_stack(c->m, c->proc, a->pc);
	fa.locks = lw_xcalloc(c->hn[ai] ? c->hn[ai] : 1, sizeof(size_t));
	for (uint32_t i = 0; i < c->hn[ai]; i++) {
		uint32_t li = c->pool.v[c->hoff[ai] + i].lock;

		if (li != LW_NONE)
			fa.locks[fa.n_locks++] = lw_finding_lock(f, c->m, li);
	}
	lw_vec_push(&f->accesses, fa);
	lw_finding_thread(f, c->m, c->proc, a->tid);
}

static void set_variable(struct race_ctx *c, struct lw_finding *f, const char *name,
			 const struct lw_access *a)
{
	const struct lw_watch *w = lw_model_watch(c->m, c->proc, a->addr);

	const struct lw_alloc *b = block_of(c, a->addr, a->seq);

	f->variable.name = lw_xstrdup(name);
	f->variable.addr = w ? w->addr : a->addr;
	f->variable.size = w ? w->size : a->size;
	if (b) {
		f->variable.heap = true;
		f->variable.block_addr = b->addr;
		f->variable.block_size = b->size;
		f->variable.block_thread = b->tid;
		f->variable.block_stack = b->stack ? lw_finding_stack(c->m, c->proc, b->stack)
						   : lw_finding_pc_stack(c->m, c->proc, b->pc);
		if (!f->variable.block_stack.n && b->pc)
			f->variable.block_stack = lw_finding_pc_stack(c->m, c->proc, b->pc);
		lw_finding_thread(f, c->m, c->proc, b->tid);
	}
}

static void report_race(struct race_ctx *c, uint32_t first, uint32_t second)
{
	if (c->last_first == first + 1 && c->last_second == second + 1)
		return;
	c->last_first = first + 1;
	c->last_second = second + 1;
	const struct lw_access *a = &c->p->accesses.v[first], *b = &c->p->accesses.v[second];
	const char *var = a->addr > b->addr ? var_name(c, a->addr, a->seq)
					    : var_name(c, b->addr, b->seq);
	uint64_t sa = site_of(a), sb = site_of(b);
	bool wa = is_write(a), wb = is_write(b), is_new;
	bool swap = sa > sb || (sa == sb && wa > wb);
	struct lw_finding **slot = dedup(c, LW_FIND_DATA_RACE, var, swap ? sb : sa, swap ? wb : wa,
					 swap ? sa : sb, swap ? wa : wb, &is_new);
	struct lw_finding *f;

	if (!is_new) {
		(*slot)->count++;
		return;
	}
	f = *slot = lw_finding_new(c->fs, LW_FIND_DATA_RACE, LW_SEV_ERROR, c->m, c->proc);
	/* The variable is the one the accesses share: a free covers the whole block. */
	set_variable(c, f, var, b->flags & LW_ACCESS_FREE ? a : b);
	add_access(c, f, first, NULL);
	add_access(c, f, second, NULL);
	f->message = lw_xasprintf("data race on %s: %s by T%" PRIu32 " and %s by T%" PRIu32
				  " are not ordered by happens-before", var,
				  lw_faccess_kind(&f->accesses.v[0]), a->tid,
				  lw_faccess_kind(&f->accesses.v[1]), b->tid);
}

/* "bank.c:20", "withdraw", "prog+0x1234" or "0x401234": where an access of a finding is. */
static void short_site(const struct lw_faccess *fa, char *buf, size_t len)
{
	const struct lw_frame *fr = fa->stack.n ? &fa->stack.frames[0] : NULL;

	if (!fr)
		snprintf(buf, len, "?");
	else if (fr->file) {
		const char *base = strrchr(fr->file, '/');

		snprintf(buf, len, "%s:%d", base ? base + 1 : fr->file, fr->line);
	} else
		lw_fframe_format(fr, buf, len);
}

/* Frees what add_access and the atomicity text put into f, to show another instance. */
static void clear_accesses(struct lw_finding *f)
{
	for (size_t i = 0; i < f->accesses.n; i++) {
		struct lw_faccess *a = &f->accesses.v[i];

		for (size_t k = 0; k < a->stack.n; k++) {
			free(a->stack.frames[k].function);
			free(a->stack.frames[k].file);
			free(a->stack.frames[k].module);
		}
		free(a->stack.frames);
		free(a->locks);
	}
	f->accesses.n = 0;
	free(f->interleaving);
	free(f->message);
	f->interleaving = f->message = NULL;
}

static void report_atomicity(struct race_ctx *c, uint32_t check, uint32_t write, uint32_t act,
			     bool observed)
{
	const struct lw_access *ca = &c->p->accesses.v[check], *wa = &c->p->accesses.v[write];
	const struct lw_access *aa = &c->p->accesses.v[act];
	const char *var = var_name(c, ca->addr, ca->seq);
	bool is_new;
	struct lw_finding **slot = dedup(c, LW_FIND_ATOMICITY, var, site_of(ca), false,
					 site_of(aa), is_write(aa), &is_new);
	struct lw_finding *f;
	char s[3][300];

	if (!is_new) {
		f = *slot;
		f->count++;
		/* Show an interleaving that happened rather than one that could have. */
		if (!observed || f->observed)
			return;
		clear_accesses(f);
	} else {
		f = *slot = lw_finding_new(c->fs, LW_FIND_ATOMICITY, LW_SEV_ERROR, c->m, c->proc);
		set_variable(c, f, var, ca);
	}
	f->observed = observed;
	add_access(c, f, check, "check");
	add_access(c, f, write, "interfering-write");
	add_access(c, f, act, "act");
	for (int i = 0; i < 3; i++)
		short_site(&f->accesses.v[i], s[i], sizeof(s[i]));
	f->interleaving = lw_xasprintf("T%" PRIu32 ": read %s (%s) ... T%" PRIu32 ": write %s (%s)"
				       " ... T%" PRIu32 ": %s %s (%s)", ca->tid, var, s[0],
				       wa->tid, var, s[1], aa->tid,
				       is_write(aa) ? "write" : "read", var, s[2]);
	f->message = lw_xasprintf("T%" PRIu32 " checks %s (%s) and then %s it (%s) outside one "
				  "critical section; T%" PRIu32 "'s write (%s) %s between them",
				  ca->tid, var, s[0], is_write(aa) ? "writes" : "reads", s[2],
				  wa->tid, s[1], observed ? "fell" : "can fall");
}

/* The entry and the gap of a full granule to forget: the oldest (accesses are numbered in
 * trace order). */
static size_t oldest_ent(const struct granule *g)
{
	size_t o = 0;

	for (size_t i = 1; i < g->ents.n; i++)
		if (g->ents.v[i].access < g->ents.v[o].access)
			o = i;
	return o;
}

static size_t oldest_gap(const struct granule *g)
{
	size_t o = 0;

	for (size_t i = 1; i < g->gaps.n; i++)
		if (g->gaps.v[i].act < g->gaps.v[o].act)
			o = i;
	return o;
}

/* Keeps access ai as the latest of its kind: per (thread, site, read/write, atomic), in
 * place of the entries of that kind whose bytes it covers.  An entry of other bytes stays:
 * one call of the C library's string functions is several records of one site (strlen's 7
 * bytes are pieces of 4, 2 and 1), and the last piece in place of the first made a later
 * write of the first piece's bytes race with nothing.  (The entry it replaces is older, so
 * what happens before it happened before them too.) */
static void remember(struct granule *g, uint32_t ti, uint32_t clock, uint32_t ai, uint8_t mask,
		     bool write, bool atomic, uint64_t site)
{
	size_t i, k, slot = SIZE_MAX;

	for (i = k = 0; i < g->ents.n; i++) {
		const struct shadow_ent *e = &g->ents.v[i];

		if (e->ti == ti && e->site == site && e->write == write && e->atomic == atomic &&
		    !(e->mask & ~mask)) {
			if (slot != SIZE_MAX)
				continue;   /* a second one it covers goes */
			slot = k;
		}
		g->ents.v[k++] = *e;
	}
	g->ents.n = k;
	if (slot == SIZE_MAX && k >= MAX_HISTORY)
		slot = oldest_ent(g);
	else if (slot == SIZE_MAX) {
		slot = k;
		lw_vec_push(&g->ents, ((struct shadow_ent){ 0 }));
	}
	g->ents.v[slot] = (struct shadow_ent){ ti, clock, ai, mask, write, atomic, site };
}

/* Whether read ai of thread ti reads back what the thread itself wrote last, in the same
 * critical section, with nobody's access between: `if (++readers == 1)` unoptimised is a
 * load, a store and a load again.  Such a read checks nothing another thread did, so it is
 * not the check of a check-then-act (issue 20: automatic watching sees such variables
 * without being asked; the check of a split critical section reads what others wrote). */
static bool rereads_own_write(const struct race_ctx *c, const struct granule *g, uint32_t ti,
			      uint32_t ai)
{
	const struct shadow_ent *last = NULL;

	for (size_t i = 0; i < g->ents.n; i++)
		if (!last || g->ents.v[i].access > last->access)
			last = &g->ents.v[i];
	return last && last->ti == ti && last->write && !last->atomic &&
	       same_lock_section(c, last->access, ai);
}

/* Checks access ai of thread ti against granule gk, then records it there. */
static void on_granule(struct race_ctx *c, struct lw_hb *hb, uint32_t ti, uint32_t ai,
		       uint64_t gk, bool first_piece)
{
	const struct lw_access *b = &c->p->accesses.v[ai];
	const uint32_t *vc = hb->t[ti].vc;
	struct granule *g = granule(c, gk);
	uint8_t mask = granule_mask(b, gk);
	bool wb = is_write(b), ab = (b->flags & LW_ACCESS_ATOMIC) || c->as_atomic[ai];
	uint64_t site = site_of(b);
	size_t i;

	if (ab) {
		/* An atomic operation races with the plain accesses it is not ordered with (as
		 * in C11), never with another atomic one, and is neither the check nor the act
		 * nor the interfering write of a check-then-act. */
		for (i = 0; i < g->ents.n; i++) {
			const struct shadow_ent *e = &g->ents.v[i];

			if (e->ti != ti && !e->atomic && (e->mask & mask) && (e->write || wb) &&
			    e->clock > vc[e->ti])
				report_race(c, e->access, ai);
		}
		remember(g, ti, vc[ti], ai, mask, wb, true, site);
		return;
	}
	/* A write another thread's act does not happen before could fall into its gap. */
	if (wb && first_piece)
		for (i = 0; i < g->gaps.n; i++) {
			const struct gap *gp = &g->gaps.v[i];

			if (gp->ti != ti && (gp->mask & mask) && gp->act_clock > vc[gp->ti] &&
			    !same_section(c, gp->check, gp->act, ai))
				report_atomicity(c, gp->check, ai, gp->act, false);
		}
	/* Data races: earlier conflicting accesses of other threads not ordered before this. */
	for (i = 0; i < g->ents.n; i++) {
		const struct shadow_ent *e = &g->ents.v[i];

		if (e->ti != ti && (e->mask & mask) && (e->write || wb) && e->clock > vc[e->ti])
			report_race(c, e->access, ai);
	}
	/* A pending check of this thread: this access is its act, unless it is the load of a
	 * read-modify-write whose store is the act. */
	if (first_piece && !c->rmw_load[ai]) {
		/* Its check: a read of some of the same bytes (another field in the granule is
		 * another variable). */
		for (i = 0; i < g->cands.n && (g->cands.v[i].ti != ti ||
					       !(granule_mask(&c->p->accesses.v[g->cands.v[i].access],
							      gk) & mask));
		     i++)
			;
		if (i < g->cands.n) {
			struct cand cd = g->cands.v[i];
			uint64_t check_seq = c->p->accesses.v[cd.access].seq;

			g->cands.v[i] = g->cands.v[--g->cands.n];
			/* A thread that waited on a condition or at a barrier between the two
			 * looked again because it expected a change: `while (!ready)
			 * pthread_cond_wait(...)` is the fix for check-then-act, not an instance
			 * of it, and so is a phase that reads what the last phase wrote.  A read
			 * at the check's own site is the same statement run again, a loop's next
			 * round (a consumer copying out a shared buffer under its lock, round after
			 * round), not the act of a check-then-act. */
			if (!same_section(c, cd.access, ai, LW_NONE) && hb->t[ti].waited <= check_seq &&
			    (wb || site_of(&c->p->accesses.v[cd.access]) != site)) {
				uint8_t m2 = granule_mask(&c->p->accesses.v[cd.access], gk) | mask;
				size_t k;

				for (k = 0; k < g->ents.n; k++) {
					const struct shadow_ent *e = &g->ents.v[k];

					if (e->ti == ti || !e->write || e->atomic || !(e->mask & m2) ||
					    same_section(c, cd.access, ai, e->access))
						continue;
					if (c->p->accesses.v[e->access].seq > check_seq)
						report_atomicity(c, cd.access, e->access, ai, true);
					else if (e->clock > cd.vc[e->ti])
						report_atomicity(c, cd.access, e->access, ai, false);
				}
				for (k = 0; k < g->gaps.n; k++) {
					struct gap *gp = &g->gaps.v[k];

					if (gp->ti == ti &&
					    site_of(&c->p->accesses.v[gp->check]) ==
						    site_of(&c->p->accesses.v[cd.access]) &&
					    site_of(&c->p->accesses.v[gp->act]) == site)
						break;
				}
				if (k == g->gaps.n && k >= MAX_HISTORY)
					k = oldest_gap(g);
				else if (k == g->gaps.n)
					lw_vec_push(&g->gaps, ((struct gap){ 0 }));
				g->gaps.v[k] = (struct gap){ ti, cd.access, ai, vc[ti], m2 };
			}
			free(cd.vc);
		}
		if (!wb && !rereads_own_write(c, g, ti, ai)) {
			struct cand cd = { ti, ai, lw_xmalloc(hb->n * sizeof(uint32_t)) };

			memcpy(cd.vc, vc, hb->n * sizeof(uint32_t));
			lw_vec_push(&g->cands, cd);
		}
	}
	remember(g, ti, vc[ti], ai, mask, wb, false, site);
}

static void on_access(struct lw_hb *hb, uint32_t ti, uint32_t ai, void *ctx)
{
	struct race_ctx *c = ctx;
	const struct lw_access *a = &c->p->accesses.v[ai];
	uint64_t first = a->addr >> 3, last = (a->addr + access_len(a) - 1) >> 3;

	if (last < first)
		last = first;             /* wraps around the address space: first bytes only */
	snapshot(c, hb, ti, ai);
	for (uint64_t gk = first; gk <= last; gk++)
		on_granule(c, hb, ti, ai, gk, gk == first);
}

/* Empties a granule's history. */
static void forget_granule(struct granule *g)
{
	for (size_t k = 0; k < g->cands.n; k++)
		free(g->cands.v[k].vc);
	g->cands.n = g->ents.n = g->gaps.n = 0;
}

/* A heap block was allocated: what its bytes saw before belonged to an earlier block, which
 * the allocator took back before handing them out again (as ThreadSanitizer does, the
 * allocator counts as synchronisation between the two blocks' users). */
static void on_alloc(struct lw_hb *hb, uint32_t bi, void *ctx)
{
	struct race_ctx *c = ctx;
	const struct lw_alloc *b = &c->p->allocs.v[bi];
	uint64_t first = b->addr >> 3, last = (b->addr + b->span - 1) >> 3;
	uint32_t i;

	(void)hb;
	if (last < first || !c->g.n)
		return;
	if (last - first < c->g.n) {
		for (uint64_t gk = first;; gk++) {
			if (lw_map_get(&c->gidx, gk, 0, &i))
				forget_granule(&c->g.v[i]);
			if (gk == last)
				break;
		}
	} else {
		for (size_t k = 0; k < c->g.n; k++)
			if (c->g.v[k].key >= first && c->g.v[k].key <= last)
				forget_granule(&c->g.v[k]);
	}
}

/* Marks the loads of read-modify-writes: a read whose thread's next access to the same
 * granule is a write, with no synchronisation of that thread between them. */
static void find_rmw_loads(struct race_ctx *c)
{
	const struct lw_process *p = c->p;
	uint64_t *nsync = lw_xcalloc(p->threads.n + 1, sizeof(uint64_t));
	uint64_t *acc_nsync = lw_xcalloc(p->accesses.n + 1, sizeof(uint64_t));
	struct lw_map last = { 0 };

	for (size_t k = 0; k < p->events.n; k++) {
		const struct lw_event *ev = &p->events.v[k];
		const struct lw_access *a;
		uint32_t ti, prev;

		if (!lw_map_get(&p->tids, ev->tid, 0, &ti))
			continue;
		if (ev->kind != LW_EV_ACCESS) {
			nsync[ti]++;
			continue;
		}
		a = &p->accesses.v[ev->arg];
		if (a->flags & LW_ACCESS_ATOMIC) {
			nsync[ti]++;
			continue;
		}
		acc_nsync[ev->arg] = nsync[ti];
		if (lw_map_get(&last, a->addr >> 3, ti, &prev) && !is_write(&p->accesses.v[prev]) &&
		    is_write(a) && acc_nsync[prev] == nsync[ti])
			c->rmw_load[prev] = true;
		lw_map_put(&last, a->addr >> 3, ti, ev->arg);
	}
	lw_map_free(&last);
	free(nsync);
	free(acc_nsync);
}

/*
 * Issue 20: a watchpoint sees instructions, and on x86-64 an atomic load or a release store
 * is a plain mov: only a locked read-modify-write (or xchg) shows that a variable is atomic.
 * So once a watchpoint saw one on a granule, its other watchpoint accesses there count as
 * atomic too (they never race with atomics, nor make a check-then-act).  A plain access
 * racing with the atomic ones goes unreported: a missed race at worst, never a false one.
 */
static void find_atomic_granules(struct race_ctx *c)
{
	const struct lw_process *p = c->p;
	struct lw_map atomic = { 0 };
	uint32_t one;

	for (size_t i = 0; i < p->accesses.n; i++) {
		const struct lw_access *a = &p->accesses.v[i];

		if ((a->flags & LW_SRC_WATCHPOINT) && (a->flags & LW_ACCESS_ATOMIC))
			lw_map_put(&atomic, a->addr >> 3, 0, 1);
	}
	for (size_t i = 0; i < p->accesses.n; i++) {
		const struct lw_access *a = &p->accesses.v[i];

		if ((a->flags & LW_SRC_WATCHPOINT) && lw_map_get(&atomic, a->addr >> 3, 0, &one))
			c->as_atomic[i] = true;
	}
	lw_map_free(&atomic);
}

static void detect_process(struct lw_model *m, uint32_t proc, struct lw_findings *fs)
{
	const struct lw_process *p = &m->procs.v[proc];
	struct race_ctx c = { .m = m, .proc = proc, .fs = fs, .p = p };
	size_t n = p->accesses.n ? p->accesses.n : 1;

	c.hoff = lw_xcalloc(n, sizeof(uint32_t));
	c.hn = lw_xcalloc(n, sizeof(uint32_t));
	c.rmw_load = lw_xcalloc(n, sizeof(bool));
	c.as_atomic = lw_xcalloc(n, sizeof(bool));
	find_rmw_loads(&c);
	find_atomic_granules(&c);
	lw_hb_replay(m, proc, on_access, on_alloc, &c);
	for (size_t i = 0; i < c.g.n; i++) {
		for (size_t k = 0; k < c.g.v[i].cands.n; k++)
			free(c.g.v[i].cands.v[k].vc);
		free(c.g.v[i].cands.v);
		free(c.g.v[i].ents.v);
		free(c.g.v[i].gaps.v);
	}
	free(c.g.v);
	lw_map_free(&c.gidx);
	free(c.hoff);
	free(c.hn);
	free(c.pool.v);
	free(c.rmw_load);
	free(c.as_atomic);
	for (size_t i = 0; i < c.keys.n; i++)
		free(c.keys.v[i].var);
	free(c.keys.v);
	lw_map_free(&c.kidx);
	for (size_t i = 0; i < c.names.n; i++)
		free(c.names.v[i]);
	free(c.names.v);
	lw_map_free(&c.nidx);
}

void lw_detect_races(struct lw_model *m, struct lw_findings *fs)
{
	for (size_t i = 0; i < m->procs.n; i++) {
		const struct lw_process *p = &m->procs.v[i];

		/* The dependencies level has no access records and not every acquisition. */
		if (!lw_trace_ordered(&p->hdr) || !p->accesses.n)
			continue;
		detect_process(m, (uint32_t)i, fs);
	}
}
