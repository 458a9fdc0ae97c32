/* The process-wide set of keys already written (dedup.c). */
#ifndef LW_LOCKS_DEDUP_H
#define LW_LOCKS_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/defs.h"

/* Adds key; returns true when it was new.  On overflow returns true (write again). */
LW_HIDDEN bool lw_dedup_insert(uint64_t key);
LW_HIDDEN void lw_dedup_reset(void);

#endif
