/* Memory for the shim without malloc (the host's allocator may itself lock), and the spin
 * flag used on the shim's rare slow paths. */
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include "core/arena.h"

void *lw_map_anon(size_t size)
{
	int saved = errno;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

#define LW_ARENA_CHUNK (1u << 20)

static char *arena_cur;
static size_t arena_left;
static lw_spin_t arena_lock;

void *lw_arena_alloc(size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size >= LW_ARENA_CHUNK / 4)
		return lw_map_anon(size);
	lw_spin_lock(&arena_lock);
	if (size > arena_left) {
		char *c = lw_map_anon(LW_ARENA_CHUNK);
		if (!c) {
			lw_spin_unlock(&arena_lock);
			return NULL;
		}
		arena_cur = c;
		arena_left = LW_ARENA_CHUNK;
	}
	void *p = arena_cur;
	arena_cur += size;
	arena_left -= size;
	lw_spin_unlock(&arena_lock);
	return p;
}

bool lw_spin_trylock(lw_spin_t *s)
{
	return __atomic_exchange_n(&s->v, 1, __ATOMIC_ACQUIRE) == 0;
}

void lw_spin_lock(lw_spin_t *s)
{
	while (!lw_spin_trylock(s)) {
		while (__atomic_load_n(&s->v, __ATOMIC_RELAXED))
			sched_yield();
	}
}

void lw_spin_unlock(lw_spin_t *s)
{
	__atomic_store_n(&s->v, 0, __ATOMIC_RELEASE);
}
