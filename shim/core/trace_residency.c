/* Which pages of the trace mapping stay in the process's memory: a full-level trace is
 * written fast and far, and the pages behind its writers must leave the process (they stay in
 * the file and the page cache) for its memory to stay bounded. */
#include <sys/mman.h>
#include "core/trace_residency.h"
#include "core/threads.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * Three rules, all hints (a dropped page that is written again is faulted back in, with its
 * contents: a MAP_SHARED page lives in the page cache), so errors are ignored:
 *
 * - A thread that takes a chunk of more than a page faults it in by one call, rather than
 *   page by page under the program's locks; when it moves to a new chunk it drops the whole
 *   pages of its finished one.  So a writer has its chunk in memory, no more.
 * - Each time the shared tail passes a multiple of LW_TRACE_WINDOW, the pages behind it go
 *   (the pages of small chunks and of records taken at the tail), but for those of chunks
 *   live threads are still filling (a page they would write again).  Those are spared and
 *   noted, and dropped at a later window once their thread has moved on: a chunk of a
 *   thread that writes slowly is never taken away under it, which a plain window behind the
 *   tail did (the page came back and stayed).
 *
 * Threads publish their chunk in lw_thread.chunk_lo/chunk_hi; a reader may see a torn or
 * stale pair, which at worst drops a page a writer then faults back in.  The window's work
 * runs under the writer's grow lock.
 */
#define LW_SPARED_MAX 64
#define LW_PAGE       4096ull

struct spared {
	uint64_t lo, hi;                 /* page-aligned */
	struct lw_thread *t;
	uint64_t chunk;                  /* t->chunk_lo when spared */
};

static struct {
	uint64_t dropped;                /* everything below was dropped, but spared pages */
	struct spared spared[LW_SPARED_MAX];
	int n_spared;
} R;

void lw_trace_residency_reset(uint64_t start)
{
	R.dropped = start & ~(LW_PAGE - 1);
	R.n_spared = 0;
}

static void drop(char *map, uint64_t lo, uint64_t hi)
{
	if (hi > lo)
		madvise(map + lo, hi - lo, MADV_DONTNEED);
}

void lw_trace_chunk_done(char *map, uint64_t lo, uint64_t hi)
{
	drop(map, (lo + LW_PAGE - 1) & ~(LW_PAGE - 1), hi & ~(LW_PAGE - 1));
}

/* Drops the spared ranges whose thread has moved to another chunk or ended. */
static void drop_spared_done(char *map)
{
	int k = 0;
	for (int i = 0; i < R.n_spared; i++) {
		struct spared *s = &R.spared[i];
		if (__atomic_load_n(&s->t->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE ||
		    __atomic_load_n(&s->t->chunk_lo, __ATOMIC_RELAXED) != s->chunk)
			drop(map, s->lo, s->hi);
		else
			R.spared[k++] = *s;
	}
	R.n_spared = k;
}

/* The live threads' chunks that meet [lo, hi), page-aligned and sorted; at most max. */
static int live_chunks(uint64_t lo, uint64_t hi, struct spared *out, int max)
{
	int n = 0;
	for (struct lw_thread *t = lw_registry_head(); t && n < max; t = t->next) {
		if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		uint64_t chunk = __atomic_load_n(&t->chunk_lo, __ATOMIC_RELAXED);
		uint64_t c_lo = chunk & ~(LW_PAGE - 1);
		uint64_t c_hi = (__atomic_load_n(&t->chunk_hi, __ATOMIC_RELAXED) + LW_PAGE - 1) &
				~(LW_PAGE - 1);
		if (c_hi <= lo || c_lo >= hi || c_hi <= c_lo)
			continue;
		struct spared s = { c_lo < lo ? lo : c_lo, c_hi > hi ? hi : c_hi, t, chunk };
		int i = n++;
		for (; i > 0 && out[i - 1].lo > s.lo; i--)
			out[i] = out[i - 1];
		out[i] = s;
	}
	return n;
}

void lw_trace_chunk_taken(char *map, uint64_t lo, uint64_t hi)
{
	lo = (lo + LW_PAGE - 1) & ~(LW_PAGE - 1);
	if (hi > lo + LW_PAGE)
		madvise(map + lo, hi - lo, MADV_POPULATE_WRITE);
}

void lw_trace_advance(char *map, uint64_t behind)
{
	drop_spared_done(map);
	/* Not the page the reservation starts on: a record may be being written there. */
	uint64_t end = behind & ~(LW_PAGE - 1);
	if (end < R.dropped + LW_TRACE_WINDOW / 4)
		return;
	struct spared live[LW_SPARED_MAX];
	int n_live = live_chunks(R.dropped, end, live, LW_SPARED_MAX);
	uint64_t at = R.dropped;
	for (int i = 0; i < n_live; i++) {
		drop(map, at, live[i].lo);
		if (live[i].hi > at)
			at = live[i].hi;
		if (R.n_spared < LW_SPARED_MAX)
			R.spared[R.n_spared++] = live[i];
		else
			drop(map, live[i].lo, live[i].hi);
	}
	drop(map, at, end);
	R.dropped = end;
}
