/* The trace file's writer (trace_writer.c): reserving and committing records, the event order. */
#ifndef LW_CORE_TRACE_WRITER_H
#define LW_CORE_TRACE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "lw_trace_format.h"
#include "core/defs.h"

/* Creates this process's trace file.  Returns 0, or a negative errno (recording off). */
LW_HIDDEN int lw_trace_open(bool forked_child);
/* Reserves size bytes (multiple of 8) for one record.  Returns NULL when the record must be
 * dropped (limit reached, disk full, trace closed). */
LW_HIDDEN void *lw_trace_reserve(uint32_t size);
/* The same, from the tail every thread shares: async-signal-safe anywhere (the SIGTRAP
 * handler's). */
LW_HIDDEN void *lw_trace_reserve_shared(uint32_t size);
/* Whether rec, of size bytes, is the last record the calling thread reserved in its chunk of
 * the current trace (nothing of anybody's lies after it there yet). */
LW_HIDDEN bool lw_trace_last_in_chunk(const void *rec, uint32_t size);
/* Publishes a reserved record: stores its head word last, with release ordering. */
LW_HIDDEN void lw_trace_commit(void *rec, uint16_t kind, uint32_t size);
/* Marks the trace closed (clean exit) and trims it when no other thread can write. */
LW_HIDDEN void lw_trace_close(bool only_thread);
/* Issue 24: whether a trace is open and is this process's (a vfork child shares its
 * parent's memory, and its trace with it). */
LW_HIDDEN bool lw_trace_owned_here(void);
/* In a fork child: forgets the parent's file without touching it. */
LW_HIDDEN void lw_trace_forget(void);
/* Takes the next position in the process's event order (and starts a new hook epoch for
 * the calling thread, see hooks.c). */
LW_HIDDEN uint64_t lw_next_seq(void);
/* The header says that some lock operations went unrecorded (lockwatch-trace(5)). */
LW_HIDDEN void lw_trace_note_locks_unrecorded(void);
/* Issue 20: sets LW_HDR_WINDOWS in the header (automatic watching's windows). */
LW_HIDDEN void lw_trace_mark_windows(void);
/* The same, for a lock acquisition: an event that orders nothing of this thread's before
 * any other thread's (lw_epoch.releases stays). */
LW_HIDDEN uint64_t lw_next_acquire_seq(void);
/* The last position taken, by any thread. */
LW_HIDDEN uint64_t lw_current_seq(void);
/* A position for an operation of a lock only this thread has taken, or for a release of any
 * lock (acquire.c), from a block of positions the thread reserved (its last acquisition
 * reserved two): no shared counter to bump.  It is in the order of the thread's own events,
 * and before every event that can follow it in another thread, which takes its position
 * from the counter, past the block.  release: as lw_next_seq, else as lw_next_acquire_seq. */
LW_HIDDEN uint64_t lw_next_private_seq(bool release);

#define LW_REC_ALIGN(n) (((n) + 7u) & ~7u)

/* The compiler hooks' per-thread state (shim/access/hooks.c) lives here, with the event
 * order: each new event of a thread stamps its seq into the hooks' key (lw_hook_note_seq). */
/* What the hooks' fast path reads, per thread: the stack to ignore and the thread's current
 * epoch key (its tid and the seq of its last event, as a shadow cell holds them; 0 until the
 * thread's first hook call went through the slow path). */
struct lw_hook_tls {
	uintptr_t stack_lo;
	uintptr_t stack_span;
	uint64_t key;
	struct lw_cell *shadow;
	uint32_t tid;
	uint32_t parent;             /* the creating thread's tid, 0 if unknown */
	uint64_t start_seq;          /* the seq at which it was created */
	uint32_t writes;             /* its writes to shared granules (hooks.c: written_state) */
	uintptr_t stack_escape;      /* issue 21: lowest address of its stack it handed to
				      * another thread (lw_hook_stack_escapes), 0: none */
};
LW_HIDDEN extern __thread struct lw_hook_tls lw_hook __attribute__((tls_model("initial-exec")));
#define LW_CELL_SEQ_MASK 0x7fffffffull /* bit 31 of a cell's state is LW_ST_BUSY */
/* The calling thread's place in the trace's order: the seq of its last event (0: none yet
 * in this trace), how many records it has placed after that event since (LW_ACCESS_AFTER
 * accesses), and how many of its events could order it before another thread (every event
 * but a lock acquisition).  lw_next_seq and lw_next_acquire_seq set it. */
struct lw_epoch {
	uint64_t seq;
	uint32_t sub;
	uint32_t releases;
};
LW_HIDDEN extern __thread struct lw_epoch lw_epoch __attribute__((tls_model("initial-exec")));
/* Issue 21: the calling thread hands addr to a thread it creates (the start routine's
 * argument).  When addr is on its stack, its hooks stop ignoring its stack from addr's
 * granule up (the frames that hold what it handed over), so that its own accesses to a
 * local another thread was given a pointer to are recorded too (hooks.c, "The filter"). */
static inline void lw_hook_stack_escapes(uintptr_t addr)
{
	uintptr_t g = addr & ~(uintptr_t)7;
	if (g - lw_hook.stack_lo < lw_hook.stack_span)
		lw_hook.stack_span = g - lw_hook.stack_lo;
	/* Before the thread's hooks are set up its bounds are not known yet: thread_init
	 * (hooks.c) applies the lowest address handed over. */
	if (!lw_hook.stack_escape || g < lw_hook.stack_escape)
		lw_hook.stack_escape = g;
}

/* A new event of this thread starts a new epoch for its hooks. */
static inline void lw_hook_note_seq(uint64_t seq)
{
	if (lw_hook.key)
		lw_hook.key = (lw_hook.key & ~LW_CELL_SEQ_MASK) | (seq & LW_CELL_SEQ_MASK);
}

#endif
