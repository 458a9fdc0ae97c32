/* ThreadSanitizer's atomic entry points (__tsan_atomic*), defined once for both libraries that
 * provide them: liblockwatch.so (shim/access/hooks_tsan.c) records each operation, and
 * liblockwatch-hooks.so (hooks/lw_tsan_stub.c) only performs it, so the two cannot drift. */
#ifndef LW_TSAN_ATOMIC_H
#define LW_TSAN_ATOMIC_H

#include <stdint.h>

/*
 * A program compiled with -fsanitize=thread calls these instead of executing its atomic
 * operations, so each one must perform the operation it stands for, with the memory order
 * the caller asked for.  The order arrives as an int: ThreadSanitizer's enum (relaxed 0,
 * consume 1, acquire 2, release 3, acq_rel 4, seq_cst 5), which is __ATOMIC_*'s.  gcc passes
 * the order of an __atomic builtin through as written, so it may be a run-time value and
 * carry flag bits above (__ATOMIC_HLE_ACQUIRE 1 << 16, __ATOMIC_HLE_RELEASE 1 << 17, gcc's
 * internal 1 << 15): they are dropped, as ThreadSanitizer's runtime drops them.  An order
 * that is not valid for the operation (a release load, an acquire store, a release failure
 * order) is replaced by the weakest valid one at least as strong, as the compilers do; an
 * unknown one by seq_cst.  Consume is acquire, as in gcc and clang.
 *
 * The includer defines, before it expands LW_TSAN_ATOMIC_ENTRY_POINTS once:
 *   LW_TSAN_API                    the entry points' attributes (their visibility)
 *   LW_TSAN_AFTER_LOAD(p, n)       what to do just after an atomic load of n bytes at p
 *   LW_TSAN_BEFORE_STORE(p, n)     just before an atomic store
 *   LW_TSAN_BEFORE_RMW(p, n)       just before a read-modify-write or a compare-exchange
 *   LW_TSAN_AFTER_RMW(p, n)        just after it
 * Each runs inside the entry point, so __builtin_return_address(0) there is the caller's pc.
 * The fences are performed and reported to nobody.
 */

_Static_assert(__ATOMIC_RELAXED == 0 && __ATOMIC_CONSUME == 1 && __ATOMIC_ACQUIRE == 2 &&
	       __ATOMIC_RELEASE == 3 && __ATOMIC_ACQ_REL == 4 && __ATOMIC_SEQ_CST == 5,
	       "ThreadSanitizer's memory orders are __ATOMIC_*'s");

/* The caller's memory order without gcc's flag bits; seq_cst when unknown. */
static inline int lw_tsan_mo(int mo)
{
	mo &= 0x7fff;
	return mo > __ATOMIC_SEQ_CST ? __ATOMIC_SEQ_CST : mo;
}

/* A compare-exchange's pair of orders, made valid: the failure order relaxed, acquire or
 * seq_cst, the success order at least as strong.  Returns success * 8 + failure. */
static inline int lw_tsan_cas_mo(int mo, int fail_mo)
{
	int s = lw_tsan_mo(mo), f = lw_tsan_mo(fail_mo);

	if (f != __ATOMIC_RELAXED && f != __ATOMIC_SEQ_CST)
		f = __ATOMIC_ACQUIRE;
	if (s == __ATOMIC_CONSUME)
		s = __ATOMIC_ACQUIRE;
	if (f == __ATOMIC_SEQ_CST)
		s = __ATOMIC_SEQ_CST;
	else if (f == __ATOMIC_ACQUIRE && s == __ATOMIC_RELAXED)
		s = __ATOMIC_ACQUIRE;
	else if (f == __ATOMIC_ACQUIRE && s == __ATOMIC_RELEASE)
		s = __ATOMIC_ACQ_REL;
	return s * 8 + f;
}

/* The operations, per type: lw_tsan_loadN, lw_tsan_storeN, lw_tsan_<rmw>N, lw_tsan_casN. */

#define LW_TSAN_RMW_OP(n, T, name, builtin)                                                  \
	static inline T lw_tsan_##name##n(volatile T *a, T v, int mo)                        \
	{                                                                                    \
		switch (lw_tsan_mo(mo)) {                                                    \
		case __ATOMIC_RELAXED: return builtin(a, v, __ATOMIC_RELAXED);               \
		case __ATOMIC_CONSUME:                                                       \
		case __ATOMIC_ACQUIRE: return builtin(a, v, __ATOMIC_ACQUIRE);               \
		case __ATOMIC_RELEASE: return builtin(a, v, __ATOMIC_RELEASE);               \
		case __ATOMIC_ACQ_REL: return builtin(a, v, __ATOMIC_ACQ_REL);               \
		default:               return builtin(a, v, __ATOMIC_SEQ_CST);               \
		}                                                                            \
	}

#define LW_TSAN_CAS_CASE(s, f, weak)                                                         \
	case (s) * 8 + (f): return __atomic_compare_exchange_n(a, c, v, weak, s, f)

#define LW_TSAN_CAS_OP(n, T, name, weak)                                                     \
	static inline int lw_tsan_##name##n(volatile T *a, T *c, T v, int mo, int fail_mo)  \
	{                                                                                    \
		switch (lw_tsan_cas_mo(mo, fail_mo)) {                                       \
		LW_TSAN_CAS_CASE(__ATOMIC_RELAXED, __ATOMIC_RELAXED, weak);                  \
		LW_TSAN_CAS_CASE(__ATOMIC_ACQUIRE, __ATOMIC_RELAXED, weak);                  \
		LW_TSAN_CAS_CASE(__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE, weak);                  \
		LW_TSAN_CAS_CASE(__ATOMIC_RELEASE, __ATOMIC_RELAXED, weak);                  \
		LW_TSAN_CAS_CASE(__ATOMIC_ACQ_REL, __ATOMIC_RELAXED, weak);                  \
		LW_TSAN_CAS_CASE(__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE, weak);                  \
		LW_TSAN_CAS_CASE(__ATOMIC_SEQ_CST, __ATOMIC_RELAXED, weak);                  \
		LW_TSAN_CAS_CASE(__ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE, weak);                  \
		default: return __atomic_compare_exchange_n(a, c, v, weak, __ATOMIC_SEQ_CST, \
							    __ATOMIC_SEQ_CST);               \
		}                                                                            \
	}

#define LW_TSAN_OPS(n, T)                                                                    \
	static inline T lw_tsan_load##n(const volatile T *a, int mo)                         \
	{                                                                                    \
		switch (lw_tsan_mo(mo)) {                                                    \
		case __ATOMIC_RELAXED: return __atomic_load_n(a, __ATOMIC_RELAXED);          \
		case __ATOMIC_CONSUME:                                                       \
		case __ATOMIC_ACQUIRE: return __atomic_load_n(a, __ATOMIC_ACQUIRE);          \
		default:               return __atomic_load_n(a, __ATOMIC_SEQ_CST);          \
		}                                                                            \
	}                                                                                    \
	static inline void lw_tsan_store##n(volatile T *a, T v, int mo)                      \
	{                                                                                    \
		switch (lw_tsan_mo(mo)) {                                                    \
		case __ATOMIC_RELAXED: __atomic_store_n(a, v, __ATOMIC_RELAXED); break;      \
		case __ATOMIC_RELEASE: __atomic_store_n(a, v, __ATOMIC_RELEASE); break;      \
		default:               __atomic_store_n(a, v, __ATOMIC_SEQ_CST); break;      \
		}                                                                            \
	}                                                                                    \
	LW_TSAN_RMW_OP(n, T, exchange, __atomic_exchange_n)                                  \
	LW_TSAN_RMW_OP(n, T, fetch_add, __atomic_fetch_add)                                  \
	LW_TSAN_RMW_OP(n, T, fetch_sub, __atomic_fetch_sub)                                  \
	LW_TSAN_RMW_OP(n, T, fetch_and, __atomic_fetch_and)                                  \
	LW_TSAN_RMW_OP(n, T, fetch_or, __atomic_fetch_or)                                    \
	LW_TSAN_RMW_OP(n, T, fetch_xor, __atomic_fetch_xor)                                  \
	LW_TSAN_RMW_OP(n, T, fetch_nand, __atomic_fetch_nand)                                \
	LW_TSAN_CAS_OP(n, T, cas_strong, 0)                                                  \
	LW_TSAN_CAS_OP(n, T, cas_weak, 1)

/* 128 bits go through libatomic (__atomic_*_16), as the program's own code would without
 * -fsanitize=thread: whoever links this header links -latomic. */
typedef unsigned __int128 lw_tsan_u128;

LW_TSAN_OPS(8, uint8_t)
LW_TSAN_OPS(16, uint16_t)
LW_TSAN_OPS(32, uint32_t)
LW_TSAN_OPS(64, uint64_t)
LW_TSAN_OPS(128, lw_tsan_u128)

/* The entry points, per size in bits. */

#define LW_TSAN_RMW_ENTRY(n, T, name)                                                        \
	LW_TSAN_API T __tsan_atomic##n##_##name(volatile T *a, T v, int mo)                  \
	{                                                                                    \
		LW_TSAN_BEFORE_RMW(a, sizeof(T));                                            \
		T r = lw_tsan_##name##n(a, v, mo);                                           \
		LW_TSAN_AFTER_RMW(a, sizeof(T));                                             \
		return r;                                                                    \
	}

#define LW_TSAN_CAS_ENTRY(n, T, name, op)                                                    \
	LW_TSAN_API int __tsan_atomic##n##_##name(volatile T *a, T *c, T v, int mo,          \
						   int fail_mo)                              \
	{                                                                                    \
		LW_TSAN_BEFORE_RMW(a, sizeof(T));                                            \
		int r = lw_tsan_##op##n(a, c, v, mo, fail_mo);                               \
		LW_TSAN_AFTER_RMW(a, sizeof(T));                                             \
		return r;                                                                    \
	}

#define LW_TSAN_ENTRY_POINTS(n, T)                                                           \
	LW_TSAN_API T __tsan_atomic##n##_load(const volatile T *a, int mo)                   \
	{                                                                                    \
		T r = lw_tsan_load##n(a, mo);                                                \
		LW_TSAN_AFTER_LOAD(a, sizeof(T));                                            \
		return r;                                                                    \
	}                                                                                    \
	LW_TSAN_API void __tsan_atomic##n##_store(volatile T *a, T v, int mo)                \
	{                                                                                    \
		LW_TSAN_BEFORE_STORE(a, sizeof(T));                                          \
		lw_tsan_store##n(a, v, mo);                                                  \
	}                                                                                    \
	LW_TSAN_RMW_ENTRY(n, T, exchange)                                                    \
	LW_TSAN_RMW_ENTRY(n, T, fetch_add)                                                   \
	LW_TSAN_RMW_ENTRY(n, T, fetch_sub)                                                   \
	LW_TSAN_RMW_ENTRY(n, T, fetch_and)                                                   \
	LW_TSAN_RMW_ENTRY(n, T, fetch_or)                                                    \
	LW_TSAN_RMW_ENTRY(n, T, fetch_xor)                                                   \
	LW_TSAN_RMW_ENTRY(n, T, fetch_nand)                                                  \
	LW_TSAN_CAS_ENTRY(n, T, compare_exchange_strong, cas_strong)                         \
	LW_TSAN_CAS_ENTRY(n, T, compare_exchange_weak, cas_weak)                             \
	/* Returns the old value: a strong compare-exchange on a copy of c. */               \
	LW_TSAN_API T __tsan_atomic##n##_compare_exchange_val(volatile T *a, T c, T v,       \
							      int mo, int fail_mo)           \
	{                                                                                    \
		LW_TSAN_BEFORE_RMW(a, sizeof(T));                                            \
		lw_tsan_cas_strong##n(a, &c, v, mo, fail_mo);                                \
		LW_TSAN_AFTER_RMW(a, sizeof(T));                                             \
		return c;                                                                    \
	}

/* Fences: performed with their order (a relaxed one is none). */
#define LW_TSAN_FENCE_ENTRY(name, builtin)                                                   \
	LW_TSAN_API void __tsan_atomic_##name##_fence(int mo)                                \
	{                                                                                    \
		switch (lw_tsan_mo(mo)) {                                                    \
		case __ATOMIC_RELAXED: break;                                                \
		case __ATOMIC_CONSUME:                                                       \
		case __ATOMIC_ACQUIRE: builtin(__ATOMIC_ACQUIRE); break;                     \
		case __ATOMIC_RELEASE: builtin(__ATOMIC_RELEASE); break;                     \
		case __ATOMIC_ACQ_REL: builtin(__ATOMIC_ACQ_REL); break;                     \
		default:               builtin(__ATOMIC_SEQ_CST); break;                     \
		}                                                                            \
	}

#define LW_TSAN_ATOMIC_ENTRY_POINTS                                                          \
	LW_TSAN_ENTRY_POINTS(8, uint8_t)                                                     \
	LW_TSAN_ENTRY_POINTS(16, uint16_t)                                                   \
	LW_TSAN_ENTRY_POINTS(32, uint32_t)                                                   \
	LW_TSAN_ENTRY_POINTS(64, uint64_t)                                                   \
	LW_TSAN_ENTRY_POINTS(128, lw_tsan_u128)                                              \
	LW_TSAN_FENCE_ENTRY(thread, __atomic_thread_fence)                                   \
	LW_TSAN_FENCE_ENTRY(signal, __atomic_signal_fence)

#endif
