/* Misuse of the API (misuse.c): MISUSE records. */
#ifndef LW_LOCKS_MISUSE_H
#define LW_LOCKS_MISUSE_H

#include <stdint.h>

#include "lw_trace_format.h"
#include "core/threads.h"

/* Writes a MISUSE record.  other_*: the thread and stack that set up the conflicting state. */
LW_HIDDEN void lw_misuse(struct lw_thread *t, uint16_t what, uint16_t kind, uintptr_t addr,
			 uint32_t gen, uint32_t stack, uint32_t other_tid, uint32_t other_stack,
			 uint64_t value);

#endif
