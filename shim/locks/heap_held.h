/* Locks held in memory the program may free (heap_held.c, issue 22): what free() and munmap()
 * check, kept so that a free in a process where no thread holds such a lock costs one load. */
#ifndef LW_LOCKS_HEAP_HELD_H
#define LW_LOCKS_HEAP_HELD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/defs.h"
#include "core/threads.h"

/* The main executable's image [lo, hi): its static locks are never freed, so holding one
 * costs nothing here.  Set at start-up (0, 0 before). */
LW_HIDDEN extern uintptr_t lw_exe_lo, lw_exe_hi;
/* lw_held_ent.heap: the entry counts in its thread's heap-held count. */
#define LW_HELD_HEAPISH 1u

/* The calling thread's count in its slot, once it has one (NULL before, or without). */
LW_HIDDEN extern __thread uint32_t *lw_heap_count __attribute__((tls_model("initial-exec")));
/* A held entry was added to t's held set (t is the caller) / is being removed from it. */
LW_HIDDEN void lw_heap_held_add_slow(struct lw_thread *t, struct lw_held_ent *e);
LW_HIDDEN void lw_heap_held_drop_slow(struct lw_thread *t);
static inline void lw_heap_held_add(struct lw_thread *t, struct lw_held_ent *e)
{
	e->heap = 0;
	if (e->addr - lw_exe_lo >= lw_exe_hi - lw_exe_lo && e->kind != LW_LOCK_SEM) {
		uint32_t *c = lw_heap_count;
		if (LW_LIKELY(c != NULL)) {
			e->heap = LW_HELD_HEAPISH;
			__atomic_store_n(c, *c + 1, __ATOMIC_RELEASE);   /* only this thread writes */
		} else {
			lw_heap_held_add_slow(t, e);
		}
	}
}
static inline void lw_heap_held_remove(struct lw_thread *t, const struct lw_held_ent *e)
{
	if (e->heap & LW_HELD_HEAPISH) {
		uint32_t *c = lw_heap_count;
		if (LW_LIKELY(c != NULL && *c != 0))
			__atomic_store_n(c, *c - 1, __ATOMIC_RELEASE);
		else
			lw_heap_held_drop_slow(t);
	}
}
/* t ends, or is the only thread of a fork child: its count starts over from its held set. */
LW_HIDDEN void lw_heap_held_thread_ended(struct lw_thread *t);
LW_HIDDEN void lw_heap_held_fork_child(struct lw_thread *t);
LW_HIDDEN void lw_heap_held_init(void);

#endif
