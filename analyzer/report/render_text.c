/* The text report: lockdep-like, for people. */
#include "report/color.h"
#include "report/render.h"
#include "report/source_lines.h"

#include <inttypes.h>
#include <string.h>

/* The style of the report being written (lw_render_text_styled); plain by default. */
static const struct lw_text_style plain_style;
static const struct lw_text_style *style = &plain_style;

/* Starts SGR sequence seq when colouring. */
static void sgr(FILE *out, const char *seq)
{
	if (style->color)
		fputs(seq, out);
}

static void sgr_end(FILE *out)
{
	if (style->color)
		fputs(LW_SGR_RESET, out);
}

static void lock_label(const struct lw_finding *f, size_t li, char *buf, size_t len)
{
	const struct lw_flock *l = &f->locks.v[li];

	if (l->show_addr)
		snprintf(buf, len, "%s [0x%" PRIx64 "]", l->name, l->addr);
	else
		snprintf(buf, len, "%s", l->name);
}

static void frame_text(FILE *out, const struct lw_frame *fr)
{
	char buf[1024];

	lw_fframe_format(fr, buf, sizeof(buf));
	fputs(buf, out);
}

static void stack_text(FILE *out, const struct lw_fstack *st, const char *indent)
{
	if (!st->n) {
		fprintf(out, "%s(no stack recorded)\n", indent);
		return;
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct lw_frame *fr = &st->frames[i];
		const char *src;

		fprintf(out, "%s#%zu ", indent, i);
		if (style->color && fr->function) {
			char buf[1024];
			size_t n = strlen(fr->function);

			lw_fframe_format(fr, buf, sizeof(buf));
			sgr(out, LW_SGR_FUNC);
			fputs(fr->function, out);
			sgr_end(out);
			if (strncmp(buf, fr->function, n) == 0)
				fputs(buf + n, out);
		} else {
			frame_text(out, fr);
		}
		fputc('\n', out);
		/* The line itself, when the file is readable from here. */
		if (style->source && fr->file && (src = lw_source_line(fr->file, fr->line)) &&
		    *src) {
			fprintf(out, "%s    ", indent);
			sgr(out, LW_SGR_DIM);
			fputs(src, out);
			sgr_end(out);
			fputc('\n', out);
		}
	}
}

/* "T2 (started at worker_b (transfer.c:40))" */
static void thread_label(FILE *out, const struct lw_finding *f, uint32_t tid)
{
	fprintf(out, "T%" PRIu32, tid);
	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		if (t->tid != tid || t->role)
			continue;
		if (t->start.function || t->start.pc) {
			fputs(" (started at ", out);
			frame_text(out, &t->start);
			fputc(')', out);
		} else if (tid == 1) {
			fputs(" (main thread)", out);
		}
		return;
	}
}

static void threads_text(FILE *out, const struct lw_finding *f)
{
	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		if (t->role || !t->parent)
			continue;
		fputs("  ", out);
		thread_label(out, f, t->tid);
		fprintf(out, " was created by T%" PRIu32 " at:\n", t->parent);
		stack_text(out, &t->create_stack, "      ");
		if (t->n_like)   /* issue 23 (perf) */
			fprintf(out, "    %" PRIu32 " more threads like T%" PRIu32 " (same start routine "
				"and creation site, nothing new done) were counted, not recorded\n",
				t->n_like, t->tid);
	}
}

/* The two-column (n-column) scenario of a cycle ending in a deadlock. */
static void scenario_text(FILE *out, const struct lw_finding *f)
{
	size_t n = f->edges.n, width = 16;
	char buf[700];

	for (size_t i = 0; i < n; i++) {
		lock_label(f, f->edges.v[i].from, buf, sizeof(buf));
		if (strlen(buf) + 8 > width)
			width = strlen(buf) + 8;
	}
	if (width > 60)
		width = 60;
	fputs("\n  Possible scenario:\n\n", out);
	for (int row = 0; row < 2; row++) {
		fputs("  ", out);
		for (size_t i = 0; i < n; i++) {
			if (row == 0)
				snprintf(buf, sizeof(buf), "     T%" PRIu32, f->edges.v[i].thread);
			else
				snprintf(buf, sizeof(buf), "     ----");
			fprintf(out, "%-*s", i + 1 < n ? (int)width : 0, buf);
		}
		fputc('\n', out);
	}
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < n; i++) {
			const struct lw_fedge *e = &f->edges.v[i];
			char lk[600];

			lock_label(f, round ? e->to : e->from, lk, sizeof(lk));
			fprintf(out, "  %*s%s(%s);\n", (int)(width * i), "",
				(round ? e->mode : e->from_mode) == LW_MODE_READ ? "read_lock" : "lock",
				lk);
		}
	fputs("\n  ", out);
	sgr(out, LW_SGR_ERROR);
	fputs("*** DEADLOCK ***", out);
	sgr_end(out);
	fputc('\n', out);
}

static void cycle_text(FILE *out, const struct lw_finding *f)
{
	char a[700], b[700];

	threads_text(out, f);
	for (size_t i = 0; i < f->edges.n; i++) {
		const struct lw_fedge *e = &f->edges.v[i];

		lock_label(f, e->to, a, sizeof(a));
		lock_label(f, e->from, b, sizeof(b));
		fputs("\n  thread ", out);
		thread_label(out, f, e->thread);
		fprintf(out, " acquired %s%s%s at:\n", a,
			e->mode == LW_MODE_READ ? " for reading" : "",
			e->try_lock ? " (trylock)" : e->timed ? " (timed)" : "");
		stack_text(out, &e->to_stack, "      ");
		fprintf(out, "    while holding %s%s acquired at:\n", b,
			e->from_mode == LW_MODE_READ ? " (for reading)" : "");
		stack_text(out, &e->from_stack, "      ");
	}
	if (f->severity == LW_SEV_ERROR)
		scenario_text(out, f);
}

static void deadlock_text(FILE *out, const struct lw_finding *f)
{
	char a[700];

	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		fputs("\n  thread ", out);
		thread_label(out, f, t->tid);
		fprintf(out, " waits for %s at:\n", t->waiting_for ? t->waiting_for : "?");
		stack_text(out, &t->stack, "      ");
		for (size_t k = 0; k < t->n_held; k++) {
			lock_label(f, t->held[k].lock, a, sizeof(a));
			fprintf(out, "    holding %s%s, acquired at:\n", a,
				t->held[k].mode == LW_MODE_READ ? " (for reading)" : "");
			stack_text(out, &t->held[k].stack, "      ");
		}
		if (!t->n_held)
			fputs("    holding no lock\n", out);
	}
	threads_text(out, f);
}

static void misuse_text(FILE *out, const struct lw_finding *f)
{
	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		if (t->role && !t->stack.n)
			continue;
		if (t->role && t->tid == 0)   /* issue 22: the thread that made it is not known */
			fprintf(out, "\n  %s, at:\n",
				strcmp(t->role, "init") == 0 ? "the init" : "the earlier use");
		else if (t->role)
			fprintf(out, "\n  %s: thread T%" PRIu32 " at:\n",
				strcmp(t->role, "owner") == 0    ? "the owner locked it"
				: strcmp(t->role, "waiter") == 0 ? "the waiter waits"  /* issue 22 */
				: strcmp(t->role, "init") == 0   ? "the init"
								 : "the earlier use",
				t->tid);
		else {
			fputs("\n  thread ", out);
			thread_label(out, f, t->tid);
			fputs(" at:\n", out);
		}
		stack_text(out, &t->stack, "      ");
	}
}

/* A check-then-act on a file: the check, the create, and the call that can fall between. */
static void path_text(FILE *out, const struct lw_finding *f)
{
	fprintf(out, "  path: %s (%" PRIu64 " check-then-create window%s open to it)\n", f->path,
		f->count, f->count == 1 ? "" : "s");
	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		if (!t->role)
			continue;
		fprintf(out, "\n  thread T%" PRIu32 " %s at:\n", t->tid,
			strcmp(t->role, "check") == 0    ? "checked the path" :
			strcmp(t->role, "create") == 0   ? "then created it (O_CREAT without O_EXCL)" :
							  "can use it between the two");
		stack_text(out, &t->stack, "      ");
	}
	fputs("\n  Fix: create it with open(O_CREAT|O_EXCL) and handle EEXIST: the check and the "
	      "create become one step.\n", out);
}

/* "T3 (started at worker (bank.c:14))" holding "mutex m" or "no lock". */
static void access_block(FILE *out, const struct lw_finding *f, const struct lw_faccess *a,
			 const char *title)
{
	char lk[700];

	fprintf(out, "\n  %s%s of %u byte%s at 0x%" PRIx64 " by thread ", title,
		lw_faccess_kind(a),
		a->size, a->size == 1 ? "" : "s", a->addr);
	thread_label(out, f, a->thread);
	fputs(":\n", out);
	stack_text(out, &a->stack, "      ");
	fputs("    holding ", out);
	if (!a->n_locks)
		fputs("no lock", out);
	for (size_t k = 0; k < a->n_locks; k++) {
		lock_label(f, a->locks[k], lk, sizeof(lk));
		fprintf(out, "%s%s", k ? ", " : "", lk);
	}
	fputc('\n', out);
}

/* A data race (TSan-like: both accesses, newest first) or an atomicity violation (the
 * interleaving, then the check, the interfering write and the act). */
static void access_text(FILE *out, const struct lw_finding *f)
{
	fprintf(out, "  variable %s (0x%" PRIx64 ", %" PRIu64 " byte%s)\n", f->variable.name,
		f->variable.addr, f->variable.size, f->variable.size == 1 ? "" : "s");
	if (f->kind == LW_FIND_DATA_RACE && f->accesses.n == 2) {
		access_block(out, f, &f->accesses.v[1], "");
		access_block(out, f, &f->accesses.v[0], "previous ");
	} else {
		if (f->interleaving) {
			const char *s = f->interleaving, *e;

			fprintf(out, "\n  Interleaving (%s):\n\n", f->observed ? "seen in this run"
									 : "possible: not ordered by happens-before");
			while ((e = strstr(s, " ... ")) != NULL) {
				fprintf(out, "    %.*s\n", (int)(e - s), s);
				s = e + 5;
			}
			fprintf(out, "    %s\n", s);
		}
		for (size_t i = 0; i < f->accesses.n; i++) {
			const struct lw_faccess *a = &f->accesses.v[i];
			const char *r = a->role ? a->role : "";

			access_block(out, f, a, strcmp(r, "check") == 0 ? "check: " :
					 strcmp(r, "act") == 0 ? "act: " : "interfering ");
		}
		if (f->kind == LW_FIND_ATOMICITY)
			fputs("\n  Fix: make the check and the act one critical section (hold one lock "
			      "from the check through the act).\n", out);
	}
	if (f->variable.heap) {
		fprintf(out, "\n  the heap block of %" PRIu64 " byte%s at 0x%" PRIx64 " was allocated "
			"by thread ", f->variable.block_size, f->variable.block_size == 1 ? "" : "s",
			f->variable.block_addr);
		thread_label(out, f, f->variable.block_thread);
		fputs(" at:\n", out);
		stack_text(out, &f->variable.block_stack, "      ");
	}
	for (size_t i = 0; i < f->threads.n; i++)
		if (!f->threads.v[i].role && f->threads.v[i].parent) {
			fputc('\n', out);   /* threads_text follows */
			break;
		}
	threads_text(out, f);
}

static void finding_text(FILE *out, const struct lw_finding *f)
{
	fputs("lockwatch: ", out);
	sgr(out, f->severity == LW_SEV_ERROR ? LW_SGR_ERROR : LW_SGR_WARNING);
	fputs(f->severity == LW_SEV_ERROR ? "ERROR" : "WARNING", out);
	sgr_end(out);
	fprintf(out, ": %s: ", lw_finding_kind_name(f->kind));
	sgr(out, LW_SGR_BOLD);
	fputs(f->message, out);
	sgr_end(out);
	if (f->baseline) {
		fputc(' ', out);
		sgr(out, LW_SGR_NOTE);
		fputs("[in baseline]", out);
		sgr_end(out);
	}
	if (f->kind == LW_FIND_LOCK_ORDER_CYCLE || f->variable.name)
		fprintf(out, " (seen %" PRIu64 " time%s)", f->count, f->count == 1 ? "" : "s");
	fputc('\n', out);
	fprintf(out, "  in process %" PRId32 " (%s)\n", f->pid, f->exe[0] ? f->exe : "?");
	if (f->caught && !strstr(f->message, f->caught))   /* issue 20: also caught in the act */
		fprintf(out, "  %s\n", f->caught);
	if (f->path)                 /* a check-then-act on a file */
		path_text(out, f);
	else if (f->variable.name)   /* a data race or an atomicity violation on memory */
		access_text(out, f);
	else switch (f->kind) {
	case LW_FIND_LOCK_ORDER_CYCLE:
		cycle_text(out, f);
		break;
	case LW_FIND_DEADLOCK:
		deadlock_text(out, f);
		break;
	default:
		misuse_text(out, f);
		break;
	}
	if (f->severity == LW_SEV_WARNING && lw_reason_name(f->reason))
		fprintf(out, "\n  Not an error: %s: %s\n", lw_reason_name(f->reason),
			f->reason_text ? f->reason_text : "");
	fputc('\n', out);
}

void lw_render_text_styled(const struct lw_findings *fs, FILE *out,
			   const struct lw_text_style *st)
{
	size_t e = lw_findings_count(fs, LW_SEV_ERROR), w = lw_findings_count(fs, LW_SEV_WARNING);
	size_t known = 0;

	style = st ? st : &plain_style;
	for (size_t i = 0; i < fs->v.n; i++) {
		finding_text(out, fs->v.v[i]);
		known += fs->v.v[i]->baseline;
	}
	fputs("lockwatch: ", out);
	sgr(out, e ? LW_SGR_ERROR : LW_SGR_BOLD);
	fprintf(out, "%zu error%s, %zu warning%s", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s");
	sgr_end(out);
	fprintf(out, " in %zu process%s", fs->n_processes, fs->n_processes == 1 ? "" : "es");
	if (known)
		fprintf(out, ", %zu in the baseline", known);
	if (fs->n_suppressed)
		fprintf(out, ", %zu suppressed", fs->n_suppressed);
	fputc('\n', out);
	{
		/* Issue 20: how clean a clean report is. */
		char cov[1100];

		if (lw_watching_line(fs, cov, sizeof(cov)))
			fprintf(out, "lockwatch: %s\n", cov);
	}
	style = &plain_style;
	lw_source_lines_free();
}

void lw_render_text(const struct lw_findings *fs, FILE *out)
{
	lw_render_text_styled(fs, out, NULL);
}
