/* The shim's options (options.c), from LOCKWATCH_OPTIONS and LOCKWATCH_SESSION. */
#ifndef LW_CORE_OPTIONS_H
#define LW_CORE_OPTIONS_H

#include <stdint.h>

#include "core/defs.h"

struct lw_options {
	char trace_dir[4096];
	int level;                   /* enum lw_level */
	int stack_depth;
	uint64_t max_trace_bytes;
	int verbose;
	int enabled;
	uint64_t session;
	int on_deadlock;             /* enum lw_on_deadlock */
	int deadlock_ms;             /* a wait-for cycle must hold this long */
	int hang_ms;                 /* every thread blocked this long is a hang */
	int deadlock_exitcode;
	int trust_dir;               /* issue 24: use a directory others own or can write */
};

enum lw_on_deadlock { LW_ON_DEADLOCK_EXIT = 0, LW_ON_DEADLOCK_ABORT = 1, LW_ON_DEADLOCK_CONTINUE = 2 };
LW_HIDDEN extern struct lw_options lw_opt;
/* Fills lw_opt from the defaults and LOCKWATCH_OPTIONS/LOCKWATCH_SESSION.  Warns on stderr
 * about keys it does not know; never fails. */
LW_HIDDEN void lw_options_load(void);

#endif
