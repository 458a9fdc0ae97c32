/* Per-thread state: a registry of every thread the shim has seen, reused once a thread has
 * ended and been joined or detached; and the start of the shim's own threads. */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "core/threads.h"
#include "core/arena.h"
#include "core/layers.h"
#include "core/options.h"
#include "core/real.h"
#include "core/trace_writer.h"

__thread struct lw_thread *lw_self __attribute__((tls_model("initial-exec")));
__thread int lw_guard __attribute__((tls_model("initial-exec")));

static struct lw_thread *registry;       /* atomic push-only list */
int lw_internal_threads;                 /* issue 20: threads.h */
static uint32_t next_tid;                /* atomic */

/* Issue 20: the shim's own threads (threads.h). */
int lw_internal_thread_start(void *(*fn)(void *), void *arg, size_t stack_size, int *alive)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* signals are the program's business */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, stack_size);
	pthread_t th;
	__atomic_store_n(alive, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&lw_internal_threads, 1, __ATOMIC_ACQ_REL);
	int rc = REAL(create)(&th, &attr, fn, arg);
	if (rc != 0)
		lw_internal_thread_gone(alive);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

void lw_internal_thread_gone(int *alive)
{
	if (__atomic_exchange_n(alive, 0, __ATOMIC_ACQ_REL))
		__atomic_sub_fetch(&lw_internal_threads, 1, __ATOMIC_ACQ_REL);
}

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

static void write_thread_record(struct lw_thread *t)
{
	struct lw_rec_thread *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->tid = t->tid;
	r->parent = t->parent;
	r->os_tid = t->os_tid;
	r->create_stack = t->create_stack;
	r->start_routine = t->start_routine;
	r->seq = t->start_seq;
	lw_trace_commit(r, LW_REC_THREAD, sizeof *r);
}

/*
 * issue 23 (perf): thread classes.  At the dependencies level a thread-per-request program
 * starts the same thread over and over; its trace must grow with what the threads do, not
 * with how many there are.  A class is a (start routine, creation site) pair.  The first
 * LW_CLASS_FULL threads of a class are written in full.  Each later one is deferred: it
 * writes no THREAD record at its start, and its acquisitions are deduplicated against the
 * class's (acquire.c, first_of_tuple).  The first record it must write (an acquisition new
 * to the class, a misuse, a join, a thread it creates, a held lock at its end, a deadlock
 * it is part of) writes its THREAD record first (lw_thread_materialize), and from then on
 * it is a thread like any other.  One that ends without having written anything is
 * counted: LW_REC_THREADS_LIKE records give the count at 1, 2, 4, ... and at exit.
 */
#define LW_CLASS_SLOTS 1024
#define LW_CLASS_FULL  3

struct lw_class {
	uintptr_t start_routine;
	uint32_t create_stack;
	uint32_t like;               /* the first thread's tid */
	uint32_t started;            /* under classes_lock */
	uint32_t counted;            /* atomic */
	uint32_t written;            /* atomic: the last count written */
};
static struct lw_class classes[LW_CLASS_SLOTS];
static lw_spin_t classes_lock;

/* Puts t in its class; returns true when t is deferred. */
static bool class_join(struct lw_thread *t)
{
	uint64_t h = lw_mix64(t->start_routine * 0x9e3779b97f4a7c15ULL ^ t->create_stack);
	bool deferred = false;
	lw_spin_lock(&classes_lock);
	for (uint32_t n = 0, i = (uint32_t)h % LW_CLASS_SLOTS; n < LW_CLASS_SLOTS;
	     n++, i = (i + 1) % LW_CLASS_SLOTS) {
		struct lw_class *c = &classes[i];
		if (c->started == 0) {
			c->start_routine = t->start_routine;
			c->create_stack = t->create_stack;
			c->like = t->tid;
		} else if (c->start_routine != t->start_routine ||
			   c->create_stack != t->create_stack) {
			continue;
		}
		c->started++;
		t->klass = i + 1;
		deferred = c->started > LW_CLASS_FULL;
		break;
	}
	lw_spin_unlock(&classes_lock);
	if (deferred)
		__atomic_store_n(&t->deferred, 1, __ATOMIC_RELAXED);
	return deferred;
}

static void write_like(struct lw_class *c, uint32_t count)
{
	struct lw_rec_threads_like *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->like = c->like;
	r->count = count;
	r->start_routine = c->start_routine;
	r->create_stack = c->create_stack;
	r->pad = 0;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_THREADS_LIKE, sizeof *r);
}

static void class_count(uint32_t klass)
{
	struct lw_class *c = &classes[klass - 1];
	uint32_t n = __atomic_add_fetch(&c->counted, 1, __ATOMIC_RELAXED);
	if ((n & (n - 1)) == 0) {
		__atomic_store_n(&c->written, n, __ATOMIC_RELAXED);
		write_like(c, n);
	}
}

void lw_thread_classes_flush(void)
{
	for (uint32_t i = 0; i < LW_CLASS_SLOTS; i++) {
		struct lw_class *c = &classes[i];
		uint32_t n = __atomic_load_n(&c->counted, __ATOMIC_RELAXED);
		if (n && n != __atomic_load_n(&c->written, __ATOMIC_RELAXED)) {
			__atomic_store_n(&c->written, n, __ATOMIC_RELAXED);
			write_like(c, n);
		}
	}
}

void lw_thread_materialize_slow(struct lw_thread *t)
{
	if (__atomic_exchange_n(&t->deferred, 0, __ATOMIC_ACQ_REL))
		write_thread_record(t);
}

void lw_thread_started(struct lw_thread *t, uint32_t parent, uint32_t create_stack,
		       uintptr_t start_routine, uint64_t seq)
{
	lw_self = t;
	t->parent = parent;
	t->start_seq = seq ? seq : lw_next_seq();
	t->create_stack = create_stack;
	t->start_routine = start_routine;
	/* The full level keeps every thread: its happens-before needs each one. */
	if (start_routine && lw_opt.level != LW_LEVEL_FULL && class_join(t))
		return;
	write_thread_record(t);
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
	/* issue 23 (perf): a deferred thread that wrote nothing is counted, not written (one
	 * that holds locks at its end is written: the record below materializes it). */
	struct lw_rec_thread_end *r = NULL;
	if (t->klass && !t->n_held && __atomic_exchange_n(&t->deferred, 0, __ATOMIC_ACQ_REL)) {
		t->counted = 1;
		class_count(t->klass);
	} else {
		r = lw_trace_reserve(sizeof *r);
	}
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
	memset(classes, 0, sizeof classes);   /* issue 23 (perf) */
	classes_lock.v = 0;
	if (self) {
		self->tid = lw_thread_new_tid();
		self->os_tid = (pid_t)syscall(SYS_gettid);
		self->handle = pthread_self();
		memset(self->seen, 0, sizeof self->seen);
		/* issue 23 (perf): the child's trace starts with no class; the child's thread
		 * is written in full (it is the child's first). */
		self->klass = 0;
		self->deferred = 0;
		for (uint32_t i = 0; i < self->n_held; i++)
			self->held[i].stack = 0;  /* those stacks are in the parent's trace */
	}
}
