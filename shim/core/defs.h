/* What every file of the shim uses: visibility, branch hints, the call site, a hash mixer. */
#ifndef LW_CORE_DEFS_H
#define LW_CORE_DEFS_H

#include <stdint.h>

#define LW_HIDDEN __attribute__((visibility("hidden")))
#define LW_EXPORT __attribute__((visibility("default")))
#define LW_LIKELY(x)   __builtin_expect(!!(x), 1)
#define LW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define LW_SITE() ((uintptr_t)__builtin_return_address(0))

/* Mixes x's bits for a hash table's index; never returns 0. */
static inline uint64_t lw_mix64(uint64_t x)
{
	x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x ? x : 1;
}

#endif
