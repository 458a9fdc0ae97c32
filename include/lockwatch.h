/* lockwatch.h: annotations that show lockwatch(1) the memory accesses it cannot see. */
#ifndef LOCKWATCH_H
#define LOCKWATCH_H

/*
 * LW_READ(&x) and LW_WRITE(&x) tell lockwatch that this thread reads or writes x here;
 * LW_ATOMIC_BEGIN() and LW_ATOMIC_END() mark code that runs as one atomic step by means
 * lockwatch cannot see, which it then judges like one critical section.  See lockwatch.h(3).
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

#else

#define LW_ACCESS_(p, n, f) ((void)(p), (void)(n))
#define LW_ATOMIC_(b)       ((void)0)

#endif

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

#ifdef __cplusplus
}
#endif

#endif
