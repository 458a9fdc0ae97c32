/* The trace's pages in memory (trace_residency.c): what the writers are past is dropped. */
#ifndef LW_CORE_TRACE_RESIDENCY_H
#define LW_CORE_TRACE_RESIDENCY_H

#include <stdint.h>

#include "core/defs.h"

/* The step of the shared tail at which the pages behind the writers are dropped (a power of
 * two). */
#define LW_TRACE_WINDOW (256u << 10)
/* Forgets what was dropped: a new trace whose records start at offset start. */
LW_HIDDEN void lw_trace_residency_reset(uint64_t start);
/* The shared tail has just passed a multiple of LW_TRACE_WINDOW with a reservation that starts
 * at `behind`: drops what is behind the writers, below it.  Called under the writer's grow
 * lock. */
LW_HIDDEN void lw_trace_advance(char *map, uint64_t behind);
/* The calling thread took the chunk [lo, hi), inside the file: faults it in. */
LW_HIDDEN void lw_trace_chunk_taken(char *map, uint64_t lo, uint64_t hi);
/* The calling thread finished its chunk [lo, hi): drops its whole pages. */
LW_HIDDEN void lw_trace_chunk_done(char *map, uint64_t lo, uint64_t hi);

#endif
