/* The lock-order graph in Graphviz's DOT language: locks, who took them in which order,
 * and the reported cycles highlighted. */
#include "detect/digraph.h"
#include "trace/lock_names.h"
#include "report/render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* An edge lists at most this many acquiring functions, then "...". */
#define MAX_FUNCS 3

#define COLOR_ERROR   "#d00000"
#define COLOR_WARNING "#ff8c00"
#define COLOR_OTHER   "#9a9a9a"

#define LEGEND "lockwatch lock-order graph: A -> B means B was acquired while A was held,\n" \
	"in the functions named.  Red: a cycle that can deadlock (error).\n" \
	"Orange, dashed: a cycle that cannot deadlock in this program (warning).  Grey: other orders."

enum mark { MARK_NONE, MARK_WARNING, MARK_ERROR };   /* higher wins */

struct dnode {
	char     *label;
	enum mark mark;
	bool      drawn;
};

struct dedge {
	uint32_t  from, to;
	enum mark mark;
	size_t    n_funcs;
	bool      more_funcs;
	char     *funcs[MAX_FUNCS];
};

struct graph {
	LW_VEC(struct dnode) nodes;
	struct lw_map        node_ids;  /* (label hash, probe) -> index */
	LW_VEC(struct dedge) edges;
	struct lw_map        edge_ids;  /* (from, to) -> index */
};

static uint32_t node_for(struct graph *g, const char *label)
{
	uint64_t h = lw_fnv1a(LW_FNV_INIT, label, strlen(label));
	uint32_t i;
	uint64_t probe;

	for (probe = 0; lw_map_get(&g->node_ids, h, probe, &i); probe++)
		if (!strcmp(g->nodes.v[i].label, label))
			return i;
	i = (uint32_t)g->nodes.n;
	lw_vec_push(&g->nodes, ((struct dnode){ .label = lw_xstrdup(label) }));
	lw_map_put(&g->node_ids, h, probe, i);
	return i;
}

static struct dedge *edge_for(struct graph *g, uint32_t from, uint32_t to)
{
	uint32_t i;

	if (!lw_map_get(&g->edge_ids, from, to, &i)) {
		i = (uint32_t)g->edges.n;
		lw_vec_push(&g->edges, ((struct dedge){ .from = from, .to = to }));
		lw_map_put(&g->edge_ids, from, to, i);
	}
	return &g->edges.v[i];
}

static void add_func(struct dedge *e, const char *fn)
{
	for (size_t i = 0; i < e->n_funcs; i++)
		if (!strcmp(e->funcs[i], fn))
			return;
	if (e->n_funcs < MAX_FUNCS)
		e->funcs[e->n_funcs++] = lw_xstrdup(fn);
	else
		e->more_funcs = true;
}

/* The name the text report gives a model lock. */
static char *model_lock_label(const struct lw_lock *l)
{
	if (!l->global && !l->name_has_addr)
		return lw_xasprintf("%s [0x%" PRIx64 "]", l->name, l->addr);
	return lw_xstrdup(l->name);
}

static char *finding_lock_label(const struct lw_finding *f, size_t i)
{
	const struct lw_flock *l = &f->locks.v[i];

	if (l->show_addr)
		return lw_xasprintf("%s [0x%" PRIx64 "]", l->name, l->addr);
	return lw_xstrdup(l->name);
}

/* Every held -> acquired order of the model, labelled with the acquiring function. */
static void model_edges(struct graph *g, struct lw_model *m)
{
	for (uint32_t ai = 0; ai < m->acqs.n; ai++) {
		const struct lw_acq *a = &m->acqs.v[ai];
		struct lw_sym_frame sf;
		char fn[512];
		char *to_label;
		uint32_t to;

		if (!a->n_held)
			continue;
		if (lw_stack_site(m, a->proc, a->stack, &sf)) {
			if (sf.function)
				snprintf(fn, sizeof(fn), "%s", sf.function);
			else
				lw_frame_format(&sf, fn, sizeof(fn));
		} else {
			snprintf(fn, sizeof(fn), "?");
		}
		to_label = model_lock_label(&m->locks.v[a->lock]);
		to = node_for(g, to_label);
		free(to_label);
		for (uint32_t k = 0; k < a->n_held; k++) {
			const struct lw_lock *hl = &m->locks.v[a->held[k].lock];
			char *from_label;

			/* The same filter as the cycle detector: no self edges, and a semaphore
			 * orders nothing unless this thread used it as a lock. */
			if (a->held[k].lock == a->lock)
				continue;
			if (hl->kind == LW_LOCK_SEM && !lw_model_sem_locklike(m, a->tid, hl))
				continue;
			from_label = model_lock_label(hl);
			add_func(edge_for(g, node_for(g, from_label), to), fn);
			free(from_label);
		}
	}
}

/* Marks the edges of every reported cycle (adding those, such as lock-class edges, that
 * the instance graph does not have).  Returns whether any cycle was found. */
static bool mark_cycles(struct graph *g, const struct lw_findings *fs)
{
	bool any = false;

	for (size_t i = 0; i < fs->v.n; i++) {
		const struct lw_finding *f = fs->v.v[i];
		enum mark mk = f->severity == LW_SEV_ERROR ? MARK_ERROR : MARK_WARNING;

		if (f->kind != LW_FIND_LOCK_ORDER_CYCLE)
			continue;
		any = true;
		for (size_t k = 0; k < f->edges.n; k++) {
			const struct lw_fedge *fe = &f->edges.v[k];
			char *a = finding_lock_label(f, fe->from), *b = finding_lock_label(f, fe->to);
			uint32_t na = node_for(g, a), nb = node_for(g, b);
			struct dedge *e = edge_for(g, na, nb);

			if (!e->n_funcs)
				add_func(e, fe->to_stack.n && fe->to_stack.frames[0].function
					    ? fe->to_stack.frames[0].function : "?");
			if (mk > e->mark)
				e->mark = mk;
			if (mk > g->nodes.v[na].mark)
				g->nodes.v[na].mark = mk;
			if (mk > g->nodes.v[nb].mark)
				g->nodes.v[nb].mark = mk;
			free(a);
			free(b);
		}
	}
	return any;
}

/* Chooses what to draw: the strongly connected components that hold a marked node, and
 * their direct neighbours. */
static void select_nodes(struct graph *g)
{
	uint32_t n = (uint32_t)g->nodes.n, *comp = lw_xmalloc((n + 1) * sizeof(uint32_t));
	uint32_t *from = lw_xmalloc((g->edges.n + 1) * sizeof(uint32_t));
	uint32_t *to = lw_xmalloc((g->edges.n + 1) * sizeof(uint32_t));
	bool *hot, *in_scc = lw_xcalloc(n + 1, sizeof(bool));
	struct lw_digraph dg;
	uint32_t nc;

	for (size_t i = 0; i < g->edges.n; i++) {
		from[i] = g->edges.v[i].from;
		to[i] = g->edges.v[i].to;
	}
	lw_digraph_build(&dg, n, from, to, g->edges.n);
	nc = lw_digraph_scc(&dg, NULL, comp);
	hot = lw_xcalloc(nc + 1, sizeof(bool));
	for (uint32_t v = 0; v < n; v++)
		if (g->nodes.v[v].mark != MARK_NONE && comp[v] != UINT32_MAX)
			hot[comp[v]] = true;
	for (uint32_t v = 0; v < n; v++) {
		in_scc[v] = g->nodes.v[v].mark != MARK_NONE ||
			    (comp[v] != UINT32_MAX && hot[comp[v]]);
		g->nodes.v[v].drawn = in_scc[v];
	}
	for (size_t i = 0; i < g->edges.n; i++) {
		const struct dedge *e = &g->edges.v[i];

		if (in_scc[e->from])
			g->nodes.v[e->to].drawn = true;
		if (in_scc[e->to])
			g->nodes.v[e->from].drawn = true;
	}
	/* An edge between two neighbours is not drawn: only the edges that touch a cycle. */
	for (size_t i = 0; i < g->edges.n; i++)
		if (!in_scc[g->edges.v[i].from] && !in_scc[g->edges.v[i].to])
			g->edges.v[i].from = UINT32_MAX;
	lw_digraph_free(&dg);
	free(comp);
	free(from);
	free(to);
	free(hot);
	free(in_scc);
}

/* Writes s as a DOT double-quoted string. */
static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* Node and edge order: by label, so that the output (and dot's layout) is the same from
 * run to run. */
static const struct graph *sort_graph;

static int node_cmp(const void *a, const void *b)
{
	return strcmp(sort_graph->nodes.v[*(const uint32_t *)a].label,
		      sort_graph->nodes.v[*(const uint32_t *)b].label);
}

static int edge_cmp(const void *a, const void *b)
{
	const struct dedge *x = &sort_graph->edges.v[*(const uint32_t *)a];
	const struct dedge *y = &sort_graph->edges.v[*(const uint32_t *)b];
	int c;

	if (x->from == UINT32_MAX || y->from == UINT32_MAX)
		return (x->from == UINT32_MAX) - (y->from == UINT32_MAX);
	c = strcmp(sort_graph->nodes.v[x->from].label, sort_graph->nodes.v[y->from].label);
	return c ? c : strcmp(sort_graph->nodes.v[x->to].label, sort_graph->nodes.v[y->to].label);
}

void lw_render_dot(const struct lw_findings *fs, struct lw_model *m, bool all, FILE *out)
{
	struct graph g = { 0 };
	uint32_t *norder, *eorder;
	size_t shown = 0, hidden;
	bool any;

	model_edges(&g, m);
	any = mark_cycles(&g, fs);
	if (all) {
		for (size_t i = 0; i < g.nodes.n; i++)
			g.nodes.v[i].drawn = true;
	} else {
		select_nodes(&g);
	}
	for (size_t i = 0; i < g.nodes.n; i++)
		shown += g.nodes.v[i].drawn;
	hidden = g.nodes.n - shown;
	norder = lw_xmalloc((g.nodes.n + 1) * sizeof(uint32_t));
	eorder = lw_xmalloc((g.edges.n + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < g.nodes.n; i++)
		norder[i] = (uint32_t)i;
	for (size_t i = 0; i < g.edges.n; i++)
		eorder[i] = (uint32_t)i;
	sort_graph = &g;
	qsort(norder, g.nodes.n, sizeof(uint32_t), node_cmp);
	qsort(eorder, g.edges.n, sizeof(uint32_t), edge_cmp);

	fputs("digraph lockwatch {\n"
	      "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=10, fontcolor=\"#555555\", labelloc=b, "
	      "nodesep=0.5, ranksep=1.0, pad=0.3];\n"
	      "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
	      "fontsize=12, color=\"" COLOR_OTHER "\", fillcolor=\"#f6f6f6\"];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=10, color=\"" COLOR_OTHER "\", "
	      "fontcolor=\"#555555\"];\n", out);
	fputs("  label=", out);
	{
		char *label;

		if (!any && !all)
			label = lw_xasprintf("lockwatch: no lock-order cycle (--graph=all draws every "
					     "lock order: %zu lock%s)", g.nodes.n,
					     g.nodes.n == 1 ? "" : "s");
		else if (hidden)
			label = lw_xasprintf("%s\n%zu other lock%s not shown (--graph=all draws them)",
					     LEGEND, hidden, hidden == 1 ? "" : "s");
		else
			label = lw_xstrdup(LEGEND);
		dot_string(out, label);
		free(label);
	}
	fputs(";\n", out);
	for (size_t k = 0; k < g.nodes.n; k++) {
		uint32_t i = norder[k];
		const struct dnode *n = &g.nodes.v[i];

		if (!n->drawn)
			continue;
		fprintf(out, "  n%" PRIu32 " [label=", i);
		dot_string(out, n->label);
		if (n->mark == MARK_ERROR)
			fputs(", color=\"" COLOR_ERROR "\", fillcolor=\"#ffecec\", penwidth=2", out);
		else if (n->mark == MARK_WARNING)
			fputs(", color=\"" COLOR_WARNING "\", fillcolor=\"#fff4e0\", penwidth=2", out);
		fputs("];\n", out);
	}
	for (size_t k = 0; k < g.edges.n; k++) {
		const struct dedge *e = &g.edges.v[eorder[k]];
		char label[2048];
		size_t len = 0;

		if (e->from == UINT32_MAX || !g.nodes.v[e->from].drawn || !g.nodes.v[e->to].drawn)
			continue;
		label[0] = '\0';
		for (size_t k = 0; k < e->n_funcs && len < sizeof(label) - 1; k++)
			len += (size_t)snprintf(label + len, sizeof(label) - len, "%s%s",
						k ? "\n" : "", e->funcs[k]);
		if (e->more_funcs && len < sizeof(label) - 1)
			snprintf(label + len, sizeof(label) - len, "\n...");
		fprintf(out, "  n%" PRIu32 " -> n%" PRIu32 " [label=", e->from, e->to);
		dot_string(out, label);
		if (e->mark == MARK_ERROR)
			fputs(", color=\"" COLOR_ERROR "\", fontcolor=\"" COLOR_ERROR "\", "
			      "penwidth=2.5", out);
		else if (e->mark == MARK_WARNING)
			fputs(", color=\"" COLOR_WARNING "\", fontcolor=\"" COLOR_WARNING "\", "
			      "style=dashed, penwidth=2", out);
		fputs("];\n", out);
	}
	fputs("}\n", out);
	free(norder);
	free(eorder);
	for (size_t i = 0; i < g.nodes.n; i++)
		free(g.nodes.v[i].label);
	free(g.nodes.v);
	for (size_t i = 0; i < g.edges.n; i++)
		for (size_t k = 0; k < g.edges.v[i].n_funcs; k++)
			free(g.edges.v[i].funcs[k]);
	free(g.edges.v);
	lw_map_free(&g.node_ids);
	lw_map_free(&g.edge_ids);
}
