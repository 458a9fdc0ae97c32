/* Vector-clock replay of a full-level trace (FastTrack's clocks, without its epoch shortcut
 * for reads: the detectors keep their own per-site history). */
#include "detect/hb_replay.h"

#include <stdlib.h>
#include <string.h>

/* A synchronisation object: lock, semaphore, condvar, barrier or atomic variable. */
struct lw_hb_obj {
	uint32_t *w;                 /* released by writers, posters, signallers, atomics */
	uint32_t *r;                 /* released by readers of an rwlock */
	uint32_t *open;              /* barrier: arrivals of the round not yet closed */
	LW_VEC(uint32_t) open_members;
	LW_VEC(uint32_t) closed_members; /* thread index | LW_HB_DEPARTED */
};

#define LW_HB_DEPARTED 0x80000000u

static uint32_t *vc_new(uint32_t n)
{
	return lw_xcalloc(n ? n : 1, sizeof(uint32_t));
}

/* dst := dst joined with src. */
static void vc_join(uint32_t *dst, const uint32_t *src, uint32_t n)
{
	if (!src)
		return;
	for (uint32_t i = 0; i < n; i++)
		if (src[i] > dst[i])
			dst[i] = src[i];
}

/* Joins the clock of thread t into *obj_vc (allocated on first use). */
static void release_into(struct lw_hb *hb, uint32_t **obj_vc, const struct lw_hb_thread *t)
{
	if (!*obj_vc)
		*obj_vc = vc_new(hb->n);
	vc_join(*obj_vc, t->vc, hb->n);
}

/* A release ends the thread's current epoch. */
static void tick(struct lw_hb_thread *t, uint32_t ti)
{
	if (t->vc[ti] < UINT32_MAX)
		t->vc[ti]++;
}

static struct lw_hb_obj *obj(struct lw_hb *hb, uint64_t addr)
{
	uint32_t i;

	if (lw_map_get(&hb->obj_ids, addr, 0, &i))
		return hb->objs.v[i];
	lw_map_put(&hb->obj_ids, addr, 0, (uint32_t)hb->objs.n);
	lw_vec_push(&hb->objs, lw_xcalloc(1, sizeof(struct lw_hb_obj)));
	return hb->objs.v[hb->objs.n - 1];
}

uint32_t lw_hb_thread_index(const struct lw_hb *hb, uint32_t tid)
{
	uint32_t i;

	return lw_map_get(&hb->m->procs.v[hb->proc].tids, tid, 0, &i) && i < hb->n ? i : LW_NONE;
}

bool lw_hb_lock_counts(const struct lw_model *m, uint32_t tid, uint32_t li)
{
	const struct lw_lock *l = &m->locks.v[li];

	if (l->kind == LW_LOCK_COND || l->kind == LW_LOCK_BARRIER)
		return false;
	if (l->kind == LW_LOCK_SEM)
		return lw_model_sem_locklike(m, tid, l);
	return true;
}

static struct lw_hb_held *find_held(struct lw_hb_thread *t, uint32_t li)
{
	for (size_t i = t->held.n; i-- > 0;)
		if (t->held.v[i].lock == li)
			return &t->held.v[i];
	return NULL;
}

static void acquire(struct lw_hb *hb, uint32_t ti, const struct lw_event *ev)
{
	struct lw_hb_thread *t = &hb->t[ti];
	const struct lw_lock *l = &hb->m->locks.v[ev->arg];
	struct lw_hb_obj *o = obj(hb, l->addr);
	struct lw_hb_held *h = find_held(t, ev->arg);

	vc_join(t->vc, o->w, hb->n);
	if (ev->mode != LW_MODE_READ)
		vc_join(t->vc, o->r, hb->n);
	if (h) {
		if (h->count < UINT16_MAX)
			h->count++;
		return;
	}
	lw_vec_push(&t->held, ((struct lw_hb_held){ ev->arg, ev->mode, 1, ev->seq }));
}

static void release(struct lw_hb *hb, uint32_t ti, const struct lw_event *ev)
{
	struct lw_hb_thread *t = &hb->t[ti];
	const struct lw_lock *l = &hb->m->locks.v[ev->arg];
	struct lw_hb_obj *o = obj(hb, l->addr);
	struct lw_hb_held *h = find_held(t, ev->arg);

	release_into(hb, h && h->mode == LW_MODE_READ ? &o->r : &o->w, t);
	tick(t, ti);
	if (h && --h->count == 0) {
		size_t i = (size_t)(h - t->held.v);

		memmove(&t->held.v[i], &t->held.v[i + 1], (t->held.n - i - 1) * sizeof(*h));
		t->held.n--;
	}
}

static bool member_find(const uint32_t *v, size_t n, uint32_t ti, size_t *at)
{
	for (size_t i = 0; i < n; i++)
		if ((v[i] & ~LW_HB_DEPARTED) == ti) {
			*at = i;
			return true;
		}
	return false;
}

/* A departure takes the round its thread arrived in: the closed round while the thread has
 * not left it yet, else it closes the open round. */
static void barrier_depart(struct lw_hb *hb, uint32_t ti, struct lw_hb_obj *o)
{
	struct lw_hb_thread *t = &hb->t[ti];
	size_t at;

	if (!member_find(o->closed_members.v, o->closed_members.n, ti, &at) ||
	    (o->closed_members.v[at] & LW_HB_DEPARTED)) {
		uint32_t *tmp = o->w;

		o->w = o->open;
		o->open = tmp;
		if (o->open)
			memset(o->open, 0, hb->n * sizeof(uint32_t));
		free(o->closed_members.v);
		o->closed_members.v = o->open_members.v;
		o->closed_members.n = o->open_members.n;
		o->closed_members.cap = o->open_members.cap;
		memset(&o->open_members, 0, sizeof(o->open_members));
		if (!member_find(o->closed_members.v, o->closed_members.n, ti, &at)) {
			lw_vec_push(&o->closed_members, ti);
			at = o->closed_members.n - 1;
		}
	}
	o->closed_members.v[at] |= LW_HB_DEPARTED;
	vc_join(t->vc, o->w, hb->n);
}

static void sync_op(struct lw_hb *hb, uint32_t ti, const struct lw_sync *s)
{
	struct lw_hb_thread *t = &hb->t[ti];
	struct lw_hb_obj *o;

	switch (s->op) {
	case LW_SYNC_SEM_POST:
	case LW_SYNC_COND_SIGNAL:
	case LW_SYNC_COND_BROADCAST:
		release_into(hb, &obj(hb, s->addr)->w, t);
		tick(t, ti);
		break;
	case LW_SYNC_COND_WAKE:
		vc_join(t->vc, obj(hb, s->addr)->w, hb->n);
		t->waited = s->seq;
		break;
	case LW_SYNC_BARRIER_ARRIVE: {
		size_t at;

		o = obj(hb, s->addr);
		release_into(hb, &o->open, t);
		if (!member_find(o->open_members.v, o->open_members.n, ti, &at))
			lw_vec_push(&o->open_members, ti);
		tick(t, ti);
		break;
	}
	case LW_SYNC_BARRIER_DEPART:
		barrier_depart(hb, ti, obj(hb, s->addr));
		t->waited = s->seq;
		break;
	case LW_SYNC_CHANNEL_SEND:   /* issue 20: a pipe, FIFO or eventfd */
		release_into(hb, &obj(hb, s->addr)->w, t);
		tick(t, ti);
		break;
	case LW_SYNC_CHANNEL_RECV:
		vc_join(t->vc, obj(hb, s->addr)->w, hb->n);
		break;
	case LW_SYNC_ATOMIC_BEGIN:
		if (t->atomic_depth++ == 0)
			t->atomic_since = s->seq;
		break;
	case LW_SYNC_ATOMIC_END:
		if (t->atomic_depth)
			t->atomic_depth--;
		break;
	default:
		/* LW_SYNC_FORK and unknown operations order nothing within this process. */
		break;
	}
}

/* Issue 24: the thread's clock, made at its first use (as it was at the replay's start). */
static void thread_clock(struct lw_hb *hb, uint32_t ti)
{
	if (ti != LW_NONE && !hb->t[ti].vc) {
		hb->t[ti].vc = vc_new(hb->n);
		hb->t[ti].vc[ti] = 1;
	}
}

/* The other thread an event reads the clock of (a creator, a joined thread), or LW_NONE. */
static uint32_t other_thread(const struct lw_hb *hb, const struct lw_event *ev)
{
	if ((ev->kind == LW_EV_THREAD && ev->arg) || ev->kind == LW_EV_JOIN)
		return lw_hb_thread_index(hb, ev->arg);
	return LW_NONE;
}

/*
 * Issue 20: automatic watching's windows.  At the dependencies level the shim writes every
 * synchronisation only while a window is open (LW_SYNC_WINDOW_OPEN to LW_SYNC_FENCE), and
 * records accesses only then.  Inside a window the replay is exact: a happens-before chain
 * between two accesses of one window is made of events between them in time, all written.
 * Outside, the acquisitions, releases and other synchronisation it has are partial, and are
 * left out, as are the held sets at a fence (each thread writes its holds again at its first
 * record of the next window).  A fence orders everything before it before everything after
 * it: every thread that has started takes the join of all their clocks, then starts a new
 * epoch.  So two accesses of different windows never race, and no check-then-act spans a
 * fence (as if each thread had waited there): a missed race at worst, never a false one.
 * Thread creation and joins, written at every level, are always replayed.
 */
static void fence(struct lw_hb *hb, const bool *started, const uint32_t *retired, uint64_t seq)
{
	uint32_t *j = vc_new(hb->n);

	/* The threads whose clocks are gone (issue 24) ordered everything before the fence too:
	 * retired is the join of their last clocks. */
	vc_join(j, retired, hb->n);
	for (uint32_t i = 0; i < hb->n; i++)
		if (started[i] && hb->t[i].vc)
			vc_join(j, hb->t[i].vc, hb->n);
	for (uint32_t i = 0; i < hb->n; i++) {
		struct lw_hb_thread *t = &hb->t[i];

		if (!started[i] || !t->vc)
			continue;
		memcpy(t->vc, j, hb->n * sizeof(uint32_t));
		tick(t, i);
		t->held.n = 0;
		t->atomic_depth = 0;
		t->waited = seq;
	}
	free(j);
}

/* Whether an event outside a window is one the shim writes at every level. */
static bool always_written(const struct lw_process *p, const struct lw_event *ev)
{
	if (ev->kind == LW_EV_THREAD || ev->kind == LW_EV_JOIN || ev->kind == LW_EV_ALLOC)
		return true;
	if (ev->kind != LW_EV_SYNC)
		return false;
	switch (p->syncs.v[ev->arg].op) {
	case LW_SYNC_FORK:
	case LW_SYNC_WAIT_CHILD:
	case LW_SYNC_SYSTEM_BEGIN:
	case LW_SYNC_SYSTEM_END:
		return true;
	default:
		return false;
	}
}

static void replay(struct lw_model *m, uint32_t proc, lw_hb_access_fn fn,
		   lw_hb_alloc_fn alloc_fn, lw_hb_event_fn ev_fn, void *ctx)
{
	struct lw_process *p = &m->procs.v[proc];
	struct lw_hb hb = { .m = m, .proc = proc, .n = (uint32_t)p->threads.n };
	/* Issue 20: a full-level trace is one window from start to end. */
	bool windowed = p->hdr.level != LW_LEVEL_FULL && (p->hdr.flags & LW_HDR_WINDOWS);
	bool in_window = !windowed;
	bool *started = lw_xcalloc(hb.n ? hb.n : 1, sizeof(bool));

	/* Issue 24: a thread's clock lives from its first event to the last event that reads
	 * it (its own last, its join, a creation it made), not the whole replay: 20,000 threads
	 * kept 20,000 clocks of 20,000 entries.  last[i] is that event's index + 1. */
	size_t *last = lw_xcalloc(hb.n ? hb.n : 1, sizeof(*last));
	uint32_t *retired = vc_new(hb.n);

	hb.t = lw_xcalloc(hb.n ? hb.n : 1, sizeof(*hb.t));
	for (uint32_t i = 0; i < hb.n; i++)
		hb.t[i].tid = p->threads.v[i].tid;
	/* A watchpoint sees instructions: on x86-64 a release store and an acquire load are
	 * plain moves, and only a LOCK-prefixed read-modify-write (or xchg) shows that a
	 * variable is atomic.  On an 8-byte granule where a watchpoint saw one, its plain
	 * moves synchronise too (a custom spin lock's unlock is a plain store): more
	 * happens-before, which can hide a race, never invent one. */
	struct lw_map atomic_granules = { 0 };

	for (size_t i = 0; i < p->accesses.n; i++) {
		const struct lw_access *a = &p->accesses.v[i];

		if ((a->flags & LW_SRC_WATCHPOINT) && (a->flags & LW_ACCESS_ATOMIC))
			lw_map_put(&atomic_granules, a->addr >> 3, 0, 1);
	}
	for (size_t k = 0; k < p->events.n; k++) {
		uint32_t ti = lw_hb_thread_index(&hb, p->events.v[k].tid);
		uint32_t other = other_thread(&hb, &p->events.v[k]);

		if (ti != LW_NONE)
			last[ti] = k + 1;
		if (ti != LW_NONE && other != LW_NONE)
			last[other] = k + 1;
	}
	for (size_t k = 0; k < p->events.n; k++) {
		const struct lw_event *ev = &p->events.v[k];
		uint32_t ti, oi;
		uint32_t other = other_thread(&hb, ev);

		if (ev->kind == LW_EV_SYNC && ev->tid == 0 && windowed) {
			const struct lw_sync *s = &p->syncs.v[ev->arg];

			if (s->op == LW_SYNC_WINDOW_OPEN) {
				in_window = true;
			} else if (s->op == LW_SYNC_FENCE) {
				fence(&hb, started, retired, s->seq);
				in_window = false;
			}
			continue;
		}
		ti = lw_hb_thread_index(&hb, ev->tid);
		if (ti == LW_NONE)
			continue;
		thread_clock(&hb, ti);
		thread_clock(&hb, other);
		started[ti] = true;
		if (!in_window && !always_written(p, ev))
			goto retire;
		if (ev_fn)
			ev_fn(&hb, ti, ev, ctx);
		switch (ev->kind) {
		case LW_EV_THREAD:
			oi = ev->arg ? lw_hb_thread_index(&hb, ev->arg) : LW_NONE;
			if (oi != LW_NONE && oi != ti) {
				vc_join(hb.t[ti].vc, hb.t[oi].vc, hb.n);
				tick(&hb.t[oi], oi);
			}
			break;
		case LW_EV_JOIN:
			oi = lw_hb_thread_index(&hb, ev->arg);
			if (oi != LW_NONE && oi != ti)
				vc_join(hb.t[ti].vc, hb.t[oi].vc, hb.n);
			break;
		case LW_EV_ACQUIRE:
			acquire(&hb, ti, ev);
			break;
		case LW_EV_RELEASE:
			release(&hb, ti, ev);
			break;
		case LW_EV_SYNC:
			sync_op(&hb, ti, &p->syncs.v[ev->arg]);
			break;
		case LW_EV_ACCESS: {
			const struct lw_access *a = &p->accesses.v[ev->arg];

			/* An atomic operation is checked against the plain accesses first, with
			 * the clock before its own synchronisation (as ThreadSanitizer does). */
			if (fn)
				fn(&hb, ti, ev->arg, ctx);
			uint32_t one;

			if ((a->flags & LW_ACCESS_ATOMIC) ||
			    ((a->flags & LW_SRC_WATCHPOINT) && atomic_granules.n &&
			     lw_map_get(&atomic_granules, a->addr >> 3, 0, &one))) {
				/* The hooks' filter keeps one access per 8-byte granule while one
				 * thread owns it: of two atomics sharing a granule (a spin lock
				 * beside another), the owner's last one may be the only one in
				 * the trace.  So a hook atomic synchronises its whole granule:
				 * more happens-before, which can hide a race, never invent one. */
				struct lw_hb_obj *o = obj(&hb, a->flags & LW_SRC_HOOK ? a->addr & ~7ull
										       : a->addr);

				vc_join(hb.t[ti].vc, o->w, hb.n);
				release_into(&hb, &o->w, &hb.t[ti]);
				tick(&hb.t[ti], ti);
			}
			break;
		}
		case LW_EV_ALLOC:
			if (alloc_fn)
				alloc_fn(&hb, ev->arg, ctx);
			break;
		}
retire:
		/* Issue 24: the clocks nothing reads any more go (into retired, for the fences
		 * of automatic watching's windows). */
		if (last[ti] == k + 1) {
			if (windowed)
				vc_join(retired, hb.t[ti].vc, hb.n);
			free(hb.t[ti].vc);
			hb.t[ti].vc = NULL;
		}
		if (other != LW_NONE && last[other] == k + 1 && hb.t[other].vc) {
			if (windowed)
				vc_join(retired, hb.t[other].vc, hb.n);
			free(hb.t[other].vc);
			hb.t[other].vc = NULL;
		}
	}
	lw_map_free(&atomic_granules);
	free(retired);
	free(last);
	for (uint32_t i = 0; i < hb.n; i++) {
		free(hb.t[i].vc);
		free(hb.t[i].held.v);
	}
	free(started);
	free(hb.t);
	for (size_t i = 0; i < hb.objs.n; i++) {
		struct lw_hb_obj *o = hb.objs.v[i];

		free(o->w);
		free(o->r);
		free(o->open);
		free(o->open_members.v);
		free(o->closed_members.v);
		free(o);
	}
	free(hb.objs.v);
	lw_map_free(&hb.obj_ids);
}

void lw_hb_replay(struct lw_model *m, uint32_t proc, lw_hb_access_fn fn,
		  lw_hb_alloc_fn alloc_fn, void *ctx)
{
	replay(m, proc, fn, alloc_fn, NULL, ctx);
}

void lw_hb_replay_events(struct lw_model *m, uint32_t proc, lw_hb_event_fn ev_fn, void *ctx)
{
	replay(m, proc, NULL, NULL, ev_fn, ctx);
}
