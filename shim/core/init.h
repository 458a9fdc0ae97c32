/* Start-up of the shim (init.c): lazy, from the first call that needs it. */
#ifndef LW_CORE_INIT_H
#define LW_CORE_INIT_H

#include "core/defs.h"

/* Process-wide state. */
enum lw_run_state { LW_UNINIT = 0, LW_INITIALIZING = 1, LW_READY = 2, LW_OFF = 3 };
LW_HIDDEN extern int lw_state;
LW_HIDDEN void lw_init(void);

#endif
