/* Calls whose object or argument the implementation cannot take (refused.c, issue 22): a
 * lock call on memory that holds no valid mutex or semaphore, a timeout out of range, an
 * init's attributes refused. */
#ifndef LW_LOCKS_REFUSED_H
#define LW_LOCKS_REFUSED_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lw_trace_format.h"
#include "core/defs.h"

/* The bits glibc's pthread_mutex_t.__data.__kind may have: the type (0..3), robust (16),
 * priority inheritance (32) and protection (64), process-shared (128), elision (256, 512).
 * Anything else is not a mutex pthread_mutex_init or an initialiser made. */
#define LW_MUTEX_KIND_BITS 0x3f3
static inline bool lw_mutex_bogus(const pthread_mutex_t *m)
{
	/* (-1, all bits, is also what glibc's destroy leaves: lw_call_misuse tells a use after
	 * a destroy the shim saw.) */
	return (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & ~LW_MUTEX_KIND_BITS) != 0;
}
/* glibc's sem_t (x86-64): a 64-bit value-and-waiters word, then "private", which sem_init
 * sets to 0 (process-shared) or FUTEX_PRIVATE_FLAG (128). */
static inline bool lw_sem_bogus(const sem_t *s)
{
	int priv = __atomic_load_n((const int *)((const char *)s + 8), __ATOMIC_RELAXED);
	return priv != 0 && priv != 128;
}
static inline bool lw_timeout_bad(const struct timespec *abs)
{
	return abs && (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L);
}

/* Writes a misuse (what: LW_MISUSE_NOT_AN_OBJECT, _TIMEOUT_INVALID, _ATTR_REFUSED) of the
 * object at addr, with its init as the other side when the shim knows it.  Keeps errno. */
LW_HIDDEN void lw_call_misuse(uint16_t what, uint16_t kind, const void *addr, uint64_t value,
			      uintptr_t site);

/* A timed call returned rc: when it refused an out-of-range timeout, says so.  Returns rc. */
static inline int lw_timeout_checked(int rc, const void *addr, uint16_t kind,
				     const struct timespec *abs, uintptr_t site)
{
	if (LW_UNLIKELY(rc == EINVAL) && lw_timeout_bad(abs))
		lw_call_misuse(LW_MISUSE_TIMEOUT_INVALID, kind, addr,
			       (uint64_t)abs->tv_nsec, site);
	return rc;
}
/* The same for sem_timedwait, which returns -1 and sets errno. */
static inline int lw_sem_timeout_checked(int rc, const void *addr, uint16_t kind,
					 const struct timespec *abs, uintptr_t site)
{
	if (LW_UNLIKELY(rc == -1) && errno == EINVAL && lw_timeout_bad(abs))
		lw_call_misuse(LW_MISUSE_TIMEOUT_INVALID, kind, addr,
			       (uint64_t)abs->tv_nsec, site);
	return rc;
}

#endif
