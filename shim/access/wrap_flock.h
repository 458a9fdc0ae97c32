/* The files the process holds a file lock on (wrap_flock.c), for the PATH records of
 * check-then-act on files (wrap_path.c). */
#ifndef LW_ACCESS_WRAP_FLOCK_H
#define LW_ACCESS_WRAP_FLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "core/defs.h"
#include "core/threads.h"

/* The OR of the signatures of the files the process holds any lock on now (fcntl, lockf,
 * flock); 0 when none.  Async-signal-safe, lock-free: one atomic load. */
LW_HIDDEN uint32_t lw_flock_mask(void);

/* Writes the PATH record (op LW_PATH_LOCK) that names a locked file: path (len bytes) and
 * its signature sig, by thread t from the call at site (wrap_path.c). */
LW_HIDDEN void lw_path_write_lock(struct lw_thread *t, const char *path, size_t len,
				  uint32_t sig, uintptr_t site);

#endif
