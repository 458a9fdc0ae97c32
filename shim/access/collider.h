/* The collider (collider.c): races on the heap caught in the act by sampling, DataCollider's
 * way.  Its layer (LW_LAYER) starts it; the SIGTRAP handler (watch_trap.c) hands it its
 * traps. */
#ifndef LW_ACCESS_COLLIDER_H
#define LW_ACCESS_COLLIDER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/defs.h"

/* Debug registers the collider uses: one execute and one data breakpoint. */
#define LW_COLLIDER_REGS 2
/* sig_data of its events: this tag in the high bits, which one in the low bits. */
#define LW_COLLIDER_TAG  0x4c57434f00000000ull   /* "LWCO" */
#define LW_COLLIDER_CODE 0u
#define LW_COLLIDER_DATA 1u

/* A SIGTRAP of the collider's event `which` in the calling thread; uc is the handler's
 * ucontext_t; async: delivered late (the thread had SIGTRAP blocked).  Async-signal-safe. */
LW_HIDDEN void lw_collider_trap(uint64_t which, const void *uc, bool async);

#endif
