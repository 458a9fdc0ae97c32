/* Happens-before between threads' lifetimes, through thread create and join. */
#ifndef LW_HAPPENS_BEFORE_H
#define LW_HAPPENS_BEFORE_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/model.h"

/* Why one thread's life ends before another's starts. */
struct lw_hb_why {
	uint32_t joiner, joined;     /* the join that ends `before`'s life (joined == before) */
	uint64_t join_seq;
	uint32_t creator;            /* the creation that starts `after` */
	uint64_t create_seq;
};

/* True if thread `before` was joined, and that join happens before thread `after` was
 * created, transitively through joins and the parent chain.  Such threads can never run
 * at the same time.  Fills *why when it returns true and why is not NULL. */
bool lw_hb_lifetime_before(struct lw_model *m, uint32_t proc, uint32_t before, uint32_t after,
			   struct lw_hb_why *why);

/* True if the two threads' lifetimes are ordered either way (fills *why for that order,
 * and *first with the thread that ends first). */
bool lw_hb_ordered(struct lw_model *m, uint32_t proc, uint32_t a, uint32_t b, uint32_t *first,
		   struct lw_hb_why *why);

#endif
