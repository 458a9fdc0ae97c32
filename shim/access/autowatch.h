/* Automatic watching of the program's globals (watch=auto, the default): the candidates
 * (autowatch_globals.c) and the sampler that rotates debug registers over them in windows
 * (autowatch.c). */
#ifndef LW_AUTOWATCH_H
#define LW_AUTOWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <ucontext.h>
#include "core/defs.h"

/* Debug registers automatic watching of globals may use, of x86-64's four: the others are
 * left to the code sampling of heap and stack data (issue 20's other half) and to watch=. */
#define LW_AUTO_SLOTS 2
/* sig_data of its events: "LWAU" and the slot. */
#define LW_AUTO_TAG 0x4c57415500000000ull

/* Caps on the candidates: granules (aligned 8-byte pieces) per object and in all, objects. */
#define LW_AUTO_OBJECT_GRANULES 8u
#define LW_AUTO_MAX_GRANULES    4096u
#define LW_AUTO_MAX_OBJECTS     4096u
/* Executable ranges of the program's own objects (where a hit must come from). */
#define LW_AUTO_MAX_TEXT        64u

enum lw_granule_state {
	LW_GRANULE_WAITING = 0,      /* not watched yet, or watched and put back in the queue */
	LW_GRANULE_WATCHED = 1,      /* in a slot */
	LW_GRANULE_DONE    = 2,      /* seen from two threads, enough hits, or too hot */
	LW_GRANULE_DROPPED = 3,      /* touched from the C library, the loader or the shim */
};

struct lw_auto_granule {
	uintptr_t addr;
	uint8_t  len;                /* 1, 2, 4 or 8: the object's bytes in it, aligned */
	uint8_t  state;              /* enum lw_granule_state */
	uint8_t  ever;               /* watched at some time */
	uint8_t  pad;
	uint32_t object;             /* index in the objects */
};

struct lw_auto_object {
	uintptr_t addr;
	uint64_t size;
};

struct lw_auto_globals {
	struct lw_auto_object  objects[LW_AUTO_MAX_OBJECTS];
	struct lw_auto_granule granules[LW_AUTO_MAX_GRANULES];
	uint32_t n_objects, n_granules;
	uintptr_t text_lo[LW_AUTO_MAX_TEXT], text_hi[LW_AUTO_MAX_TEXT];
	uint32_t n_text;
};

/* Finds the candidates in the only thread at start-up: data objects (STT_OBJECT, size > 0,
 * in writable allocated data sections) of the executable and of the program's own shared
 * objects, from .symtab then .dynsym, and the executable segments of those objects.  Never
 * fails; g is filled with what fits under the caps. */
LW_HIDDEN void lw_auto_find_globals(struct lw_auto_globals *g);

/* One slot of the sampler: a debug register and the granule it watches now.  Written by the
 * sampler, read by the SIGTRAP handler (atomics). */
struct lw_auto_slot {
	int fd;                      /* the perf event, -1 when none */
	uint32_t granule;            /* index, or UINT32_MAX: none */
	uintptr_t addr;              /* the granule's address, 0: none */
	uint32_t len;
	uint32_t hits;               /* recorded since the granule came in */
	uint32_t tid_a, tid_b;       /* the first two threads that hit it */
	uint32_t shared_hits;        /* hits since the second thread's first */
	uint32_t foreign;            /* hits from outside the program's own code */
	uint64_t last_value;
	uint64_t since;              /* sampler's: when the granule came in (CLOCK_MONOTONIC) */
};

/* Whether a hit of slot s (tagged LW_AUTO_TAG) of the breakpoint at bp_addr is to be recorded, and its stats;
 * called by the SIGTRAP handler.  Returns the slot, or NULL when the hit is to be ignored
 * (stale, outside a window, from the C library: then the granule is dropped). */
LW_HIDDEN struct lw_auto_slot *lw_auto_hit(uint32_t s, uintptr_t bp_addr, uintptr_t pc,
					   uint32_t tid);
/* Counts a recorded hit. */
LW_HIDDEN void lw_auto_recorded(void);

/* watch=auto: whether it is on (the default when no watch= names are given). */
LW_HIDDEN extern bool lw_auto_enabled;
/* watch_budget=PERCENT: the share of the run busy windows may be open. */
LW_HIDDEN extern unsigned lw_auto_budget;
/* watch_trace_kb=N: about how much trace all windows together may take. */
LW_HIDDEN extern unsigned lw_auto_trace_kb;

/* With the trace open, in the only thread: finds the candidates, opens the breakpoints and
 * the first window, starts the sampler thread.  Never fails. */
LW_HIDDEN void lw_auto_start(void);
/* In a fork child with its own trace: watching stops (the sampler is the parent's). */
LW_HIDDEN void lw_auto_after_fork(void);
/* The process exits: writes the coverage record. */
LW_HIDDEN void lw_auto_exiting(void);

#endif
