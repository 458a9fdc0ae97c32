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

/*
 * Order between events of the processes of one run: program order and thread create/join
 * inside a process; across processes, a child's life starts after its parent's events before
 * the fork (LW_SYNC_FORK: fork, vfork, posix_spawn), every image a process exec's into starts
 * after the previous image's events (images of one pid, same parent and session, in order of
 * start), and a process's whole life ends before its parent's events after the wait that
 * reaped it (LW_SYNC_WAIT_CHILD); a child of system() lies between the call's
 * LW_SYNC_SYSTEM_BEGIN and _END.  Built once for a model; lw_proc_order_new cannot fail.
 */
struct lw_proc_order;
struct lw_proc_order *lw_proc_order_new(struct lw_model *m);
void lw_proc_order_free(struct lw_proc_order *o);

/* True if event (pa, ta, sa) happens before event (pb, tb, sb): process, lockwatch tid, seq.
 * An event is never before itself, nor before another of its thread with a smaller seq. */
bool lw_hb_event_before(struct lw_model *m, const struct lw_proc_order *o, uint32_t pa,
			uint32_t ta, uint64_t sa, uint32_t pb, uint32_t tb, uint64_t sb);

#endif
