/* The strong definitions behind lockwatch.h's annotations: each writes an ACCESS or SYNC
 * record with the caller's stack. */
#include <errno.h>
#include "access/watch.h"
#include "core/defs.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"
/* Only the flag names: the weak declarations are for programs. */
#define LOCKWATCH_DISABLE
#include "lockwatch.h"

_Static_assert(LOCKWATCH_READ == LW_ACCESS_READ && LOCKWATCH_WRITE == LW_ACCESS_WRITE &&
	       LOCKWATCH_ATOMIC == LW_ACCESS_ATOMIC, "lockwatch.h flags are the trace's");

LW_EXPORT void lockwatch_annotate_access(const volatile void *addr, unsigned size,
					 unsigned flags, const void *pc)
{
	uintptr_t site = pc ? (uintptr_t)pc : LW_SITE();
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (!t)
		goto out;
	if (t->n_unwritten)
		lw_write_unwritten_holds(t);
	uint64_t seq = lw_next_seq();
	uint32_t stack = lw_access_stack(t, site);
	struct lw_rec_access *r = lw_trace_reserve(sizeof *r);
	if (r) {
		r->tid = t->tid;
		r->flags = (uint16_t)(LW_SRC_ANNOTATION |
				      (flags & LOCKWATCH_READ ? LW_ACCESS_READ : 0) |
				      (flags & LOCKWATCH_WRITE ? LW_ACCESS_WRITE : 0) |
				      (flags & LOCKWATCH_ATOMIC ? LW_ACCESS_ATOMIC : 0));
		r->size = (uint16_t)(size > UINT16_MAX ? UINT16_MAX : size);
		r->addr = (uintptr_t)addr;
		r->pc = site;
		r->value = 0;
		r->stack = stack;
		r->sub = 0;
		r->seq = seq;
		lw_trace_commit(r, LW_REC_ACCESS, sizeof *r);
	}
	lw_leave();
out:
	errno = saved;
}

LW_EXPORT void lockwatch_annotate_atomic(int begin, const void *pc)
{
	uintptr_t site = pc ? (uintptr_t)pc : LW_SITE();
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (!t)
		goto out;
	uint64_t seq = lw_next_seq();
	uint32_t stack = lw_access_stack(t, site);
	struct lw_rec_sync *r = lw_trace_reserve(sizeof *r);
	if (r) {
		r->tid = t->tid;
		r->op = begin ? LW_SYNC_ATOMIC_BEGIN : LW_SYNC_ATOMIC_END;
		r->pad = 0;
		r->addr = 0;
		r->value = 0;
		r->stack = stack;
		r->pad2 = 0;
		r->seq = seq;
		lw_trace_commit(r, LW_REC_SYNC, sizeof *r);
	}
	lw_leave();
out:
	errno = saved;
}
