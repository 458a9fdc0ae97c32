/* Helpers shared by the wrappers: bookkeeping around a real call that keeps errno intact. */
#ifndef LW_WRAP_H
#define LW_WRAP_H

#include <errno.h>
#include "lw_shim.h"

/* After a successful acquisition. */
static inline void lw_note_acquired(const void *addr, uint16_t kind, uint16_t mode,
				    uint16_t flags, uintptr_t site)
{
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_acquired(t, addr, kind, mode, flags, site);
		lw_leave();
	}
	errno = saved;
}

/* Before the real release, so that a full-level trace orders it before the next owner. */
static inline void lw_note_release(const void *addr)
{
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_released(t, addr);
		lw_leave();
	}
	errno = saved;
}

static inline void lw_note_init(const void *addr, uint16_t kind, uint16_t flags, uintptr_t site)
{
	int saved = errno;
	if (lw_enter()) {
		lw_lock_new_gen(addr, kind, flags, site);
		lw_leave();
	}
	errno = saved;
}

static inline void lw_note_destroy(const void *addr, uintptr_t site)
{
	int saved = errno;
	if (lw_enter()) {
		lw_lock_destroyed(addr, site);
		lw_leave();
	}
	errno = saved;
}

#endif
