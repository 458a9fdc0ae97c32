/* lockwatch.h: annotations that show lockwatch(1) the memory accesses and locks it cannot
 * see. */
#ifndef LOCKWATCH_H
#define LOCKWATCH_H

/*
 * LW_READ(&x) and LW_WRITE(&x) tell lockwatch that this thread reads or writes x here;
 * LW_ATOMIC_BEGIN() and LW_ATOMIC_END() mark code that runs as one atomic step by means
 * lockwatch cannot see, which it then judges like one critical section.  LW_MUTEX_*() tell
 * it about a lock the program builds itself (on a futex, on atomics).  See lockwatch.h(3).
 *
 * The macros call functions that only liblockwatch.so defines, through weak references:
 * a program built with them and run without lockwatch finds the functions missing and
 * skips the calls, at the cost of one load and one branch each.  Define LOCKWATCH_DISABLE
 * before including this header to compile them out altogether.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* flags of lockwatch_annotate_access */
#define LOCKWATCH_READ   1u
#define LOCKWATCH_WRITE  2u
#define LOCKWATCH_ATOMIC 4u         /* an atomic operation: it synchronises, never races */

#if defined(__GNUC__) && !defined(LOCKWATCH_DISABLE)

/* Records an access of size bytes at addr.  pc is the accessing code, or NULL for the
 * caller's return address. */
extern void lockwatch_annotate_access(const volatile void *addr, unsigned size,
				      unsigned flags, const void *pc) __attribute__((weak));
/* Records the start (begin != 0) or end of an intended-atomic region. */
extern void lockwatch_annotate_atomic(int begin, const void *pc) __attribute__((weak));

#define LW_ACCESS_(p, n, f) \
	((void)(lockwatch_annotate_access \
		? lockwatch_annotate_access((p), (unsigned)(n), (f), (const void *)0) \
		: (void)0))
#define LW_ATOMIC_(b) \
	((void)(lockwatch_annotate_atomic ? lockwatch_annotate_atomic((b), (const void *)0) \
					  : (void)0))

/* ThreadSanitizer's mutex annotations (<sanitizer/tsan_interface.h>), which liblockwatch.so
 * defines too: under ThreadSanitizer the same macros teach it. */
extern void __tsan_mutex_create(void *addr, unsigned flags) __attribute__((weak));
extern void __tsan_mutex_destroy(void *addr, unsigned flags) __attribute__((weak));
extern void __tsan_mutex_pre_lock(void *addr, unsigned flags) __attribute__((weak));
extern void __tsan_mutex_post_lock(void *addr, unsigned flags, int recursion)
	__attribute__((weak));
extern int __tsan_mutex_pre_unlock(void *addr, unsigned flags) __attribute__((weak));
extern void __tsan_mutex_post_unlock(void *addr, unsigned flags) __attribute__((weak));

#define LW_MUTEX_CALL_(fn, ...) ((void)(fn ? (void)fn(__VA_ARGS__) : (void)0))

#else

#define LW_ACCESS_(p, n, f) ((void)(p), (void)(n))
#define LW_ATOMIC_(b)       ((void)0)
#define LW_MUTEX_CALL_(fn, ...) ((void)0)

#endif

/* Flags of LW_MUTEX_CREATE and LW_MUTEX_PRE_LOCK (tsan_interface.h's values). */
#define LOCKWATCH_MUTEX_RECURSIVE  (1u << 1)  /* its owner may take it again */
#define LOCKWATCH_MUTEX_READ       (1u << 3)  /* a shared (reader) acquisition */
#define LOCKWATCH_MUTEX_TRY_       (1u << 4)
#define LOCKWATCH_MUTEX_FAILED_    (1u << 5)

/* This thread reads *p here (sizeof *p bytes). */
#define LW_READ(p)          LW_ACCESS_((p), sizeof *(p), LOCKWATCH_READ)
/* This thread writes *p here. */
#define LW_WRITE(p)         LW_ACCESS_((p), sizeof *(p), LOCKWATCH_WRITE)
/* The same for n bytes at p. */
#define LW_READ_N(p, n)     LW_ACCESS_((p), (n), LOCKWATCH_READ)
#define LW_WRITE_N(p, n)    LW_ACCESS_((p), (n), LOCKWATCH_WRITE)
/* An atomic read-modify-write of *p (a C11 atomic, a __sync or __atomic builtin). */
#define LW_ATOMIC_RMW(p)    LW_ACCESS_((p), sizeof *(p), \
				       LOCKWATCH_READ | LOCKWATCH_WRITE | LOCKWATCH_ATOMIC)
/* What the thread does from here to LW_ATOMIC_END() is one atomic step (other threads
 * are kept out by means lockwatch cannot see): no check-then-act is reported inside. */
#define LW_ATOMIC_BEGIN()   LW_ATOMIC_(1)
#define LW_ATOMIC_END()     LW_ATOMIC_(0)

/* A lock the program builds itself, at address m: created (flags 0 or
 * LOCKWATCH_MUTEX_RECURSIVE) and destroyed. */
#define LW_MUTEX_CREATE(m, flags) LW_MUTEX_CALL_(__tsan_mutex_create, (void *)(m), (flags))
#define LW_MUTEX_DESTROY(m)       LW_MUTEX_CALL_(__tsan_mutex_destroy, (void *)(m), 0u)
/* Around the code that takes it (flags 0 or LOCKWATCH_MUTEX_READ, the same for both): PRE
 * before the attempt, POST once the thread holds it. */
#define LW_MUTEX_PRE_LOCK(m, flags)  LW_MUTEX_CALL_(__tsan_mutex_pre_lock, (void *)(m), (flags))
#define LW_MUTEX_POST_LOCK(m, flags) LW_MUTEX_CALL_(__tsan_mutex_post_lock, (void *)(m), \
						    (flags), 0)
/* Around an attempt that does not wait; ok: whether it took the lock. */
#define LW_MUTEX_PRE_TRYLOCK(m, flags) \
	LW_MUTEX_CALL_(__tsan_mutex_pre_lock, (void *)(m), (flags) | LOCKWATCH_MUTEX_TRY_)
#define LW_MUTEX_POST_TRYLOCK(m, flags, ok) \
	LW_MUTEX_CALL_(__tsan_mutex_post_lock, (void *)(m), (flags) | LOCKWATCH_MUTEX_TRY_ | \
		       ((ok) ? 0u : LOCKWATCH_MUTEX_FAILED_), 0)
/* Around the code that releases it. */
#define LW_MUTEX_PRE_UNLOCK(m, flags) \
	LW_MUTEX_CALL_(__tsan_mutex_pre_unlock, (void *)(m), (flags))
#define LW_MUTEX_POST_UNLOCK(m, flags) \
	LW_MUTEX_CALL_(__tsan_mutex_post_unlock, (void *)(m), (flags))

#ifdef __cplusplus
}
#endif

#endif
