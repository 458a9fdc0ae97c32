/* Lock-order cycles: the lock graph, its elementary cycles, whether each can deadlock, and
 * the lock-class (lockdep) view of the same graph. */
#include "detect/digraph.h"
#include "detect/detect_cycles.h"
#include "detect/findings.h"
#include "detect/happens_before.h"
#include "base/msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many cycles are enumerated and judged per strongly connected component;
 * past it, only cycles that can deadlock are searched for (deadlock_search). */
#define MAX_CYCLES_PER_SCC 1000
/* Steps of that search (a step along an edge, or a choice the judge tries on a cycle it
 * found, with a tenth of CHOICE_BUDGET per cycle), over all the truncated components. */
#define DEADLOCK_SEARCH_BUDGET 20000000u
/* Choices of observations tried per cycle, in each of the two searches. */
#define CHOICE_BUDGET 1000000u      /* choices tried to show a cycle can deadlock */
#define EXPLAIN_BUDGET 20000u       /* choices tried to explain why one cannot */
#define MAX_WARN_CYCLES 20u         /* warning-level cycles listed; the rest are counted */

/* One acquisition that makes an edge: acqs[acq] took `to` while holding held[held]. */
struct obs {
	uint32_t acq;
	uint32_t held;
};

/* held -> acquired, with every observation of it. */
struct edge {
	uint32_t from, to;
	uint64_t count;
	LW_VEC(struct obs) obs;
};

/* A class-level edge, with one instance edge that shows it. */
struct class_edge {
	uint32_t from, to;
	uint32_t inst_edge;
	uint64_t count;
};

struct cycles {
	struct lw_model    *m;
	struct lw_findings *fs;
	LW_VEC(struct edge) edges;
	struct lw_map       edge_ids;       /* (from, to) -> index in edges */
	bool               *in_cycle;       /* per lock, while one cycle is judged */
	/* Class sequences of the instance cycles, each collapsed and rotated. */
	LW_VEC(uint32_t *)  covered;
	LW_VEC(size_t)      covered_len;
	/* The class graph. */
	LW_VEC(struct class_edge) cedges;
	struct lw_map       cedge_ids;
	uint32_t           *self_dir[2];    /* per class: an instance edge low->high, high->low, +1 */
	unsigned            n_warn_cycles;  /* warning-level cycles listed so far */
	struct lw_map       judged;         /* (hash, length) of each instance cycle judged */
	bool                errors_only;    /* deadlock_search: keep only cycles that can deadlock */
	uint64_t            judge_used;     /* choices the judge tried, in all */
	uint32_t           *scc;            /* per lock: its component */
	uint32_t           *scc_cycles;     /* per component: cycles enumerated */
};

/* ---- building the lock graph ---- */

static uint32_t edge_for(struct cycles *c, uint32_t from, uint32_t to)
{
	uint32_t i;

	if (lw_map_get(&c->edge_ids, from, to, &i))
		return i;
	i = (uint32_t)c->edges.n;
	lw_vec_push(&c->edges, ((struct edge){ .from = from, .to = to }));
	lw_map_put(&c->edge_ids, from, to, i);
	return i;
}

/*
 * What judging a cycle looks at in one observation: the thread, the acquisition's mode and
 * whether it could block, the mode the held lock was held in, and the other locks held (a
 * possible gate).  Observations alike in all of these judge alike: an edge keeps one of
 * each, so the search over a cycle's choices stays small on programs (servers) that take
 * the same locks from many call sites.
 */
static uint64_t held_mix(const struct lw_held_ref *held)
{
	uint64_t x = ((uint64_t)held->lock << 8 | held->mode) + 0x632be59bd9b4e019ULL;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return x;
}

/* Issue 24: the XOR of every held entry's mix, once per acquisition; judge_key takes entry k
 * out again, so that an acquisition holding H locks costs H, not H * H. */
static uint64_t held_mix_all(const struct lw_acq *a)
{
	uint64_t all = 0;

	for (uint32_t i = 0; i < a->n_held; i++)
		all ^= held_mix(&a->held[i]);
	return all;
}

static uint64_t judge_key(const struct lw_acq *a, uint32_t k, uint64_t all)
{
	uint64_t h = (uint64_t)a->tid * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)a->mode << 40) ^ ((uint64_t)(a->flags & (LW_ACQF_TRY | LW_ACQF_TIMED)) << 44) ^
	     ((uint64_t)a->held[k].mode << 48);
	h ^= all ^ held_mix(&a->held[k]);     /* every other held lock */
	return h ? h : 1;
}

static void build_edges(struct cycles *c)
{
	struct lw_model *m = c->m;
	struct lw_map seen = { 0 };

	for (uint32_t ai = 0; ai < m->acqs.n; ai++) {
		const struct lw_acq *a = &m->acqs.v[ai];
		uint64_t all = held_mix_all(a);

		for (uint32_t k = 0; k < a->n_held; k++) {
			const struct lw_held_ref *h = &a->held[k];
			const struct lw_lock *hl = &m->locks.v[h->lock];
			struct edge *e;

			if (h->lock == a->lock)
				continue;       /* recursive or self relock: not an ordering */
			/* A semaphore is a lock only if this thread waited on it and posted it
			 * itself; a signalling semaphore orders nothing. */
			if (hl->kind == LW_LOCK_SEM && !lw_model_sem_locklike(m, a->tid, hl))
				continue;
			{
				uint32_t ei = edge_for(c, h->lock, a->lock);
				uint32_t dummy;
				uint64_t key = judge_key(a, k, all);

				e = &c->edges.v[ei];
				e->count += a->count;
				if (lw_map_get(&seen, ei, key, &dummy))
					continue;
				lw_map_put(&seen, ei, key, 1);
			}
			lw_vec_push(&e->obs, ((struct obs){ ai, k }));
		}
	}
	lw_map_free(&seen);
}

/* ---- judging one cycle ---- */

enum violation {
	V_SINGLE_THREAD,
	V_HAPPENS_BEFORE,
	V_GATE_LOCK,
	V_TRYLOCK,
	V_TIMED,
	V_READ_READ,
	V_COUNT,
};

struct judge {
	struct cycles     *c;
	const uint32_t    *cyc;         /* edge ids, in order */
	size_t             n;
	uint32_t           proc;
	uint32_t          *pick;        /* chosen observation per edge */
	uint32_t          *best;
	unsigned           best_score;
	unsigned           best_v[V_COUNT];
	uint32_t           gate;        /* of the best choice, LW_NONE if none */
	unsigned           used;        /* choices tried, over every search */
};

static const struct lw_acq *obs_acq(const struct judge *j, size_t i, uint32_t o)
{
	return &j->c->m->acqs.v[j->c->edges.v[j->cyc[i]].obs.v[o].acq];
}

static const struct lw_held_ref *obs_held(const struct judge *j, size_t i, uint32_t o)
{
	const struct obs *ob = &j->c->edges.v[j->cyc[i]].obs.v[o];

	return &j->c->m->acqs.v[ob->acq].held[ob->held];
}

/* True if thread a's waiting for the lock in `to_mode` cannot pass b's holding it in
 * `held_mode`: readers do not exclude readers. */
static bool conflicts(uint16_t to_mode, uint16_t held_mode)
{
	return !(to_mode == LW_MODE_READ && held_mode == LW_MODE_READ);
}

/*
 * A gate lock: held (outside the cycle) by every chosen observation, exclusively by all but at
 * most one of them, so the threads cannot all be inside at once.  Returns the lock or LW_NONE.
 */
static uint32_t find_gate(const struct judge *j, const uint32_t *pick)
{
	const struct lw_acq *a0 = obs_acq(j, 0, pick[0]);

	for (uint32_t k = 0; k < a0->n_held; k++) {
		uint32_t g = a0->held[k].lock;
		size_t readers = 0, i;

		if (j->c->in_cycle[g])
			continue;
		for (i = 0; i < j->n; i++) {
			const struct lw_acq *a = obs_acq(j, i, pick[i]);
			uint32_t h;
			bool write = false, held = false;

			for (h = 0; h < a->n_held; h++)
				if (a->held[h].lock == g) {
					held = true;
					write |= a->held[h].mode != LW_MODE_READ;
				}
			if (!held)
				break;
			readers += !write;
		}
		if (i == j->n && readers <= 1)
			return g;
	}
	return LW_NONE;
}

/* Violations caused by choosing observation o for edge i given picks 0..i-1; adds them to
 * v[] and returns how many. */
static unsigned step_violations(struct judge *j, size_t i, uint32_t o, unsigned *v)
{
	const struct lw_acq *a = obs_acq(j, i, o);
	unsigned n = 0;
	bool same = false;

	if (a->flags & LW_ACQF_TRY) {
		v[V_TRYLOCK]++;
		n++;
	} else if (a->flags & LW_ACQF_TIMED) {
		v[V_TIMED]++;
		n++;
	}
	if (i > 0 && !conflicts(obs_acq(j, i - 1, j->pick[i - 1])->mode, obs_held(j, i, o)->mode)) {
		v[V_READ_READ]++;
		n++;
	}
	if (i == j->n - 1 && !conflicts(a->mode, obs_held(j, 0, j->pick[0])->mode)) {
		v[V_READ_READ]++;
		n++;
	}
	for (size_t k = 0; k < i; k++) {
		uint32_t t = obs_acq(j, k, j->pick[k])->tid;

		if (t == a->tid) {
			same = true;
			continue;
		}
		if (lw_hb_ordered(j->c->m, j->proc, t, a->tid, NULL, NULL)) {
			v[V_HAPPENS_BEFORE]++;
			n++;
		}
	}
	if (same) {
		v[V_SINGLE_THREAD]++;
		n++;
	}
	return n;
}

/*
 * Depth-first search over one observation per edge, with partial scores, keeping the choice
 * with the fewest violations (branch and bound).  With limit 0 it only accepts a choice
 * without violations.  Returns true if a choice with score 0 was found.
 */
static bool search(struct judge *j, unsigned limit, unsigned budget)
{
	const unsigned start = budget;
	size_t n = j->n, depth = 0;
	uint32_t *cursor = lw_xcalloc(n, sizeof(uint32_t));
	unsigned *score = lw_xcalloc(n + 1, sizeof(unsigned));
	unsigned (*v)[V_COUNT] = lw_xcalloc(n + 1, sizeof(*v));
	bool zero = false;

	while (budget) {
		const struct edge *e = &j->c->edges.v[j->cyc[depth]];

		if (cursor[depth] >= e->obs.n) {
			if (depth == 0)
				break;
			cursor[depth] = 0;
			depth--;
			continue;
		}
		budget--;
		{
			uint32_t o = cursor[depth]++;
			unsigned add;

			memcpy(v[depth + 1], v[depth], sizeof(v[0]));
			j->pick[depth] = o;
			add = step_violations(j, depth, o, v[depth + 1]);
			score[depth + 1] = score[depth] + add;
			if (score[depth + 1] > limit || score[depth + 1] >= j->best_score)
				continue;
			if (depth + 1 < n) {
				depth++;
				continue;
			}
			/* A complete choice: the gate lock needs all of it. */
			{
				uint32_t g = find_gate(j, j->pick);
				unsigned total = score[n] + (g != LW_NONE);

				if (total > limit || total >= j->best_score)
					continue;
				j->best_score = total;
				memcpy(j->best_v, v[n], sizeof(j->best_v));
				if (g != LW_NONE)
					j->best_v[V_GATE_LOCK]++;
				j->gate = g;
				memcpy(j->best, j->pick, n * sizeof(uint32_t));
				if (total == 0) {
					zero = true;
					break;
				}
			}
		}
	}
	j->used += start - budget;
	free(cursor);
	free(score);
	free(v);
	return zero;
}

static void lock_name(const struct lw_model *m, uint32_t li, char *buf, size_t len)
{
	const struct lw_lock *l = &m->locks.v[li];

	if (l->global || l->name_has_addr)
		snprintf(buf, len, "%s", l->name);
	else
		snprintf(buf, len, "%s [0x%" PRIx64 "]", l->name, l->addr);
}

static char *site_text(struct lw_model *m, uint32_t proc, uint32_t stack)
{
	struct lw_fstack st = lw_finding_stack(m, proc, stack);
	char *s;

	if (!st.n) {
		free(st.frames);
		return lw_xstrdup("an unknown place");
	}
	{
		char buf[1024];

		lw_fframe_format(&st.frames[0], buf, sizeof(buf));
		s = lw_xstrdup(buf);
	}
	for (size_t i = 0; i < st.n; i++) {
		free(st.frames[i].function);
		free(st.frames[i].file);
		free(st.frames[i].module);
	}
	free(st.frames);
	return s;
}

/* Explains the best choice's first violation, in priority order.  Returns the reason. */
static enum lw_reason explain(struct judge *j, char **text)
{
	struct lw_model *m = j->c->m;
	const uint32_t *p = j->best;
	char a[600], b[600];

	if (j->best_v[V_SINGLE_THREAD]) {
		for (size_t x = 0; x < j->n; x++)
			for (size_t y = x + 1; y < j->n; y++)
				if (obs_acq(j, x, p[x])->tid == obs_acq(j, y, p[y])->tid) {
					bool all = true;

					for (size_t k = 0; k < j->n; k++)
						all &= obs_acq(j, k, p[k])->tid == obs_acq(j, x, p[x])->tid;
					*text = all
						? lw_xasprintf("every acquisition in this cycle was made by "
							       "thread T%" PRIu32 ": a thread cannot "
							       "deadlock with itself over these locks",
							       obs_acq(j, x, p[x])->tid)
						: lw_xasprintf("thread T%" PRIu32 " makes more than one "
							       "of these acquisitions, and a thread waits "
							       "for one lock at a time",
							       obs_acq(j, x, p[x])->tid);
					return LW_REASON_SINGLE_THREAD;
				}
	}
	if (j->best_v[V_HAPPENS_BEFORE]) {
		for (size_t x = 0; x < j->n; x++)
			for (size_t y = x + 1; y < j->n; y++) {
				uint32_t tx = obs_acq(j, x, p[x])->tid, ty = obs_acq(j, y, p[y])->tid;
				struct lw_hb_why why;
				uint32_t first;

				if (tx == ty || !lw_hb_ordered(m, j->proc, tx, ty, &first, &why))
					continue;
				*text = lw_xasprintf(
					"threads T%" PRIu32 " and T%" PRIu32 " never run at the same "
					"time: T%" PRIu32 " joined T%" PRIu32 " (event %" PRIu64 ") "
					"before T%" PRIu32 " created T%" PRIu32 " (event %" PRIu64 ")",
					tx, ty, why.joiner, why.joined, why.join_seq, why.creator,
					first == tx ? ty : tx, why.create_seq);
				return LW_REASON_HAPPENS_BEFORE;
			}
	}
	if (j->best_v[V_GATE_LOCK] && j->gate != LW_NONE) {
		lock_name(m, j->gate, a, sizeof(a));
		*text = lw_xasprintf("every thread in the cycle holds gate lock %s while it takes "
				     "these locks, so only one of them can be inside at a time", a);
		return LW_REASON_GATE_LOCK;
	}
	for (size_t x = 0; x < j->n; x++) {
		const struct lw_acq *ac = obs_acq(j, x, p[x]);
		char *where;

		if (!(ac->flags & (LW_ACQF_TRY | LW_ACQF_TIMED)))
			continue;
		lock_name(m, ac->lock, a, sizeof(a));
		where = site_text(m, j->proc, ac->stack);
		if (ac->flags & LW_ACQF_TRY)
			*text = lw_xasprintf("thread T%" PRIu32 " takes %s with a trylock at %s: "
					     "it backs off instead of waiting", ac->tid, a, where);
		else
			*text = lw_xasprintf("thread T%" PRIu32 " takes %s with a timed lock at "
					     "%s: it cannot wait forever", ac->tid, a, where);
		free(where);
		return (ac->flags & LW_ACQF_TRY) ? LW_REASON_TRYLOCK : LW_REASON_TIMED_LOCK;
	}
	for (size_t x = 0; x < j->n; x++) {
		size_t y = (x + 1) % j->n;
		const struct lw_acq *ax = obs_acq(j, x, p[x]), *ay = obs_acq(j, y, p[y]);

		if (conflicts(ax->mode, obs_held(j, y, p[y])->mode))
			continue;
		lock_name(m, ax->lock, a, sizeof(a));
		snprintf(b, sizeof(b), "%s", a);
		*text = lw_xasprintf("thread T%" PRIu32 " waits for %s in read mode while thread "
				     "T%" PRIu32 " holds it in read mode: readers do not exclude "
				     "readers", ax->tid, b, ay->tid);
		return LW_REASON_READ_READ;
	}
	*text = lw_xstrdup("no combination of the observed acquisitions can deadlock");
	return LW_REASON_SINGLE_THREAD;
}

/* Adds a cycle finding's locks, edges and threads from one choice of observations. */
static void fill_cycle(struct lw_finding *f, struct cycles *c, const uint32_t *cyc,
		       const uint32_t *pick, size_t n, uint32_t proc)
{
	struct lw_model *m = c->m;
	size_t *idx = lw_xmalloc(n * sizeof(size_t));

	for (size_t i = 0; i < n; i++)
		idx[i] = lw_finding_lock(f, m, c->edges.v[cyc[i]].from);
	for (size_t i = 0; i < n; i++) {
		const struct edge *e = &c->edges.v[cyc[i]];
		const struct obs *o = &e->obs.v[pick[i]];
		const struct lw_acq *a = &m->acqs.v[o->acq];
		const struct lw_held_ref *h = &a->held[o->held];
		struct lw_fedge fe = {
			.from = idx[i], .to = idx[(i + 1) % n], .thread = a->tid, .mode = a->mode,
			.from_mode = h->mode, .try_lock = a->flags & LW_ACQF_TRY,
			.timed = a->flags & LW_ACQF_TIMED,
		};

		fe.from_stack = lw_finding_stack(m, proc, h->stack);
		fe.to_stack = lw_finding_stack(m, proc, a->stack);
		lw_vec_push(&f->edges, fe);
		lw_finding_thread(f, m, proc, a->tid);
	}
	free(idx);
}

static char *cycle_message(const struct lw_finding *f)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < f->edges.n; i++)
		len += strlen(f->locks.v[f->edges.v[i].from].name) + 4;
	len += f->edges.n ? strlen(f->locks.v[f->edges.v[0].from].name) : 0;
	s = lw_xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < f->edges.n; i++) {
		strcat(s, f->locks.v[f->edges.v[i].from].name);
		strcat(s, " -> ");
	}
	if (f->edges.n)
		strcat(s, f->locks.v[f->edges.v[0].from].name);
	return s;
}

/* Records the class sequence of an instance cycle, collapsed and rotated to its least class. */
static void remember_classes(struct cycles *c, const uint32_t *cyc, size_t n)
{
	uint32_t *seq = lw_xmalloc(n * sizeof(uint32_t));
	size_t k = 0, least = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t cl = c->m->locks.v[c->edges.v[cyc[i]].from].cls;

		if (k == 0 || seq[k - 1] != cl)
			seq[k++] = cl;
	}
	while (k > 1 && seq[k - 1] == seq[0])
		k--;
	for (size_t i = 1; i < k; i++)
		if (seq[i] < seq[least])
			least = i;
	{
		uint32_t *rot = lw_xmalloc(k * sizeof(uint32_t));

		for (size_t i = 0; i < k; i++)
			rot[i] = seq[(least + i) % k];
		free(seq);
		lw_vec_push(&c->covered, rot);
		lw_vec_push(&c->covered_len, k);
	}
}

/* The least seq among an edge's observations: when it was first seen. */
static uint64_t edge_first_seq(const struct cycles *c, uint32_t ei)
{
	const struct edge *e = &c->edges.v[ei];
	uint64_t best = UINT64_MAX;

	for (size_t i = 0; i < e->obs.n; i++)
		if (c->m->acqs.v[e->obs.v[i].acq].seq < best)
			best = c->m->acqs.v[e->obs.v[i].acq].seq;
	return best;
}

/* Whether every observation of every edge of the cycle comes from one and the same thread. */
static bool one_thread(const struct cycles *c, const uint32_t *cyc, size_t n)
{
	const struct lw_model *m = c->m;
	uint32_t tid = m->acqs.v[c->edges.v[cyc[0]].obs.v[0].acq].tid;

	for (size_t i = 0; i < n; i++) {
		const struct edge *e = &c->edges.v[cyc[i]];

		for (size_t k = 0; k < e->obs.n; k++)
			if (m->acqs.v[e->obs.v[k].acq].tid != tid)
				return false;
	}
	return true;
}

/* A cycle's identity: a hash of its edges from the least edge id on, and its length. */
static uint64_t cycle_hash(const uint32_t *edges, size_t n)
{
	size_t least = 0;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 1; i < n; i++)
		if (edges[i] < edges[least])
			least = i;
	for (size_t i = 0; i < n; i++) {
		h ^= edges[(least + i) % n];
		h *= 1099511628211ull;
	}
	return h;
}

/* Whether the cycle of hash h and length n is to be judged now: once in the enumeration, which
 * counts it in the group of node `from`; in the search for deadlockable cycles that follows,
 * only when the enumeration did not judge it already. */
static bool first_judgement(struct cycles *c, uint64_t h, size_t n, uint32_t from)
{
	uint32_t seen;

	if (c->errors_only)
		return !lw_map_get(&c->judged, h, n, &seen);
	lw_map_put(&c->judged, h, n, 1);
	c->scc_cycles[c->scc[from]]++;
	return true;
}

static int on_instance_cycle(void *arg, const uint32_t *found, size_t n)
{
	struct cycles *c = arg;
	struct lw_model *m = c->m;
	uint32_t *cyc;
	struct judge j = { .c = c, .n = n, .best_score = ~0u, .gate = LW_NONE };
	struct lw_finding *f;
	size_t first = 0;
	uint64_t first_seq = UINT64_MAX, h = cycle_hash(found, n);
	bool feasible;

	if (!first_judgement(c, h, n, c->edges.v[found[0]].from))
		return 0;
	cyc = lw_xmalloc(n * sizeof(uint32_t));
	j.cyc = cyc;

	/* Tell the story from the edge seen first. */
	for (size_t i = 0; i < n; i++) {
		uint64_t s = edge_first_seq(c, found[i]);

		if (s < first_seq) {
			first_seq = s;
			first = i;
		}
	}
	for (size_t i = 0; i < n; i++)
		cyc[i] = found[(first + i) % n];

	j.proc = m->locks.v[c->edges.v[cyc[0]].from].proc;
	j.pick = lw_xcalloc(n, sizeof(uint32_t));
	j.best = lw_xcalloc(n, sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		c->in_cycle[c->edges.v[cyc[i]].from] = true;
	if (one_thread(c, cyc, n)) {
		/* Every observation of every edge is one thread's: no choice can deadlock,
		 * and the first is as good an illustration as any. */
		feasible = false;
		j.best_score = 1;
		j.best_v[V_SINGLE_THREAD] = 1;
	} else {
		feasible = search(&j, 0, c->errors_only ? CHOICE_BUDGET / 10 : CHOICE_BUDGET);
		c->judge_used += j.used;
		if (!feasible && !c->errors_only) {
			j.best_score = ~0u;
			search(&j, ~0u - 1, EXPLAIN_BUDGET);
		}
	}
	if (!feasible && (c->errors_only || c->n_warn_cycles >= MAX_WARN_CYCLES)) {
		/* The deadlock search's cycles that cannot deadlock are neither listed nor
		 * counted: the enumeration it continues did not reach them. */
		c->fs->unlisted_warn_cycles += !c->errors_only;
		for (size_t i = 0; i < n; i++)
			c->in_cycle[c->edges.v[cyc[i]].from] = false;
		remember_classes(c, cyc, n);
		free(j.pick);
		free(j.best);
		free(cyc);
		return 0;
	}
	c->n_warn_cycles += !feasible;
	f = lw_finding_new(c->fs, LW_FIND_LOCK_ORDER_CYCLE, feasible ? LW_SEV_ERROR : LW_SEV_WARNING,
			   m, j.proc);
	fill_cycle(f, c, cyc, j.best, n, j.proc);
	f->message = cycle_message(f);
	f->count = 0;
	for (size_t i = 0; i < n; i++)
		f->count += c->edges.v[cyc[i]].count;
	if (!feasible)
		f->reason = explain(&j, &f->reason_text);
	for (size_t i = 0; i < n; i++)
		c->in_cycle[c->edges.v[cyc[i]].from] = false;
	remember_classes(c, cyc, n);
	free(j.pick);
	free(j.best);
	free(cyc);
	return 0;
}

/* ---- cycles that can deadlock, past the enumeration's cap ---- */

/*
 * A component with more cycles than MAX_CYCLES_PER_SCC may hide, among the many it did not
 * enumerate, one that can deadlock (two threads that lock 8 stripes in opposite orders have
 * thousands of long cycles, and only the short ones between neighbouring stripes can
 * deadlock).  A cycle that can deadlock takes each of its edges from a different thread, so
 * it is no longer than the number of threads with edges in the component: the search goes
 * through the cycles of the component shortest first, from length 2 up to that number, and
 * reports those the judge finds can deadlock (and that the enumeration had not judged).
 * When it gets through every length, no cycle that can deadlock was left out.  Returns the
 * length reached when the budget ran out, or 0 when the search was complete.
 */
static uint32_t deadlock_search(struct cycles *c, const struct lw_digraph *g, const uint32_t *scc,
				uint32_t comp, uint32_t k_max, lw_cycle_fn fn, unsigned *budget)
{
	uint32_t n = g->n, nv = 0;
	uint32_t *verts, *path, *pedge, *cursor;
	bool *on_path;
	uint32_t stopped = 0;

	verts = lw_xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	for (uint32_t v = 0; v < n; v++)
		if (scc[v] == comp)
			verts[nv++] = v;
	if (k_max > nv)
		k_max = nv;
	path = lw_xmalloc(((size_t)k_max + 1) * sizeof(uint32_t));
	pedge = lw_xmalloc(((size_t)k_max + 1) * sizeof(uint32_t));
	cursor = lw_xmalloc(((size_t)k_max + 1) * sizeof(uint32_t));
	on_path = lw_xcalloc(n, sizeof(bool));
	for (uint32_t k = 2; k <= k_max && !stopped; k++) {
		for (uint32_t si = 0; si < nv && !stopped; si++) {
			uint32_t s = verts[si], d = 0;

			/* Elementary paths s -> ... of vertices above s, closed back to s at length k. */
			path[0] = s;
			cursor[0] = g->first[s];
			on_path[s] = true;
			for (;;) {
				uint32_t v = path[d];

				if (cursor[d] >= g->first[v + 1]) {
					on_path[v] = false;
					if (d == 0)
						break;
					d--;
					continue;
				}
				if (!*budget) {
					stopped = k;
					for (uint32_t i = 0; i <= d; i++)
						on_path[path[i]] = false;
					break;
				}
				(*budget)--;
				uint32_t x = cursor[d]++, w = g->adj[x];

				if (scc[w] != comp)
					continue;
				if (w == s) {
					if (d + 1 == k) {
						/* Each choice the judge tries costs a step. */
						uint64_t before = c->judge_used, cost;

						pedge[d] = g->edge_id[x];
						fn(c, pedge, k);
						cost = c->judge_used - before;
						*budget -= *budget < cost ? *budget : (unsigned)cost;
					}
					continue;
				}
				if (w < s || on_path[w] || d + 1 >= k)
					continue;
				pedge[d] = g->edge_id[x];
				path[++d] = w;
				cursor[d] = g->first[w];
				on_path[w] = true;
			}
		}
	}
	free(verts);
	free(path);
	free(pedge);
	free(cursor);
	free(on_path);
	return stopped;
}

/* The number of threads with an edge inside instance component comp: no cycle that can
 * deadlock there is longer. */
static uint32_t component_threads(const struct cycles *c, uint32_t comp)
{
	struct lw_map tids = { 0 };
	uint32_t n = 0, dummy;

	for (size_t e = 0; e < c->edges.n; e++) {
		const struct edge *ed = &c->edges.v[e];

		if (c->scc[ed->from] != comp || c->scc[ed->to] != comp)
			continue;
		for (size_t o = 0; o < ed->obs.n; o++) {
			uint32_t t = c->m->acqs.v[ed->obs.v[o].acq].tid;

			if (!lw_map_get(&tids, t, 0, &dummy)) {
				lw_map_put(&tids, t, 0, 1);
				n++;
			}
		}
	}
	lw_map_free(&tids);
	return n;
}

static const struct lw_acq *class_edge_acq(const struct cycles *c, uint32_t ce);

/* Runs deadlock_search on every component of g that the enumeration cut short (cycles[k]
 * reached MAX_CYCLES_PER_SCC) and tells fs what it covered.  Instance graph: threads bound
 * the length of a cycle that can deadlock within one process.  Class graph: only a cycle of
 * global classes whose edges were seen in more than one process can be an error
 * (judge_cross_process), so the search keeps to global classes, skips a component seen in
 * one process, and has no bound but the number of classes. */
static void search_truncated(struct cycles *c, const struct lw_digraph *g, const uint32_t *scc,
			     const uint32_t *cycles, uint32_t n_scc, bool classes,
			     lw_cycle_fn fn, unsigned *budget)
{
	uint32_t *keep = lw_xmalloc(((size_t)g->n + 1) * sizeof(uint32_t));

	for (uint32_t v = 0; v < g->n; v++)
		keep[v] = !classes || strncmp(c->m->classes.v[v].key, "g\x1f", 2) == 0 ? scc[v] :
			  UINT32_MAX;
	for (uint32_t k = 0; k < n_scc; k++) {
		uint32_t len, k_max = g->n;

		if (cycles[k] < MAX_CYCLES_PER_SCC)
			continue;
		if (classes) {
			uint32_t proc = LW_NONE;
			bool several = false;

			for (size_t e = 0; e < c->cedges.n && !several; e++) {
				const struct class_edge *ce = &c->cedges.v[e];
				uint32_t p;

				if (keep[ce->from] != k || keep[ce->to] != k)
					continue;
				p = class_edge_acq(c, (uint32_t)e)->proc;
				several = proc != LW_NONE && p != proc;
				proc = p;
			}
			if (!several)
				continue;
		} else {
			k_max = component_threads(c, k);
		}
		c->errors_only = true;
		len = deadlock_search(c, g, keep, k, k_max, fn, budget);
		c->errors_only = false;
		if (len) {
			c->fs->deadlock_search_stopped++;
			if (!c->fs->deadlock_search_len || len - 1 < c->fs->deadlock_search_len)
				c->fs->deadlock_search_len = len - 1;
		}
	}
	free(keep);
}

/* ---- lock classes ---- */

static void build_class_graph(struct cycles *c)
{
	struct lw_model *m = c->m;

	c->self_dir[0] = lw_xcalloc(m->classes.n, sizeof(uint32_t));
	c->self_dir[1] = lw_xcalloc(m->classes.n, sizeof(uint32_t));
	for (uint32_t ei = 0; ei < c->edges.n; ei++) {
		const struct edge *e = &c->edges.v[ei];
		const struct lw_lock *a = &m->locks.v[e->from], *b = &m->locks.v[e->to];
		uint32_t ci;

		if (a->cls == b->cls) {
			int dir = a->addr < b->addr ? 0 : 1;

			if (a->proc == b->proc && a->addr != b->addr && !c->self_dir[dir][a->cls])
				c->self_dir[dir][a->cls] = ei + 1;
			continue;
		}
		if (!lw_map_get(&c->cedge_ids, a->cls, b->cls, &ci)) {
			ci = (uint32_t)c->cedges.n;
			lw_vec_push(&c->cedges, ((struct class_edge){ a->cls, b->cls, ei, 0 }));
			lw_map_put(&c->cedge_ids, a->cls, b->cls, ci);
		}
		c->cedges.v[ci].count += e->count;
	}
}

static bool is_covered(const struct cycles *c, const uint32_t *seq, size_t k)
{
	for (size_t i = 0; i < c->covered.n; i++)
		if (c->covered_len.v[i] == k && memcmp(c->covered.v[i], seq, k * sizeof(*seq)) == 0)
			return true;
	return false;
}

/* Starts a lock-class warning with the given class names as its locks. */
static struct lw_finding *class_finding(struct cycles *c, const uint32_t *classes, size_t n,
					uint32_t proc)
{
	struct lw_model *m = c->m;
	struct lw_finding *f = lw_finding_new(c->fs, LW_FIND_LOCK_ORDER_CYCLE, LW_SEV_WARNING, m,
					      proc);

	for (size_t i = 0; i < n; i++) {
		const struct lw_class *cl = &m->classes.v[classes[i]];
		const struct lw_lock *l = &m->locks.v[cl->first_lock];

		lw_vec_push(&f->locks, ((struct lw_flock){ lw_xstrdup(cl->name), l->addr, false }));
	}
	f->reason = LW_REASON_LOCK_CLASS;
	return f;
}

/* Adds the first observation of instance edge ei as an edge between finding locks from, to. */
static void add_class_edge(struct lw_finding *f, struct cycles *c, uint32_t ei, size_t from,
			   size_t to)
{
	struct lw_model *m = c->m;
	const struct edge *e = &c->edges.v[ei];
	const struct obs *o = &e->obs.v[0];
	const struct lw_acq *a = &m->acqs.v[o->acq];
	const struct lw_held_ref *h = &a->held[o->held];
	struct lw_fedge fe = { .from = from, .to = to, .thread = a->tid, .mode = a->mode,
			       .from_mode = h->mode, .try_lock = a->flags & LW_ACQF_TRY,
			       .timed = a->flags & LW_ACQF_TIMED };

	fe.from_stack = lw_finding_stack(m, a->proc, h->stack);
	fe.to_stack = lw_finding_stack(m, a->proc, a->stack);
	lw_vec_push(&f->edges, fe);
	lw_finding_thread(f, m, a->proc, a->tid);
}

/* The observation a class edge is shown by (add_class_edge's choice). */
static const struct lw_acq *class_edge_acq(const struct cycles *c, uint32_t ce)
{
	const struct edge *e = &c->edges.v[c->cedges.v[ce].inst_edge];

	return &c->m->acqs.v[e->obs.v[0].acq];
}

/* Whether a class names the same lock in every process: a global (by symbol), or a
 * process-shared lock in shared memory (by mapped object and offset, issue 18). */
static bool same_in_every_process(const struct lw_class *cl)
{
	return strncmp(cl->key, "g\x1f", 2) == 0 || strncmp(cl->key, "m\x1f", 2) == 0;
}

/*
 * A class cycle over global or process-shared locks only, whose edges were seen in different
 * processes (two runs of one program, two processes sharing a library, or processes sharing
 * memory): each is the same lock in every process of the program, so these are the two halves
 * of one instance cycle that were never seen in the same process.  Judges it as far as separate processes allow (blocking, gate
 * lock; whether the threads can overlap is unknown across processes, and taken as yes).
 * Returns true and sets f's severity and reason when it applies.
 */
static bool judge_cross_process(struct cycles *c, const uint32_t *cyc, size_t n,
				struct lw_finding *f)
{
	struct lw_model *m = c->m;
	bool several = false;
	uint32_t proc0 = class_edge_acq(c, cyc[0])->proc;

	for (size_t i = 0; i < n; i++) {
		const struct lw_class *cl = &m->classes.v[c->cedges.v[cyc[i]].from];

		if (!same_in_every_process(cl))
			return false;
		several |= class_edge_acq(c, cyc[i])->proc != proc0;
	}
	if (!several)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct lw_acq *a = class_edge_acq(c, cyc[i]);

		if (a->flags & (LW_ACQF_TRY | LW_ACQF_TIMED)) {
			f->reason = (a->flags & LW_ACQF_TRY) ? LW_REASON_TRYLOCK : LW_REASON_TIMED_LOCK;
			f->reason_text = lw_xasprintf(
				"the two halves of this cycle were seen in different processes, and "
				"%s is taken there with a %s lock, which gives up instead of waiting",
				m->locks.v[a->lock].name,
				(a->flags & LW_ACQF_TRY) ? "try" : "timed");
			return true;
		}
	}
	/* A gate: a global class (outside the cycle) held by every edge. */
	{
		const struct lw_acq *a0 = class_edge_acq(c, cyc[0]);

		for (uint32_t k = 0; k < a0->n_held; k++) {
			uint32_t g = m->locks.v[a0->held[k].lock].cls;
			bool all = same_in_every_process(&m->classes.v[g]);

			for (size_t i = 0; i < n && all; i++)
				all = c->cedges.v[cyc[i]].from != g;
			for (size_t i = 1; i < n && all; i++) {
				const struct lw_acq *a = class_edge_acq(c, cyc[i]);
				bool held = false;

				for (uint32_t h = 0; h < a->n_held; h++)
					held |= m->locks.v[a->held[h].lock].cls == g;
				all = held;
			}
			if (all) {
				f->reason = LW_REASON_GATE_LOCK;
				f->reason_text = lw_xasprintf(
					"the two halves of this cycle were seen in different processes, "
					"and both hold gate lock %s while they take these locks",
					m->classes.v[g].name);
				return true;
			}
		}
	}
	f->severity = LW_SEV_ERROR;
	f->reason = LW_REASON_NONE;
	{
		/* Thread numbers repeat across processes: say which processes took part. */
		char *msg = lw_xasprintf("%s (its halves were seen in different processes:",
					 f->message);

		for (size_t i = 0; i < n; i++) {
			uint32_t p = class_edge_acq(c, cyc[i])->proc;
			bool dup = false;
			char *more;

			for (size_t k = 0; k < i; k++)
				dup |= class_edge_acq(c, cyc[k])->proc == p;
			if (dup)
				continue;
			more = lw_xasprintf("%s%s pid %" PRId32, msg, i ? "," : "",
					    m->procs.v[p].hdr.pid);
			free(msg);
			msg = more;
		}
		free(f->message);
		f->message = lw_xasprintf("%s)", msg);
		free(msg);
	}
	return true;
}

static int on_class_cycle(void *arg, const uint32_t *cyc, size_t n)
{
	struct cycles *c = arg;
	struct lw_model *m = c->m;
	uint32_t *seq, *rot;
	size_t least = 0;
	struct lw_finding *f;
	uint64_t h = cycle_hash(cyc, n);

	if (!first_judgement(c, h, n, c->cedges.v[cyc[0]].from))
		return 0;
	seq = lw_xmalloc(n * sizeof(uint32_t));
	rot = lw_xmalloc(n * sizeof(uint32_t));

	for (size_t i = 0; i < n; i++)
		seq[i] = c->cedges.v[cyc[i]].from;
	for (size_t i = 1; i < n; i++)
		if (seq[i] < seq[least])
			least = i;
	for (size_t i = 0; i < n; i++)
		rot[i] = seq[(least + i) % n];
	if (!is_covered(c, rot, n)) {
		const struct edge *e0 = &c->edges.v[c->cedges.v[cyc[0]].inst_edge];

		f = class_finding(c, seq, n, m->locks.v[e0->from].proc);
		f->count = 0;
		for (size_t i = 0; i < n; i++) {
			add_class_edge(f, c, c->cedges.v[cyc[i]].inst_edge, i, (i + 1) % n);
			f->count += c->cedges.v[cyc[i]].count;
		}
		f->message = cycle_message(f);
		if (!judge_cross_process(c, cyc, n, f))
			f->reason_text = lw_xstrdup("locks of these classes were taken in both orders, "
						    "but the instances involved never met in this "
						    "run; other instances can deadlock");
		if (c->errors_only && f->severity != LW_SEV_ERROR) {
			/* The search past the cap keeps only what can deadlock. */
			struct lw_findings drop = { 0 };

			c->fs->v.n--;
			lw_vec_push(&drop.v, f);
			lw_findings_free(&drop);
		}
	}
	free(seq);
	free(rot);
	return 0;
}

static void detect_class_self_order(struct cycles *c)
{
	struct lw_model *m = c->m;

	for (uint32_t cl = 0; cl < m->classes.n; cl++) {
		uint32_t lh = c->self_dir[0][cl], hl = c->self_dir[1][cl];
		struct lw_finding *f;

		if (!lh || !hl || is_covered(c, &cl, 1))
			continue;
		f = class_finding(c, &cl, 1, m->locks.v[c->edges.v[lh - 1].from].proc);
		f->count = c->edges.v[lh - 1].count + c->edges.v[hl - 1].count;
		add_class_edge(f, c, lh - 1, 0, 0);
		add_class_edge(f, c, hl - 1, 0, 0);
		f->message = lw_xasprintf("%s -> %s (nested in both address orders)",
					  m->classes.v[cl].name, m->classes.v[cl].name);
		f->reason_text = lw_xasprintf(
			"locks of class %s were nested inside each other both from lower to higher "
			"address and from higher to lower: with no consistent order, two threads "
			"working on the same pair can deadlock", m->classes.v[cl].name);
	}
}

void lw_detect_cycles(struct lw_model *m, struct lw_findings *fs)
{
	struct cycles c = { .m = m, .fs = fs };
	struct lw_digraph g;
	uint32_t *from, *to, n_scc;
	unsigned budget = DEADLOCK_SEARCH_BUDGET;
	int r;

	build_edges(&c);
	c.in_cycle = lw_xcalloc(m->locks.n, sizeof(bool));
	from = lw_xmalloc(c.edges.n * sizeof(uint32_t));
	to = lw_xmalloc(c.edges.n * sizeof(uint32_t));
	for (size_t i = 0; i < c.edges.n; i++) {
		from[i] = c.edges.v[i].from;
		to[i] = c.edges.v[i].to;
	}
	lw_digraph_build(&g, (uint32_t)m->locks.n, from, to, c.edges.n);
	c.scc = lw_xmalloc((m->locks.n ? m->locks.n : 1) * sizeof(uint32_t));
	n_scc = lw_digraph_scc(&g, NULL, c.scc);
	c.scc_cycles = lw_xcalloc(n_scc ? n_scc : 1, sizeof(uint32_t));
	r = lw_digraph_cycles(&g, MAX_CYCLES_PER_SCC, on_instance_cycle, &c);
	if (r > 0) {
		fs->truncated_sccs += (size_t)r;
		search_truncated(&c, &g, c.scc, c.scc_cycles, n_scc, false, on_instance_cycle,
				 &budget);
	}
	fs->listed_warn_cycles += c.n_warn_cycles;
	lw_digraph_free(&g);
	free(from);
	free(to);

	build_class_graph(&c);
	from = lw_xmalloc(c.cedges.n * sizeof(uint32_t));
	to = lw_xmalloc(c.cedges.n * sizeof(uint32_t));
	for (size_t i = 0; i < c.cedges.n; i++) {
		from[i] = c.cedges.v[i].from;
		to[i] = c.cedges.v[i].to;
	}
	lw_digraph_build(&g, (uint32_t)m->classes.n, from, to, c.cedges.n);
	free(c.scc);
	free(c.scc_cycles);
	c.scc = lw_xmalloc((m->classes.n ? m->classes.n : 1) * sizeof(uint32_t));
	n_scc = lw_digraph_scc(&g, NULL, c.scc);
	c.scc_cycles = lw_xcalloc(n_scc ? n_scc : 1, sizeof(uint32_t));
	lw_map_free(&c.judged);
	memset(&c.judged, 0, sizeof(c.judged));
	r = lw_digraph_cycles(&g, MAX_CYCLES_PER_SCC, on_class_cycle, &c);
	if (r > 0) {
		fs->truncated_sccs += (size_t)r;
		search_truncated(&c, &g, c.scc, c.scc_cycles, n_scc, true, on_class_cycle, &budget);
	}
	lw_digraph_free(&g);
	free(from);
	free(to);
	detect_class_self_order(&c);

	for (size_t i = 0; i < c.edges.n; i++)
		free(c.edges.v[i].obs.v);
	free(c.edges.v);
	lw_map_free(&c.edge_ids);
	free(c.in_cycle);
	for (size_t i = 0; i < c.covered.n; i++)
		free(c.covered.v[i]);
	free(c.covered.v);
	free(c.covered_len.v);
	free(c.cedges.v);
	lw_map_free(&c.cedge_ids);
	free(c.self_dir[0]);
	free(c.self_dir[1]);
	lw_map_free(&c.judged);
	free(c.scc);
	free(c.scc_cycles);
}
