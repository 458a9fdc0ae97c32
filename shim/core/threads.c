/* Per-thread state: a registry of every thread the shim has seen, reused once a thread has
 * ended and been joined or detached. */
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "core/threads.h"
#include "core/arena.h"
#include "core/layers.h"
#include "core/trace_writer.h"

__thread struct lw_thread *lw_self __attribute__((tls_model("initial-exec")));
__thread int lw_guard __attribute__((tls_model("initial-exec")));

static struct lw_thread *registry;       /* atomic push-only list */
int lw_internal_threads;                 /* issue 20: threads.h */
static uint32_t next_tid;                /* atomic */

struct lw_thread *lw_registry_head(void)
{
	return __atomic_load_n(&registry, __ATOMIC_ACQUIRE);
}

uint32_t lw_thread_new_tid(void)
{
	return __atomic_add_fetch(&next_tid, 1, __ATOMIC_RELAXED);
}

/* Returns a zeroed, claimed thread state for tid, or NULL. */
struct lw_thread *lw_thread_claim(uint32_t tid)
{
	struct lw_thread *t;
	for (t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = t->next) {
		int expected = LW_TS_FREE;
		if (__atomic_load_n(&t->state, __ATOMIC_RELAXED) == LW_TS_FREE &&
		    __atomic_compare_exchange_n(&t->state, &expected, LW_TS_LIVE, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if (!t) {
		t = lw_arena_alloc(sizeof *t);
		if (!t)
			return NULL;
		t->state = LW_TS_LIVE;
		struct lw_thread *head = __atomic_load_n(&registry, __ATOMIC_RELAXED);
		do
			t->next = head;
		while (!__atomic_compare_exchange_n(&registry, &head, t, true, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED));
	} else {
		/* Everything after next and state: zeroing state, even for an instant, would
		 * let another thread claim the same entry. */
		size_t keep = offsetof(struct lw_thread, detached);
		memset((char *)t + keep, 0, sizeof *t - keep);
	}
	t->tid = tid;
	t->os_tid = (pid_t)syscall(SYS_gettid);
	/* The handle stays 0 (pending) until the thread is known: its creator or itself sets
	 * it, so a claim made by a parent never carries the parent's own handle. */
	t->handle = 0;
	t->held = t->inline_held;
	t->cap_held = sizeof t->inline_held / sizeof t->inline_held[0];
	return t;
}

void lw_thread_started(struct lw_thread *t, uint32_t parent, uint32_t create_stack,
		       uintptr_t start_routine, uint64_t seq)
{
	lw_self = t;
	t->parent = parent;
	t->start_seq = seq ? seq : lw_next_seq();
	struct lw_rec_thread *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->tid = t->tid;
	r->parent = parent;
	r->os_tid = t->os_tid;
	r->create_stack = create_stack;
	r->start_routine = start_routine;
	r->seq = t->start_seq;
	lw_trace_commit(r, LW_REC_THREAD, sizeof *r);
}

/* A thread the shim did not see being created (the main thread, or one started during
 * set-up): give it a state now. */
struct lw_thread *lw_thread_adopt(void)
{
	struct lw_thread *t = lw_thread_claim(lw_thread_new_tid());
	if (t) {
		t->handle = pthread_self();
		lw_thread_started(t, 0, 0, 0, 0);
	}
	return t;
}

void lw_thread_ended(struct lw_thread *t)
{
	lw_wait_end(t);              /* cancelled in a wait, it waits no more */
	lw_layers_thread_ended(t);   /* held locks (locks/layer.c), kept reads (access/) */
	struct lw_rec_thread_end *r = lw_trace_reserve(sizeof *r);
	if (r) {
		r->tid = t->tid;
		r->flags = t->n_held ? LW_ENDF_HELD_LOCKS : 0;
		r->seq = lw_next_seq();
		lw_trace_commit(r, LW_REC_THREAD_END, sizeof *r);
	}
	lw_self = NULL;
	/* Paired with pthread_detach's store-then-load: one of the two sees the other. */
	__atomic_store_n(&t->state, LW_TS_ENDED, __ATOMIC_SEQ_CST);
	/* A detached thread has nobody to join it: its state is free now. */
	if (__atomic_load_n(&t->detached, __ATOMIC_SEQ_CST))
		lw_thread_release(t);
}

void lw_thread_release(struct lw_thread *t)
{
	int expected = LW_TS_ENDED;
	__atomic_compare_exchange_n(&t->state, &expected, LW_TS_FREE, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
}

struct lw_thread *lw_thread_by_handle(pthread_t h)
{
	for (struct lw_thread *t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = t->next) {
		int s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
		if (s != LW_TS_FREE && pthread_equal(t->handle, h) && !t->joined)
			return t;
	}
	return NULL;
}

struct lw_thread *lw_thread_by_tid(uint32_t tid)
{
	for (struct lw_thread *t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = t->next)
		if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != LW_TS_FREE &&
		    __atomic_load_n(&t->tid, __ATOMIC_RELAXED) == tid)
			return t;
	return NULL;
}

bool lw_thread_pending(void)
{
	for (struct lw_thread *t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = t->next)
		if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == LW_TS_LIVE && t->handle == 0)
			return true;
	return false;
}

int lw_threads_live(void)
{
	int n = 0;
	for (struct lw_thread *t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = t->next)
		n += __atomic_load_n(&t->state, __ATOMIC_RELAXED) == LW_TS_LIVE;
	return n;
}

void lw_threads_reset_after_fork(struct lw_thread *self)
{
	/* Only the forking thread lives on in the child. */
	for (struct lw_thread *t = registry; t; t = t->next)
		if (t != self)
			t->state = LW_TS_FREE;
	next_tid = 0;
	if (self) {
		self->tid = lw_thread_new_tid();
		self->os_tid = (pid_t)syscall(SYS_gettid);
		self->handle = pthread_self();
		memset(self->seen, 0, sizeof self->seen);
		for (uint32_t i = 0; i < self->n_held; i++)
			self->held[i].stack = 0;  /* those stacks are in the parent's trace */
	}
}
