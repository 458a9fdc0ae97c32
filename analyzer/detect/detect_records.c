/* Findings the shim observed directly: deadlocks that happened and misuse of the API. */
#include "detect/detect_records.h"
#include "detect/findings.h"
#include "trace/lock_names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void held_list(struct lw_finding *f, struct lw_fthread *ft, struct lw_model *m,
		      uint32_t proc, const struct lw_held_ref *held, uint32_t n)
{
	ft->held = lw_xcalloc(n, sizeof(*ft->held));
	ft->n_held = n;
	for (uint32_t i = 0; i < n; i++) {
		ft->held[i].lock = lw_finding_lock(f, m, held[i].lock);
		ft->held[i].mode = held[i].mode;
		ft->held[i].stack = lw_finding_stack(m, proc, held[i].stack);
	}
}

/* Names what a blocked thread waits for, in a newly allocated string. */
static char *wait_text(struct lw_model *m, uint32_t proc, const struct lw_dl_thread *t)
{
	char buf[512];

	if (t->wait_kind == LW_WAIT_JOIN)
		return lw_xasprintf("thread T%" PRIu64 " to end (pthread_join)", t->wait_addr);
	if (t->wait_kind == LW_WAIT_COND || t->wait_kind == LW_WAIT_COND_DESTROY) {
		/* issue 22: a destroy of a condvar blocks until its waiters wake */
		const char *pre = t->wait_kind == LW_WAIT_COND ? "" : "the waiters of ";
		const char *post = t->wait_kind == LW_WAIT_COND ? ""
				   : " to wake (pthread_cond_destroy of a condvar threads wait on)";
		if (lw_symbolize_data(lw_model_symbolizer(m, proc), t->wait_addr, buf, sizeof(buf),
				      NULL, NULL))
			return lw_xasprintf("%scondition variable %s%s", pre, buf, post);
		return lw_xasprintf("%scondition variable 0x%" PRIx64 "%s", pre, t->wait_addr, post);
	}
	if (t->wait_lock != LW_NONE) {
		const struct lw_lock *l = &m->locks.v[t->wait_lock];

		if (l->global || l->name_has_addr)
			return lw_xasprintf("%s%s", l->name,
					    t->wait_mode == LW_MODE_READ ? " (read)" : "");
		return lw_xasprintf("%s [0x%" PRIx64 "]%s", l->name, l->addr,
				    t->wait_mode == LW_MODE_READ ? " (read)" : "");
	}
	return lw_xasprintf("0x%" PRIx64, t->wait_addr);
}

void lw_detect_deadlocks(struct lw_model *m, struct lw_findings *fs)
{
	for (size_t i = 0; i < m->deadlocks.n; i++) {
		const struct lw_deadlock *d = &m->deadlocks.v[i];
		struct lw_finding *f = lw_finding_new(fs, LW_FIND_DEADLOCK, LW_SEV_ERROR, m, d->proc);
		char *list = lw_xstrdup("");

		for (uint32_t k = 0; k < d->n_threads; k++) {
			const struct lw_dl_thread *t = &d->threads[k];
			struct lw_fthread *ft = lw_finding_thread(f, m, d->proc, t->tid);
			char *s;

			ft->stack = lw_finding_stack(m, d->proc, t->stack);
			held_list(f, ft, m, d->proc, t->held, t->n_held);
			ft->waiting_for = wait_text(m, d->proc, t);
			if (t->wait_lock != LW_NONE)
				lw_finding_lock(f, m, t->wait_lock);
			s = lw_xasprintf("%s%sT%" PRIu32, list, k ? ", " : "", t->tid);
			free(list);
			list = s;
		}
		switch (d->reason) {
		case LW_DEADLOCK_CYCLE:
			f->message = lw_xasprintf("threads %s wait for each other's locks", list);
			break;
		case LW_DEADLOCK_SELF:
			f->message = lw_xasprintf("thread %s waits for a lock it already holds", list);
			break;
		case LW_DEADLOCK_ALL_BLOCKED: {
			/* issue 22: a destroy that waits for waiters nothing will wake */
			const char *why = "";
			for (uint32_t k = 0; k < d->n_threads; k++)
				if (d->threads[k].wait_kind == LW_WAIT_COND_DESTROY)
					why = ", one destroying a condition variable that threads "
					      "wait on";
			f->message = lw_xasprintf("every live thread is blocked (%s%s): the program "
						  "hangs", list, why);
			break;
		}
		default:
			f->message = lw_xasprintf("threads %s are deadlocked", list);
			break;
		}
		free(list);
	}
}

/* The name of an error code a refused call returned ("EDEADLK"), or its number. */
static const char *refusal_name(uint64_t code, char *buf, size_t size)
{
	switch (code) {
	case EPERM: return "EPERM";
	case EDEADLK: return "EDEADLK";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case EAGAIN: return "EAGAIN";
	case EOPNOTSUPP: return "EOPNOTSUPP";   /* issue 22: a mutex attribute refused */
	case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
	default:
		snprintf(buf, size, "error %" PRIu64, code);
		return buf;
	}
}

/* Returns the message of a misuse; name is the object's full description ("mutex lock_a",
 * "mutex 0x1000"), other the other mutex for LW_MISUSE_COND_TWO_MUTEXES and the mutex of
 * LW_MISUSE_COND_NOT_HELD. */
static char *misuse_message(const struct lw_misuse *u, const char *name, const char *other)
{
	char code[32];

	switch (u->what) {
	case LW_MISUSE_UNLOCK_NOT_LOCKED:
		return lw_xasprintf("thread T%" PRIu32 " unlocked %s, which was not locked", u->tid,
				    name);
	case LW_MISUSE_UNLOCK_OTHER_OWNER:
		return lw_xasprintf("thread T%" PRIu32 " unlocked %s, which is held by thread T%"
				    PRIu32, u->tid, name, u->other_tid);
	case LW_MISUSE_RELOCK:
		return lw_xasprintf("thread T%" PRIu32 " locked non-recursive %s again while holding "
				    "it", u->tid, name);
	case LW_MISUSE_DESTROY_LOCKED:
		return lw_xasprintf("thread T%" PRIu32 " destroyed %s while it was locked", u->tid,
				    name);
	case LW_MISUSE_DESTROY_WAITED:
		return lw_xasprintf("thread T%" PRIu32 " destroyed %s while threads were waiting on "
				    "it", u->tid, name);
	case LW_MISUSE_EXIT_HOLDING:
		if (u->value == LW_EXIT_PROCESS)       /* issue 22 */
			return lw_xasprintf("thread T%" PRIu32 " ended the process (exit, or a "
					    "return from main) while holding %s", u->tid, name);
		return lw_xasprintf("thread T%" PRIu32 " ended while holding %s", u->tid, name);
	/* Issue 22. */
	case LW_MISUSE_FREE_LOCKED:
		return lw_xasprintf("thread T%" PRIu32 " freed the heap block at 0x%" PRIx64
				    ", which holds %s, locked by thread T%" PRIu32, u->tid, u->value,
				    name, u->other_tid);
	case LW_MISUSE_UNMAP_LOCKED:
		return lw_xasprintf("thread T%" PRIu32 " unmapped the memory at 0x%" PRIx64
				    ", which holds %s, locked by thread T%" PRIu32, u->tid, u->value,
				    name, u->other_tid);
	case LW_MISUSE_REINIT_LOCKED:
		return lw_xasprintf("thread T%" PRIu32 " initialised %s again while thread T%" PRIu32
				    " held it", u->tid, name, u->other_tid);
	case LW_MISUSE_REINIT_WAITED:
		return lw_xasprintf("thread T%" PRIu32 " initialised %s again while thread T%" PRIu32
				    " waited for it", u->tid, name, u->other_tid);
	case LW_MISUSE_COND_NOT_HELD:
		return lw_xasprintf("thread T%" PRIu32 " waited on %s with mutex %s, which it does "
				    "not hold", u->tid, name, other);
	case LW_MISUSE_COND_TWO_MUTEXES:
		return lw_xasprintf("thread T%" PRIu32 " used %s with two different mutexes (the "
				    "other: %s)", u->tid, name, other);
	case LW_MISUSE_USE_AFTER_DESTROY:
		return lw_xasprintf("thread T%" PRIu32 " used %s after it was destroyed", u->tid, name);
	case LW_MISUSE_SEM_OVERFLOW:
		return lw_xasprintf("thread T%" PRIu32 " posted %s past SEM_VALUE_MAX", u->tid, name);
	case LW_MISUSE_JOIN_TWICE:
		return lw_xasprintf("thread T%" PRIu32 " joined thread T%" PRIu64 ", which was "
				    "already joined", u->tid, u->value);
	case LW_MISUSE_JOIN_DETACHED:
		return lw_xasprintf("thread T%" PRIu32 " joined detached thread T%" PRIu64, u->tid,
				    u->value);
	case LW_MISUSE_RELOCK_REFUSED:
		return lw_xasprintf("thread T%" PRIu32 " tried to lock error-checking %s again "
				    "while holding it; the call failed with %s and the mutex stayed "
				    "locked once", u->tid, name,
				    refusal_name(u->value, code, sizeof(code)));
	case LW_MISUSE_UNLOCK_REFUSED:
		if (u->other_tid)
			return lw_xasprintf("thread T%" PRIu32 " tried to unlock %s, which is held "
					    "by thread T%" PRIu32 "; the call failed with %s and "
					    "the mutex stayed locked", u->tid, name, u->other_tid,
					    refusal_name(u->value, code, sizeof(code)));
		return lw_xasprintf("thread T%" PRIu32 " tried to unlock %s, which it does not "
				    "hold; the call failed with %s", u->tid, name,
				    refusal_name(u->value, code, sizeof(code)));
	/* Issue 22: barriers and semaphores. */
	case LW_MISUSE_INIT_REFUSED:
		if (u->lock_kind == LW_LOCK_BARRIER)
			return lw_xasprintf("thread T%" PRIu32 " initialised %s with a count of %"
					    PRIu64 "; the call failed with EINVAL and the barrier "
					    "stayed uninitialised", u->tid, name, u->value);
		return lw_xasprintf("thread T%" PRIu32 " initialised %s with the value %" PRIu64
				    ", above SEM_VALUE_MAX; the call failed with EINVAL and the "
				    "semaphore stayed uninitialised", u->tid, name, u->value);
	case LW_MISUSE_REINIT:
		return lw_xasprintf("thread T%" PRIu32 " initialised %s again, which was initialised "
				    "and not destroyed", u->tid, name);
	case LW_MISUSE_NOT_INITIALISED:
		return lw_xasprintf("thread T%" PRIu32 " %s %s, which was never initialised%s",
				    u->tid, u->value == 3 ? "destroyed" : u->value == 2 ? "posted"
								     : "waited on", name,
				    u->other_tid ? " (its initialisation failed)" : "");
	/* Issue 22: the third-party misuse programs (50..59). */
	case LW_MISUSE_REINIT_LIVE:
		if (u->value)
			return lw_xasprintf("thread T%" PRIu32 " initialised %s again, which was "
					    "initialised and not destroyed (a static object)", u->tid,
					    name);
		return lw_xasprintf("thread T%" PRIu32 " initialised %s again, which was initialised "
				    "and not destroyed, from the same frame (unless two block-scope "
				    "variables share its stack slot)", u->tid, name);
	case LW_MISUSE_TIMEOUT_INVALID:
		return lw_xasprintf("thread T%" PRIu32 " passed %s an invalid timeout (tv_nsec %"
				    PRId64 ", outside 0..999999999); the call failed with EINVAL",
				    u->tid, name, (int64_t)u->value);
	case LW_MISUSE_NOT_AN_OBJECT:
		return lw_xasprintf("thread T%" PRIu32 " %s %s, whose memory holds no valid %s "
				    "(never initialised, or overwritten since its init)", u->tid,
				    u->value == LW_UNINIT_LOCK     ? "locked"
				    : u->value == LW_UNINIT_UNLOCK ? "unlocked"
				    : u->value == 2                ? "posted"
				    : u->value == 3                ? "destroyed"
								   : "waited on",
				    name, lw_lock_kind_name(u->lock_kind));
	case LW_MISUSE_BAD_THREAD:
		switch (u->value) {
		case LW_BADTHR_JOIN_SELF:
			return lw_xasprintf("thread T%" PRIu32 " joined itself; the call failed "
					    "with EDEADLK", u->tid);
		case LW_BADTHR_DETACH_JOINED:
			return lw_xasprintf("thread T%" PRIu32 " detached thread T%" PRIu32 ", which "
					    "was already joined (its ID is no longer valid)", u->tid,
					    u->other_tid);
		case LW_BADTHR_CANCEL_JOINED:
			return lw_xasprintf("thread T%" PRIu32 " cancelled thread T%" PRIu32 ", which "
					    "was already joined (its ID is no longer valid)", u->tid,
					    u->other_tid);
		default:
			return lw_xasprintf("thread T%" PRIu32 " misused a thread ID (unknown code %"
					    PRIu64 ")", u->tid, u->value);
		}
	case LW_MISUSE_WRONG_KIND:
		return lw_xasprintf("thread T%" PRIu32 " waited on a condition variable with %s as "
				    "its mutex, which is a %s, not a mutex", u->tid, name,
				    lw_lock_kind_name((uint16_t)u->value));
	case LW_MISUSE_ATTR_REFUSED:
		return lw_xasprintf("thread T%" PRIu32 " initialised %s with invalid attributes; the "
				    "call failed with %s and it stayed uninitialised", u->tid, name,
				    refusal_name(u->value, code, sizeof(code)));
	default:
		return lw_xasprintf("thread T%" PRIu32 " misused %s (unknown misuse code %u)", u->tid,
				    name, u->what);
	}
}

void lw_detect_misuse(struct lw_model *m, struct lw_findings *fs)
{
	for (size_t i = 0; i < m->misuses.n; i++) {
		const struct lw_misuse *u = &m->misuses.v[i];
		/* A thread that ends holding a lock may mean it; a call the mutex refused is
		 * defined behaviour the program may rely on. */
		enum lw_severity sev = u->what == LW_MISUSE_EXIT_HOLDING ||
					       u->what == LW_MISUSE_RELOCK_REFUSED ||
					       u->what == LW_MISUSE_UNLOCK_REFUSED ||
					       u->what == LW_MISUSE_INIT_REFUSED ||   /* issue 22 */
					       u->what == LW_MISUSE_TIMEOUT_INVALID ||
					       u->what == LW_MISUSE_ATTR_REFUSED ||
					       /* a stack lock initialised twice from one frame: two
						* block-scope variables sharing a slot look the same */
					       (u->what == LW_MISUSE_REINIT_LIVE && u->value == 0) ||
					       (u->what == LW_MISUSE_BAD_THREAD &&
						u->value == LW_BADTHR_JOIN_SELF)
					       ? LW_SEV_WARNING
					       : LW_SEV_ERROR;
		struct lw_finding *f = lw_finding_new(fs, LW_FIND_MISUSE, sev, m, u->proc);
		struct lw_fthread *ft;
		char name[600], other[600] = "";

		if (u->lock != LW_NONE) {
			const struct lw_lock *l = &m->locks.v[u->lock];

			lw_finding_lock(f, m, u->lock);
			/* Only a symbol needs the kind in front: other names start with it. */
			if (l->global)
				snprintf(name, sizeof(name), "%s %s",
					 lw_lock_kind_name(l->kind ? l->kind : u->lock_kind), l->name);
			else if (l->name_has_addr)
				snprintf(name, sizeof(name), "%s", l->name);
			else
				snprintf(name, sizeof(name), "%s [0x%" PRIx64 "]", l->name, l->addr);
		} else {
			snprintf(name, sizeof(name), "%s 0x%" PRIx64, lw_lock_kind_name(u->lock_kind),
				 u->addr);
		}
		if ((u->what == LW_MISUSE_COND_TWO_MUTEXES || u->what == LW_MISUSE_COND_NOT_HELD) &&
		    !lw_symbolize_data(lw_model_symbolizer(m, u->proc), u->value, other,
				       sizeof(other), NULL, NULL))
			snprintf(other, sizeof(other), "0x%" PRIx64, u->value);
		f->message = misuse_message(u, name, other);
		ft = lw_finding_thread(f, m, u->proc, u->tid);
		ft->stack = lw_finding_stack(m, u->proc, u->stack);
		if (u->other_tid || u->other_stack) {
			/* The other side: the owner, or where the other mutex was used. */
			struct lw_fthread ot = { .tid = u->other_tid };

			ot.role = lw_xstrdup(u->what == LW_MISUSE_UNLOCK_OTHER_OWNER ||
						     u->what == LW_MISUSE_UNLOCK_REFUSED ||
						     u->what == LW_MISUSE_FREE_LOCKED ||
						     u->what == LW_MISUSE_UNMAP_LOCKED ||
						     u->what == LW_MISUSE_REINIT_LOCKED
					     ? "owner"
					     : u->what == LW_MISUSE_DESTROY_WAITED ||
						       u->what == LW_MISUSE_REINIT_WAITED
					     ? "waiter"
					     : u->what == LW_MISUSE_REINIT ||
						       u->what == LW_MISUSE_NOT_INITIALISED ||
						       u->what == LW_MISUSE_REINIT_LIVE ||
						       u->what == LW_MISUSE_NOT_AN_OBJECT ||
						       u->what == LW_MISUSE_WRONG_KIND ||
						       u->what == LW_MISUSE_TIMEOUT_INVALID ||
						       u->what == LW_MISUSE_USE_AFTER_DESTROY
					     ? "init"
					     : "earlier");
			ot.stack = lw_finding_stack(m, u->proc, u->other_stack);
			lw_vec_push(&f->threads, ot);
		}
	}
}
