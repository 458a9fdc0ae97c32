/* The JSON report: the contract later tools depend on. */
#include "report/fingerprint.h"
#include "report/json_writer.h"
#include "report/render.h"

#ifndef LW_VERSION
#define LW_VERSION "0.1.0"
#endif

static void frame(struct lw_json *j, const struct lw_frame *f)
{
	lw_json_begin_object(j);
	lw_json_key(j, "function");
	lw_json_string(j, f->function);
	lw_json_key(j, "file");
	lw_json_string(j, f->file);
	lw_json_key(j, "line");
	if (f->file)
		lw_json_int(j, f->line);
	else
		lw_json_null(j);
	lw_json_key(j, "module");
	lw_json_string(j, f->module);
	lw_json_key(j, "pc");
	lw_json_hex(j, f->pc);
	lw_json_end_object(j);
}

static void stack(struct lw_json *j, const struct lw_fstack *st)
{
	lw_json_begin_array(j);
	for (size_t i = 0; i < st->n; i++)
		frame(j, &st->frames[i]);
	lw_json_end_array(j);
}

static const char *mode_name(unsigned mode)
{
	return mode == LW_MODE_READ ? "read" : "write";
}

static void thread(struct lw_json *j, const struct lw_finding *f, const struct lw_fthread *t)
{
	lw_json_begin_object(j);
	lw_json_key(j, "tid");
	lw_json_int(j, t->tid);
	lw_json_key(j, "parent");
	if (t->parent)
		lw_json_int(j, t->parent);
	else
		lw_json_null(j);
	lw_json_key(j, "start");
	if (t->start.pc)
		frame(j, &t->start);
	else
		lw_json_null(j);
	lw_json_key(j, "created_at");
	stack(j, &t->create_stack);
	if (t->n_like) {   /* issue 23 (perf): threads like it counted, not recorded */
		lw_json_key(j, "more_like_it");
		lw_json_int(j, t->n_like);
	}
	if (t->role) {
		lw_json_key(j, "role");
		lw_json_string(j, t->role);
	}
	if (f->kind != LW_FIND_LOCK_ORDER_CYCLE) {
		lw_json_key(j, "stack");
		stack(j, &t->stack);
	}
	if (f->kind == LW_FIND_DEADLOCK) {
		lw_json_key(j, "held");
		lw_json_begin_array(j);
		for (size_t i = 0; i < t->n_held; i++) {
			lw_json_begin_object(j);
			lw_json_key(j, "lock");
			lw_json_string(j, f->locks.v[t->held[i].lock].name);
			lw_json_key(j, "mode");
			lw_json_string(j, mode_name(t->held[i].mode));
			lw_json_key(j, "stack");
			stack(j, &t->held[i].stack);
			lw_json_end_object(j);
		}
		lw_json_end_array(j);
		lw_json_key(j, "waiting_for");
		lw_json_string(j, t->waiting_for);
	}
	lw_json_end_object(j);
}

/* data-race and atomicity-violation: the variable and the accesses, in order. */
static void access_fields(struct lw_json *j, const struct lw_finding *f)
{
	lw_json_key(j, "variable");
	lw_json_begin_object(j);
	lw_json_key(j, "name");
	lw_json_string(j, f->variable.name);
	lw_json_key(j, "address");
	lw_json_hex(j, f->variable.addr);
	lw_json_key(j, "size");
	lw_json_int(j, (int64_t)f->variable.size);
	if (f->variable.heap) {
		lw_json_key(j, "heap_block");
		lw_json_begin_object(j);
		lw_json_key(j, "address");
		lw_json_hex(j, f->variable.block_addr);
		lw_json_key(j, "size");
		lw_json_int(j, (int64_t)f->variable.block_size);
		lw_json_key(j, "offset");
		lw_json_int(j, (int64_t)(f->variable.addr - f->variable.block_addr));
		lw_json_key(j, "allocated_by");
		lw_json_int(j, f->variable.block_thread);
		lw_json_key(j, "stack");
		stack(j, &f->variable.block_stack);
		lw_json_end_object(j);
	}
	lw_json_end_object(j);
	lw_json_key(j, "accesses");
	lw_json_begin_array(j);
	for (size_t i = 0; i < f->accesses.n; i++) {
		const struct lw_faccess *a = &f->accesses.v[i];

		lw_json_begin_object(j);
		if (a->role) {
			lw_json_key(j, "role");
			lw_json_string(j, a->role);
		}
		lw_json_key(j, "thread");
		lw_json_int(j, a->thread);
		lw_json_key(j, "type");
		lw_json_string(j, a->write ? "write" : "read");
		if (a->atomic) {
			lw_json_key(j, "atomic");
			lw_json_bool(j, true);
		}
		if (a->free) {
			lw_json_key(j, "free");
			lw_json_bool(j, true);
		}
		lw_json_key(j, "address");
		lw_json_hex(j, a->addr);
		lw_json_key(j, "size");
		lw_json_int(j, a->size);
		lw_json_key(j, "stack");
		stack(j, &a->stack);
		lw_json_key(j, "locks_held");
		lw_json_begin_array(j);
		for (size_t k = 0; k < a->n_locks; k++)
			lw_json_string(j, f->locks.v[a->locks[k]].name);
		lw_json_end_array(j);
		lw_json_end_object(j);
	}
	lw_json_end_array(j);
	if (f->caught) {             /* issue 20 */
		lw_json_key(j, "caught_in_the_act");
		lw_json_bool(j, true);
		lw_json_key(j, "caught");
		lw_json_string(j, f->caught);
	}
	if (f->interleaving) {
		lw_json_key(j, "interleaving");
		lw_json_string(j, f->interleaving);
		lw_json_key(j, "observed");
		lw_json_bool(j, f->observed);
	}
}

static void finding(struct lw_json *j, const struct lw_finding *f)
{
	lw_json_begin_object(j);
	lw_json_key(j, "kind");
	lw_json_string(j, lw_finding_kind_name(f->kind));
	lw_json_key(j, "severity");
	lw_json_string(j, lw_severity_name(f->severity));
	lw_json_key(j, "message");
	lw_json_string(j, f->message);
	if (f->path) {
		lw_json_key(j, "path");
		lw_json_string(j, f->path);
	}
	if (f->variable.name)
		access_fields(j, f);
	lw_json_key(j, "locks");
	lw_json_begin_array(j);
	for (size_t i = 0; i < f->locks.n; i++) {
		lw_json_begin_object(j);
		lw_json_key(j, "name");
		lw_json_string(j, f->locks.v[i].name);
		lw_json_key(j, "address");
		lw_json_hex(j, f->locks.v[i].addr);
		lw_json_end_object(j);
	}
	lw_json_end_array(j);
	lw_json_key(j, "edges");
	lw_json_begin_array(j);
	for (size_t i = 0; i < f->edges.n; i++) {
		const struct lw_fedge *e = &f->edges.v[i];

		lw_json_begin_object(j);
		lw_json_key(j, "from");
		lw_json_string(j, f->locks.v[e->from].name);
		lw_json_key(j, "to");
		lw_json_string(j, f->locks.v[e->to].name);
		lw_json_key(j, "thread");
		lw_json_int(j, e->thread);
		lw_json_key(j, "mode");
		lw_json_string(j, mode_name(e->mode));
		lw_json_key(j, "try");
		lw_json_bool(j, e->try_lock);
		lw_json_key(j, "timed");
		lw_json_bool(j, e->timed);
		lw_json_key(j, "from_stack");
		stack(j, &e->from_stack);
		lw_json_key(j, "to_stack");
		stack(j, &e->to_stack);
		lw_json_end_object(j);
	}
	lw_json_end_array(j);
	lw_json_key(j, "threads");
	lw_json_begin_array(j);
	for (size_t i = 0; i < f->threads.n; i++)
		thread(j, f, &f->threads.v[i]);
	lw_json_end_array(j);
	lw_json_key(j, "count");
	lw_json_int(j, (int64_t)f->count);
	{
		char fp[LW_FINGERPRINT_LEN];

		lw_finding_fingerprint(f, fp);
		lw_json_key(j, "fingerprint");
		lw_json_string(j, fp);
	}
	if (f->baseline) {
		lw_json_key(j, "baseline");
		lw_json_bool(j, true);
	}
	if (f->severity == LW_SEV_WARNING && lw_reason_name(f->reason)) {
		lw_json_key(j, "reason");
		lw_json_string(j, lw_reason_name(f->reason));
		lw_json_key(j, "reason_text");
		lw_json_string(j, f->reason_text);
	}
	lw_json_key(j, "process");
	lw_json_begin_object(j);
	lw_json_key(j, "pid");
	lw_json_int(j, f->pid);
	lw_json_key(j, "exe");
	lw_json_string(j, f->exe);
	lw_json_end_object(j);
	lw_json_end_object(j);
}


/* Issue 20: automatic watching's coverage, as "coverage": {...} (absent without it). */
static void coverage_object(struct lw_json *j, const struct lw_coverage_sum *c)
{
	char line[512];

	if (!lw_coverage_line(c, line, sizeof(line)))
		return;
	lw_json_key(j, "coverage");
	lw_json_begin_object(j);
	lw_json_key(j, "text");
	lw_json_string(j, line);
	lw_json_key(j, "watching");
	lw_json_string(j, c->refused && !c->granules_watched ? "refused" : "watched");
	lw_json_key(j, "whole_run");
	lw_json_bool(j, c->granules && c->whole_run == c->processes - c->refused &&
			c->granules_watched == c->granules);
	lw_json_key(j, "globals");
	lw_json_int(j, (int64_t)c->globals);
	lw_json_key(j, "globals_watched");
	lw_json_int(j, (int64_t)c->globals_watched);
	lw_json_key(j, "granules");
	lw_json_int(j, (int64_t)c->granules);
	lw_json_key(j, "granules_watched");
	lw_json_int(j, (int64_t)c->granules_watched);
	lw_json_key(j, "granules_dropped");
	lw_json_int(j, (int64_t)c->granules_dropped);
	lw_json_key(j, "windows");
	lw_json_int(j, (int64_t)c->windows);
	lw_json_key(j, "window_percent");
	lw_json_int(j, c->run_ns ? (int64_t)((c->window_ns * 100 + c->run_ns / 2) / c->run_ns) : 0);
	lw_json_key(j, "traps");
	lw_json_int(j, (int64_t)c->traps);
	lw_json_end_object(j);
}

void lw_render_json(const struct lw_findings *fs, FILE *out)
{
	struct lw_json j;

	lw_json_init(&j, out);
	lw_json_begin_object(&j);
	lw_json_key(&j, "tool");
	lw_json_string(&j, "lockwatch");
	lw_json_key(&j, "version");
	lw_json_string(&j, LW_VERSION);
	lw_json_key(&j, "findings");
	lw_json_begin_array(&j);
	for (size_t i = 0; i < fs->v.n; i++)
		finding(&j, fs->v.v[i]);
	lw_json_end_array(&j);
	if (fs->collider.processes) {  /* issue 20: what the collider sampled */
		const struct lw_collider_counts *c = &fs->collider;

		lw_json_key(&j, "collider");
		lw_json_begin_object(&j);
		lw_json_key(&j, "candidates");
		lw_json_int(&j, (int64_t)c->candidates);
		lw_json_key(&j, "sampled");
		lw_json_int(&j, (int64_t)c->sampled);
		lw_json_key(&j, "fired");
		lw_json_int(&j, (int64_t)c->fired);
		lw_json_key(&j, "watched");
		lw_json_int(&j, (int64_t)c->watched);
		lw_json_key(&j, "caught");
		lw_json_int(&j, (int64_t)c->caught);
		lw_json_key(&j, "skipped");
		lw_json_int(&j, (int64_t)c->skipped);
		lw_json_key(&j, "refused_processes");
		lw_json_int(&j, (int64_t)c->refused);
		{
			char line[512];

			lw_collider_line(c, line, sizeof(line));
			lw_json_key(&j, "text");
			lw_json_string(&j, line);
		}
		lw_json_end_object(&j);
	}
	coverage_object(&j, &fs->coverage);
	lw_json_end_object(&j);
	fputc('\n', out);
}
