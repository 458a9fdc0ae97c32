/* The lock layer's part in what only the core sees (core/layers.h): a thread's end. */
#include "core/layers.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/misuse.h"

static void thread_ended(struct lw_thread *t)
{
	/* Locks still held when a thread ends stay locked for good (a warning).  Semaphores
	 * the thread waited on are not held locks, nor are locks another thread unlocked. */
	lw_held_purge(t);
	for (uint32_t i = 0; i < t->n_held; i++) {
		const struct lw_held_ent *e = &t->held[i];
		if (e->kind != LW_LOCK_SEM)
			lw_misuse(t, LW_MISUSE_EXIT_HOLDING, e->kind, e->addr, e->gen, e->stack, 0, 0, 0);
	}
}

LW_LAYER(locks) = {
	.name = "locks",
	.rank = 1,
	.thread_ended = thread_ended,
};
