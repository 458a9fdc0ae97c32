/* Open-addressing (linear probing) hash map keyed by two 64-bit words. */
#include "base/hashmap.h"
#include "base/util.h"

#include <stdlib.h>

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull + (a << 6) + (a >> 2));

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

bool lw_map_get(const struct lw_map *m, uint64_t a, uint64_t b, uint32_t *value)
{
	if (!m->cap)
		return false;
	for (size_t i = mix(a, b) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct lw_map_slot *s = &m->slots[i];

		if (!s->used)
			return false;
		if (s->a == a && s->b == b) {
			*value = s->value;
			return true;
		}
	}
}

static void insert(struct lw_map_slot *slots, size_t cap, uint64_t a, uint64_t b, uint32_t value,
		   size_t *n)
{
	for (size_t i = mix(a, b) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		struct lw_map_slot *s = &slots[i];

		if (!s->used) {
			*s = (struct lw_map_slot){ a, b, value, 1 };
			(*n)++;
			return;
		}
		if (s->a == a && s->b == b) {
			s->value = value;
			return;
		}
	}
}

void lw_map_put(struct lw_map *m, uint64_t a, uint64_t b, uint32_t value)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64, n = 0;
		struct lw_map_slot *slots = lw_xcalloc(cap, sizeof(*slots));

		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].used)
				insert(slots, cap, m->slots[i].a, m->slots[i].b, m->slots[i].value, &n);
		free(m->slots);
		m->slots = slots;
		m->cap = cap;
		m->n = n;
	}
	insert(m->slots, m->cap, a, b, value, &m->n);
}

void lw_map_free(struct lw_map *m)
{
	free(m->slots);
	*m = (struct lw_map){ 0 };
}
