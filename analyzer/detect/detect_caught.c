/* Races the collider caught in the act (issue 20): a thread held back just before its access
 * while another thread touched the same bytes.  No happens-before reasoning is needed
 * (shim/access/collider.c says why every catch is a race), so these are found at every
 * recording level. */
#include "detect/detect_caught.h"
#include "trace/symbolize.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the finding's access a is at code address pc (its innermost frame). */
static bool at_pc(const struct lw_faccess *a, uint64_t pc)
{
	return a->stack.n && a->stack.frames[0].pc == pc;
}

/* The data-race finding of this process on the same pair of sites, or NULL. */
static struct lw_finding *same_sites(struct lw_findings *fs, size_t from, int32_t pid,
				     uint64_t pc1, uint64_t pc2)
{
	for (size_t i = from; i < fs->v.n; i++) {
		struct lw_finding *f = fs->v.v[i];

		if (f->kind != LW_FIND_DATA_RACE || f->pid != pid || f->accesses.n != 2)
			continue;
		if ((at_pc(&f->accesses.v[0], pc1) && at_pc(&f->accesses.v[1], pc2)) ||
		    (at_pc(&f->accesses.v[0], pc2) && at_pc(&f->accesses.v[1], pc1)))
			return f;
	}
	return NULL;
}

/* The stack of one side: the recorded one, with its innermost frame at pc (the held-back
 * thread's stack was taken before its instruction ran, at the instruction itself). */
static struct lw_fstack side_stack(struct lw_model *m, uint32_t proc, uint32_t stack, uint64_t pc)
{
	struct lw_fstack st = stack ? lw_finding_stack(m, proc, stack) : (struct lw_fstack){ 0 };
	struct lw_fstack top;

	if (!pc)
		return st;
	top = lw_finding_pc_stack(m, proc, pc);
	if (!st.n)
		return top;
	if (top.n) {
		free(st.frames[0].function);
		free(st.frames[0].file);
		free(st.frames[0].module);
		st.frames[0] = top.frames[0];
		top.frames[0] = (struct lw_frame){ 0 };
	}
	lw_fstack_free(&top);
	return st;
}

static void add_side(struct lw_finding *f, struct lw_model *m, uint32_t proc, uint32_t tid,
		     uint16_t flags, const struct lw_caught *c, uint32_t stack, uint64_t pc)
{
	struct lw_faccess fa = { .thread = tid, .write = (flags & LW_ACCESS_WRITE) != 0,
				 .atomic = (flags & LW_ACCESS_ATOMIC) != 0, .addr = c->addr,
				 .size = (uint16_t)c->size };

	fa.stack = side_stack(m, proc, stack, pc);
	fa.locks = lw_xcalloc(1, sizeof(size_t));
	lw_vec_push(&f->accesses, fa);
	lw_finding_thread(f, m, proc, tid);
}

/* "bank.c:20", or the frame as lw_fframe_format gives it. */
static void site_text(const struct lw_fstack *st, char *buf, size_t len)
{
	const struct lw_frame *fr = st->n ? &st->frames[0] : NULL;

	if (!fr)
		snprintf(buf, len, "an unknown place");
	else if (fr->file) {
		const char *base = strrchr(fr->file, '/');

		snprintf(buf, len, "%s:%d", base ? base + 1 : fr->file, fr->line);
	} else
		lw_fframe_format(fr, buf, len);
}

/* The variable's name: a watched variable, a heap block the trace knows (hook mode), an
 * ELF symbol, or the address. */
static void name_of(struct lw_model *m, uint32_t proc, const struct lw_caught *c, char *buf,
		    size_t len, const struct lw_alloc **block)
{
	const struct lw_watch *w = lw_model_watch(m, proc, c->addr);

	*block = w ? NULL : lw_model_alloc(m, proc, c->addr, c->seq);
	if (w && c->addr == w->addr)
		snprintf(buf, len, "%s", w->name);
	else if (w)
		snprintf(buf, len, "%s+%" PRIu64, w->name, c->addr - w->addr);
	else if (*block)
		snprintf(buf, len, "heap block of %" PRIu64 " bytes at 0x%" PRIx64 ", offset %"
			 PRIu64, (*block)->size, (*block)->addr, c->addr - (*block)->addr);
	else if (!lw_symbolize_data(lw_model_symbolizer(m, proc), c->addr, buf, len, NULL, NULL))
		snprintf(buf, len, "0x%" PRIx64, c->addr);
}

/* A read-modify-write instruction without LOCK (add, inc, sub... to memory): never a C11
 * atomic operation, whose read-modify-writes x86 compiles with LOCK or xchg. */
static bool plain_rmw(uint16_t flags)
{
	return (flags & LW_ACCESS_READ) && (flags & LW_ACCESS_WRITE) &&
	       !(flags & (LW_ACCESS_ATOMIC | LW_ACCESS_UNDECODED));
}

/* How sure a catch is.  x86 compiles a C11 atomic load or store with relaxed, acquire or
 * release order (C++ std::atomic's too, and the __atomic builtins on plain types, which GLib
 * and CPython use) to a plain mov, the same instruction as a plain access, so two plain
 * moves caught together may be two atomic operations, which never race.  A catch is certain
 * (an error) when one side is a read-modify-write without LOCK; a catch on bytes a global's
 * DWARF type calls atomic is no race at all; otherwise it is a warning that says why (a
 * plain `int` type proves nothing: __atomic_load_n works on it). */
enum certainty { CATCH_NO_RACE, CATCH_UNSURE, CATCH_CERTAIN };

static enum certainty certainty_of(struct lw_model *m, uint32_t proc, const struct lw_caught *c)
{
	if (lw_symbolize_data_atomic(lw_model_symbolizer(m, proc), c->addr) == LW_DATA_ATOMIC)
		return CATCH_NO_RACE;
	return plain_rmw(c->flags1) || plain_rmw(c->flags2) ? CATCH_CERTAIN : CATCH_UNSURE;
}

static void one_catch(struct lw_model *m, uint32_t proc, struct lw_findings *fs, size_t first,
		      const struct lw_caught *c)
{
	enum certainty sure = certainty_of(m, proc, c);

	if (sure == CATCH_NO_RACE)
		return;
	const struct lw_process *p = &m->procs.v[proc];
	struct lw_finding *f = same_sites(fs, first, p->hdr.pid, c->pc1, c->pc2);
	const struct lw_alloc *block;
	char var[512], where[300], what[1100];
	bool fresh = false;

	if (f && f->caught) {
		/* Already shown as caught; a finding of catches alone counts them. */
		if (strstr(f->message, "caught in the act"))
			f->count++;
		return;
	}
	if (!f) {
		fresh = true;
		name_of(m, proc, c, var, sizeof(var), &block);
		f = lw_finding_new(fs, LW_FIND_DATA_RACE,
				   sure == CATCH_CERTAIN ? LW_SEV_ERROR : LW_SEV_WARNING, m, proc);
		f->variable.name = lw_xstrdup(var);
		f->variable.addr = c->addr;
		f->variable.size = c->size;
		if (block) {
			f->variable.heap = true;
			f->variable.block_addr = block->addr;
			f->variable.block_size = block->size;
			f->variable.block_thread = block->tid;
			f->variable.block_stack = block->stack ? lw_finding_stack(m, proc, block->stack)
							       : lw_finding_pc_stack(m, proc, block->pc);
			lw_finding_thread(f, m, proc, block->tid);
		}
		/* In trace order as for a happens-before race: the held-back access comes
		 * second, since it runs after the other. */
		add_side(f, m, proc, c->tid2, c->flags2, c, c->stack2, c->pc2);
		add_side(f, m, proc, c->tid1, c->flags1, c, c->stack1, c->pc1);
	}
	const struct lw_faccess *held = at_pc(&f->accesses.v[1], c->pc1) ? &f->accesses.v[1]
									 : &f->accesses.v[0];
	site_text(&held->stack, where, sizeof(where));
	char addr[40], named[600] = "";

	snprintf(addr, sizeof(addr), "0x%" PRIx64, c->addr);
	if (strcmp(addr, f->variable.name) != 0)
		snprintf(named, sizeof(named), " (%s)", f->variable.name);
	snprintf(what, sizeof(what), "caught in the act: thread %" PRIu32 " %s %s%s while thread %"
		 PRIu32 "'s %s at %s was in flight", c->tid2,
		 (c->flags2 & LW_ACCESS_WRITE) ? "wrote" : "read", addr, named, c->tid1,
		 (c->flags1 & LW_ACCESS_WRITE) ? "write" : "read", where);
	f->caught = lw_xstrdup(what);
	if (fresh && sure == CATCH_UNSURE)
		f->message = lw_xasprintf("data race %s (both plain moves: if the variable is a C11 "
					  "or C++ atomic, loaded and stored with relaxed, acquire or "
					  "release order, this is no race)", what);
	else if (fresh)
		f->message = lw_xasprintf("data race %s", what);
}

void lw_detect_caught(struct lw_model *m, struct lw_findings *fs)
{
	for (size_t i = 0; i < m->procs.n; i++) {
		const struct lw_process *p = &m->procs.v[i];
		const struct lw_rec_collider *k = &p->collider;

		if (k->head.kind == LW_REC_COLLIDER) {
			fs->collider.processes++;
			fs->collider.refused += k->state == LW_COLLIDER_REFUSED;
			if (k->state == LW_COLLIDER_REFUSED && !fs->collider.err)
				fs->collider.err = k->err;
			fs->collider.forked += k->state == LW_COLLIDER_FORKED;
			fs->collider.candidates += k->candidates;
			fs->collider.sampled += k->sampled;
			fs->collider.fired += k->fired;
			fs->collider.watched += k->watched;
			fs->collider.caught += k->caught;
			fs->collider.skipped += k->skipped;
		}
		for (size_t c = 0; c < p->caught.n; c++)
			one_catch(m, (uint32_t)i, fs, 0, &p->caught.v[c]);
	}
}
