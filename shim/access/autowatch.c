/* Automatic watching of the program's globals (watch=auto): the sampler thread that rotates
 * LW_AUTO_SLOTS debug registers over the candidate granules, in windows during which every
 * synchronisation is written (shim/locks/acquire.c, "watch windows"), and the coverage
 * record that says what it watched. */
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "access/autowatch.h"
#include "access/watch.h"
#include "core/defs.h"
#include "core/fds.h"
#include "core/init.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"
#include "locks/watchdog.h"

/*
 * The schedule.
 *
 * The first window opens at start-up, so a short program is watched from its first access.
 * A window stays open while it is quiet: fewer than LW_AUTO_QUIET_PER_S positions of the
 * event order taken per second (a few locks a second cost nothing to write).  A busy window
 * closes after LW_AUTO_WINDOW_MS of busy time, and the next one opens when the busy time of
 * all windows is at most watch_budget percent of the run.  Windows end for good once they
 * have taken about watch_trace_kb KiB of trace (each position counts LW_AUTO_SEQ_BYTES),
 * so the trace of a long run stays the size of a short one's, as at the dependencies level.
 *
 * A granule leaves its slot when it has been hit from two threads LW_AUTO_ENOUGH times (what
 * a race needs is in the trace: DONE), after LW_AUTO_LONELY hits from one thread (back to
 * the queue, it may be shared later), when a hit comes from outside the program's own code
 * (the C library or the shim touching a lock or a buffer: DROPPED for good), after
 * LW_AUTO_DWELL_NS with no hit from a second thread (five times that with one: back to the
 * queue), and at the end of its window (back to the queue).  The slot takes the next waiting
 * granule, round robin, so that a quiet program's window goes round all its globals.
 */
#define LW_AUTO_TICK_NS      (2 * 1000 * 1000)
#define LW_AUTO_WINDOW_NS    (50ull * 1000 * 1000)
#define LW_AUTO_QUIET_PER_S  10000u
#define LW_AUTO_ENOUGH       32u
#define LW_AUTO_LONELY       512u
#define LW_AUTO_SEQ_BYTES    40u
#define LW_AUTO_DWELL_NS     (20ull * 1000 * 1000)
#define LW_AUTO_SLOW_AFTER_NS (500ull * 1000 * 1000)

bool lw_auto_enabled = true;
unsigned lw_auto_budget = 10;
unsigned lw_auto_trace_kb = 32;

static struct lw_auto_globals G;
static struct lw_auto_slot slots[LW_AUTO_SLOTS];
static uint32_t n_slots;             /* opened */
static int refused;                  /* errno of perf_event_open, 0: none */
static int active;                   /* atomic: watching (not in a fork child, not refused) */
static int win;                      /* the sampler's view: a window is open */
static uint32_t cursor;              /* where the search for a waiting granule resumes */
static uint32_t n_windows;
static bool closed_once;             /* a window closed: not one window for the whole run */
static bool rotated;                 /* a granule left its slot */
static uint64_t start_ns, win_start_ns, busy_ns, win_busy_ns, open_ns, last_tick_ns, last_seq;
static uint64_t seq_budget;          /* positions windows may still take */
static uint64_t win_seq0;
static uint64_t traps;               /* atomic */
static struct perf_event_attr base;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool own_pc(uintptr_t pc)
{
	for (uint32_t i = 0; i < G.n_text; i++)
		if (pc >= G.text_lo[i] && pc < G.text_hi[i])
			return true;
	return false;
}

struct lw_auto_slot *lw_auto_hit(uint32_t s, uintptr_t bp_addr, uintptr_t pc, uint32_t tid)
{
	if (s >= LW_AUTO_SLOTS || !__atomic_load_n(&active, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&lw_window_open, __ATOMIC_ACQUIRE))
		return NULL;
	struct lw_auto_slot *sl = &slots[s];
	uintptr_t a = __atomic_load_n(&sl->addr, __ATOMIC_ACQUIRE);
	/* The kernel gives the breakpoint's address: a hit of the granule the slot had before
	 * the sampler moved it is not this one's. */
	if (!a || (bp_addr && bp_addr != a))
		return NULL;
	if (!own_pc(pc)) {
		__atomic_add_fetch(&sl->foreign, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	uint32_t ta = __atomic_load_n(&sl->tid_a, __ATOMIC_RELAXED);
	if (!ta && __atomic_compare_exchange_n(&sl->tid_a, &ta, tid, false, __ATOMIC_RELAXED,
					       __ATOMIC_RELAXED))
		ta = tid;
	if (ta != tid && !__atomic_load_n(&sl->tid_b, __ATOMIC_RELAXED))
		__atomic_store_n(&sl->tid_b, tid, __ATOMIC_RELAXED);
	uint32_t hits = __atomic_add_fetch(&sl->hits, 1, __ATOMIC_RELAXED);
	uint32_t shared = __atomic_load_n(&sl->tid_b, __ATOMIC_RELAXED) ?
			  __atomic_add_fetch(&sl->shared_hits, 1, __ATOMIC_RELAXED) : 0;
	/* Seen enough: the rest would only cost traps until the sampler moves it. */
	if (shared > LW_AUTO_ENOUGH || (!shared && hits > LW_AUTO_LONELY))
		return NULL;
	return sl;
}

void lw_auto_recorded(void)
{
	__atomic_add_fetch(&traps, 1, __ATOMIC_RELAXED);
}

/* Points slot s's breakpoint at granule g (UINT32_MAX: none, disabled).  Returns 0 or a
 * negative errno. */
static int retarget(uint32_t s, uint32_t g)
{
	struct lw_auto_slot *sl = &slots[s];
	__atomic_store_n(&sl->addr, 0, __ATOMIC_RELEASE);
	if (sl->granule != UINT32_MAX && G.granules[sl->granule].state == LW_GRANULE_WATCHED)
		G.granules[sl->granule].state = LW_GRANULE_WAITING;
	sl->granule = g;
	__atomic_store_n(&sl->hits, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->tid_a, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->tid_b, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->shared_hits, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->foreign, 0, __ATOMIC_RELAXED);
	sl->since = now_ns();
	struct perf_event_attr at = base;
	at.sig_data = LW_AUTO_TAG | s;       /* the kernel copies it on modification (5.17) */
	if (g == UINT32_MAX) {
		at.bp_addr = G.granules[0].addr;
		at.bp_len = HW_BREAKPOINT_LEN_1;
		at.disabled = 1;
	} else {
		at.bp_addr = G.granules[g].addr;
		at.bp_len = G.granules[g].len;
		at.disabled = 0;
		G.granules[g].state = LW_GRANULE_WATCHED;
		G.granules[g].ever = 1;
		sl->len = G.granules[g].len;
	}
	/* Kernel 5.13 and later apply it to every inherited copy: all the program's threads. */
	if (ioctl(sl->fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &at) < 0)
		return -errno;
	if (g != UINT32_MAX)
		__atomic_store_n(&sl->addr, G.granules[g].addr, __ATOMIC_RELEASE);
	return 0;
}

/* The next waiting granule, round robin, or UINT32_MAX. */
static uint32_t next_waiting(void)
{
	for (uint32_t k = 0; k < G.n_granules; k++) {
		uint32_t g = (cursor + k) % G.n_granules;
		if (G.granules[g].state == LW_GRANULE_WAITING) {
			cursor = (g + 1) % G.n_granules;
			return g;
		}
	}
	return UINT32_MAX;
}

/* Whether a granule other than g waits for a slot. */
static bool other_waiting(uint32_t g)
{
	for (uint32_t k = 0; k < G.n_granules; k++)
		if (k != g && G.granules[k].state == LW_GRANULE_WAITING)
			return true;
	return false;
}

static bool any_waiting(void)
{
	for (uint32_t g = 0; g < G.n_granules; g++)
		if (G.granules[g].state == LW_GRANULE_WAITING)
			return true;
	return false;
}

/* What slot s's granule has seen: moves it on when it is done with. */
static void review(uint32_t s)
{
	struct lw_auto_slot *sl = &slots[s];
	if (sl->granule == UINT32_MAX) {
		retarget(s, next_waiting());
		return;
	}
	struct lw_auto_granule *gr = &G.granules[sl->granule];
	uint32_t hits = __atomic_load_n(&sl->hits, __ATOMIC_RELAXED);
	uint32_t shared = __atomic_load_n(&sl->shared_hits, __ATOMIC_RELAXED);
	uint64_t dwelt = now_ns() - sl->since;
	uint8_t next;
	if (__atomic_load_n(&sl->foreign, __ATOMIC_RELAXED))
		next = LW_GRANULE_DROPPED;
	else if (shared >= LW_AUTO_ENOUGH)
		next = LW_GRANULE_DONE;
	else if ((!shared && (hits >= LW_AUTO_LONELY || dwelt >= LW_AUTO_DWELL_NS)) ||
		 dwelt >= 5 * LW_AUTO_DWELL_NS)
		next = LW_GRANULE_WAITING;
	else
		return;
	/* Back to the queue with nobody else in it: it stays where it is. */
	if (next == LW_GRANULE_WAITING && !other_waiting(sl->granule))
		return;
	gr->state = next;
	rotated = true;
	retarget(s, next_waiting());
}

static bool any_slot_busy(void)
{
	for (uint32_t s = 0; s < n_slots; s++)
		if (slots[s].granule != UINT32_MAX)
			return true;
	return false;
}

static void open_window(uint64_t now)
{
	/* Granules first, the flag after: a hit before the window's opening is dropped. */
	for (uint32_t s = 0; s < n_slots; s++)
		retarget(s, next_waiting());
	if (!any_slot_busy())
		return;
	win_seq0 = lw_current_seq();
	lw_window_mark(true);
	win = 1;
	win_start_ns = now;
	win_busy_ns = 0;
	n_windows++;
}

static void close_window(uint64_t now)
{
	lw_window_mark(false);
	win = 0;
	closed_once = true;
	open_ns += now - win_start_ns;
	uint64_t used = lw_current_seq() - win_seq0;
	seq_budget = used >= seq_budget ? 0 : seq_budget - used;
	for (uint32_t s = 0; s < n_slots; s++) {
		review(s);
		retarget(s, UINT32_MAX);
	}
}

static void tick(void)
{
	uint64_t now = now_ns(), seq = lw_current_seq();
	uint64_t dt = now - last_tick_ns, dseq = seq - last_seq;
	last_tick_ns = now;
	last_seq = seq;
	if (win) {
		/* Busy: more positions taken this tick than a quiet window's rate. */
		if (dseq * 1000000000ull > (uint64_t)LW_AUTO_QUIET_PER_S * dt) {
			busy_ns += dt;
			win_busy_ns += dt;
		}
		for (uint32_t s = 0; s < n_slots; s++)
			review(s);
		uint64_t used = seq - win_seq0;
		/* A writer closed it (over the trace budget, see lw_window_spend), nothing is
		 * left to watch, or it was busy for long enough. */
		if (!__atomic_load_n(&lw_window_open, __ATOMIC_ACQUIRE) || !any_slot_busy() ||
		    used >= seq_budget || win_busy_ns >= LW_AUTO_WINDOW_NS)
			close_window(now);
		return;
	}
	if (seq_budget == 0 || !any_waiting())
		return;
	if (busy_ns * 100 <= (uint64_t)lw_auto_budget * (now - start_ns)) {
		lw_window_limit(lw_current_seq() + seq_budget);
		open_window(now);
	}
}

static int sampler_alive;            /* atomic: counted in lw_internal_threads */

static void *sampler_main(void *arg)
{
	lw_guard = 1;                /* nothing this thread does is the program's */
	struct timespec period = { 0, LW_AUTO_TICK_NS };
	for (;;) {
		/* Every 2 ms while the program starts (short programs), every 10 ms after. */
		if (now_ns() - start_ns > LW_AUTO_SLOW_AFTER_NS)
			period.tv_nsec = 5 * LW_AUTO_TICK_NS;
		clock_nanosleep(CLOCK_MONOTONIC, 0, &period, NULL);
		if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE))
			break;
		if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
			continue;
		tick();
		if (!win && (seq_budget == 0 || !any_waiting()))
			break;       /* nothing more to watch: the thread ends */
	}
	lw_internal_thread_gone(&sampler_alive);
	return arg;
}

static int open_slot(uint32_t s, uint32_t g)
{
	struct perf_event_attr at = base;
	at.bp_addr = G.granules[g].addr;
	at.bp_len = G.granules[g].len;
	at.sig_data = LW_AUTO_TAG | s;
	int fd = (int)syscall(SYS_perf_event_open, &at, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Out of the numbers the program gets (issue 24): where that is impossible, automatic
	 * watching takes none of them and says so. */
	bool costly;
	fd = lw_fd_place(fd, &costly);
	if (costly) {
		close(fd);
		return -EMFILE;
	}
	slots[s].fd = fd;
	slots[s].granule = g;
	slots[s].len = G.granules[g].len;
	slots[s].since = now_ns();
	G.granules[g].state = LW_GRANULE_WATCHED;
	G.granules[g].ever = 1;
	return 0;
}

void lw_auto_start(void)
{
	if (!lw_auto_enabled)
		return;
	int saved = errno;
	start_ns = last_tick_ns = now_ns();
	for (uint32_t s = 0; s < LW_AUTO_SLOTS; s++) {
		slots[s].fd = -1;
		slots[s].granule = UINT32_MAX;
	}
	lw_auto_find_globals(&G);
	if (lw_opt.level != LW_LEVEL_FULL)
		lw_trace_mark_windows();
	if (!G.n_granules)
		goto out;
	memset(&base, 0, sizeof base);
	base.type = PERF_TYPE_BREAKPOINT;
	base.size = sizeof base;
	base.bp_type = HW_BREAKPOINT_RW;    /* x86 cannot trap reads alone */
	base.sample_period = 1;
	base.inherit = 1;                   /* the threads (and fork children) created later */
	base.remove_on_exec = 1;
	base.sigtrap = 1;
	base.exclude_kernel = 1;
	base.exclude_hv = 1;
	int rc = lw_trap_install();
	for (uint32_t s = 0; rc == 0 && s < LW_AUTO_SLOTS && s < G.n_granules; s++) {
		rc = open_slot(s, s);
		if (rc == 0)
			n_slots++;
	}
	cursor = n_slots % G.n_granules;
	if (!n_slots) {
		refused = -rc;
		goto out;
	}
	/* The attributes as the kernel keeps them, for PERF_EVENT_IOC_MODIFY_ATTRIBUTES,
	 * which refuses any change but the address, length, type and disabled. */
	base.sig_data = LW_AUTO_TAG;
	seq_budget = (uint64_t)lw_auto_trace_kb * 1024 / LW_AUTO_SEQ_BYTES;
	for (uint32_t s = 0; s < n_slots; s++)
		slots[s].addr = G.granules[slots[s].granule].addr;
	__atomic_store_n(&active, 1, __ATOMIC_RELEASE);
	win_seq0 = last_seq = lw_current_seq();
	lw_window_limit(win_seq0 + seq_budget);
	lw_window_mark(true);
	win = 1;
	win_start_ns = start_ns;
	n_windows = 1;
	/* The sampler: a shim thread the program never sees, with every signal blocked. */
	if (lw_internal_thread_start(sampler_main, NULL, 128 * 1024, &sampler_alive) != 0)
		lw_msg("watch: cannot start the sampler thread; the globals first watched stay "
		       "watched");
out:
	errno = saved;
}

static void write_coverage(uint16_t status)
{
	struct lw_rec_coverage *r = lw_trace_reserve_shared(sizeof *r);
	if (!r)
		return;
	uint64_t now = now_ns();
	bool watched_obj[LW_AUTO_MAX_OBJECTS / 8 + 1];
	memset(watched_obj, 0, sizeof watched_obj);
	uint32_t gw = 0, gd = 0, ow = 0;
	for (uint32_t g = 0; g < G.n_granules; g++) {
		const struct lw_auto_granule *gr = &G.granules[g];
		if (gr->ever) {
			gw++;
			uint32_t o = gr->object;
			uint8_t *bits = (uint8_t *)watched_obj;
			if (!(bits[o / 8] & (1u << (o % 8)))) {
				bits[o / 8] |= (uint8_t)(1u << (o % 8));
				ow++;
			}
		}
		gd += gr->state == LW_GRANULE_DROPPED;
	}
	r->status = refused ? LW_COVERAGE_REFUSED : status;
	r->flags = 0;
	/* One window, never closed, and every granule in a slot from start-up on. */
	if (!refused && status == LW_COVERAGE_WATCHED && G.n_granules && !closed_once &&
	    !rotated && G.n_granules <= n_slots)
		r->flags |= LW_COVF_WHOLE_RUN;
	r->err = refused;
	r->globals = G.n_objects;
	r->globals_watched = ow;
	r->granules = G.n_granules;
	r->granules_watched = gw;
	r->granules_dropped = gd;
	r->windows = n_windows;
	r->run_ns = now - start_ns;
	r->window_ns = open_ns + (win ? now - win_start_ns : 0);
	r->traps = __atomic_load_n(&traps, __ATOMIC_RELAXED);
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_COVERAGE, sizeof *r);
}

void lw_auto_exiting(void)
{
	if (!lw_auto_enabled)
		return;
	int saved = errno;
	write_coverage(LW_COVERAGE_WATCHED);
	errno = saved;
}

void lw_auto_after_fork(void)
{
	if (!lw_auto_enabled)
		return;
	/* The sampler is the parent's; the breakpoints the child inherited are moved by it
	 * (they are copies of its events), so the child records none of their hits. */
	bool was = __atomic_exchange_n(&active, 0, __ATOMIC_ACQ_REL);
	lw_internal_thread_gone(&sampler_alive);   /* the sampler is not here */
	__atomic_store_n(&lw_window_open, 0, __ATOMIC_RELEASE);
	win = 0;
	if (was || refused)
		write_coverage(LW_COVERAGE_FORKED);
}
