/* Thread-lifetime ordering from THREAD (create) and JOIN records. */
#include "detect/happens_before.h"

#include <stdlib.h>

struct hb_item {
	uint32_t thread;             /* index in the process's threads */
	uint64_t bound;              /* only its events before this seq count */
};

static uint32_t thread_index(const struct lw_process *p, uint32_t tid)
{
	uint32_t i;

	return lw_map_get(&p->tids, tid, 0, &i) ? i : LW_NONE;
}

/*
 * Walks backwards from the creation of `after`: the creator's events before it, the whole
 * life of every thread the creator had joined by then, their creators' events before their
 * creation, and so on.  `before` is found when one of those joins joined it.
 */
static bool search(const struct lw_process *p, uint32_t before, uint32_t after,
		   struct lw_hb_why *why)
{
	uint32_t ai = thread_index(p, after);
	const struct lw_thread *at;
	LW_VEC(struct hb_item) stack = { 0 };
	uint64_t *seen;
	bool found = false;

	if (ai == LW_NONE || !p->threads.v[ai].known || !p->threads.v[ai].parent)
		return false;
	at = &p->threads.v[ai];
	seen = lw_xcalloc(p->threads.n, sizeof(*seen));
	{
		uint32_t pi = thread_index(p, at->parent);

		if (pi != LW_NONE)
			lw_vec_push(&stack, ((struct hb_item){ pi, at->seq }));
	}
	while (stack.n && !found) {
		struct hb_item it = stack.v[--stack.n];
		const struct lw_thread *t = &p->threads.v[it.thread];

		if (it.bound <= seen[it.thread])
			continue;
		seen[it.thread] = it.bound;
		for (uint32_t j = 0; j < t->n_joins; j++) {
			const struct lw_join *jn = &p->joins.v[t->first_join + j];
			uint32_t ci;

			if (jn->seq >= it.bound)
				break;
			if (jn->joined == before) {
				if (why)
					*why = (struct lw_hb_why){ jn->joiner, jn->joined, jn->seq,
								   at->parent, at->seq };
				found = true;
				break;
			}
			ci = thread_index(p, jn->joined);
			if (ci != LW_NONE)
				lw_vec_push(&stack, ((struct hb_item){ ci, UINT64_MAX }));
		}
		if (t->known && t->parent) {
			uint32_t pi = thread_index(p, t->parent);

			if (pi != LW_NONE)
				lw_vec_push(&stack, ((struct hb_item){ pi, t->seq }));
		}
	}
	free(stack.v);
	free(seen);
	return found;
}

bool lw_hb_lifetime_before(struct lw_model *m, uint32_t proc, uint32_t before, uint32_t after,
			   struct lw_hb_why *why)
{
	struct lw_process *p = &m->procs.v[proc];
	uint32_t memo;
	bool r;

	const struct lw_thread *bt;

	if (before == after)
		return false;
	/* Only a joined thread's life can end before another's begins. */
	bt = lw_model_thread(m, proc, before);
	if (!bt || !bt->was_joined)
		return false;
	/* A memoized "yes" is recomputed only when the caller wants to know why. */
	if (lw_map_get(&p->hb_memo, before, after, &memo) && (memo == 1 || !why))
		return memo == 2;
	r = search(p, before, after, why);
	lw_map_put(&p->hb_memo, before, after, r ? 2 : 1);
	return r;
}

bool lw_hb_ordered(struct lw_model *m, uint32_t proc, uint32_t a, uint32_t b, uint32_t *first,
		   struct lw_hb_why *why)
{
	if (lw_hb_lifetime_before(m, proc, a, b, why)) {
		if (first)
			*first = a;
		return true;
	}
	if (lw_hb_lifetime_before(m, proc, b, a, why)) {
		if (first)
			*first = b;
		return true;
	}
	return false;
}

/* ---- events, across the processes of a run ---- */

/* A place in another process the walk continues at. */
struct po_edge {
	uint32_t tid;                /* the thread of this process it leaves from */
	uint64_t seq;                /* ... at or after this seq (forks), or any (reaps) */
	uint32_t to_proc;            /* the process it reaches */
	uint32_t to_tid;             /* with LW_NONE: every thread of to_proc, from its start */
	uint64_t to_seq;
};

struct lw_proc_order {
	uint32_t *next_image;        /* per process: the image it exec'd into, or LW_NONE */
	LW_VEC(struct po_edge) edges;/* forks and reaps, by from-process */
	uint32_t *first_edge;        /* per process + 1: its edges are [first_edge[p], [p+1]) */
	uint32_t *thread_base;       /* per process + 1: offset of its threads in a flat array */
};

struct po_key {
	uint32_t proc;
	uint64_t session;
	int32_t  pid, ppid;
	uint64_t start_ns;
};

static int key_cmp(const void *a, const void *b)
{
	const struct po_key *x = a, *y = b;

	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->proc < y->proc ? -1 : x->proc > y->proc;
}

/* The index in keys of the first image of (session, pid, ppid), or LW_NONE. */
static uint32_t first_image(const struct po_key *keys, size_t n, uint64_t session, int32_t pid,
			    int32_t ppid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct po_key *k = &keys[mid];
		int c = k->session != session ? (k->session < session ? -1 : 1) :
			k->pid != pid ? (k->pid < pid ? -1 : 1) :
			k->ppid != ppid ? (k->ppid < ppid ? -1 : 1) : 0;

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && keys[lo].session == session && keys[lo].pid == pid && keys[lo].ppid == ppid)
		return (uint32_t)lo;
	return LW_NONE;
}

static int edge_cmp(const void *a, const void *b)
{
	const struct po_edge *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

struct lw_proc_order *lw_proc_order_new(struct lw_model *m)
{
	size_t n = m->procs.n;
	struct lw_proc_order *o = lw_xcalloc(1, sizeof(*o));
	struct po_key *keys = lw_xcalloc(n ? n : 1, sizeof(*keys));
	LW_VEC(uint32_t) from = { 0 };  /* from-process of each edge, while building */

	o->next_image = lw_xmalloc((n ? n : 1) * sizeof(uint32_t));
	o->first_edge = lw_xcalloc(n + 1, sizeof(uint32_t));
	o->thread_base = lw_xcalloc(n + 1, sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) {
		const struct lw_trace_header *h = &m->procs.v[i].hdr;

		keys[i] = (struct po_key){ (uint32_t)i, h->session, h->pid, h->ppid, h->start_ns };
		o->next_image[i] = LW_NONE;
		o->thread_base[i + 1] = o->thread_base[i] + (uint32_t)m->procs.v[i].threads.n;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		if (keys[i].session == keys[i + 1].session && keys[i].pid == keys[i + 1].pid &&
		    keys[i].ppid == keys[i + 1].ppid)
			o->next_image[keys[i].proc] = keys[i + 1].proc;
	for (size_t pi = 0; pi < n; pi++) {
		const struct lw_process *p = &m->procs.v[pi];

		for (size_t k = 0; k < p->syncs.n; k++) {
			const struct lw_sync *s = &p->syncs.v[k];
			uint32_t c;

			if (s->op != LW_SYNC_FORK && s->op != LW_SYNC_WAIT_CHILD)
				continue;
			c = first_image(keys, n, p->hdr.session, (int32_t)s->value, p->hdr.pid);
			if (c == LW_NONE)
				continue;
			if (s->op == LW_SYNC_FORK) {
				lw_vec_push(&o->edges, ((struct po_edge){ s->tid, s->seq, keys[c].proc,
									  LW_NONE, 0 }));
				lw_vec_push(&from, (uint32_t)pi);
				continue;
			}
			/* Every image of the child, from any of its threads, reaches the reap. */
			for (uint32_t im = keys[c].proc; im != LW_NONE; im = o->next_image[im]) {
				lw_vec_push(&o->edges, ((struct po_edge){ LW_NONE, 0, (uint32_t)pi,
									  s->tid, s->seq }));
				lw_vec_push(&from, im);
			}
		}
	}
	/* Children of system(): the first images, with no FORK record in their parent, that
	 * started while one of the parent's system() calls ran (LW_SYNC_SYSTEM_BEGIN and _END
	 * of one thread, the times in their values). */
	{
		bool *forked = lw_xcalloc(n ? n : 1, sizeof(bool));

		for (size_t e = 0; e < o->edges.n; e++)
			if (o->edges.v[e].to_tid == LW_NONE)
				forked[o->edges.v[e].to_proc] = true;
		for (size_t pi = 0; pi < n; pi++) {
			const struct lw_process *p = &m->procs.v[pi];

			for (size_t k = 0; k < p->syncs.n; k++) {
				const struct lw_sync *b = &p->syncs.v[k], *e = NULL;

				if (b->op != LW_SYNC_SYSTEM_BEGIN)
					continue;
				for (size_t x = k + 1; x < p->syncs.n && !e; x++)
					if (p->syncs.v[x].tid == b->tid &&
					    p->syncs.v[x].op == LW_SYNC_SYSTEM_END)
						e = &p->syncs.v[x];
				if (!e)
					continue;
				for (size_t i = 0; i < n; i++) {
					const struct po_key *c = &keys[i];

					if ((i && keys[i - 1].session == c->session &&
					     keys[i - 1].pid == c->pid && keys[i - 1].ppid == c->ppid) ||
					    c->session != p->hdr.session || c->ppid != p->hdr.pid ||
					    forked[c->proc] || c->start_ns < b->value ||
					    c->start_ns > e->value)
						continue;
					lw_vec_push(&o->edges, ((struct po_edge){ b->tid, b->seq, c->proc,
										  LW_NONE, 0 }));
					lw_vec_push(&from, (uint32_t)pi);
					for (uint32_t im = c->proc; im != LW_NONE; im = o->next_image[im]) {
						lw_vec_push(&o->edges, ((struct po_edge){ LW_NONE, 0,
							(uint32_t)pi, e->tid, e->seq }));
						lw_vec_push(&from, im);
					}
				}
			}
		}
		free(forked);
	}
	/* Group the edges by from-process (a counting sort), then by thread within each. */
	{
		struct po_edge *sorted = lw_xmalloc((o->edges.n ? o->edges.n : 1) * sizeof(*sorted));
		uint32_t *fill = lw_xcalloc(n + 1, sizeof(uint32_t));

		for (size_t e = 0; e < o->edges.n; e++)
			o->first_edge[from.v[e] + 1]++;
		for (size_t i = 0; i < n; i++)
			o->first_edge[i + 1] += o->first_edge[i];
		for (size_t e = 0; e < o->edges.n; e++)
			sorted[o->first_edge[from.v[e]] + fill[from.v[e]]++] = o->edges.v[e];
		free(o->edges.v);
		o->edges.v = sorted;
		for (size_t i = 0; i < n; i++)
			qsort(sorted + o->first_edge[i], o->first_edge[i + 1] - o->first_edge[i],
			      sizeof(*sorted), edge_cmp);
		free(fill);
	}
	free(from.v);
	free(keys);
	return o;
}

void lw_proc_order_free(struct lw_proc_order *o)
{
	if (!o)
		return;
	free(o->next_image);
	free(o->edges.v);
	free(o->first_edge);
	free(o->thread_base);
	free(o);
}

struct po_item {
	uint32_t proc, tid;
	uint64_t from;
};

/* Pushes every thread of process p, from its start. */
static void push_all(struct lw_model *m, void *work, uint32_t p)
{
	LW_VEC(struct po_item) *w = work;
	const struct lw_process *pr = &m->procs.v[p];

	for (size_t k = 0; k < pr->threads.n; k++)
		lw_vec_push(w, ((struct po_item){ p, pr->threads.v[k].tid, 0 }));
}

bool lw_hb_event_before(struct lw_model *m, const struct lw_proc_order *o, uint32_t pa,
			uint32_t ta, uint64_t sa, uint32_t pb, uint32_t tb, uint64_t sb)
{
	LW_VEC(struct po_item) work = { 0 };
	uint64_t *best;              /* per thread of every process: least from seen + 1 */
	bool found = false;

	if (pa == pb && ta == tb)
		return sa < sb;
	best = lw_xcalloc(o->thread_base[m->procs.n] + 1, sizeof(*best));
	lw_vec_push(&work, ((struct po_item){ pa, ta, sa }));
	while (work.n && !found) {
		struct po_item it = work.v[--work.n];
		const struct lw_process *p = &m->procs.v[it.proc];
		uint32_t ti;

		if (it.proc == pb && it.tid == tb && it.from <= sb) {
			found = true;
			break;
		}
		if (!lw_map_get(&p->tids, it.tid, 0, &ti))
			continue;
		ti += o->thread_base[it.proc];
		if (best[ti] && best[ti] - 1 <= it.from)
			continue;
		best[ti] = it.from + 1;
		for (size_t k = 0; k < p->threads.n; k++) {
			const struct lw_thread *c = &p->threads.v[k];

			if (c->known && c->parent == it.tid && c->seq >= it.from)
				lw_vec_push(&work, ((struct po_item){ it.proc, c->tid, c->seq }));
		}
		for (size_t k = 0; k < p->joins.n; k++) {
			const struct lw_join *j = &p->joins.v[k];

			if (j->joined == it.tid)
				lw_vec_push(&work, ((struct po_item){ it.proc, j->joiner, j->seq }));
		}
		for (uint32_t e = o->first_edge[it.proc]; e < o->first_edge[it.proc + 1]; e++) {
			const struct po_edge *x = &o->edges.v[e];

			if (x->tid != LW_NONE && (x->tid != it.tid || x->seq < it.from))
				continue;
			if (x->to_tid == LW_NONE)
				push_all(m, &work, x->to_proc);
			else
				lw_vec_push(&work, ((struct po_item){ x->to_proc, x->to_tid, x->to_seq }));
		}
		if (o->next_image[it.proc] != LW_NONE)
			push_all(m, &work, o->next_image[it.proc]);
	}
	free(work.v);
	free(best);
	return found;
}
