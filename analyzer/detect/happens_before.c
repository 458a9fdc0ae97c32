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
