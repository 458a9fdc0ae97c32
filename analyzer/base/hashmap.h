/* An open-addressing hash map from a pair of 64-bit keys to a 32-bit value. */
#ifndef LW_HASHMAP_H
#define LW_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lw_map_slot {
	uint64_t a, b;
	uint32_t value;
	uint32_t used;
};

struct lw_map {
	struct lw_map_slot *slots;
	size_t cap;                  /* power of two, or 0 */
	size_t n;
};

/* Returns true and stores the value in *value if (a, b) is present. */
bool lw_map_get(const struct lw_map *m, uint64_t a, uint64_t b, uint32_t *value);
/* Inserts or replaces (a, b) -> value.  Cannot fail (allocation failure exits). */
void lw_map_put(struct lw_map *m, uint64_t a, uint64_t b, uint32_t value);
void lw_map_free(struct lw_map *m);

#endif
