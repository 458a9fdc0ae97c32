/*
 * Races on the pthread objects themselves, as ThreadSanitizer models them (issue 21).  An
 * *_init call and a *_destroy are writes of the object, and so is the free of the heap block
 * it lives in (hook mode's LW_ACCESS_FREE); a lock, unlock, wait, post, signal or barrier
 * wait is a read of it that synchronises, but not with its own init: each is checked with
 * its thread's clock from just before its own synchronisation.  A write and another
 * thread's use that happens-before does not order race.  A static initialiser is no write.
 *
 * Where the shim already reported the object's misuse (destroyed or re-initialised while
 * held or waited on, freed while held, used after destroy, never initialised), that finding
 * wins: it names the same event more precisely (who held it, and where), so no data race on
 * the object is reported beside it.
 */
#include "detect/detect_obj_races.h"
#include "detect/hb_replay.h"

#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One side of a race: a write (init, destroy, free) or a use. */
struct side {
	uint32_t ti, clock, tid, stack;
	uint64_t pc;                 /* a free's pc, for when it has no stack */
	const char *what;            /* "init", "destroy", "free", "lock", "signal", ... */
};

struct pobj {
	uint64_t addr;
	uint32_t lock;               /* index in lw_model.locks of its latest generation */
	bool     has_w;
	struct side w;
	LW_VEC(struct side) uses;    /* per thread, its latest use */
};

struct seen {
	uint64_t addr;
	uint32_t s1, s2;
	const char *w1, *w2;
};

struct obj_ctx {
	struct lw_model    *m;
	uint32_t            proc;
	struct lw_findings *fs;
	const struct lw_process *p;
	LW_VEC(struct pobj) objs;
	struct lw_map       ids;     /* (addr, 0) -> index in objs */
	struct lw_map       acq_stack; /* (lock, tid) -> stack of its first acquisition */
	struct lw_map       misused; /* (addr, 0) -> 1: a misuse the shim reported wins */
	LW_VEC(struct seen) seen;
};

static struct pobj *pobj(struct obj_ctx *c, uint64_t addr, uint32_t li)
{
	uint32_t i;

	if (!lw_map_get(&c->ids, addr, 0, &i)) {
		i = (uint32_t)c->objs.n;
		lw_vec_push(&c->objs, ((struct pobj){ .addr = addr, .lock = li }));
		lw_map_put(&c->ids, addr, 0, i);
	}
	if (li != LW_NONE)
		c->objs.v[i].lock = li;
	return &c->objs.v[i];
}

static uint64_t obj_size(unsigned kind)
{
	switch (kind) {
	case LW_LOCK_MUTEX:   return sizeof(pthread_mutex_t);
	case LW_LOCK_RWLOCK:  return sizeof(pthread_rwlock_t);
	case LW_LOCK_SPIN:    return sizeof(pthread_spinlock_t);
	case LW_LOCK_SEM:     return sizeof(sem_t);
	case LW_LOCK_COND:    return sizeof(pthread_cond_t);
	case LW_LOCK_BARRIER: return sizeof(pthread_barrier_t);
	default:              return 1;
	}
}

static void add_side(struct obj_ctx *c, struct lw_finding *f, const struct pobj *o,
		     const struct side *s, bool write)
{
	struct lw_faccess fa = { .thread = s->tid, .write = write, .addr = o->addr,
				 .free = strcmp(s->what, "free") == 0 };

	fa.stack = s->stack ? lw_finding_stack(c->m, c->proc, s->stack)
			    : lw_finding_pc_stack(c->m, c->proc, s->pc);
	if (!fa.stack.n && s->pc)
		fa.stack = lw_finding_pc_stack(c->m, c->proc, s->pc);
	fa.locks = lw_xcalloc(1, sizeof(size_t));
	lw_vec_push(&f->accesses, fa);
	lw_finding_thread(f, c->m, c->proc, s->tid);
}

/* Reports write w against use u of object o; first: which came first in the trace. */
static void report(struct obj_ctx *c, const struct pobj *o, const struct side *w,
		   const struct side *u, bool write_first)
{
	const struct lw_lock *l = o->lock != LW_NONE ? &c->m->locks.v[o->lock] : NULL;
	const struct side *a = write_first ? w : u, *b = write_first ? u : w;
	struct lw_finding *f;
	uint32_t one;
	char name[300];

	if (lw_map_get(&c->misused, o->addr, 0, &one))
		return;
	for (size_t i = 0; i < c->seen.n; i++) {
		const struct seen *s = &c->seen.v[i];

		if (s->addr == o->addr && s->s1 == a->stack && s->s2 == b->stack &&
		    s->w1 == a->what && s->w2 == b->what) {
			return;
		}
	}
	lw_vec_push(&c->seen, ((struct seen){ o->addr, a->stack, b->stack, a->what, b->what }));
	snprintf(name, sizeof(name), "%s %s", lw_lock_kind_name(l ? l->kind : 0),
		 l && l->name ? l->name : "?");
	f = lw_finding_new(c->fs, LW_FIND_DATA_RACE, LW_SEV_ERROR, c->m, c->proc);
	f->variable.name = lw_xstrdup(name);
	f->variable.addr = o->addr;
	f->variable.size = obj_size(l ? l->kind : 0);
	add_side(c, f, o, a, a == w);
	add_side(c, f, o, b, b == w);
	if (l)
		lw_finding_lock(f, c->m, o->lock);
	f->message = lw_xasprintf("data race on %s: its %s by T%" PRIu32 " and its %s by T%" PRIu32
				  " are not ordered by happens-before", name, a->what, a->tid,
				  b->what, b->tid);
}

static void use(struct obj_ctx *c, struct lw_hb *hb, uint32_t ti, struct pobj *o, uint32_t stack,
		const char *what)
{
	const uint32_t *vc = hb->t[ti].vc;
	struct side s = { ti, vc[ti], hb->t[ti].tid, stack, 0, what };
	size_t i;

	if (o->has_w && o->w.ti != ti && o->w.clock > vc[o->w.ti])
		report(c, o, &o->w, &s, true);
	for (i = 0; i < o->uses.n && o->uses.v[i].ti != ti; i++)
		;
	if (i == o->uses.n)
		lw_vec_push(&o->uses, s);
	else
		o->uses.v[i] = s;
}

static void write(struct obj_ctx *c, struct lw_hb *hb, uint32_t ti, struct pobj *o,
		  uint32_t stack, uint64_t pc, const char *what)
{
	const uint32_t *vc = hb->t[ti].vc;
	struct side s = { ti, vc[ti], hb->t[ti].tid, stack, pc, what };

	for (size_t i = 0; i < o->uses.n; i++)
		if (o->uses.v[i].ti != ti && o->uses.v[i].clock > vc[o->uses.v[i].ti])
			report(c, o, &s, &o->uses.v[i], false);
	if (o->has_w && o->w.ti != ti && o->w.clock > vc[o->w.ti])
		report(c, o, &s, &o->w, false);
	o->uses.n = 0;
	o->w = s;
	o->has_w = true;
}

static const char *use_name(const struct lw_lock *l, uint16_t op)
{
	switch (op) {
	case LW_SYNC_SEM_POST:       return "post";
	case LW_SYNC_COND_SIGNAL:    return "signal";
	case LW_SYNC_COND_BROADCAST: return "broadcast";
	case LW_SYNC_COND_WAKE:      return "wait";
	case LW_SYNC_BARRIER_ARRIVE:
	case LW_SYNC_BARRIER_DEPART: return "wait";
	default:
		return l && l->kind == LW_LOCK_SEM ? "wait" : "lock";
	}
}

static void on_event(struct lw_hb *hb, uint32_t ti, const struct lw_event *ev, void *ctx)
{
	struct obj_ctx *c = ctx;
	const struct lw_lock *l;
	uint32_t stack;

	switch (ev->kind) {
	case LW_EV_ACQUIRE:
		l = &c->m->locks.v[ev->arg];
		if (!lw_map_get(&c->acq_stack, ev->arg, ev->tid, &stack))
			stack = 0;
		use(c, hb, ti, pobj(c, l->addr, ev->arg), stack, use_name(l, 0));
		break;
	case LW_EV_SYNC: {
		const struct lw_sync *s = &c->p->syncs.v[ev->arg];
		uint32_t i;

		switch (s->op) {
		case LW_SYNC_SEM_POST:
		case LW_SYNC_COND_SIGNAL:
		case LW_SYNC_COND_BROADCAST:
		case LW_SYNC_COND_WAKE:
		case LW_SYNC_BARRIER_ARRIVE:
		case LW_SYNC_BARRIER_DEPART:
			/* Only objects an init or destroy wrote can race (not pthread_once's
			 * control, also replayed as a post and a wake). */
			if (lw_map_get(&c->ids, s->addr, 0, &i) || s->op == LW_SYNC_BARRIER_ARRIVE ||
			    s->op == LW_SYNC_BARRIER_DEPART || s->op == LW_SYNC_COND_SIGNAL ||
			    s->op == LW_SYNC_COND_BROADCAST)
				use(c, hb, ti, pobj(c, s->addr, LW_NONE), s->stack,
				    use_name(NULL, s->op));
			break;
		default:
			break;
		}
		break;
	}
	case LW_EV_INIT:
		l = &c->m->locks.v[ev->arg];
		write(c, hb, ti, pobj(c, l->addr, ev->arg), l->init_stack, 0, "init");
		break;
	case LW_EV_DESTROY: {
		const struct lw_destroy *d = &c->p->destroys.v[ev->arg];

		l = &c->m->locks.v[d->lock];
		write(c, hb, ti, pobj(c, l->addr, d->lock), d->stack, 0, "destroy");
		break;
	}
	case LW_EV_ACCESS: {
		const struct lw_access *a = &c->p->accesses.v[ev->arg];

		if (!(a->flags & LW_ACCESS_FREE))
			break;
		for (size_t i = 0; i < c->objs.n; i++)
			if (c->objs.v[i].addr >= a->addr && c->objs.v[i].addr - a->addr < a->size &&
			    c->objs.v[i].lock != LW_NONE)
				write(c, hb, ti, &c->objs.v[i], a->stack, a->pc, "free");
		break;
	}
	default:
		break;
	}
}

static bool misuse_wins(uint16_t what)
{
	switch (what) {
	case LW_MISUSE_DESTROY_LOCKED:
	case LW_MISUSE_DESTROY_WAITED:
	case LW_MISUSE_USE_AFTER_DESTROY:
	case LW_MISUSE_REINIT:
	case LW_MISUSE_NOT_INITIALISED:
	case LW_MISUSE_FREE_LOCKED:
	case LW_MISUSE_UNMAP_LOCKED:
	case LW_MISUSE_REINIT_LOCKED:
	case LW_MISUSE_REINIT_WAITED:
		return true;
	default:
		return false;
	}
}

static void detect_process(struct lw_model *m, uint32_t proc, struct lw_findings *fs)
{
	struct obj_ctx c = { .m = m, .proc = proc, .fs = fs, .p = &m->procs.v[proc] };
	uint32_t one;

	for (size_t i = 0; i < m->acqs.n; i++)
		if (m->acqs.v[i].proc == proc &&
		    !lw_map_get(&c.acq_stack, m->acqs.v[i].lock, m->acqs.v[i].tid, &one))
			lw_map_put(&c.acq_stack, m->acqs.v[i].lock, m->acqs.v[i].tid,
				   m->acqs.v[i].stack);
	for (size_t i = 0; i < m->misuses.n; i++)
		if (m->misuses.v[i].proc == proc && misuse_wins(m->misuses.v[i].what))
			lw_map_put(&c.misused, m->misuses.v[i].addr, 0, 1);
	lw_hb_replay_events(m, proc, on_event, &c);
	for (size_t i = 0; i < c.objs.n; i++)
		free(c.objs.v[i].uses.v);
	free(c.objs.v);
	free(c.seen.v);
	lw_map_free(&c.ids);
	lw_map_free(&c.acq_stack);
	lw_map_free(&c.misused);
}

void lw_detect_obj_races(struct lw_model *m, struct lw_findings *fs)
{
	for (size_t i = 0; i < m->procs.n; i++)
		/* Only the full level writes every use in order (automatic watching's windows
		 * do not hold the inits and destroys outside them). */
		if (m->procs.v[i].hdr.level == LW_LEVEL_FULL)
			detect_process(m, (uint32_t)i, fs);
}
