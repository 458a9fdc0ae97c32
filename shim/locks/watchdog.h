/* The watchdog (watchdog.c): real deadlocks and hangs end with a report. */
#ifndef LW_LOCKS_WATCHDOG_H
#define LW_LOCKS_WATCHDOG_H

#include <stdint.h>

#include "core/threads.h"

/* A timed condition wait: published for the misuse checks, never a hang (shim-internal). */
#define LW_WAIT_COND_TIMED 0x12u
/* Publishes that t is about to block on addr.  Starts the watchdog the first time. */
LW_HIDDEN void lw_wait_begin(struct lw_thread *t, uintptr_t addr, uint32_t gen, uint16_t kind,
			     uint16_t mode, uint32_t stack);
LW_HIDDEN void lw_watchdog_after_fork(void);
/* Issue 20: the shim's threads other than the watchdog that run now (the sampler of
 * automatic watching, shim/access/autowatch.c), atomic: the hang check counts the
 * process's threads. */
LW_HIDDEN extern int lw_shim_threads;

#endif
