/* The set of distinct acquisitions already written: what keeps a dependencies-level trace
 * the size of the program's behaviour rather than of its run time. */
#include <string.h>
#include <sys/mman.h>
#include "locks/dedup.h"
#include "core/arena.h"

/* Levels of growing open-addressing tables: a level is added when the newest is half full,
 * so lookups stay short without ever moving a key.  Each level doubles the last: keys land
 * anywhere in a level, so all of its pages are soon resident, and quadrupling left most of
 * the newest one's memory empty (8 MB for 30k keys). */
#define LW_DEDUP_LEVELS 16
#define LW_DEDUP_FIRST  14               /* 16k slots in the first level */

static uint64_t *levels[LW_DEDUP_LEVELS];
static uint32_t counts[LW_DEDUP_LEVELS]; /* atomic */
static int n_levels;                     /* atomic */
static lw_spin_t grow_lock;

static size_t level_slots(int l)
{
	return (size_t)1 << (LW_DEDUP_FIRST + l);
}

/* Returns 1 found, 0 inserted, -1 level full. */
static int probe(int l, uint64_t key, bool insert)
{
	uint64_t *t = levels[l];
	size_t mask = level_slots(l) - 1;
	size_t i = (size_t)key & mask;
	for (size_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
		uint64_t cur = __atomic_load_n(&t[i], __ATOMIC_RELAXED);
		if (cur == key)
			return 1;
		if (cur == 0) {
			if (!insert)
				return -1;
			if (__atomic_compare_exchange_n(&t[i], &cur, key, false, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED)) {
				__atomic_add_fetch(&counts[l], 1, __ATOMIC_RELAXED);
				return 0;
			}
			if (cur == key)
				return 1;
		}
	}
	return -1;
}

static bool add_level(int have)
{
	lw_spin_lock(&grow_lock);
	if (__atomic_load_n(&n_levels, __ATOMIC_ACQUIRE) == have && have < LW_DEDUP_LEVELS) {
		uint64_t *t = lw_map_anon(level_slots(have) * sizeof *t);
		if (t) {
			levels[have] = t;
			__atomic_store_n(&n_levels, have + 1, __ATOMIC_RELEASE);
		}
	}
	bool ok = __atomic_load_n(&n_levels, __ATOMIC_ACQUIRE) > have;
	lw_spin_unlock(&grow_lock);
	return ok;
}

bool lw_dedup_insert(uint64_t key)
{
	int n = __atomic_load_n(&n_levels, __ATOMIC_ACQUIRE);
	if (n == 0) {
		if (!add_level(0))
			return true;
		n = 1;
	}
	for (int l = 0; l < n - 1; l++)
		if (probe(l, key, false) == 1)
			return false;
	int l = n - 1;
	if (__atomic_load_n(&counts[l], __ATOMIC_RELAXED) * 2 >= level_slots(l)) {
		if (probe(l, key, false) == 1)
			return false;
		if (!add_level(n))
			return true;     /* out of levels: write it again rather than lose it */
		l = n;
	}
	return probe(l, key, true) == 0;
}

void lw_dedup_reset(void)
{
	int n = n_levels;
	for (int l = 0; l < n; l++) {
		munmap(levels[l], level_slots(l) * sizeof(uint64_t));
		levels[l] = NULL;
		counts[l] = 0;
	}
	n_levels = 0;
	grow_lock.v = 0;
}
