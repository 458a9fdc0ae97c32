/* Check-then-act on files: a thread checks a path, later creates it without O_EXCL, and
 * another thread or process can touch the same path in between. */
#include "detect/detect_path_races.h"
#include "detect/findings.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The rule.  For every path (compared after lexical normalisation: "//", "/./" and "x/.."
 * folded, symbolic links not followed), a *window* is a CHECK (access, stat, ...) by a thread
 * followed by a CREATE (open/creat with O_CREAT, without O_EXCL) of that path by the same
 * thread, with no other call of that thread on the path in between.  The window is an
 * atomicity violation when another thread (or process) calls anything on the path that can
 * run between the two ends of the window:
 *
 *   - Threads of one process: the other call is concurrent unless it happens before the
 *     check or after the create through thread creation and join (an event-level walk over
 *     create and join edges; locks are not taken into account: a lock around both the check
 *     and the create would make them atomic, but the default recording level does not keep
 *     releases, and a lock that serialises file creation is rare next to O_EXCL).
 *   - Processes of one run (same session): always concurrent.  The default recording level
 *     keeps no fork position in the parent and waitpid is not interposed, so no order between
 *     processes is known.  Traces of different runs are never concurrent.
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

/* Folds "//", "/./" and "dir/.." in place.  Leaves relative paths relative. */
static void normalise(char *p)
{
	bool abs = p[0] == '/';
	char *out = p, *in = p;
	size_t depth = 0;            /* components written that ".." may remove */

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

/*
 * True if event (a, sa) happens before (b, sb) in one process through program order,
 * thread creation and join: from a's position, walk to the threads created later by the
 * same thread (and, transitively, their creations), and to whoever joins a thread reached.
 */
static bool hb_event(struct lw_model *m, uint32_t proc, uint32_t a, uint64_t sa, uint32_t b,
		     uint64_t sb)
{
	const struct lw_process *p = &m->procs.v[proc];
	struct item { uint32_t tid; uint64_t from; };
	LW_VEC(struct item) work = { 0 };
	uint64_t *best = lw_xcalloc(p->threads.n, sizeof(*best)); /* from + 1 seen, 0: none */
	bool found = false;

	lw_vec_push(&work, ((struct item){ a, sa }));
	while (work.n && !found) {
		struct item it = work.v[--work.n];
		uint32_t ti;

		if (it.tid == b && it.from <= sb) {
			found = true;
			break;
		}
		if (!lw_map_get(&p->tids, it.tid, 0, &ti))
			continue;
		if (best[ti] && best[ti] - 1 <= it.from)
			continue;
		best[ti] = it.from + 1;
		for (size_t k = 0; k < p->threads.n; k++) {
			const struct lw_thread *c = &p->threads.v[k];

			if (c->known && c->parent == it.tid && c->seq >= it.from)
				lw_vec_push(&work, ((struct item){ c->tid, c->seq }));
		}
		for (size_t k = 0; k < p->joins.n; k++) {
			const struct lw_join *j = &p->joins.v[k];

			if (j->joined == it.tid)
				lw_vec_push(&work, ((struct item){ j->joiner, j->seq }));
		}
	}
	free(work.v);
	free(best);
	return found;
}

/* True if event o can run between the check c and the create a (same thread) of a window. */
static bool concurrent(struct lw_model *m, const struct lw_path_event *c,
		       const struct lw_path_event *a, const struct lw_path_event *o)
{
	if (o->proc != a->proc)
		return m->procs.v[o->proc].hdr.session == m->procs.v[a->proc].hdr.session;
	if (o->tid == a->tid)
		return false;
	return !hb_event(m, o->proc, o->tid, o->seq, c->tid, c->seq) &&
	       !hb_event(m, a->proc, a->tid, a->seq, o->tid, o->seq);
}

/* How much an interfering call says: a change of the path beats a mere check. */
static int weight(uint16_t op)
{
	return op == LW_PATH_CHECK ? 1 : 2;
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

static void report(struct lw_model *m, struct lw_findings *fs, const char *path,
		   const struct lw_path_event *c, const struct lw_path_event *a,
		   const struct lw_path_event *o, uint64_t count)
{
	struct lw_finding *f = lw_finding_new(fs, LW_FIND_ATOMICITY, LW_SEV_ERROR, m, a->proc);
	char other[64];

	who(m, o, a, other, sizeof(other));
	f->path = lw_xstrdup(path);
	f->count = count;
	f->message = lw_xasprintf("thread T%" PRIu32 " checks %s and later creates it without "
				  "O_EXCL; thread %s can %s it in between", a->tid, path, other,
				  op_verb(o->op));
	add_role(f, m, c, "check");
	add_role(f, m, a, "create");
	add_role(f, m, o, "interferer");
}

void lw_detect_path_races(struct lw_model *m, struct lw_findings *fs)
{
	size_t n = m->paths.n;
	struct path_ev *ev;

	if (!n)
		return;
	ev = lw_xcalloc(n, sizeof(*ev));
	for (size_t i = 0; i < n; i++) {
		ev[i].e = &m->paths.v[i];
		ev[i].norm = lw_xstrdup(m->paths.v[i].path);
		normalise(ev[i].norm);
	}
	qsort(ev, n, sizeof(*ev), ev_cmp);
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		const struct lw_path_event *fc = NULL, *fa = NULL, *fo = NULL;
		uint64_t count = 0, windows = 0;

		for (hi = lo; hi < n && strcmp(ev[hi].norm, ev[lo].norm) == 0; hi++)
			;
		/* Windows: a CREATE whose previous call by the same thread is a CHECK. */
		for (size_t i = lo + 1; i < hi; i++) {
			const struct lw_path_event *a = ev[i].e, *c = ev[i - 1].e, *best = NULL;

			if (a->op != LW_PATH_CREATE || c->op != LW_PATH_CHECK || c->proc != a->proc ||
			    c->tid != a->tid)
				continue;
			if (++windows > LW_PATH_WINDOWS_MAX)
				break;          /* count is then a lower bound */
			for (size_t k = lo; k < hi; k++) {
				const struct lw_path_event *o = ev[k].e;

				if ((o->proc != a->proc || o->tid != a->tid) &&
				    (!best || weight(o->op) > weight(best->op)) && concurrent(m, c, a, o))
					best = o;
				if (best && weight(best->op) == 2)
					break;
			}
			if (!best)
				continue;
			count++;
			if (!fo || weight(best->op) > weight(fo->op)) {
				fc = c;
				fa = a;
				fo = best;
			}
		}
		if (fo)
			report(m, fs, ev[lo].norm, fc, fa, fo, count);
	}
	for (size_t i = 0; i < n; i++)
		free(ev[i].norm);
	free(ev);
}
