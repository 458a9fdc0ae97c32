/* Check-then-act on files: a thread checks a path, later creates it without O_EXCL, and
 * another thread or process can touch the same path in between. */
#include "detect/detect_path_races.h"
#include "detect/findings.h"
#include "detect/happens_before.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The rule.  For every path (compared after lexical normalisation: "//", "/./" and "x/.."
 * folded, symbolic links not followed), a *window* is a CHECK (access, stat, ...) by a thread
 * followed by a CREATE (open/creat with O_CREAT, without O_EXCL) of that path by the same
 * thread, with no other call of that thread on the path in between.  The window is an
 * atomicity violation when another thread (or process) makes a call on the path that
 * changes what the create does (interferes(): a create when the check found nothing, a
 * removal or replacement when it found the path) and that can run between the two ends of
 * the window:
 *
 *   - The other call is concurrent unless it happens before the check, after the create, or
 *     between the two in every run (lw_hb_event_before: program order, thread create and join, and between processes
 *     fork/vfork/posix_spawn, exec and the wait that reaped a child).  Thread locks (mutexes)
 *     are not taken into account: a lock around both the check and the create would make
 *     them atomic, but the default recording level does not keep releases, and a mutex that
 *     serialises file creation is rare next to O_EXCL.
 *   - Traces of different runs (sessions) are never concurrent.
 *   - File locks (fcntl, lockf, flock) are: a window is *protected* when the check, the
 *     create and the interfering call were all made while their processes held a lock on
 *     one common file, the way a gate lock makes a lock-order cycle safe.  Each PATH record
 *     carries the OR of the signatures of the files its process held locked (flocks), and
 *     each process names every file it locked once (an LW_PATH_LOCK record with the file's
 *     path and signature); the common file is one that the check's and the interferer's
 *     processes both named, whose signature lies in all three records' flocks.  Modes and
 *     byte ranges are not compared: SQLite checks for its journal under a shared lock on
 *     the database and creates it under a reserved one; what is trusted is that the
 *     program coordinates these calls through its file-lock protocol.  Threads of one
 *     process count too, POSIX locks being the process's (SQLite counts its connections'
 *     locks in the process), so a lock a process holds all its life (a pid file's) makes its
 *     threads' windows protected: the known blind spot.  A path whose racy windows are all
 *     protected is a warning (reason file-lock) naming the file; one unprotected window
 *     makes it an error, as before.
 *
 * One finding per path, with the first window found and its interfering call; count says
 * how many windows were racy.  O_CREAT|O_EXCL (LW_PATH_CREATE_EXCL) never opens a window:
 * it is the fix.
 */

/* Windows examined per path, at most: a program that checks and creates one path in a loop
 * is reported as soon as that is clear, without a quadratic walk over all its calls. */
#define LW_PATH_WINDOWS_MAX 4096

struct path_ev {
	const struct lw_path_event *e;
	char *norm;                  /* normalised path, owned */
};

/* A file some process locked (an LW_PATH_LOCK record). */
struct locked_file {
	uint32_t proc;
	uint32_t sig;
	char *norm;                  /* normalised path, owned */
};

struct locked_files {
	size_t n;
	struct locked_file *v;
};

/* The path of a file that the processes of check c and interferer o both locked and whose
 * signature is in the flocks of c, create a and o; NULL when there is none. */
static const char *common_file_lock(const struct locked_files *lf,
				    const struct lw_path_event *c, const struct lw_path_event *a,
				    const struct lw_path_event *o)
{
	uint32_t held = c->flocks & a->flocks & o->flocks;

	if (!held)
		return NULL;
	for (size_t i = 0; i < lf->n; i++) {
		const struct locked_file *x = &lf->v[i];

		if (x->proc != c->proc || (x->sig & held) != x->sig)
			continue;
		for (size_t k = 0; k < lf->n; k++)
			if (lf->v[k].proc == o->proc && lf->v[k].sig == x->sig &&
			    !strcmp(lf->v[k].norm, x->norm))
				return x->norm;
	}
	return NULL;
}

/* Folds "//", "/./" and "dir/.." in place.  Leaves relative paths relative, and an empty
 * path (a PATH record of length 0) empty: "." would not fit in its one-byte buffer. */
static void normalise(char *p)
{
	bool abs = p[0] == '/';
	char *out = p, *in = p;
	size_t depth = 0;            /* components written that ".." may remove */

	if (!*p)
		return;

	if (abs)
		*out++ = *in++;
	while (*in) {
		char *end = in;

		while (*end && *end != '/')
			end++;
		size_t n = (size_t)(end - in);

		if (n == 0 || (n == 1 && in[0] == '.')) {
			/* skip */
		} else if (n == 2 && in[0] == '.' && in[1] == '.' && (depth || abs)) {
			if (depth) {
				/* Remove the last component written, then its '/'. */
				while (out > p + abs && out[-1] != '/')
					out--;
				if (out > p + abs)
					out--;
				depth--;
			}
			/* "/.." is "/" */
		} else {
			if (out > p + abs && out[-1] != '/')
				*out++ = '/';
			memmove(out, in, n);
			out += n;
			if (!(n == 2 && in[0] == '.' && in[1] == '.'))
				depth++;
		}
		in = *end ? end + 1 : end;
	}
	if (out > p + abs && out[-1] == '/')
		out--;
	if (out == p)
		*out++ = '.';
	*out = '\0';
}

static int ev_cmp(const void *a, const void *b)
{
	const struct path_ev *x = a, *y = b;
	int c = strcmp(x->norm, y->norm);

	if (c)
		return c;
	if (x->e->proc != y->e->proc)
		return x->e->proc < y->e->proc ? -1 : 1;
	if (x->e->tid != y->e->tid)
		return x->e->tid < y->e->tid ? -1 : 1;
	return x->e->seq < y->e->seq ? -1 : x->e->seq > y->e->seq;
}

/* True if the order of event o against the window of check c and create a (same thread)
 * can differ from run to run: o does not happen before the check, nor after the create, nor
 * between the two in every run (after the check and before the create through create, join,
 * fork or wait: then the program itself puts it there, and the check's outcome is no
 * accident of scheduling). */
static bool concurrent(struct lw_model *m, const struct lw_proc_order *po,
		       const struct lw_path_event *c, const struct lw_path_event *a,
		       const struct lw_path_event *o)
{
	if (m->procs.v[o->proc].hdr.session != m->procs.v[a->proc].hdr.session)
		return false;
	if (o->proc == a->proc && o->tid == a->tid)
		return false;
	if (lw_hb_event_before(m, po, o->proc, o->tid, o->seq, c->proc, c->tid, c->seq) ||
	    lw_hb_event_before(m, po, a->proc, a->tid, a->seq, o->proc, o->tid, o->seq))
		return false;
	return !(lw_hb_event_before(m, po, c->proc, c->tid, c->seq, o->proc, o->tid, o->seq) &&
		 lw_hb_event_before(m, po, o->proc, o->tid, o->seq, a->proc, a->tid, a->seq));
}

/* Whether call o, landing between check c and a create without O_EXCL, changes what that
 * create does.  A check that found nothing expects to make a new file: a create or a rename
 * onto the path in between makes the create open (and with O_TRUNC, clobber) someone else's
 * file.  A check that found the path expects an existing file, so the create is a plain
 * open: only a removal or replacement in between (unlink, a rename away or onto) makes it
 * create a new empty file or open another one.  A mere check changes nothing.  Whether o
 * failed in this run does not matter: in another interleaving it can succeed. */
static bool interferes(const struct lw_path_event *c, const struct lw_path_event *o)
{
	if (c->result < 0)
		return o->op == LW_PATH_CREATE || o->op == LW_PATH_CREATE_EXCL ||
		       o->op == LW_PATH_RENAME_TO;
	return o->op == LW_PATH_UNLINK || o->op == LW_PATH_RENAME_FROM ||
	       o->op == LW_PATH_RENAME_TO;
}

static const char *op_verb(uint16_t op)
{
	switch (op) {
	case LW_PATH_CHECK:       return "check";
	case LW_PATH_CREATE:      return "create";
	case LW_PATH_CREATE_EXCL: return "create (O_EXCL)";
	case LW_PATH_UNLINK:      return "remove";
	case LW_PATH_RENAME_FROM: return "rename away";
	case LW_PATH_RENAME_TO:   return "rename a file onto";
	default:                  return "use";
	}
}

/* "T3" or "T1 of process 1234". */
static void who(const struct lw_model *m, const struct lw_path_event *e,
		const struct lw_path_event *ref, char *buf, size_t len)
{
	if (e->proc == ref->proc)
		snprintf(buf, len, "T%" PRIu32, e->tid);
	else
		snprintf(buf, len, "T%" PRIu32 " of process %" PRId32, e->tid,
			 m->procs.v[e->proc].hdr.pid);
}

static void add_role(struct lw_finding *f, struct lw_model *m, const struct lw_path_event *e,
		     const char *role)
{
	struct lw_fthread *ft = lw_finding_thread(f, m, e->proc, e->tid);

	ft->role = lw_xstrdup(role);
	ft->stack = lw_finding_stack(m, e->proc, e->stack);
}

/* Reports the window of check c and create a with interferer o; lock_file: the file
 * whose locks serialise them all (then a warning), or NULL (an error). */
static void report(struct lw_model *m, struct lw_findings *fs, const char *path,
		   const struct lw_path_event *c, const struct lw_path_event *a,
		   const struct lw_path_event *o, uint64_t count, const char *lock_file)
{
	struct lw_finding *f = lw_finding_new(fs, LW_FIND_ATOMICITY,
					      lock_file ? LW_SEV_WARNING : LW_SEV_ERROR, m,
					      a->proc);
	char other[64];

	who(m, o, a, other, sizeof(other));
	f->path = lw_xstrdup(path);
	f->count = count;
	if (c->result < 0)
		f->message = lw_xasprintf("thread T%" PRIu32 " checks %s and later creates it "
					  "without O_EXCL; thread %s can %s it in between", a->tid,
					  path, other, op_verb(o->op));
	else
		f->message = lw_xasprintf("thread T%" PRIu32 " finds %s and later opens it with "
					  "O_CREAT; thread %s can %s it in between, and the open "
					  "then makes a new file", a->tid, path, other,
					  op_verb(o->op));
	if (lock_file) {
		f->reason = LW_REASON_FILE_LOCK;
		f->reason_text = lw_xasprintf("the check, the create and every call that could "
					      "come in between were made while their processes "
					      "held a file lock (fcntl, lockf or flock) on %s, "
					      "which serialises them", lock_file);
	}
	add_role(f, m, c, "check");
	add_role(f, m, a, "create");
	add_role(f, m, o, "interferer");
}

void lw_detect_path_races(struct lw_model *m, struct lw_findings *fs)
{
	size_t n = 0;
	struct path_ev *ev;
	struct locked_files lf = { 0, NULL };
	struct lw_proc_order *po = NULL;

	for (size_t i = 0; i < m->paths.n; i++)
		if (m->paths.v[i].op == LW_PATH_LOCK)
			lf.n++;
	if (lf.n == m->paths.n)
		return;
	ev = lw_xcalloc(m->paths.n - lf.n, sizeof(*ev));
	lf.v = lf.n ? lw_xcalloc(lf.n, sizeof(*lf.v)) : NULL;
	lf.n = 0;
	for (size_t i = 0; i < m->paths.n; i++) {
		const struct lw_path_event *e = &m->paths.v[i];
		char *norm = lw_xstrdup(e->path);

		normalise(norm);
		if (e->op == LW_PATH_LOCK)
			lf.v[lf.n++] = (struct locked_file){ .proc = e->proc, .sig = e->flocks,
							     .norm = norm };
		else
			ev[n++] = (struct path_ev){ .e = e, .norm = norm };
	}
	qsort(ev, n, sizeof(*ev), ev_cmp);
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		/* The first racy window and its interferer, unprotected (fo) and protected by
		 * file locks (po_*), with the file. */
		const struct lw_path_event *fc = NULL, *fa = NULL, *fo = NULL;
		const struct lw_path_event *pc = NULL, *pa = NULL, *pi = NULL;
		const char *pfile = NULL;
		uint64_t count = 0, protected_count = 0, windows = 0;

		for (hi = lo; hi < n && strcmp(ev[hi].norm, ev[lo].norm) == 0; hi++)
			;
		if (!po)
			po = lw_proc_order_new(m);
		/* Windows: a CREATE whose previous call by the same thread is a CHECK. */
		for (size_t i = lo + 1; i < hi; i++) {
			const struct lw_path_event *a = ev[i].e, *c = ev[i - 1].e, *best = NULL;
			const struct lw_path_event *guarded = NULL;
			const char *file = NULL;

			if (a->op != LW_PATH_CREATE || c->op != LW_PATH_CHECK || c->proc != a->proc ||
			    c->tid != a->tid)
				continue;
			if (++windows > LW_PATH_WINDOWS_MAX)
				break;          /* count is then a lower bound */
			for (size_t k = lo; k < hi && !best; k++) {
				const struct lw_path_event *o = ev[k].e;
				const char *lock_file;

				if (!interferes(c, o) || !concurrent(m, po, c, a, o))
					continue;
				lock_file = common_file_lock(&lf, c, a, o);
				if (!lock_file)
					best = o;
				else if (!guarded) {
					guarded = o;
					file = lock_file;
				}
			}
			if (best) {
				count++;
				if (!fo) {
					fc = c;
					fa = a;
					fo = best;
				}
			} else if (guarded) {
				protected_count++;
				if (!pi) {
					pc = c;
					pa = a;
					pi = guarded;
					pfile = file;
				}
			}
		}
		if (fo)
			report(m, fs, ev[lo].norm, fc, fa, fo, count, NULL);
		else if (pi)
			report(m, fs, ev[lo].norm, pc, pa, pi, protected_count, pfile);
	}
	for (size_t i = 0; i < n; i++)
		free(ev[i].norm);
	for (size_t i = 0; i < lf.n; i++)
		free(lf.v[i].norm);
	free(ev);
	free(lf.v);
	lw_proc_order_free(po);
}
