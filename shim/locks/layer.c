/* The lock layer's part in what only the core sees (core/layers.h): a thread's end. */
#include "core/layers.h"
#include "core/threads.h"
#include "locks/acquire.h"
#include "locks/heap_held.h"
#include "locks/locks.h"
#include "locks/misuse.h"

/* Reports the locks t still holds (value: 0, or LW_EXIT_PROCESS when t ends the process).
 * Semaphores the thread waited on are not held locks, nor are locks another thread
 * unlocked. */
static void report_held(struct lw_thread *t, uint64_t value)
{
	lw_held_purge(t);
	for (uint32_t i = 0; i < t->n_held; i++) {
		const struct lw_held_ent *e = &t->held[i];
		/* At the process's end, a lock destroyed or initialised again meanwhile (its
		 * misuse is reported already) is not this lock any more. */
		const struct lw_lock *l = e->lock;
		if (value == LW_EXIT_PROCESS && l &&
		    (__atomic_load_n(&l->addr, __ATOMIC_ACQUIRE) != e->addr ||
		     __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE) != e->gen))
			continue;
		if (e->kind != LW_LOCK_SEM)
			lw_misuse(t, LW_MISUSE_EXIT_HOLDING, e->kind, e->addr, e->gen, e->stack, 0, 0,
				  value);
	}
}

static void thread_ended(struct lw_thread *t)
{
	/* Locks still held when a thread ends stay locked for good (a warning). */
	report_held(t, 0);
	lw_heap_held_thread_ended(t);
}

/* Issue 22: main returned, or a thread called exit(), holding locks: a warning as for a
 * thread's end (the process ends, so nothing waits on them; but a handler or destructor
 * that takes one hangs).  Other threads' locks are not reported: exit ends them wherever
 * they are. */
static void process_exiting(struct lw_thread *t)
{
	if (t && __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == LW_TS_LIVE)
		report_held(t, LW_EXIT_PROCESS);
}

static void started(void)
{
	lw_heap_held_init();
}

static void forked(void)
{
	lw_heap_held_fork_child(lw_self);
}

LW_LAYER(locks) = {
	.name = "locks",
	.rank = 1,
	.started = started,
	.thread_ended = thread_ended,
	.forked = forked,
	.process_exiting = process_exiting,
};
