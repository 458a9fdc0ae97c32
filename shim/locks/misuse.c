/* Misuse of the pthread API: the shim writes what it saw; the program's call goes through
 * unchanged. */
#include "locks/misuse.h"
#include "core/threads.h"
#include "core/trace_writer.h"

void lw_misuse(struct lw_thread *t, uint16_t what, uint16_t kind, uintptr_t addr, uint32_t gen,
	       uint32_t stack, uint32_t other_tid, uint32_t other_stack, uint64_t value)
{
	struct lw_rec_misuse *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->tid = t ? t->tid : 0;
	r->what = what;
	r->lock_kind = kind;
	r->addr = addr;
	r->gen = gen;
	r->stack = stack;
	r->other_tid = other_tid;
	r->other_stack = other_stack;
	r->value = value;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_MISUSE, sizeof *r);
}
