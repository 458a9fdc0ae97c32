/* Tarjan's SCC and Johnson's elementary circuits, both without recursion. */
#include "detect/digraph.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

#define NOPE UINT32_MAX
/* Edge visits allowed per component while enumerating its cycles. */
#define WORK_BUDGET 50000000ull

void lw_digraph_build(struct lw_digraph *g, uint32_t n, const uint32_t *from, const uint32_t *to,
		      size_t n_edges)
{
	uint32_t *fill;
	size_t kept = 0;

	g->n = n;
	g->first = lw_xcalloc((size_t)n + 1, sizeof(uint32_t));
	for (size_t i = 0; i < n_edges; i++)
		if (from[i] != to[i]) {
			g->first[from[i] + 1]++;
			kept++;
		}
	for (uint32_t v = 0; v < n; v++)
		g->first[v + 1] += g->first[v];
	g->adj = lw_xmalloc(kept * sizeof(uint32_t));
	g->edge_id = lw_xmalloc(kept * sizeof(uint32_t));
	fill = lw_xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	memcpy(fill, g->first, ((size_t)n + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < n_edges; i++)
		if (from[i] != to[i]) {
			uint32_t k = fill[from[i]]++;

			g->adj[k] = to[i];
			g->edge_id[k] = (uint32_t)i;
		}
	free(fill);
}

void lw_digraph_free(struct lw_digraph *g)
{
	free(g->first);
	free(g->adj);
	free(g->edge_id);
	memset(g, 0, sizeof(*g));
}

/* Scratch space for Tarjan's algorithm over n vertices. */
struct tarjan {
	uint32_t *idx, *low, *next, *call, *stk;
	bool     *on;
};

static void tarjan_init(struct tarjan *t, uint32_t n)
{
	t->idx = lw_xmalloc((size_t)n * sizeof(uint32_t));
	t->low = lw_xmalloc((size_t)n * sizeof(uint32_t));
	t->next = lw_xmalloc((size_t)n * sizeof(uint32_t));
	t->call = lw_xmalloc((size_t)n * sizeof(uint32_t));
	t->stk = lw_xmalloc((size_t)n * sizeof(uint32_t));
	t->on = lw_xcalloc(n, sizeof(bool));
	for (uint32_t v = 0; v < n; v++)
		t->idx[v] = NOPE;
}

static void tarjan_free(struct tarjan *t)
{
	free(t->idx);
	free(t->low);
	free(t->next);
	free(t->call);
	free(t->stk);
	free(t->on);
}

/*
 * Components of the subgraph induced by allowed (NULL: all), searched from roots[0..n_roots)
 * (NULL: every vertex).  Every vertex reachable from the roots must have idx == NOPE on entry;
 * the caller resets idx for them afterwards when it reuses the scratch space.
 */
static uint32_t tarjan_run(const struct lw_digraph *g, const bool *allowed, const uint32_t *roots,
			   uint32_t n_roots, uint32_t *comp, struct tarjan *t)
{
	uint32_t index = 0, n_comp = 0;
	size_t sp = 0, cp;

	for (uint32_t r = 0; r < n_roots; r++) {
		uint32_t root = roots ? roots[r] : r;

		if (t->idx[root] != NOPE || (allowed && !allowed[root]))
			continue;
		cp = 0;
		t->call[cp++] = root;
		t->idx[root] = t->low[root] = index++;
		t->next[root] = g->first[root];
		t->stk[sp++] = root;
		t->on[root] = true;
		while (cp) {
			uint32_t v = t->call[cp - 1];

			if (t->next[v] < g->first[v + 1]) {
				uint32_t w = g->adj[t->next[v]++];

				if (allowed && !allowed[w])
					continue;
				if (t->idx[w] == NOPE) {
					t->idx[w] = t->low[w] = index++;
					t->next[w] = g->first[w];
					t->stk[sp++] = w;
					t->on[w] = true;
					t->call[cp++] = w;
				} else if (t->on[w] && t->idx[w] < t->low[v]) {
					t->low[v] = t->idx[w];
				}
				continue;
			}
			if (t->low[v] == t->idx[v]) {
				uint32_t w;

				do {
					w = t->stk[--sp];
					t->on[w] = false;
					comp[w] = n_comp;
				} while (w != v);
				n_comp++;
			}
			cp--;
			if (cp) {
				uint32_t u = t->call[cp - 1];

				if (t->low[v] < t->low[u])
					t->low[u] = t->low[v];
			}
		}
	}
	return n_comp;
}

uint32_t lw_digraph_scc(const struct lw_digraph *g, const bool *allowed, uint32_t *comp)
{
	struct tarjan t;
	uint32_t n_comp;

	tarjan_init(&t, g->n);
	for (uint32_t v = 0; v < g->n; v++)
		comp[v] = NOPE;
	n_comp = tarjan_run(g, allowed, NULL, g->n, comp, &t);
	tarjan_free(&t);
	return n_comp;
}

/* State of Johnson's search inside one component. */
struct johnson {
	const struct lw_digraph *g;
	bool     *allowed;           /* vertices of the current subgraph */
	bool     *blocked;
	LW_VEC(uint32_t) *bl;        /* B lists */
	uint32_t *path_edges;
	uint32_t *cursor;
	bool     *found;
	uint32_t *vstack;
	uint32_t *work;              /* unblock worklist */
	uint64_t  budget;
};

static void unblock(struct johnson *j, uint32_t u)
{
	size_t n = 0;

	j->work[n++] = u;
	j->blocked[u] = false;
	while (n) {
		uint32_t v = j->work[--n];

		for (size_t i = 0; i < j->bl[v].n; i++) {
			uint32_t w = j->bl[v].v[i];

			if (j->blocked[w]) {
				j->blocked[w] = false;
				j->work[n++] = w;
			}
		}
		j->bl[v].n = 0;
	}
}

static void bl_add(struct johnson *j, uint32_t w, uint32_t v)
{
	for (size_t i = 0; i < j->bl[w].n; i++)
		if (j->bl[w].v[i] == v)
			return;
	lw_vec_push(&j->bl[w], v);
}

/* Finds the cycles through s in the allowed subgraph.  Returns 1 when the callback stopped,
 * 2 when the cap or budget was reached, else 0. */
static int circuits(struct johnson *j, uint32_t s, size_t *count, size_t cap, lw_cycle_fn fn,
		    void *arg)
{
	const struct lw_digraph *g = j->g;
	size_t depth = 0;

	j->vstack[depth] = s;
	j->cursor[depth] = g->first[s];
	j->found[depth] = false;
	j->blocked[s] = true;
	depth = 1;
	while (depth) {
		uint32_t v = j->vstack[depth - 1];
		uint32_t k = j->cursor[depth - 1];

		if (k < g->first[v + 1]) {
			uint32_t w = g->adj[k];

			j->cursor[depth - 1]++;
			if (!j->budget--)
				return 2;
			if (!j->allowed[w])
				continue;
			if (w == s) {
				j->path_edges[depth - 1] = g->edge_id[k];
				if (fn(arg, j->path_edges, depth))
					return 1;
				j->found[depth - 1] = true;
				if (++*count >= cap)
					return 2;
			} else if (!j->blocked[w]) {
				j->path_edges[depth - 1] = g->edge_id[k];
				j->vstack[depth] = w;
				j->cursor[depth] = g->first[w];
				j->found[depth] = false;
				j->blocked[w] = true;
				depth++;
			}
			continue;
		}
		if (j->found[depth - 1]) {
			unblock(j, v);
		} else {
			for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++)
				if (j->allowed[g->adj[e]])
					bl_add(j, g->adj[e], v);
		}
		depth--;
		if (depth && j->found[depth])
			j->found[depth - 1] = true;
	}
	return 0;
}

int lw_digraph_cycles(const struct lw_digraph *g, size_t max_per_scc, lw_cycle_fn fn, void *arg)
{
	uint32_t n = g->n;
	uint32_t *comp = lw_xmalloc((size_t)n * sizeof(uint32_t));
	uint32_t *sub = lw_xmalloc((size_t)n * sizeof(uint32_t));
	uint32_t n_comp = lw_digraph_scc(g, NULL, comp);
	uint32_t *comp_size = lw_xcalloc(n_comp, sizeof(uint32_t));
	uint32_t *sizes = lw_xcalloc(n, sizeof(uint32_t));
	struct johnson j = { .g = g };
	struct tarjan t;
	int stopped = 0;

	tarjan_init(&t, n);
	j.allowed = lw_xcalloc(n, sizeof(bool));
	j.blocked = lw_xcalloc(n, sizeof(bool));
	j.bl = lw_xcalloc(n, sizeof(*j.bl));
	j.path_edges = lw_xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	j.cursor = lw_xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	j.found = lw_xmalloc(((size_t)n + 1) * sizeof(bool));
	j.vstack = lw_xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	j.work = lw_xmalloc(((size_t)n + 1) * sizeof(uint32_t));
	for (uint32_t v = 0; v < n; v++)
		comp_size[comp[v]]++;
	for (uint32_t c = 0; c < n_comp && stopped >= 0; c++) {
		size_t count = 0;
		uint32_t nv = 0;
		uint32_t *verts;

		if (comp_size[c] < 2)
			continue;
		verts = lw_xmalloc((size_t)comp_size[c] * sizeof(uint32_t));
		for (uint32_t v = 0; v < n; v++)
			if (comp[v] == c) {
				verts[nv++] = v;
				j.allowed[v] = true;
			}
		j.budget = WORK_BUDGET;
		/* Johnson: take the least vertex s of a non-trivial component of the subgraph
		 * induced by the remaining vertices, find the cycles through s, remove s. */
		for (;;) {
			uint32_t s = NOPE, sc, r, k;

			for (uint32_t i = 0; i < nv; i++) {
				t.idx[verts[i]] = NOPE;
				sub[verts[i]] = NOPE;
			}
			k = tarjan_run(g, j.allowed, verts, nv, sub, &t);
			memset(sizes, 0, (size_t)k * sizeof(uint32_t));
			for (uint32_t i = 0; i < nv; i++)
				if (sub[verts[i]] != NOPE)
					sizes[sub[verts[i]]]++;
			for (uint32_t i = 0; i < nv && s == NOPE; i++)
				if (sub[verts[i]] != NOPE && sizes[sub[verts[i]]] >= 2)
					s = verts[i];
			if (s == NOPE)
				break;
			sc = sub[s];
			for (uint32_t i = 0; i < nv; i++) {
				uint32_t v = verts[i];

				j.allowed[v] = sub[v] == sc;
				j.blocked[v] = false;
				j.bl[v].n = 0;
			}
			r = circuits(&j, s, &count, max_per_scc, fn, arg);
			if (r == 1) {
				stopped = -1;
				break;
			}
			if (r == 2) {
				stopped++;
				break;
			}
			/* Remove s and every vertex before it (they are on no remaining cycle). */
			for (uint32_t i = 0; i < nv; i++)
				j.allowed[verts[i]] = verts[i] > s;
		}
		for (uint32_t i = 0; i < nv; i++) {
			j.allowed[verts[i]] = false;
			j.blocked[verts[i]] = false;
		}
		free(verts);
	}
	tarjan_free(&t);
	for (uint32_t v = 0; v < n; v++)
		free(j.bl[v].v);
	free(j.bl);
	free(j.allowed);
	free(j.blocked);
	free(j.path_edges);
	free(j.cursor);
	free(j.found);
	free(j.vstack);
	free(j.work);
	free(comp);
	free(sub);
	free(comp_size);
	free(sizes);
	return stopped;
}
