/* pthread_create/join/detach/exit: thread identities and the create/join order the analyzer
 * uses to tell which threads can run at the same time. */
#include <sys/syscall.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/defs.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"
#include "locks/wrap.h"

/* What a new thread needs to know about its birth.  Kept in a free list (no malloc). */
struct lw_start {
	void *(*fn)(void *);
	void *arg;
	struct lw_thread *state;     /* claimed by the parent, so a join finds it at once */
	uint32_t tid, parent, create_stack;
	uint64_t seq;               /* taken in the parent, before the thread can run */
	uintptr_t named;             /* the start routine the trace names */
	struct lw_start *next;
};

__thread uintptr_t lw_api_site __attribute__((tls_model("initial-exec")));
__thread uintptr_t lw_api_start __attribute__((tls_model("initial-exec")));

/* The call site to record: the program's call into an API built on these (lw_api_site),
 * else the caller of the wrapper. */
static inline uintptr_t api_site(uintptr_t own)
{
	return lw_api_site ? lw_api_site : own;
}

static struct lw_start *free_starts;
static lw_spin_t starts_lock;

static struct lw_start *start_alloc(void)
{
	lw_spin_lock(&starts_lock);
	struct lw_start *s = free_starts;
	if (s)
		free_starts = s->next;
	lw_spin_unlock(&starts_lock);
	return s ? s : lw_arena_alloc(sizeof *s);
}

static void start_free(struct lw_start *s)
{
	lw_spin_lock(&starts_lock);
	s->next = free_starts;
	free_starts = s;
	lw_spin_unlock(&starts_lock);
}

void lw_thread_cleanup(void *arg)
{
	/* From here to the thread's very end (TLS destructors included) the shim passes
	 * everything through: this thread's record is closed. */
	lw_guard = 1;
	if (arg)
		lw_thread_ended(arg);
}

struct lw_thread *lw_thread_begin(struct lw_start *arg, void *(**fn)(void *), void **farg)
{
	struct lw_start s = *arg;
	start_free(arg);
	lw_guard = 1;
	struct lw_thread *t = s.state;
	if (t) {
		t->os_tid = (pid_t)syscall(SYS_gettid);
		t->handle = pthread_self();
		lw_thread_started(t, s.parent, s.create_stack, s.named, s.seq);
	}
	lw_guard = 0;
	*fn = s.fn;
	*farg = s.arg;
	return t;
}

static void *trampoline(void *arg)
{
	void *(*fn)(void *);
	void *farg, *ret;
	struct lw_thread *t = lw_thread_begin(arg, &fn, &farg);
	pthread_cleanup_push(lw_thread_cleanup, t);
	ret = fn(farg);
	pthread_cleanup_pop(1);
	return ret;
}

struct lw_start *lw_create_begin(void *(*fn)(void *), void *arg, bool detached, uintptr_t site,
				 struct lw_thread **childp)
{
	struct lw_thread *t = lw_enter();
	if (!t)
		return NULL;
	lw_thread_materialize(t);    /* issue 23 (perf): its child names it as parent */
	struct lw_start *s = start_alloc();
	if (!s) {
		lw_leave();
		return NULL;
	}
	s->fn = fn;
	s->arg = arg;
	lw_hook_stack_escapes((uintptr_t)arg);   /* issue 21: a local handed to the thread */
	s->named = lw_api_start ? lw_api_start : (uintptr_t)fn;
	s->parent = t->tid;
	s->tid = lw_thread_new_tid();
	s->create_stack = lw_site_stack(site);
	s->seq = lw_next_seq();
	struct lw_thread *child = lw_thread_claim(s->tid);
	s->state = child;
	if (child && detached)
		child->detached = 1;
	*childp = child;
	lw_leave();
	return s;
}

void lw_create_end(struct lw_start *s, struct lw_thread *child, bool detached, bool created,
		   pthread_t handle)
{
	if (!created) {
		if (child)
			__atomic_store_n(&child->state, LW_TS_FREE, __ATOMIC_RELEASE);
		start_free(s);
	} else if (child && !detached) {
		/* A joinable child's state stays its own until it is joined, which needs this
		 * handle: nobody can have freed it yet. */
		child->handle = handle;
	}
}

LW_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	int detach = PTHREAD_CREATE_JOINABLE;
	if (attr)
		pthread_attr_getdetachstate(attr, &detach);
	bool detached = detach == PTHREAD_CREATE_DETACHED;
	struct lw_thread *child;
	struct lw_start *s = lw_create_begin(fn, arg, detached, api_site(LW_SITE()), &child);
	if (!s)
		return REAL(create)(th, attr, fn, arg);
	int rc = REAL(create)(th, attr, trampoline, s);
	lw_create_end(s, child, detached, rc == 0, rc == 0 ? *th : 0);
	return rc;
}

/* Threads recently joined or detached, to tell a second join or a join of a detached
 * thread (the handle is no longer a thread the shim knows, or is one marked detached). */
#define LW_GONE 1024
static struct { pthread_t handle; uint32_t tid; uint32_t detached; } gone[LW_GONE];
static uint32_t gone_next;               /* atomic */

static void remember_gone(pthread_t h, uint32_t tid, bool detached)
{
	uint32_t i = __atomic_fetch_add(&gone_next, 1, __ATOMIC_RELAXED) % LW_GONE;
	gone[i].handle = h;
	gone[i].tid = tid;
	gone[i].detached = detached;
}

static void check_join(struct lw_thread *t, pthread_t th, struct lw_thread *j, uint32_t stack)
{
	if (j) {
		if (__atomic_load_n(&j->detached, __ATOMIC_ACQUIRE) &&
		    (lw_thread_materialize(j), true))   /* issue 23 (perf): the report names it */
			lw_misuse(t, LW_MISUSE_JOIN_DETACHED, 0, 0, 0, stack, j->tid, 0, j->tid);
		return;
	}
	/* A thread being created right now may own this handle already (glibc stores it
	 * before pthread_create returns): then nothing can be said. */
	if (lw_thread_pending())
		return;
	uint32_t n = __atomic_load_n(&gone_next, __ATOMIC_RELAXED);
	for (uint32_t k = 0; k < LW_GONE && k < n; k++) {
		uint32_t i = (n - 1 - k) % LW_GONE;
		if (pthread_equal(gone[i].handle, th)) {
			lw_misuse(t, gone[i].detached ? LW_MISUSE_JOIN_DETACHED : LW_MISUSE_JOIN_TWICE,
				  0, 0, 0, stack, gone[i].tid, 0, gone[i].tid);
			return;
		}
	}
}

void lw_join_begin(struct lw_join *w, pthread_t th, uintptr_t site)
{
	/* The joined thread is looked up before the real join: once it returns, glibc may
	 * hand the same handle to a new thread.  The wait is published for the watchdog: a
	 * join that can never return is part of a hang. */
	w->j = NULL;
	w->th = th;
	w->site = site;
	w->t = lw_enter();
	if (!w->t)
		return;
	struct lw_thread *t = w->t, *j;
	j = w->j = lw_thread_by_handle(th);
	uint32_t stack = lw_site_stack(site);
	check_join(t, th, j, stack);
	if (j) {
		/* Marked before the real join: once that returns, glibc may give the handle to
		 * a new thread, and a lookup for the new one must not find this state, however
		 * long we take to release it. */
		__atomic_store_n(&j->joined, 1, __ATOMIC_RELEASE);
		lw_wait_begin(t, j->tid, 0, LW_WAIT_JOIN, 0, stack);
	}
	lw_leave();
}

void lw_join_end(struct lw_join *w, bool joined)
{
	struct lw_thread *t = w->t, *j = w->j;
	if (t)
		lw_wait_end(t);
	if (!joined && j)
		__atomic_store_n(&j->joined, 0, __ATOMIC_RELEASE);
	if (!joined || !j)
		return;
	int saved = errno;
	if (lw_enter()) {
		/* issue 23 (perf): a counted thread's join is counted with it. */
		struct lw_rec_join *r = __atomic_load_n(&j->counted, __ATOMIC_ACQUIRE) ? NULL :
					lw_trace_reserve(sizeof *r);
		if (r) {
			r->joiner = t->tid;
			r->joined = j->tid;
			r->stack = lw_site_stack(w->site);
			r->seq = lw_next_seq();
			lw_trace_commit(r, LW_REC_JOIN, sizeof *r);
		}
		remember_gone(w->th, j->tid, false);
		lw_thread_release(j);
		lw_leave();
	}
	errno = saved;
}

/* A join cancelled while it waits joined nothing: the thread stays joinable (POSIX), so its
 * state must not stay marked joined, or the join that follows would not find it. */
void lw_join_cancelled(void *w)
{
	lw_join_end(w, false);
}

/* Issue 22: the joined thread of th when a join of it went by and no thread the shim knows
 * has that handle now (its ID is no longer valid): true and *tid set. */
static bool joined_earlier(pthread_t th, uint32_t *tid)
{
	if (lw_thread_by_handle(th) || lw_thread_pending())
		return false;
	uint32_t n = __atomic_load_n(&gone_next, __ATOMIC_RELAXED);
	for (uint32_t k = 0; k < LW_GONE && k < n; k++) {
		uint32_t i = (n - 1 - k) % LW_GONE;
		if (pthread_equal(gone[i].handle, th)) {
			*tid = gone[i].tid;
			return !gone[i].detached;
		}
	}
	return false;
}

/* Issue 22: a join, detach or cancel asked of a thread that cannot take it (what:
 * LW_BADTHR_*; with th's handle looked up when what is 0: DETACH or CANCEL of a joined
 * thread).  Keeps errno. */
static void bad_thread(uint64_t what, pthread_t th, uint64_t if_joined, uintptr_t site)
{
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		uint32_t tid = 0;
		if (what || joined_earlier(th, &tid))
			lw_misuse(t, LW_MISUSE_BAD_THREAD, 0, 0, 0, lw_site_stack(site), tid, 0,
				  what ? what : if_joined);
		lw_leave();
	}
	errno = saved;
}

LW_EXPORT int pthread_join(pthread_t th, void **ret)
{
	struct lw_join w;
	int rc;
	if (LW_UNLIKELY(pthread_equal(th, pthread_self())))
		bad_thread(LW_BADTHR_JOIN_SELF, th, 0, api_site(LW_SITE()));
	lw_join_begin(&w, th, api_site(LW_SITE()));
	pthread_cleanup_push(lw_join_cancelled, &w);
	rc = REAL(join)(th, ret);
	pthread_cleanup_pop(0);
	lw_join_end(&w, rc == 0);
	return rc;
}

void lw_detached(pthread_t th)
{
	int saved = errno;
	if (lw_enter()) {
		struct lw_thread *j = lw_thread_by_handle(th);
		if (j) {
			/* Paired with lw_thread_ended's store-then-load. */
			__atomic_store_n(&j->detached, 1, __ATOMIC_SEQ_CST);
			remember_gone(th, j->tid, true);
			if (__atomic_load_n(&j->state, __ATOMIC_SEQ_CST) == LW_TS_ENDED)
				lw_thread_release(j);
		}
		lw_leave();
	}
	errno = saved;
}

LW_EXPORT int pthread_detach(pthread_t th)
{
	if (!pthread_equal(th, pthread_self()))
		bad_thread(0, th, LW_BADTHR_DETACH_JOINED, api_site(LW_SITE()));
	int rc = REAL(detach)(th);
	if (rc == 0)
		lw_detached(th);
	return rc;
}

LW_EXPORT int pthread_cancel(pthread_t th)
{
	if (!pthread_equal(th, pthread_self()))
		bad_thread(0, th, LW_BADTHR_CANCEL_JOINED, LW_SITE());
	return REAL(cancel)(th);
}

LW_EXPORT void pthread_exit(void *ret)
{
	/* The trampoline's cleanup handler records the end. */
	REAL(exit)(ret);
}
