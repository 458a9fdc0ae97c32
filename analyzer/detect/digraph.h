/* Directed graphs over dense vertex numbers: strongly connected components, elementary cycles. */
#ifndef LW_DIGRAPH_H
#define LW_DIGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compressed adjacency: the out-edges of v are adj[first[v] .. first[v+1]), each with the
 * caller's edge id.  Self-loops are not stored. */
struct lw_digraph {
	uint32_t  n;
	uint32_t *first;
	uint32_t *adj;
	uint32_t *edge_id;
};

/* Builds a graph of n vertices from edges (from[i], to[i]) whose ids are i.  Self-loops are
 * dropped.  Cannot fail. */
void lw_digraph_build(struct lw_digraph *g, uint32_t n, const uint32_t *from, const uint32_t *to,
		      size_t n_edges);
void lw_digraph_free(struct lw_digraph *g);

/* Tarjan's strongly connected components, iteratively (no recursion limit).  Only vertices
 * with allowed[v] (all if allowed is NULL) take part; comp[v] receives the component number,
 * or UINT32_MAX for vertices left out.  Returns the number of components. */
uint32_t lw_digraph_scc(const struct lw_digraph *g, const bool *allowed, uint32_t *comp);

/* Called with the edge ids of one elementary cycle; return non-zero to stop. */
typedef int (*lw_cycle_fn)(void *arg, const uint32_t *edges, size_t len);

/* Enumerates the elementary cycles of length >= 2 (Johnson's algorithm, iterative), at most
 * max_per_scc per strongly connected component and within a work budget per component.
 * Returns the number of components where enumeration stopped early (0 if all cycles were
 * found), or -1 if the callback asked to stop. */
int lw_digraph_cycles(const struct lw_digraph *g, size_t max_per_scc, lw_cycle_fn fn, void *arg);

#endif
