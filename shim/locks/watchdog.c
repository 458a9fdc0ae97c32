/* The watchdog: a shim thread, started the first time a thread blocks, that notices real
 * deadlocks (a wait-for cycle between threads, or a thread waiting for a lock it holds) and
 * hangs (every thread blocked), writes a DEADLOCK record with every involved thread's stack,
 * held locks and awaited lock, and ends the process instead of letting it hang. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "locks/watchdog.h"
#include "core/defs.h"
#include "core/init.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/real.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/locks.h"

#define LW_WATCH_PERIOD_NS (100 * 1000 * 1000)
#define LW_MAX_SNAP 4096

static int started;                      /* atomic */
static int reported;                     /* a deadlock was reported (on_deadlock=continue) */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A consistent-enough copy of one blocked thread. */
struct snap {
	struct lw_thread *t;
	uintptr_t addr;
	uint32_t gen, seq, stack;
	uint16_t kind, mode;
	uint64_t since;
	int next;                    /* index of the thread it waits for, in a cycle */
	int8_t xproc;                /* another process may end the wait (issue 18); -1: not
				      * asked yet (snap_xproc) */
};

static struct snap snaps[LW_MAX_SNAP];
static struct snap prev[LW_MAX_SNAP];
static int n_snaps, n_prev;
static int prev_cycle[LW_MAX_SNAP], n_prev_cycle;

static bool is_lock_kind(uint16_t k)
{
	return k == LW_LOCK_MUTEX || k == LW_LOCK_RWLOCK || k == LW_LOCK_SPIN;
}

/* Whether h holds the lock s waits for, in a mode that excludes s. */
static bool holds_against(struct lw_thread *h, const struct snap *s)
{
	uint32_t n = __atomic_load_n(&h->n_held, __ATOMIC_ACQUIRE);
	struct lw_held_ent *held = __atomic_load_n(&h->held, __ATOMIC_ACQUIRE);
	if (!held || n > h->cap_held)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (held[i].addr != s->addr || held[i].gen != s->gen)
			continue;
		if (s->mode == LW_MODE_READ && held[i].mode == LW_MODE_READ)
			continue;
		return true;
	}
	return false;
}

/* Takes a snapshot of the live threads.  Returns how many are live; blocked ones land in
 * snaps[]. */
static int snapshot(void)
{
	int live = 0;
	n_snaps = 0;
	for (struct lw_thread *t = lw_registry_head(); t; t = t->next) {
		if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != LW_TS_LIVE)
			continue;
		live++;
		uintptr_t a = __atomic_load_n(&t->wait_addr, __ATOMIC_ACQUIRE);
		if (!a || n_snaps == LW_MAX_SNAP || t->wait_kind == LW_WAIT_COND_TIMED)
			continue;
		struct snap *s = &snaps[n_snaps++];
		s->t = t;
		s->addr = a;
		s->gen = t->wait_gen;
		s->kind = t->wait_kind;
		s->mode = t->wait_mode;
		s->stack = t->wait_stack;
		s->since = t->wait_since;
		s->seq = __atomic_load_n(&t->wait_seq, __ATOMIC_ACQUIRE);
		s->next = -1;
		s->xproc = -1;
	}
	return live;
}

/* Whether another process may end s's wait: asked once per snapshot, and only when it
 * matters, since it may read the object's memory and the process's mappings. */
static bool snap_xproc(struct snap *s)
{
	if (s->xproc < 0)
		s->xproc = s->kind != LW_WAIT_JOIN &&
			   lw_lock_cross_process(s->addr, (s->kind == LW_WAIT_COND ||
							   s->kind == LW_WAIT_COND_DESTROY)
							  ? LW_LOCK_COND : s->kind);
	return s->xproc;
}

/* Whether h, which the held sets say holds the lock s waits for, really does: a lock another
 * process can use may have been unlocked there, or taken by a thread of another process
 * (issue 18), so a mutex's owner field, or a write-locked rwlock's writer, must name h. */
static bool owner_confirmed(struct snap *s, const struct lw_thread *h)
{
	if (!snap_xproc(s))
		return true;
	pid_t tid = h->os_tid;
	if (s->kind == LW_LOCK_MUTEX) {
		pthread_mutex_t m;
		return lw_mem_read(s->addr, &m, sizeof m) &&
		       (m.__data.__owner & 0x3fffffff) == tid;    /* FUTEX_TID_MASK */
	}
	if (s->kind == LW_LOCK_RWLOCK) {
		pthread_rwlock_t rw;
		if (!lw_mem_read(s->addr, &rw, sizeof rw))
			return false;
		/* A reader is not named anywhere; a writer is. */
		return rw.__data.__cur_writer == 0 || rw.__data.__cur_writer == tid;
	}
	return true;
}

/* Whether thread t (as snapshotted) waited the same wait in the previous scan too. */
static bool stable(const struct snap *s)
{
	for (int i = 0; i < n_prev; i++)
		if (prev[i].t == s->t)
			return prev[i].seq == s->seq && prev[i].addr == s->addr;
	return false;
}

/* Finds a wait-for cycle among threads blocked on locks for at least min_ns.  Returns its
 * length and fills cycle[] with snapshot indexes, or 0. */
static int find_cycle(uint64_t now, uint64_t min_ns, int *cycle)
{
	/* Each blocked thread points at one blocked holder of its lock (any one closes the
	 * cycle: a waiter needs every conflicting holder to let go). */
	for (int i = 0; i < n_snaps; i++) {
		struct snap *s = &snaps[i];
		s->next = -1;
		if (!is_lock_kind(s->kind) || now - s->since < min_ns)
			continue;
		for (int j = 0; j < n_snaps; j++) {
			if (is_lock_kind(snaps[j].kind) && now - snaps[j].since >= min_ns &&
			    holds_against(snaps[j].t, s) && owner_confirmed(s, snaps[j].t)) {
				s->next = j;
				if (j != i)
					break;
			}
		}
	}
	static int mark[LW_MAX_SNAP];
	for (int i = 0; i < n_snaps; i++)
		mark[i] = -1;
	for (int start = 0; start < n_snaps; start++) {
		int len = 0, i = start;
		while (i >= 0 && mark[i] == -1) {
			mark[i] = start;
			cycle[len++] = i;
			i = snaps[i].next;
		}
		if (i >= 0 && mark[i] == start) {
			/* The cycle is the tail of the walk from i on. */
			int k = 0;
			while (cycle[k] != i)
				k++;
			memmove(cycle, cycle + k, (size_t)(len - k) * sizeof *cycle);
			return len - k;
		}
	}
	return 0;
}

static bool handler_installed(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) < 0)
			continue;
		if ((sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN))
			return true;
	}
	return false;
}

/* Threads in the process, from /proc; -1 if unknown. */
static int os_threads(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	int field = 2;
	for (; *p && field < 20; p++)
		if (*p == ' ')
			field++;
	return atoi(p);
}

/* Whether the thread with this tid has not ended (a join on it can still wait for good). */
static bool thread_live(uint32_t tid)
{
	for (struct lw_thread *t = lw_registry_head(); t; t = t->next)
		if (t->tid == tid && __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == LW_TS_LIVE)
			return true;
	return false;
}

/* Every live thread waits, none with a timeout, and nothing the shim cannot see could wake
 * them: not a signal handler (sem_post is async-signal-safe), not another process (any
 * process-shared object in shared memory), not a thread the shim does not know, and not the
 * end of a thread being joined (its joiner returns as soon as it runs again, which on a
 * loaded machine can take longer than hang_ms). */
static bool all_blocked(int live, uint64_t now, uint64_t min_ns)
{
	if (live == 0 || n_snaps != live)
		return false;
	bool sem_wait_seen = false;
	for (int i = 0; i < n_snaps; i++) {
		if (now - snaps[i].since < min_ns || !stable(&snaps[i]))
			return false;
		if (snaps[i].kind == LW_WAIT_JOIN && !thread_live((uint32_t)snaps[i].addr))
			return false;
		if (snaps[i].kind == LW_LOCK_SEM) {
			sem_wait_seen = true;
			if (lw_lock_flags(snaps[i].addr) & (LW_LOCKF_PSHARED | LW_LOCKF_NAMED_SEM))
				return false;
		}
	}
	for (int i = 0; i < n_snaps; i++)
		if (snap_xproc(&snaps[i]))
			return false;
	if (sem_wait_seen && handler_installed())
		return false;
	int os = os_threads();
	/* The program's threads, this one, and the shim's others (issue 20: the samplers). */
	return os == live + 1 + __atomic_load_n(&lw_internal_threads, __ATOMIC_ACQUIRE);
}

static void write_deadlock(uint32_t reason, const int *idx, int n)
{
	uint32_t size = sizeof(struct lw_rec_deadlock);
	for (int i = 0; i < n; i++) {
		uint32_t h = __atomic_load_n(&snaps[idx[i]].t->n_held, __ATOMIC_ACQUIRE);
		size += sizeof(struct lw_deadlock_thread) + h * sizeof(struct lw_held);
	}
	if (size > LW_REC_MAX_SIZE)
		return;
	for (int i = 0; i < n; i++)   /* issue 23 (perf): every thread named is in the trace */
		lw_thread_materialize(snaps[idx[i]].t);
	struct lw_rec_deadlock *r = lw_trace_reserve(size);
	if (!r)
		return;
	r->reason = reason;
	r->n_threads = (uint32_t)n;
	r->seq = lw_next_seq();
	char *p = (char *)(r + 1);
	char *end = (char *)r + size;
	for (int i = 0; i < n; i++) {
		const struct snap *s = &snaps[idx[i]];
		struct lw_deadlock_thread *d = (struct lw_deadlock_thread *)p;
		uint32_t h = __atomic_load_n(&s->t->n_held, __ATOMIC_ACQUIRE);
		if (p + sizeof *d + h * sizeof(struct lw_held) > end)
			h = 0;
		d->tid = s->t->tid;
		d->stack = s->stack;
		d->wait_addr = s->addr;
		d->wait_gen = s->gen;
		d->wait_kind = s->kind;
		d->wait_mode = s->mode;
		d->n_held = h;
		d->pad = 0;
		struct lw_held *out = (struct lw_held *)(d + 1);
		for (uint32_t k = 0; k < h; k++) {
			const struct lw_held_ent *e = &s->t->held[k];
			out[k].addr = e->addr;
			out[k].gen = e->gen;
			out[k].mode = e->mode;
			out[k].flags = e->flags;
			out[k].stack = e->stack;
			out[k].pad = 0;
		}
		p = (char *)(out + h);
	}
	/* Threads whose held set shrank between sizing and copying leave zeros at the end. */
	lw_trace_commit(r, LW_REC_DEADLOCK, size);
}

static void act(const char *what)
{
	const char *how = lw_opt.on_deadlock == LW_ON_DEADLOCK_CONTINUE ? "left waiting"
			  : lw_opt.on_deadlock == LW_ON_DEADLOCK_ABORT ? "aborting"
			  : "ending the process";
	lw_msg("%s; details in the trace (%s): %s", what, lw_opt.trace_dir, how);
	if (lw_opt.on_deadlock == LW_ON_DEADLOCK_CONTINUE) {
		reported = 1;
		return;
	}
	lw_trace_close(false);
	if (lw_opt.on_deadlock == LW_ON_DEADLOCK_ABORT)
		abort();
	_exit(lw_opt.deadlock_exitcode);
}

static void scan(void)
{
	uint64_t now = now_ns();
	int live = snapshot();
	static int cycle[LW_MAX_SNAP];
	int n = find_cycle(now, (uint64_t)lw_opt.deadlock_ms * 1000000u, cycle);
	bool same_as_before = n > 0 && n == n_prev_cycle;
	for (int i = 0; i < n && same_as_before; i++)
		same_as_before = stable(&snaps[cycle[i]]);
	if (n > 0 && same_as_before && !reported) {
		char what[256];
		if (n == 1)
			snprintf(what, sizeof what, "deadlock: thread %u waits for lock %#lx, which it "
				 "holds itself", snaps[cycle[0]].t->tid, (unsigned long)snaps[cycle[0]].addr);
		else
			snprintf(what, sizeof what, "deadlock: %d threads wait for each other's locks "
				 "(thread %u waits for %#lx)", n, snaps[cycle[0]].t->tid,
				 (unsigned long)snaps[cycle[0]].addr);
		write_deadlock(n == 1 ? LW_DEADLOCK_SELF : LW_DEADLOCK_CYCLE, cycle, n);
		act(what);
	} else if (n == 0 && !reported &&
		   all_blocked(live, now, (uint64_t)lw_opt.hang_ms * 1000000u)) {
		static int all[LW_MAX_SNAP];
		for (int i = 0; i < n_snaps; i++)
			all[i] = i;
		char what[128];
		snprintf(what, sizeof what, "hang: all %d threads are blocked and nothing can wake "
			 "them", n_snaps);
		write_deadlock(LW_DEADLOCK_ALL_BLOCKED, all, n_snaps);
		act(what);
	}
	memcpy(prev, snaps, (size_t)n_snaps * sizeof *snaps);
	n_prev = n_snaps;
	n_prev_cycle = n;
	memcpy(prev_cycle, cycle, (size_t)n * sizeof *cycle);
}

static void *watchdog_main(void *arg)
{
	lw_guard = 1;                /* nothing this thread does is the program's */
	struct timespec period = { 0, LW_WATCH_PERIOD_NS };
	for (;;) {
		clock_nanosleep(CLOCK_MONOTONIC, 0, &period, NULL);
		if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
			continue;
		scan();
	}
	return arg;
}

static void start(void)
{
	int expected = 0;
	if (!__atomic_compare_exchange_n(&started, &expected, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	int saved = errno;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* signals are the program's business */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_t th;
	if (REAL(create)(&th, &attr, watchdog_main, NULL) != 0)
		lw_msg("cannot start the deadlock watchdog; real deadlocks will hang");
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}

void lw_wait_begin(struct lw_thread *t, uintptr_t addr, uint32_t gen, uint16_t kind,
		   uint16_t mode, uint32_t stack)
{
	t->wait_gen = gen;
	t->wait_kind = kind;
	t->wait_mode = mode;
	t->wait_stack = stack;
	t->wait_since = now_ns();
	__atomic_add_fetch(&t->wait_seq, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->wait_addr, addr, __ATOMIC_RELEASE);
	if (LW_UNLIKELY(!__atomic_load_n(&started, __ATOMIC_RELAXED)))
		start();
}

void lw_watchdog_after_fork(void)
{
	/* The watchdog thread does not exist in the child: start another when needed.  (The
	 * shim's other threads, the samplers, are taken out of the count by their owners.) */
	started = 0;
	reported = 0;
	n_prev = 0;
	n_prev_cycle = 0;
}
