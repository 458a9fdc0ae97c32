/* free(), realloc() and munmap() of memory that holds a locked lock (issue 22): the shim
 * interposes the three
 * and checks the range against the held sets of the threads that hold locks outside the
 * main executable's image.  A MISUSE record (LW_MISUSE_FREE_LOCKED, LW_MISUSE_UNMAP_LOCKED)
 * names the freeing call's stack and, as the other side, the holder and where it locked.
 *
 * Cost.  free is called from everywhere, so it must be cheap when nothing is held:
 *  - each thread that holds such a lock takes one of LW_HEAP_SLOTS cache-line slots, once,
 *    and keeps in it the number of such locks it holds (written by that thread only, so
 *    locking and unlocking touch no line another thread writes);
 *  - free() loads slots_hw: 0 (no thread ever held such a lock) means no check at all;
 *    otherwise it reads the count of each slot in use, and only a slot with locks held makes
 *    it ask malloc_usable_size for the block's size and compare that thread's held
 *    addresses with it (loads only); a lock in the block makes it enter the shim and report.
 *  Threads past LW_HEAP_SLOTS share one atomic count and are found through the registry.
 * The lock table is never scanned. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "locks/heap_held.h"
#include "locks/acquire.h"
#include "core/defs.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/locks.h"
#include "locks/misuse.h"

uintptr_t lw_exe_lo, lw_exe_hi;

#define LW_HEAP_SLOTS 64
struct heap_slot {
	struct lw_thread *t;         /* atomic; NULL: free */
	uint32_t n;                  /* atomic; written by t only */
} __attribute__((aligned(64)));
static struct heap_slot slots[LW_HEAP_SLOTS];
static uint32_t slots_hw;          /* slots ever taken (atomic) */
static uint32_t overflow_n;        /* entries of threads without a slot (atomic) */
/* 0: no slot yet, -1: none left (overflow_n), i + 1: slots[i]. */
static __thread int my_slot __attribute__((tls_model("initial-exec")));
__thread uint32_t *lw_heap_count;

static int claim_slot(struct lw_thread *t)
{
	for (int i = 0; i < LW_HEAP_SLOTS; i++) {
		struct lw_thread *none = NULL;
		if (__atomic_load_n(&slots[i].t, __ATOMIC_RELAXED) == NULL &&
		    __atomic_compare_exchange_n(&slots[i].t, &none, t, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			uint32_t hw = __atomic_load_n(&slots_hw, __ATOMIC_RELAXED);
			while (hw < (uint32_t)i + 1 &&
			       !__atomic_compare_exchange_n(&slots_hw, &hw, (uint32_t)i + 1, false,
							    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				;
			return i + 1;
		}
	}
	/* The registry walk must find these: slots_hw says "look" too. */
	uint32_t hw = __atomic_load_n(&slots_hw, __ATOMIC_RELAXED);
	while (hw == 0 && !__atomic_compare_exchange_n(&slots_hw, &hw, 1, false, __ATOMIC_ACQ_REL,
						       __ATOMIC_RELAXED))
		;
	return -1;
}

void lw_heap_held_add_slow(struct lw_thread *t, struct lw_held_ent *e)
{
	e->heap = LW_HELD_HEAPISH;
	if (my_slot == 0) {
		my_slot = claim_slot(t);
		if (my_slot > 0)
			lw_heap_count = &slots[my_slot - 1].n;
	}
	if (my_slot > 0) {
		struct heap_slot *s = &slots[my_slot - 1];
		__atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELEASE);
	} else {
		__atomic_add_fetch(&overflow_n, 1, __ATOMIC_RELEASE);
	}
}

void lw_heap_held_drop_slow(struct lw_thread *t)
{
	(void)t;
	if (my_slot > 0) {
		struct heap_slot *s = &slots[my_slot - 1];
		if (s->n)
			__atomic_store_n(&s->n, s->n - 1, __ATOMIC_RELEASE);
	} else if (my_slot < 0) {
		__atomic_sub_fetch(&overflow_n, 1, __ATOMIC_RELEASE);
	}
}

void lw_heap_held_thread_ended(struct lw_thread *t)
{
	if (my_slot > 0) {
		__atomic_store_n(&slots[my_slot - 1].n, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&slots[my_slot - 1].t, NULL, __ATOMIC_RELEASE);
	} else if (my_slot < 0) {
		for (uint32_t i = 0; i < t->n_held; i++)
			if (t->held[i].heap & LW_HELD_HEAPISH)
				__atomic_sub_fetch(&overflow_n, 1, __ATOMIC_RELEASE);
	}
	for (uint32_t i = 0; i < t->n_held; i++)
		t->held[i].heap = 0;
	my_slot = 0;
	lw_heap_count = NULL;
}

void lw_heap_held_fork_child(struct lw_thread *t)
{
	/* Only the forking thread goes on. */
	for (int i = 0; i < LW_HEAP_SLOTS; i++) {
		slots[i].t = NULL;
		slots[i].n = 0;
	}
	slots_hw = 0;
	overflow_n = 0;
	my_slot = 0;
	lw_heap_count = NULL;
	for (uint32_t i = 0; t && i < t->n_held; i++)
		if (t->held[i].heap & LW_HELD_HEAPISH)
			lw_heap_held_add_slow(t, &t->held[i]);
}

static int exe_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	uintptr_t lo, hi;
	lw_module_extent(info, &lo, &hi);
	if (lo < hi) {
		lw_exe_lo = lo;
		lw_exe_hi = hi;
	}
	return 1;                    /* the first module is the executable */
}

void lw_heap_held_init(void)
{
	dl_iterate_phdr(exe_range, NULL);
}

/* ---- the checks ---- */

/* Whether glibc's lock word says the lock at addr is taken (it is still mapped). */
static bool word_taken(const struct lw_held_ent *e)
{
	switch (e->kind) {
	case LW_LOCK_MUTEX:
		return __atomic_load_n(&((const pthread_mutex_t *)e->addr)->__data.__lock,
				       __ATOMIC_ACQUIRE) != 0;
	case LW_LOCK_RWLOCK: {
		const pthread_rwlock_t *rw = (const pthread_rwlock_t *)e->addr;
		return __atomic_load_n(&rw->__data.__cur_writer, __ATOMIC_ACQUIRE) != 0 ||
		       (__atomic_load_n(&rw->__data.__readers, __ATOMIC_ACQUIRE) >> 3) != 0;
	}
	case LW_LOCK_SPIN:
		return __atomic_load_n((const int *)e->addr, __ATOMIC_ACQUIRE) != 0;
	default:
		return true;
	}
}

/* Reports each lock thread o holds in [lo, hi). */
static void check_thread(struct lw_thread *self, struct lw_thread *o, uintptr_t lo, uintptr_t hi,
			 uint16_t what, uint32_t *stack, uintptr_t site)
{
	if (__atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
		return;
	uint32_t n = __atomic_load_n(&o->n_held, __ATOMIC_ACQUIRE);
	struct lw_held_ent *held = __atomic_load_n(&o->held, __ATOMIC_ACQUIRE);
	if (!held || n > o->cap_held)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct lw_held_ent e = held[i];
		if (e.addr < lo || e.addr >= hi || e.kind == LW_LOCK_SEM)
			continue;
		/* Another thread's books lag its real unlock a little, and an unlock the shim
		 * did not see leaves them wrong: believe them only if the lock itself says it is
		 * taken (only glibc's layouts say). */
		const struct lw_lock *l = e.lock;
		if ((!l || LW_PTHREAD_LAYOUT(l->flags)) && !word_taken(&e))
			continue;
		if (*stack == 0)
			*stack = lw_site_stack(site);
		lw_misuse(self, what, e.kind, e.addr, e.gen, *stack, o->tid, e.stack, lo);
		/* The lock is gone: its holder forgets it at its next acquisition or its end
		 * (the mechanism of an unlock by another thread), so it is not also reported
		 * as still held there. */
		lw_forget_held(e.lock);
	}
}

static void check_range(uintptr_t lo, uintptr_t hi, uint16_t what, uintptr_t site)
{
	struct lw_thread *self = lw_enter();
	if (!self)
		return;
	int saved = errno;
	uint32_t stack = 0;
	uint32_t hw = __atomic_load_n(&slots_hw, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < hw && i < LW_HEAP_SLOTS; i++) {
		struct lw_thread *o = __atomic_load_n(&slots[i].t, __ATOMIC_ACQUIRE);
		if (o && __atomic_load_n(&slots[i].n, __ATOMIC_ACQUIRE))
			check_thread(self, o, lo, hi, what, &stack, site);
	}
	if (__atomic_load_n(&overflow_n, __ATOMIC_ACQUIRE)) {
		for (struct lw_thread *o = lw_registry_head(); o; o = o->next) {
			bool slotted = false;
			for (uint32_t i = 0; i < hw && i < LW_HEAP_SLOTS && !slotted; i++)
				slotted = __atomic_load_n(&slots[i].t, __ATOMIC_RELAXED) == o;
			if (!slotted)
				check_thread(self, o, lo, hi, what, &stack, site);
		}
	}
	errno = saved;
	lw_leave();
}

/* Whether a thread holds a lock outside the executable now (a few loads). */
static inline bool some_held(void)
{
	uint32_t hw = __atomic_load_n(&slots_hw, __ATOMIC_RELAXED);
	if (LW_LIKELY(hw == 0))
		return false;
	if (__atomic_load_n(&overflow_n, __ATOMIC_RELAXED))
		return true;
	for (uint32_t i = 0; i < hw && i < LW_HEAP_SLOTS; i++)
		if (__atomic_load_n(&slots[i].n, __ATOMIC_RELAXED))
			return true;
	return false;
}

/* Whether a slotted thread's held set has an entry in [lo, hi), or a thread without a slot
 * holds one (then the registry must tell): loads only, no entering the shim. */
static bool any_in_range(uintptr_t lo, uintptr_t hi)
{
	if (__atomic_load_n(&overflow_n, __ATOMIC_RELAXED))
		return true;
	uint32_t hw = __atomic_load_n(&slots_hw, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < hw && i < LW_HEAP_SLOTS; i++) {
		struct lw_thread *o = __atomic_load_n(&slots[i].t, __ATOMIC_ACQUIRE);
		if (!o || !__atomic_load_n(&slots[i].n, __ATOMIC_RELAXED))
			continue;
		uint32_t n = __atomic_load_n(&o->n_held, __ATOMIC_ACQUIRE);
		struct lw_held_ent *held = __atomic_load_n(&o->held, __ATOMIC_ACQUIRE);
		if (!held || n > o->cap_held)
			continue;
		for (uint32_t k = 0; k < n; k++)
			if (held[k].addr - lo < hi - lo)
				return true;
	}
	return false;
}

/* ---- the wrappers ----
 * The real functions are looked up on first use (free runs before the shim starts).  dlsym
 * may free while it looks: a block freed then is left alone (never handed to the wrong
 * allocator). */
static void (*real_free)(void *);
static void *(*real_realloc)(void *, size_t);
static size_t (*real_usable)(void *);
static int (*real_munmap)(void *, size_t);
static __thread int resolving __attribute__((tls_model("initial-exec")));

static void resolve(void)
{
	resolving = 1;
	int saved = errno;
	size_t (*u)(void *) = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	__atomic_store_n(&real_usable, u, __ATOMIC_RELEASE);
	int (*m)(void *, size_t) = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
	__atomic_store_n(&real_munmap, m, __ATOMIC_RELEASE);
	void *(*r)(void *, size_t) = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	__atomic_store_n(&real_realloc, r, __ATOMIC_RELEASE);
	void (*f)(void *) = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	__atomic_store_n(&real_free, f, __ATOMIC_RELEASE);
	errno = saved;
	resolving = 0;
}

LW_EXPORT void free(void *p)
{
	void (*f)(void *) = __atomic_load_n(&real_free, __ATOMIC_ACQUIRE);
	if (LW_UNLIKELY(!f)) {
		if (resolving)
			return;
		resolve();
		f = __atomic_load_n(&real_free, __ATOMIC_ACQUIRE);
		if (!f)
			return;
	}
	if (LW_UNLIKELY(some_held()) && p && !lw_guard) {
		size_t (*u)(void *) = __atomic_load_n(&real_usable, __ATOMIC_ACQUIRE);
		size_t n = u ? u(p) : 0;
		if (n && any_in_range((uintptr_t)p, (uintptr_t)p + n))
			check_range((uintptr_t)p, (uintptr_t)p + n, LW_MISUSE_FREE_LOCKED, LW_SITE());
	}
	f(p);
}

LW_EXPORT int munmap(void *addr, size_t len)
{
	int (*m)(void *, size_t) = __atomic_load_n(&real_munmap, __ATOMIC_ACQUIRE);
	if (LW_UNLIKELY(!m)) {
		if (!resolving)
			resolve();
		m = __atomic_load_n(&real_munmap, __ATOMIC_ACQUIRE);
		if (!m)
			return (int)syscall(SYS_munmap, addr, len);
	}
	if (LW_UNLIKELY(some_held()) && len && !lw_guard &&
	    any_in_range((uintptr_t)addr, (uintptr_t)addr + len))
		check_range((uintptr_t)addr, (uintptr_t)addr + len, LW_MISUSE_UNMAP_LOCKED, LW_SITE());
	return m(addr, len);
}

/* realloc ends the old object even when the block stays where it is (C11 7.22.3.5): a lock
 * held in it is gone as after free (LW_MISUSE_FREE_LOCKED), checked before the call, while
 * the block is still the program's.  While the real functions are being looked up (dlsym
 * may allocate), glibc's own realloc serves. */
extern void *__libc_realloc(void *, size_t);

LW_EXPORT void *realloc(void *p, size_t n)
{
	void *(*r)(void *, size_t) = __atomic_load_n(&real_realloc, __ATOMIC_ACQUIRE);
	if (LW_UNLIKELY(!r)) {
		if (!resolving)
			resolve();
		r = __atomic_load_n(&real_realloc, __ATOMIC_ACQUIRE);
		if (!r)
			return __libc_realloc(p, n);
	}
	if (LW_UNLIKELY(some_held()) && p && !lw_guard) {
		size_t (*u)(void *) = __atomic_load_n(&real_usable, __ATOMIC_ACQUIRE);
		size_t m = u ? u(p) : 0;
		if (m && any_in_range((uintptr_t)p, (uintptr_t)p + m))
			check_range((uintptr_t)p, (uintptr_t)p + m, LW_MISUSE_FREE_LOCKED, LW_SITE());
	}
	return r(p, n);
}
