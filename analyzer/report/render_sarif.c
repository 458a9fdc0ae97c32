/* The SARIF 2.1.0 report: for code-scanning services (GitHub, Azure DevOps, IDE viewers). */
#include "report/fingerprint.h"
#include "report/json_writer.h"
#include "report/render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LW_VERSION
#define LW_VERSION "0.1.0"
#endif

#define SARIF_SCHEMA \
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
/* The key of lockwatch's fingerprint in partialFingerprints (also read by --baseline). */
#define FP_KEY "lockwatch/v1"

struct rule {
	enum lw_finding_kind kind;
	const char *name, *short_text, *full_text, *help;
	enum lw_severity level;
};

/* One rule per finding kind, in enum order, so ruleIndex is the kind. */
static const struct rule rules[] = {
	{ LW_FIND_LOCK_ORDER_CYCLE, "LockOrderCycle",
	  "Locks taken in orders that can deadlock.",
	  "Threads take the same locks in different orders: a cycle in the lock-order graph. "
	  "When they run at the same time, each can hold one lock of the cycle while it waits "
	  "for the next, and the program hangs. It is an error when the acquisitions come from "
	  "threads that can run concurrently, no common gate lock is held across them and every "
	  "closing acquisition blocks; otherwise a warning that says why it cannot deadlock.",
	  "Take the locks in one global order everywhere (by a documented rank, or by address "
	  "for locks of one kind), or take the inner locks under a single outer lock, or make "
	  "the closing acquisition a trylock that backs off and retries. The code flow shows "
	  "each thread's two acquisitions in the order that deadlocks.",
	  LW_SEV_ERROR },
	{ LW_FIND_DEADLOCK, "ObservedDeadlock",
	  "A deadlock happened during the run.",
	  "The threads shown waited for each other (or every live thread was blocked) while "
	  "the program ran under lockwatch: each holds what the next one waits for.",
	  "Break the cycle of waits: take the locks in one global order, do not wait for a "
	  "thread (join, condition variable) while holding a lock it needs, and make sure "
	  "every wait has someone who will post or signal.",
	  LW_SEV_ERROR },
	{ LW_FIND_DATA_RACE, "DataRace",
	  "Two threads access a variable without synchronisation.",
	  "Two accesses to the same variable, at least one of them a write, from threads that "
	  "are not ordered by any lock, join, condition variable or other happens-before "
	  "relation. The result depends on timing and the compiler may assume it never "
	  "happens.",
	  "Protect every access to the variable with the same lock, or make it atomic "
	  "(C11 _Atomic / stdatomic.h) when a single access is the whole operation.",
	  LW_SEV_ERROR },
	{ LW_FIND_ATOMICITY, "AtomicityViolation",
	  "A check and the action that depends on it are not atomic.",
	  "A thread reads a variable and later acts on what it read (writes it, or reads it "
	  "again), but the two accesses are not inside one critical section, and another "
	  "thread's write fell, or could fall, between them (check-then-act).",
	  "Do the check and the action inside one critical section, or use a compare-and-swap "
	  "loop, so that no other thread can change the variable between them.",
	  LW_SEV_ERROR },
	{ LW_FIND_MISUSE, "PthreadMisuse",
	  "The pthread API was used in a way it does not allow.",
	  "A use of the pthread API with undefined or surprising behaviour: unlocking a lock "
	  "that is not held or that another thread holds, relocking a non-recursive mutex, "
	  "destroying a held lock, ending a thread while it holds a lock, or using one "
	  "condition variable with two mutexes.",
	  "Fix the call shown: pair every lock with an unlock in the same thread, destroy "
	  "locks only when no thread can use them, and give each condition variable one "
	  "mutex.",
	  LW_SEV_ERROR },
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

struct sarif {
	struct lw_json j;
	char          *cwd;          /* with a trailing '/', NULL if unknown */
};

static void kv(struct lw_json *j, const char *key, const char *value)
{
	lw_json_key(j, key);
	lw_json_string(j, value);
}

static void text_object(struct lw_json *j, const char *key, const char *text)
{
	lw_json_key(j, key);
	lw_json_begin_object(j);
	kv(j, "text", text);
	lw_json_end_object(j);
}

/* Percent-encodes what RFC 3986 does not allow in a path. */
static char *uri_path(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = lw_xmalloc(strlen(path) * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/!$&'()*+,;=@", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* artifactLocation of a source file: relative to %SRCROOT% (the directory lockwatch ran in)
 * when it is relative or below it, else an absolute file: URI. */
static void artifact(struct sarif *s, const char *file)
{
	struct lw_json *j = &s->j;
	size_t cl = s->cwd ? strlen(s->cwd) : 0;
	char *u;

	while (file[0] == '.' && file[1] == '/')
		file += 2;
	lw_json_key(j, "artifactLocation");
	lw_json_begin_object(j);
	if (file[0] == '/' && !(cl && strncmp(file, s->cwd, cl) == 0)) {
		char *p = uri_path(file);

		u = lw_xasprintf("file://%s", p);
		free(p);
		kv(j, "uri", u);
	} else {
		u = uri_path(file[0] == '/' ? file + cl : file);
		kv(j, "uri", u);
		kv(j, "uriBaseId", "%SRCROOT%");
	}
	free(u);
	lw_json_end_object(j);
}

/* A location object for a frame, with message (may be NULL) and id (-1: none).  A frame
 * without a file gets only its function as a logical location. */
static void location(struct sarif *s, const struct lw_frame *fr, const char *message, int id)
{
	struct lw_json *j = &s->j;

	lw_json_begin_object(j);
	if (id >= 0) {
		lw_json_key(j, "id");
		lw_json_int(j, id);
	}
	if (fr->file && fr->line > 0) {
		lw_json_key(j, "physicalLocation");
		lw_json_begin_object(j);
		artifact(s, fr->file);
		lw_json_key(j, "region");
		lw_json_begin_object(j);
		lw_json_key(j, "startLine");
		lw_json_int(j, fr->line);
		lw_json_end_object(j);
		lw_json_end_object(j);
	}
	if (fr->function || fr->module) {
		char buf[1024];

		lw_json_key(j, "logicalLocations");
		lw_json_begin_array(j);
		lw_json_begin_object(j);
		if (fr->function) {
			kv(j, "name", fr->function);
			kv(j, "kind", "function");
		} else {
			snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, fr->module, fr->module_offset);
			kv(j, "name", buf);
			kv(j, "kind", "module");
		}
		lw_json_end_object(j);
		lw_json_end_array(j);
	}
	if (message)
		text_object(j, "message", message);
	lw_json_end_object(j);
}

/* The frame a stack is reported at: its innermost frame with a source line, else its
 * innermost frame; NULL for an empty stack. */
static const struct lw_frame *site(const struct lw_fstack *st)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->frames[i].file && st->frames[i].line > 0)
			return &st->frames[i];
	return st->n ? &st->frames[0] : NULL;
}

static void stack_object(struct sarif *s, const struct lw_fstack *st, const char *message)
{
	struct lw_json *j = &s->j;

	lw_json_key(j, "stack");
	lw_json_begin_object(j);
	text_object(j, "message", message);
	lw_json_key(j, "frames");
	lw_json_begin_array(j);
	for (size_t i = 0; i < st->n; i++) {
		lw_json_begin_object(j);
		lw_json_key(j, "location");
		location(s, &st->frames[i], NULL, -1);
		lw_json_end_object(j);
	}
	lw_json_end_array(j);
	lw_json_end_object(j);
}

/* A threadFlowLocation: what happened at stack st, in execution order `order` (0: none). */
static void flow_step(struct sarif *s, const struct lw_fstack *st, const char *message,
		      int order, bool danger)
{
	struct lw_json *j = &s->j;
	const struct lw_frame *fr = site(st);
	static const struct lw_frame unknown = { 0 };

	lw_json_begin_object(j);
	lw_json_key(j, "location");
	location(s, fr ? fr : &unknown, message, -1);
	if (st->n)
		stack_object(s, st, message);
	lw_json_key(j, "kinds");
	lw_json_begin_array(j);
	lw_json_string(j, "acquire");
	lw_json_string(j, "lock");
	if (danger)
		lw_json_string(j, "danger");
	lw_json_end_array(j);
	if (order > 0) {
		lw_json_key(j, "executionOrder");
		lw_json_int(j, order);
	}
	kv(j, "importance", "essential");
	lw_json_end_object(j);
}

static const char *lock_name(const struct lw_finding *f, size_t i, char *buf, size_t len)
{
	const struct lw_flock *l = &f->locks.v[i];

	if (l->show_addr)
		snprintf(buf, len, "%s [0x%" PRIx64 "]", l->name, l->addr);
	else
		snprintf(buf, len, "%s", l->name);
	return buf;
}

static void begin_thread_flow(struct lw_json *j, uint32_t tid)
{
	char buf[64];

	lw_json_begin_object(j);
	snprintf(buf, sizeof(buf), "T%" PRIu32, tid);
	kv(j, "id", buf);
	snprintf(buf, sizeof(buf), "thread T%" PRIu32, tid);
	text_object(j, "message", buf);
	lw_json_key(j, "locations");
	lw_json_begin_array(j);
}

static void end_thread_flow(struct lw_json *j)
{
	lw_json_end_array(j);
	lw_json_end_object(j);
}

/* A cycle: one thread flow per edge, numbered as in the text report's scenario. */
static void cycle_flows(struct sarif *s, const struct lw_finding *f)
{
	struct lw_json *j = &s->j;
	size_t n = f->edges.n;
	char a[700], b[700], msg[1600];

	for (size_t i = 0; i < n; i++) {
		const struct lw_fedge *e = &f->edges.v[i];

		begin_thread_flow(j, e->thread);
		snprintf(msg, sizeof(msg), "T%" PRIu32 ": lock(%s)", e->thread,
			 lock_name(f, e->from, a, sizeof(a)));
		flow_step(s, &e->from_stack, msg, (int)i + 1, false);
		snprintf(msg, sizeof(msg), "T%" PRIu32 ": lock(%s) while holding %s%s", e->thread,
			 lock_name(f, e->to, a, sizeof(a)), lock_name(f, e->from, b, sizeof(b)),
			 f->severity == LW_SEV_ERROR ? ": waits forever" : "");
		flow_step(s, &e->to_stack, msg, (int)(n + i) + 1, f->severity == LW_SEV_ERROR);
		end_thread_flow(j);
	}
}

/* Other kinds: one thread flow per thread with a stack (held locks first for deadlocks). */
static void thread_flows(struct sarif *s, const struct lw_finding *f)
{
	struct lw_json *j = &s->j;
	char a[700], msg[1600];

	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		if (!t->stack.n && !t->n_held)
			continue;
		begin_thread_flow(j, t->tid);
		for (size_t k = 0; k < t->n_held; k++) {
			snprintf(msg, sizeof(msg), "T%" PRIu32 " holds %s", t->tid,
				 lock_name(f, t->held[k].lock, a, sizeof(a)));
			flow_step(s, &t->held[k].stack, msg, 0, false);
		}
		if (t->stack.n) {
			if (t->waiting_for)
				snprintf(msg, sizeof(msg), "T%" PRIu32 " waits for %s", t->tid,
					 t->waiting_for);
			else
				snprintf(msg, sizeof(msg), "T%" PRIu32 "%s%s", t->tid,
					 t->role ? ": " : "", t->role ? t->role : "");
			flow_step(s, &t->stack, msg, 0, f->kind == LW_FIND_DEADLOCK);
		}
		end_thread_flow(j);
	}
}

/* Races and atomicity violations: one thread flow per access, in their order. */
static void access_flows(struct sarif *s, const struct lw_finding *f)
{
	struct lw_json *j = &s->j;
	char msg[1600];

	for (size_t i = 0; i < f->accesses.n; i++) {
		const struct lw_faccess *a = &f->accesses.v[i];

		begin_thread_flow(j, a->thread);
		snprintf(msg, sizeof(msg), "T%" PRIu32 ": %s%s%s %s", a->thread,
			 a->role ? a->role : "", a->role ? ": " : "", a->write ? "write" : "read",
			 f->variable.name ? f->variable.name : f->path ? f->path : "");
		flow_step(s, &a->stack, msg, (int)i + 1, false);
		end_thread_flow(j);
	}
}

/* The stack a finding is reported at: a cycle's closing acquisition, a race's or an
 * atomicity violation's last access (the racy access, the act), else the first thread's
 * stack; NULL when none has frames. */
static const struct lw_fstack *primary_stack(const struct lw_finding *f)
{
	for (size_t i = f->accesses.n; i-- > 0;)
		if (f->accesses.v[i].stack.n)
			return &f->accesses.v[i].stack;
	if (f->edges.n && f->edges.v[f->edges.n - 1].to_stack.n)
		return &f->edges.v[f->edges.n - 1].to_stack;
	for (size_t i = 0; i < f->edges.n; i++)
		if (f->edges.v[i].to_stack.n)
			return &f->edges.v[i].to_stack;
	for (size_t i = 0; i < f->threads.n; i++)
		if (f->threads.v[i].stack.n)
			return &f->threads.v[i].stack;
	return NULL;
}

static void related(struct sarif *s, const struct lw_finding *f, const struct lw_fstack *primary)
{
	struct lw_json *j = &s->j;
	char a[700], b[700], msg[1600];
	int id = 1;

	lw_json_key(j, "relatedLocations");
	lw_json_begin_array(j);
	for (size_t i = 0; i < f->edges.n; i++) {
		const struct lw_fedge *e = &f->edges.v[i];

		if (e->from_stack.n) {
			snprintf(msg, sizeof(msg), "thread T%" PRIu32 " acquired %s here", e->thread,
				 lock_name(f, e->from, a, sizeof(a)));
			location(s, site(&e->from_stack), msg, id++);
		}
		if (e->to_stack.n && &e->to_stack != primary) {
			snprintf(msg, sizeof(msg), "thread T%" PRIu32 " acquired %s here while "
				 "holding %s", e->thread, lock_name(f, e->to, a, sizeof(a)),
				 lock_name(f, e->from, b, sizeof(b)));
			location(s, site(&e->to_stack), msg, id++);
		}
	}
	for (size_t i = 0; i < f->accesses.n; i++) {
		const struct lw_faccess *ac = &f->accesses.v[i];

		if (!ac->stack.n || &ac->stack == primary)
			continue;
		snprintf(msg, sizeof(msg), "thread T%" PRIu32 " %s%s%s %s here", ac->thread,
			 ac->role ? "(" : "", ac->role ? ac->role : "", ac->role ? ")" : "",
			 ac->write ? "writes" : "reads");
		location(s, site(&ac->stack), msg, id++);
	}
	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		for (size_t k = 0; k < t->n_held; k++)
			if (t->held[k].stack.n) {
				snprintf(msg, sizeof(msg), "thread T%" PRIu32 " acquired %s here",
					 t->tid, lock_name(f, t->held[k].lock, a, sizeof(a)));
				location(s, site(&t->held[k].stack), msg, id++);
			}
		if (t->stack.n && &t->stack != primary) {
			snprintf(msg, sizeof(msg), "thread T%" PRIu32 "%s%s", t->tid,
				 t->role ? ": " : " here", t->role ? t->role : "");
			location(s, site(&t->stack), msg, id++);
		}
	}
	lw_json_end_array(j);
}

/* Whether f has a thread flow to show (SARIF wants at least one location in each). */
static bool has_flows(const struct lw_finding *f)
{
	if (f->kind == LW_FIND_LOCK_ORDER_CYCLE)
		return f->edges.n > 0;
	if (f->accesses.n)
		return true;
	for (size_t i = 0; i < f->threads.n; i++)
		if (f->threads.v[i].stack.n || f->threads.v[i].n_held)
			return true;
	return false;
}

static void result(struct sarif *s, const struct lw_finding *f, bool baseline_given)
{
	struct lw_json *j = &s->j;
	const struct lw_fstack *primary = primary_stack(f);
	char fp[LW_FINGERPRINT_LEN], *msg;

	lw_json_begin_object(j);
	kv(j, "ruleId", lw_finding_kind_name(f->kind));
	for (size_t i = 0; i < N_RULES; i++)
		if (rules[i].kind == f->kind) {
			lw_json_key(j, "ruleIndex");
			lw_json_int(j, (int64_t)i);
		}
	kv(j, "level", f->severity == LW_SEV_ERROR ? "error" : "warning");
	if (f->severity == LW_SEV_WARNING && f->reason_text)
		msg = lw_xasprintf("%s: %s (not an error: %s)", lw_finding_kind_name(f->kind),
				   f->message, f->reason_text);
	else
		msg = lw_xasprintf("%s: %s", lw_finding_kind_name(f->kind), f->message);
	text_object(j, "message", msg);
	free(msg);
	lw_json_key(j, "locations");
	lw_json_begin_array(j);
	if (primary)
		location(s, site(primary), NULL, -1);
	lw_json_end_array(j);
	related(s, f, primary);
	if (has_flows(f)) {
		lw_json_key(j, "codeFlows");
		lw_json_begin_array(j);
		lw_json_begin_object(j);
		text_object(j, "message", f->kind == LW_FIND_LOCK_ORDER_CYCLE
				? (f->severity == LW_SEV_ERROR ? "how the threads deadlock"
							       : "the lock orders of the cycle")
				: "what each thread did");
		lw_json_key(j, "threadFlows");
		lw_json_begin_array(j);
		if (f->kind == LW_FIND_LOCK_ORDER_CYCLE)
			cycle_flows(s, f);
		else if (f->accesses.n)
			access_flows(s, f);
		else
			thread_flows(s, f);
		lw_json_end_array(j);
		lw_json_end_object(j);
		lw_json_end_array(j);
	}
	lw_finding_fingerprint(f, fp);
	lw_json_key(j, "partialFingerprints");
	lw_json_begin_object(j);
	kv(j, FP_KEY, fp);
	lw_json_end_object(j);
	if (baseline_given)
		kv(j, "baselineState", f->baseline ? "unchanged" : "new");
	lw_json_key(j, "properties");
	lw_json_begin_object(j);
	lw_json_key(j, "count");
	lw_json_int(j, (int64_t)f->count);
	lw_json_key(j, "locks");
	lw_json_begin_array(j);
	for (size_t i = 0; i < f->locks.n; i++)
		lw_json_string(j, f->locks.v[i].name);
	lw_json_end_array(j);
	if (f->severity == LW_SEV_WARNING && lw_reason_name(f->reason))
		kv(j, "reason", lw_reason_name(f->reason));
	lw_json_key(j, "pid");
	lw_json_int(j, f->pid);
	kv(j, "exe", f->exe);
	if (f->caught) {             /* issue 20: the collider caught it in the act */
		lw_json_key(j, "caughtInTheAct");
		lw_json_bool(j, true);
	}
	lw_json_end_object(j);
	lw_json_end_object(j);
}

static void rule(struct lw_json *j, const struct rule *r)
{
	char *md;

	lw_json_begin_object(j);
	kv(j, "id", lw_finding_kind_name(r->kind));
	kv(j, "name", r->name);
	text_object(j, "shortDescription", r->short_text);
	text_object(j, "fullDescription", r->full_text);
	lw_json_key(j, "help");
	lw_json_begin_object(j);
	kv(j, "text", r->help);
	md = lw_xasprintf("**%s**\n\n%s\n\n%s", r->short_text, r->full_text, r->help);
	kv(j, "markdown", md);
	free(md);
	lw_json_end_object(j);
	lw_json_key(j, "defaultConfiguration");
	lw_json_begin_object(j);
	kv(j, "level", r->level == LW_SEV_ERROR ? "error" : "warning");
	lw_json_end_object(j);
	lw_json_key(j, "properties");
	lw_json_begin_object(j);
	lw_json_key(j, "tags");
	lw_json_begin_array(j);
	lw_json_string(j, "concurrency");
	lw_json_string(j, "reliability");
	lw_json_end_array(j);
	kv(j, "precision", "high");
	kv(j, "problem.severity", r->level == LW_SEV_ERROR ? "error" : "warning");
	lw_json_end_object(j);
	lw_json_end_object(j);
}

void lw_render_sarif(const struct lw_findings *fs, FILE *out, bool baseline_given)
{
	struct sarif s = { 0 };
	struct lw_json *j = &s.j;
	char *cwd = getcwd(NULL, 0);

	if (cwd && cwd[0] == '/')
		s.cwd = lw_xasprintf("%s%s", cwd, cwd[1] ? "/" : "");
	free(cwd);
	lw_json_init(j, out);
	lw_json_begin_object(j);
	kv(j, "$schema", SARIF_SCHEMA);
	kv(j, "version", "2.1.0");
	lw_json_key(j, "runs");
	lw_json_begin_array(j);
	lw_json_begin_object(j);
	lw_json_key(j, "tool");
	lw_json_begin_object(j);
	lw_json_key(j, "driver");
	lw_json_begin_object(j);
	kv(j, "name", "lockwatch");
	kv(j, "version", LW_VERSION);
	kv(j, "semanticVersion", LW_VERSION);
	text_object(j, "shortDescription", "Finds deadlocks and races in pthread programs "
		    "without recompiling them.");
	lw_json_key(j, "rules");
	lw_json_begin_array(j);
	for (size_t i = 0; i < N_RULES; i++)
		rule(j, &rules[i]);
	lw_json_end_array(j);
	lw_json_end_object(j);
	lw_json_end_object(j);
	if (s.cwd) {
		char *p = uri_path(s.cwd), *u = lw_xasprintf("file://%s", p);

		/* Relative source paths (as the compiler recorded them) are taken to be
		 * relative to the directory lockwatch runs in: the build's root in CI. */
		lw_json_key(j, "originalUriBaseIds");
		lw_json_begin_object(j);
		lw_json_key(j, "%SRCROOT%");
		lw_json_begin_object(j);
		kv(j, "uri", u);
		lw_json_end_object(j);
		lw_json_end_object(j);
		free(p);
		free(u);
	}
	lw_json_key(j, "columnKind");
	lw_json_string(j, "utf16CodeUnits");
	lw_json_key(j, "results");
	lw_json_begin_array(j);
	for (size_t i = 0; i < fs->v.n; i++)
		result(&s, fs->v.v[i], baseline_given);
	lw_json_end_array(j);
	{
		/* Issue 20: automatic watching's coverage, in the run's property bag. */
		char line[1100];

		if (lw_watching_line(fs, line, sizeof(line))) {
			lw_json_key(j, "properties");
			lw_json_begin_object(j);
			lw_json_key(j, "lockwatch.coverage");
			lw_json_string(j, line);
			lw_json_end_object(j);
		}
	}
	lw_json_end_object(j);
	lw_json_end_array(j);
	lw_json_end_object(j);
	fputc('\n', out);
	free(s.cwd);
}
