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
	struct lw_start *next;
};

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

static void thread_cleanup(void *arg)
{
	/* From here to the thread's very end (TLS destructors included) the shim passes
	 * everything through: this thread's record is closed. */
	lw_guard = 1;
	if (arg)
		lw_thread_ended(arg);
}

static void *trampoline(void *arg)
{
	struct lw_start s = *(struct lw_start *)arg;
	start_free(arg);
	lw_guard = 1;
	struct lw_thread *t = s.state;
	if (t) {
		t->os_tid = (pid_t)syscall(SYS_gettid);
		t->handle = pthread_self();
		lw_thread_started(t, s.parent, s.create_stack, (uintptr_t)s.fn, s.seq);
	}
	lw_guard = 0;
	void *ret;
	pthread_cleanup_push(thread_cleanup, t);
	ret = s.fn(s.arg);
	pthread_cleanup_pop(1);
	return ret;
}

LW_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	struct lw_thread *t = lw_enter();
	if (!t)
		return REAL(create)(th, attr, fn, arg);
	struct lw_start *s = start_alloc();
	if (!s) {
		lw_leave();
		return REAL(create)(th, attr, fn, arg);
	}
	s->fn = fn;
	s->arg = arg;
	s->parent = t->tid;
	s->tid = lw_thread_new_tid();
	s->create_stack = lw_site_stack(LW_SITE());
	s->seq = lw_next_seq();
	int detach = PTHREAD_CREATE_JOINABLE;
	if (attr)
		pthread_attr_getdetachstate(attr, &detach);
	/* The child frees s as soon as it starts: keep what the parent needs in locals. */
	struct lw_thread *child = lw_thread_claim(s->tid);
	s->state = child;
	if (child && detach == PTHREAD_CREATE_DETACHED)
		child->detached = 1;
	lw_leave();
	int rc = REAL(create)(th, attr, trampoline, s);
	if (rc != 0) {
		if (child)
			__atomic_store_n(&child->state, LW_TS_FREE, __ATOMIC_RELEASE);
		start_free(s);
	} else if (child && detach != PTHREAD_CREATE_DETACHED) {
		/* A joinable child's state stays its own until it is joined, which needs this
		 * handle: nobody can have freed it yet. */
		child->handle = *th;
	}
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
		if (__atomic_load_n(&j->detached, __ATOMIC_ACQUIRE))
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

LW_EXPORT int pthread_join(pthread_t th, void **ret)
{
	/* The joined thread is looked up before the real join: once it returns, glibc may
	 * hand the same handle to a new thread.  The wait is published for the watchdog: a
	 * join that can never return is part of a hang. */
	struct lw_thread *j = NULL;
	struct lw_thread *t = lw_enter();
	if (t) {
		j = lw_thread_by_handle(th);
		uint32_t stack = lw_site_stack(LW_SITE());
		check_join(t, th, j, stack);
		if (j) {
			/* Marked before the real join: once that returns, glibc may give the
			 * handle to a new thread, and a lookup for the new one must not find
			 * this state, however long we take to release it. */
			__atomic_store_n(&j->joined, 1, __ATOMIC_RELEASE);
			lw_wait_begin(t, j->tid, 0, LW_WAIT_JOIN, 0, stack);
		}
		lw_leave();
	}
	int rc = REAL(join)(th, ret);
	if (t)
		lw_wait_end(t);
	if (rc != 0 && j)
		__atomic_store_n(&j->joined, 0, __ATOMIC_RELEASE);
	if (rc != 0 || !j)
		return rc;
	int saved = errno;
	if (lw_enter()) {
		struct lw_rec_join *r = lw_trace_reserve(sizeof *r);
		if (r) {
			r->joiner = t->tid;
			r->joined = j->tid;
			r->stack = lw_site_stack(LW_SITE());
			r->seq = lw_next_seq();
			lw_trace_commit(r, LW_REC_JOIN, sizeof *r);
		}
		remember_gone(th, j->tid, false);
		lw_thread_release(j);
		lw_leave();
	}
	errno = saved;
	return rc;
}

LW_EXPORT int pthread_detach(pthread_t th)
{
	int rc = REAL(detach)(th);
	if (rc != 0)
		return rc;
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
	return rc;
}

LW_EXPORT void pthread_exit(void *ret)
{
	/* The trampoline's cleanup handler records the end. */
	REAL(exit)(ret);
}

LW_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
	int e = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_sync(t, LW_SYNC_BARRIER_ARRIVE, (uintptr_t)b, 0, LW_SITE());
		lw_wait_begin(t, (uintptr_t)b, 0, LW_LOCK_BARRIER, 0, lw_site_stack(LW_SITE()));
		lw_leave();
	}
	errno = e;
	int rc = REAL(barrier_wait)(b);
	if (t) {
		lw_wait_end(t);
		e = errno;
		if (lw_enter()) {
			lw_sync(t, LW_SYNC_BARRIER_DEPART, (uintptr_t)b, 0, LW_SITE());
			lw_leave();
		}
		errno = e;
	}
	return rc;
}
