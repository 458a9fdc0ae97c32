/* Unit tests for analyzer/detect/digraph.c: strongly connected components and elementary cycles. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "detect/digraph.h"

TestSuite(digraph, .timeout = 20);

static int count_cb(void *arg, const uint32_t *edges, size_t len)
{
	size_t *n = arg;

	(void)edges;
	(void)len;
	(*n)++;
	return 0;
}

/* Builds the complete directed graph on n vertices (no self-loops). */
static void complete(struct lw_digraph *g, uint32_t n)
{
	uint32_t *from = malloc(n * n * sizeof(uint32_t)), *to = malloc(n * n * sizeof(uint32_t));
	size_t k = 0;

	for (uint32_t a = 0; a < n; a++)
		for (uint32_t b = 0; b < n; b++)
			if (a != b) {
				from[k] = a;
				to[k++] = b;
			}
	lw_digraph_build(g, n, from, to, k);
	free(from);
	free(to);
}

Test(digraph, scc_of_two_cycles_and_a_tail)
{
	/* 0<->1, 2->3->4->2, 1->2, 5 alone */
	uint32_t from[] = { 0, 1, 2, 3, 4, 1 }, to[] = { 1, 0, 3, 4, 2, 2 };
	uint32_t comp[6];
	struct lw_digraph g;

	lw_digraph_build(&g, 6, from, to, 6);
	cr_assert_eq(lw_digraph_scc(&g, NULL, comp), 3);
	cr_assert_eq(comp[0], comp[1]);
	cr_assert_eq(comp[2], comp[3]);
	cr_assert_eq(comp[3], comp[4]);
	cr_assert_neq(comp[0], comp[2]);
	cr_assert_neq(comp[5], comp[0]);
	lw_digraph_free(&g);
}

Test(digraph, complete_graph_of_four_has_twenty_cycles)
{
	struct lw_digraph g;
	size_t n = 0;

	complete(&g, 4);
	cr_assert_eq(lw_digraph_cycles(&g, 1000, count_cb, &n), 0);
	cr_assert_eq(n, 20);     /* 6 of length 2, 8 of length 3, 6 of length 4 */
	lw_digraph_free(&g);
}

Test(digraph, cycle_cap_per_component)
{
	struct lw_digraph g;
	size_t n = 0;

	complete(&g, 7);         /* 2365 elementary cycles */
	cr_assert_eq(lw_digraph_cycles(&g, 1000, count_cb, &n), 1);
	cr_assert_eq(n, 1000);
	lw_digraph_free(&g);
}

Test(digraph, self_loops_are_ignored)
{
	uint32_t from[] = { 0, 0 }, to[] = { 0, 1 };
	struct lw_digraph g;
	size_t n = 0;

	lw_digraph_build(&g, 2, from, to, 2);
	cr_assert_eq(lw_digraph_cycles(&g, 1000, count_cb, &n), 0);
	cr_assert_eq(n, 0);
	lw_digraph_free(&g);
}

struct path_check {
	const uint32_t *from, *to;
	size_t n;
	size_t len;
};

static int path_cb(void *arg, const uint32_t *edges, size_t len)
{
	struct path_check *p = arg;

	/* Consecutive edges must connect, and the last must close the cycle. */
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(p->to[edges[i]], p->from[edges[(i + 1) % len]]);
	p->n++;
	p->len = len;
	return 0;
}

Test(digraph, long_ring_is_one_cycle, .timeout = 20)
{
	const uint32_t n = 100000;
	uint32_t *from = malloc(n * sizeof(uint32_t)), *to = malloc(n * sizeof(uint32_t));
	struct lw_digraph g;
	struct path_check p = { from, to, 0, 0 };

	for (uint32_t i = 0; i < n; i++) {
		from[i] = i;
		to[i] = (i + 1) % n;
	}
	lw_digraph_build(&g, n, from, to, n);
	cr_assert_eq(lw_digraph_cycles(&g, 1000, path_cb, &p), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_eq(p.len, n);
	lw_digraph_free(&g);
	free(from);
	free(to);
}

static int stop_cb(void *arg, const uint32_t *edges, size_t len)
{
	(void)edges;
	(void)len;
	return ++*(size_t *)arg == 3;
}

Test(digraph, callback_can_stop)
{
	struct lw_digraph g;
	size_t n = 0;

	complete(&g, 5);
	cr_assert_eq(lw_digraph_cycles(&g, 1000, stop_cb, &n), -1);
	cr_assert_eq(n, 3);
	lw_digraph_free(&g);
}
