/* The analysis pipeline: names the locks, then runs the detectors in order. */
#include "detect/analyze.h"
#include "detect/detect_cycles.h"
#include "detect/detect_path_races.h"
#include "detect/detect_races.h"
#include "detect/detect_obj_races.h"
#include "detect/detect_caught.h"
#include "detect/detect_records.h"
#include "trace/lock_names.h"
#include "trace/symbolize.h"
#include "base/hashmap.h"
#include "base/util.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Issue 20: sums the processes' coverage records. */
static void sum_coverage(const struct lw_model *m, struct lw_coverage_sum *c)
{
	for (size_t i = 0; i < m->procs.n; i++) {
		const struct lw_process *p = &m->procs.v[i];
		const struct lw_rec_coverage *r = &p->coverage;

		/* A fork child stopped watching at the fork: its parent's record says it all. */
		if (!p->has_coverage || r->status == LW_COVERAGE_FORKED)
			continue;
		c->processes++;
		if (r->status == LW_COVERAGE_REFUSED) {
			if (!c->refused++)
				c->err = r->err;
			continue;
		}
		c->whole_run += (r->flags & LW_COVF_WHOLE_RUN) != 0;
		c->globals += r->globals;
		c->globals_watched += r->globals_watched;
		c->granules += r->granules;
		c->granules_watched += r->granules_watched;
		c->granules_dropped += r->granules_dropped;
		c->windows += r->windows;
		c->run_ns += r->run_ns;
		c->window_ns += r->window_ns;
		c->traps += r->traps;
	}
}

/*
 * Issue 20: a watchpoint sees instructions, and x86 compiles a C11 atomic load, or a relaxed
 * or release store (C++ std::atomic's too), to a plain mov.  Where the global's DWARF type
 * says the bytes are atomic, every access the program makes to them is an atomic operation:
 * it is marked so, and then synchronises (a release/acquire flag orders the data it
 * publishes) and never races.  Seen from the instruction alone, a correct release/acquire
 * hand-off was two false data races.
 */
static void mark_atomic_accesses(struct lw_model *m)
{
	for (uint32_t i = 0; i < m->procs.n; i++) {
		struct lw_process *p = &m->procs.v[i];
		struct lw_map seen = { 0 };   /* addr -> 1 + enum lw_data_atomicity */

		for (size_t k = 0; k < p->accesses.n; k++) {
			struct lw_access *a = &p->accesses.v[k];
			uint32_t v;

			if (!(a->flags & LW_SRC_WATCHPOINT) || (a->flags & LW_ACCESS_ATOMIC))
				continue;
			if (!lw_map_get(&seen, a->addr, 0, &v)) {
				v = 1 + (uint32_t)lw_symbolize_data_atomic(lw_model_symbolizer(m, i),
									   a->addr);
				lw_map_put(&seen, a->addr, 0, v);
			}
			if (v == 1 + LW_DATA_ATOMIC)
				a->flags |= LW_ACCESS_ATOMIC;
		}
		lw_map_free(&seen);
	}
}

/*
 * Issue 20: automatic watching rotates two debug registers over the globals when they do not
 * all fit.  An atomic global it did not watch at the time may have ordered two accesses it
 * did watch (a release/acquire flag publishing data): happens-before cannot see that order.
 * In such a process (windows, not one for the whole run, and a global of the program's own
 * code holding an atomic object), races found by happens-before are warnings that name the
 * atomic; a race caught in the act needs no order and stays as it is.
 */
static void demote_unseen_order(struct lw_model *m, struct lw_findings *fs)
{
	for (uint32_t i = 0; i < m->procs.n; i++) {
		const struct lw_process *p = &m->procs.v[i];
		char atomic[128] = "";
		uint64_t module_of = 0;

		if (!(p->hdr.flags & LW_HDR_WINDOWS) || p->hdr.level == LW_LEVEL_FULL ||
		    (p->has_coverage && (p->coverage.flags & LW_COVF_WHOLE_RUN)))
			continue;
		/* The modules of the watched globals (one is enough to name). */
		for (size_t k = 0; k < p->accesses.n && !atomic[0]; k++) {
			uint64_t a = p->accesses.v[k].addr;

			if (!(p->accesses.v[k].flags & LW_SRC_WATCHPOINT) || a == module_of)
				continue;
			module_of = a;
			if (!lw_symbolize_module_atomic(lw_model_symbolizer(m, i), a, atomic,
							sizeof(atomic)))
				atomic[0] = '\0';
		}
		/* Or a global whose type says nothing (an __atomic or __sync builtin on a plain
		 * int, a custom spin lock) that a watchpoint saw updated with a LOCK prefix. */
		for (size_t k = 0; k < p->accesses.n && !atomic[0]; k++) {
			const struct lw_access *a = &p->accesses.v[k];

			if ((a->flags & LW_SRC_WATCHPOINT) && (a->flags & LW_ACCESS_ATOMIC) &&
			    !lw_symbolize_data(lw_model_symbolizer(m, i), a->addr, atomic,
					       sizeof(atomic), NULL, NULL))
				snprintf(atomic, sizeof(atomic), "0x%" PRIx64, a->addr);
		}
		if (!atomic[0])
			continue;
		for (size_t k = 0; k < fs->v.n; k++) {
			struct lw_finding *f = fs->v.v[k];
			char *msg;

			if (f->pid != p->hdr.pid || f->caught || f->severity != LW_SEV_ERROR ||
			    (f->kind != LW_FIND_DATA_RACE && f->kind != LW_FIND_ATOMICITY))
				continue;
			f->severity = LW_SEV_WARNING;
			msg = lw_xasprintf("%s (the program's atomic %s was not watched throughout "
					   "and may order these accesses: --watch it to be sure)",
					   f->message, atomic);
			free(f->message);
			f->message = msg;
		}
	}
}

/*
 * Issue 20: a watchpoint sees the instruction, not the source: x86 compiles an atomic load or
 * store of relaxed, acquire or release order to a plain mov, also the __atomic builtins on a
 * plain `int` (GLib's g_atomic_int_get, CPython's atomics), whose DWARF type then says
 * nothing.  So with automatic watching, a race between a thread that only stores a variable
 * and one that only loads it (a flag published by a release store and read by an acquire
 * load looks exactly so) is a warning that says why.  It stays an error where some thread
 * reads the variable and then writes it with plain accesses (`counter += 1`, a balance
 * checked then lowered): a read-modify-write made of two accesses loses updates whether or
 * not each one is atomic.  An explicit --watch (the full level) is not judged this way: the
 * user named the variable.
 */
static void demote_plain_publication(struct lw_model *m, struct lw_findings *fs)
{
	for (uint32_t i = 0; i < m->procs.n; i++) {
		const struct lw_process *p = &m->procs.v[i];
		struct lw_map last_read = { 0 };   /* (tid, addr) -> 1: its last access read */
		struct lw_map updated = { 0 };     /* addr -> 1: a thread read it, then wrote it */
		uint32_t one;

		if (!(p->hdr.flags & LW_HDR_WINDOWS) || p->hdr.level == LW_LEVEL_FULL)
			continue;
		for (size_t k = 0; k < p->events.n; k++) {
			const struct lw_event *ev = &p->events.v[k];
			const struct lw_access *a;

			if (ev->kind != LW_EV_ACCESS)
				continue;
			a = &p->accesses.v[ev->arg];
			if (!(a->flags & LW_SRC_WATCHPOINT) || (a->flags & LW_ACCESS_ATOMIC))
				continue;
			if (a->flags & LW_ACCESS_WRITE) {
				if ((a->flags & LW_ACCESS_READ) ||
				    (lw_map_get(&last_read, a->tid, a->addr, &one) && one))
					lw_map_put(&updated, a->addr, 0, 1);
				lw_map_put(&last_read, a->tid, a->addr, 0);
			} else {
				lw_map_put(&last_read, a->tid, a->addr, 1);
			}
		}
		for (size_t k = 0; k < fs->v.n; k++) {
			struct lw_finding *f = fs->v.v[k];
			bool rmw = false;
			char *msg;

			if (f->pid != p->hdr.pid || f->caught || f->severity != LW_SEV_ERROR ||
			    f->kind != LW_FIND_DATA_RACE)
				continue;
			for (size_t n = 0; n < f->accesses.n && !rmw; n++) {
				uint32_t v = 0;

				rmw = (lw_map_get(&updated, f->accesses.v[n].addr, 0, &v) && v) ||
				      (lw_map_get(&updated, f->variable.addr, 0, &v) && v);
			}
			if (rmw)
				continue;
			f->severity = LW_SEV_WARNING;
			msg = lw_xasprintf("%s (each thread only stored it or only loaded it, with plain "
					   "moves: if it is accessed with C11 atomics or __atomic builtins "
					   "of relaxed, acquire or release order, this is no race; --watch "
					   "it by name to make it an error)", f->message);
			free(f->message);
			f->message = msg;
		}
		lw_map_free(&last_read);
		lw_map_free(&updated);
	}
}

void lw_analyze(struct lw_model *m, struct lw_findings *fs)
{
	mark_atomic_accesses(m);
	lw_name_locks(m);
	fs->n_processes = m->procs.n;
	sum_coverage(m, &fs->coverage);
	lw_detect_deadlocks(m, fs);
	lw_detect_cycles(m, fs);
	lw_detect_misuse(m, fs);
	lw_detect_path_races(m, fs);
	lw_detect_races(m, fs);
	lw_detect_obj_races(m, fs);  /* issue 21: races on the pthread objects */
	demote_unseen_order(m, fs);
	demote_plain_publication(m, fs);
	lw_detect_caught(m, fs);   /* issue 20: after the races it may join */
}
