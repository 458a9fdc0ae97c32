/* Building findings: the structures the detectors fill and the renderers print. */
#include "detect/findings.h"
#include "trace/lock_names.h"
#include "trace/symbolize.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lw_finding_kind_name(enum lw_finding_kind k)
{
	switch (k) {
	case LW_FIND_LOCK_ORDER_CYCLE: return "lock-order-cycle";
	case LW_FIND_DEADLOCK:         return "deadlock";
	case LW_FIND_DATA_RACE:        return "data-race";
	case LW_FIND_ATOMICITY:        return "atomicity-violation";
	case LW_FIND_MISUSE:           return "misuse";
	}
	return "unknown";
}

const char *lw_severity_name(enum lw_severity s)
{
	return s == LW_SEV_ERROR ? "error" : "warning";
}

const char *lw_reason_name(enum lw_reason r)
{
	switch (r) {
	case LW_REASON_NONE:           return NULL;
	case LW_REASON_SINGLE_THREAD:  return "single-thread";
	case LW_REASON_HAPPENS_BEFORE: return "happens-before";
	case LW_REASON_GATE_LOCK:      return "gate-lock";
	case LW_REASON_TRYLOCK:        return "trylock";
	case LW_REASON_TIMED_LOCK:     return "timed-lock";
	case LW_REASON_READ_READ:      return "read-read";
	case LW_REASON_LOCK_CLASS:     return "lock-class";
	case LW_REASON_FILE_LOCK:      return "file-lock";
	}
	return NULL;
}

size_t lw_findings_count(const struct lw_findings *fs, enum lw_severity s)
{
	size_t n = 0;

	for (size_t i = 0; i < fs->v.n; i++)
		n += fs->v.v[i]->severity == s;
	return n;
}

struct lw_finding *lw_finding_new(struct lw_findings *fs, enum lw_finding_kind kind,
				  enum lw_severity sev, const struct lw_model *m, uint32_t proc)
{
	struct lw_finding *f = lw_xcalloc(1, sizeof(*f));

	f->kind = kind;
	f->severity = sev;
	f->count = 1;
	f->pid = m->procs.v[proc].hdr.pid;
	f->exe = lw_xstrdup(m->procs.v[proc].hdr.exe);
	lw_vec_push(&fs->v, f);
	return f;
}

size_t lw_finding_lock(struct lw_finding *f, const struct lw_model *m, uint32_t li)
{
	const struct lw_lock *l = &m->locks.v[li];

	for (size_t i = 0; i < f->locks.n; i++)
		if (f->locks.v[i].addr == l->addr && strcmp(f->locks.v[i].name, l->name) == 0)
			return i;
	lw_vec_push(&f->locks, ((struct lw_flock){ lw_xstrdup(l->name), l->addr,
						   !l->global && !l->name_has_addr }));
	return f->locks.n - 1;
}

static void make_frame(struct lw_frame *out, const struct lw_sym_frame *sf)
{
	out->function = sf->function ? lw_xstrdup(sf->function) : NULL;
	out->module_offset = sf->module_offset;
	out->file = sf->file ? lw_xstrdup(sf->file) : NULL;
	out->line = sf->file ? sf->line : 0;
	out->module = sf->module ? lw_xstrdup(sf->module) : NULL;
	out->pc = sf->pc;
}

struct lw_fstack lw_finding_stack(struct lw_model *m, uint32_t proc, uint32_t stack_id)
{
	const struct lw_stack *st = lw_model_stack(m, proc, stack_id);
	struct lw_fstack out = { 0 };
	struct lw_symbolizer *s;
	uint32_t i = 0;

	if (!st || !st->depth)
		return out;
	s = lw_model_symbolizer(m, proc);
	out.frames = lw_xcalloc(st->depth, sizeof(*out.frames));
	/* Leading frames inside libc's pthread functions say nothing about the program. */
	for (; i + 1 < st->depth; i++) {
		struct lw_sym_frame sf;

		lw_symbolize_pc(s, st->pc[i], true, &sf);
		if (!lw_frame_is_libc_sync(&sf))
			break;
	}
	for (; i < st->depth; i++) {
		struct lw_sym_frame sf;

		lw_symbolize_pc(s, st->pc[i], true, &sf);
		make_frame(&out.frames[out.n++], &sf);
	}
	return out;
}

struct lw_fstack lw_finding_pc_stack(struct lw_model *m, uint32_t proc, uint64_t pc)
{
	struct lw_fstack out = { 0 };
	struct lw_sym_frame sf;

	if (!pc)
		return out;
	lw_symbolize_pc(lw_model_symbolizer(m, proc), pc, true, &sf);
	out.frames = lw_xcalloc(1, sizeof(*out.frames));
	make_frame(&out.frames[out.n++], &sf);
	return out;
}

struct lw_fthread *lw_finding_thread(struct lw_finding *f, struct lw_model *m, uint32_t proc,
				     uint32_t tid)
{
	struct lw_thread *t = lw_model_thread(m, proc, tid);
	struct lw_fthread ft = { .tid = tid };

	for (size_t i = 0; i < f->threads.n; i++)
		if (f->threads.v[i].tid == tid && !f->threads.v[i].role)
			return &f->threads.v[i];
	if (t && t->known) {
		ft.parent = t->parent;
		ft.n_like = t->n_like;   /* issue 23 (perf) */
		/* The count names the class's first thread; any written thread of the class
		 * (same start routine and creation site) is as like the counted ones. */
		const struct lw_process *p = &m->procs.v[proc];
		for (size_t i = 0; !ft.n_like && t->start_routine && i < p->threads.n; i++) {
			const struct lw_thread *o = &p->threads.v[i];
			if (o->n_like && o->start_routine == t->start_routine &&
			    o->create_stack == t->create_stack)
				ft.n_like = o->n_like;
		}
		if (t->start_routine) {
			struct lw_sym_frame sf;

			lw_symbolize_pc(lw_model_symbolizer(m, proc), t->start_routine, false, &sf);
			make_frame(&ft.start, &sf);
		}
		ft.create_stack = lw_finding_stack(m, proc, t->create_stack);
	}
	lw_vec_push(&f->threads, ft);
	return &f->threads.v[f->threads.n - 1];
}

static void free_frame(struct lw_frame *fr)
{
	free(fr->function);
	free(fr->file);
	free(fr->module);
}

const char *lw_faccess_kind(const struct lw_faccess *a)
{
	if (a->free)
		return "free";
	if (a->atomic)
		return a->write ? "atomic write" : "atomic read";
	return a->write ? "write" : "read";
}

void lw_fstack_free(struct lw_fstack *st)
{
	for (size_t i = 0; i < st->n; i++)
		free_frame(&st->frames[i]);
	free(st->frames);
}

static void free_finding(struct lw_finding *f)
{
	free(f->message);
	free(f->reason_text);
	free(f->exe);
	free(f->path);
	for (size_t i = 0; i < f->locks.n; i++)
		free(f->locks.v[i].name);
	free(f->locks.v);
	for (size_t i = 0; i < f->edges.n; i++) {
		lw_fstack_free(&f->edges.v[i].from_stack);
		lw_fstack_free(&f->edges.v[i].to_stack);
	}
	free(f->edges.v);
	for (size_t i = 0; i < f->threads.n; i++) {
		struct lw_fthread *t = &f->threads.v[i];

		free_frame(&t->start);
		lw_fstack_free(&t->create_stack);
		lw_fstack_free(&t->stack);
		free(t->role);
		for (size_t j = 0; j < t->n_held; j++)
			lw_fstack_free(&t->held[j].stack);
		free(t->held);
		free(t->waiting_for);
	}
	free(f->threads.v);
	free(f->variable.name);
	lw_fstack_free(&f->variable.block_stack);
	for (size_t i = 0; i < f->accesses.n; i++) {
		lw_fstack_free(&f->accesses.v[i].stack);
		free(f->accesses.v[i].locks);
	}
	free(f->accesses.v);
	free(f->interleaving);
	free(f->caught);   /* issue 20 */
	free(f);
}

void lw_fframe_format(const struct lw_frame *fr, char *buf, size_t len)
{
	if (fr->function && fr->file)
		snprintf(buf, len, "%s (%s:%d)", fr->function, fr->file, fr->line);
	else if (fr->function && fr->module)
		snprintf(buf, len, "%s (%s+0x%" PRIx64 ")", fr->function, fr->module,
			 fr->module_offset);
	else if (fr->function)
		snprintf(buf, len, "%s", fr->function);
	else if (fr->module)
		snprintf(buf, len, "%s+0x%" PRIx64, fr->module, fr->module_offset);
	else
		snprintf(buf, len, "0x%" PRIx64, fr->pc);
}

void lw_findings_free(struct lw_findings *fs)
{
	for (size_t i = 0; i < fs->v.n; i++)
		free_finding(fs->v.v[i]);
	free(fs->v.v);
	memset(fs, 0, sizeof(*fs));
}

/* ---- issue 20: the coverage line ---- */

static const char *perf_refusal(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "perf events are not permitted (perf_event_paranoid); fix: "
		       "sysctl kernel.perf_event_paranoid=2, or give the program CAP_PERFMON";
	case ENOENT:
	case ENODEV:
	case EOPNOTSUPP:
		return "this machine offers no hardware breakpoints (a virtual machine without "
		       "them?); fix: run on a machine or VM that exposes debug registers";
	case ENOSPC:
		return "no free debug register (a debugger or another tool holds them); fix: "
		       "detach it";
	case EINVAL:
		return "the kernel refused the breakpoints (older than 5.13?); fix: Linux 5.13 "
		       "or later";
	case EMFILE:
		return "no descriptor number out of the program's way (the soft and hard "
		       "RLIMIT_NOFILE are equal); fix: raise the hard limit (ulimit -Hn)";
	default:
		return "perf_event_open failed; fix: check perf_event_paranoid and the kernel";
	}
}

bool lw_coverage_line(const struct lw_coverage_sum *c, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!c->processes)
		return false;
	if (c->refused && !c->granules_watched) {
		snprintf(buf, len, "globals not watched: %s", perf_refusal(c->err));
		return true;
	}
	if (!c->granules) {
		snprintf(buf, len, "no globals of the program's own to watch");
		return true;
	}
	if (c->whole_run == c->processes - c->refused && c->granules_watched == c->granules)
		snprintf(buf, len, "watched %" PRIu64 " of %" PRIu64 " global%s for the whole run",
			 c->globals_watched, c->globals, c->globals == 1 ? "" : "s");
	else
		snprintf(buf, len, "watched %" PRIu64 " of %" PRIu64 " global granule%s (%" PRIu64
			 " of %" PRIu64 " globals), windows open %u%% of the run",
			 c->granules_watched, c->granules, c->granules == 1 ? "" : "s",
			 c->globals_watched, c->globals,
			 c->run_ns ? (unsigned)((c->window_ns * 100 + c->run_ns / 2) / c->run_ns) : 0);
	if (c->refused) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, " (not in %zu process%s: %s)", c->refused,
			 c->refused == 1 ? "" : "es", perf_refusal(c->err));
	}
	return true;
}

bool lw_collider_line(const struct lw_collider_counts *c, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!c->processes)
		return false;
	if (c->refused == c->processes) {
		snprintf(buf, len, "heap not sampled: %s", perf_refusal(c->err));
		return true;
	}
	int n = snprintf(buf, len, "%" PRIu64 " sample%s on %" PRIu64 " code site%s, %" PRIu64
			 " heap address%s watched, %" PRIu64 " race%s caught in the act",
			 c->sampled, c->sampled == 1 ? "" : "s", c->candidates,
			 c->candidates == 1 ? "" : "s", c->watched, c->watched == 1 ? "" : "es",
			 c->caught, c->caught == 1 ? "" : "s");
	if (n > 0 && (size_t)n < len && c->refused)
		n += snprintf(buf + n, len - (size_t)n, " (not in %zu process%s: %s)", c->refused,
			      c->refused == 1 ? "" : "es", perf_refusal(c->err));
	if (n > 0 && (size_t)n < len && c->forked)
		snprintf(buf + n, len - (size_t)n, " (%zu fork child%s not sampled)", c->forked,
			 c->forked == 1 ? "" : "ren");
	return true;
}

bool lw_watching_line(const struct lw_findings *fs, char *buf, size_t len)
{
	char globals[512], heap[512];
	bool g = lw_coverage_line(&fs->coverage, globals, sizeof(globals));
	bool h = lw_collider_line(&fs->collider, heap, sizeof(heap));

	buf[0] = '\0';
	/* Both refused for one reason: said once. */
	if (g && h && fs->coverage.refused && !fs->coverage.granules_watched &&
	    fs->collider.refused == fs->collider.processes && fs->coverage.err == fs->collider.err)
		snprintf(buf, len, "globals and heap not watched: %s", perf_refusal(fs->coverage.err));
	else if (g && h)
		snprintf(buf, len, "%s; %s", globals, heap);
	else if (g || h)
		snprintf(buf, len, "%s", g ? globals : heap);
	return g || h;
}
