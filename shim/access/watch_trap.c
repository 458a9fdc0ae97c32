/* The SIGTRAP handler that records watchpoint hits, and sigaction()/signal() for SIGTRAP so
 * that a program's own SIGTRAP handler keeps working, chained behind ours. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "access/watch.h"
#include "access/autowatch.h"
#include "access/collider.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/init.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif
#define LW_TRAP_PERF_FLAG_ASYNC 1u   /* the event fired while SIGTRAP was blocked */

/* glibc's siginfo_t does not name the perf fields (si_perf_*): the kernel's x86-64 layout. */
struct lw_perf_siginfo {
	int signo, err, code, pad;
	void *addr;
	unsigned long data;          /* si_perf_data: our sig_data */
	uint32_t type;               /* si_perf_type: PERF_TYPE_BREAKPOINT */
	uint32_t flags;              /* si_perf_flags */
};

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*signal_fn)(int, sighandler_t);

static sigaction_fn real_sigaction;
static signal_fn real_signal;
static int installed;                /* atomic: our handler is SIGTRAP's */
/* The SIGTRAP disposition the program believes it has: two copies, so that the handler
 * reads a whole one while sigaction writes the other. */
static struct sigaction prog_act[2];
static int prog_cur;                 /* atomic */
static lw_spin_t prog_lock;

static sigaction_fn get_real_sigaction(void)
{
	sigaction_fn f = __atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE);
	if (!f) {
		f = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
		__atomic_store_n(&real_sigaction, f, __ATOMIC_RELEASE);
	}
	return f;
}

/* Records one hit of watch w.  Async-signal-safe: no lock, no malloc. */
static void record_hit(struct lw_watch *w, const ucontext_t *uc, bool async)
{
	if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
		return;
	struct lw_thread *t = lw_self;
	if (!t)
		return;              /* a thread the shim does not know yet, or one ending */
	/* Out of the shim (no guard), the thread's held set is whole and its chunk of the
	 * trace between records. */
	if (t->n_unwritten && !lw_guard) {
		lw_guard = 1;
		lw_write_unwritten_holds(t);
		lw_guard = 0;
	}
	uint64_t seq = lw_next_seq();
	/* A hit delivered late (SIGTRAP was blocked) has no meaningful PC. */
	uintptr_t pc = async ? 0 : (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uint64_t value = 0;
	bool have = lw_watch_read(w, &value);
	uint64_t prev = have ? __atomic_exchange_n(&w->last_value, value, __ATOMIC_ACQ_REL) : 0;
	uintptr_t at = w->addr;
	unsigned len = (unsigned)w->len;
	unsigned how = pc ? lw_decode_access(pc, (const long long *)uc->uc_mcontext.gregs,
					     w->addr, w->addr + w->len, &at, &len) : 0;
	if (!how || len == 0) {
		at = w->addr;       /* not decoded: the whole watched variable */
		len = (unsigned)w->len;
	}
	if (!how) {
		/* Not decoded: every access to these bytes traps, so a value that differs
		 * from the one after the previous hit was written by this access. */
		how = (!have || value != prev) ? LW_ACCESS_WRITE : LW_ACCESS_READ;
	}
	uint32_t stack = 0;
	if (pc && !lw_guard) {
		lw_guard = 1;
		stack = lw_access_stack(t, pc);
		lw_guard = 0;
	}
	struct lw_rec_access *r = lw_trace_reserve_shared(sizeof *r);
	if (!r)
		return;
	r->tid = t->tid;
	r->flags = (uint16_t)(how | LW_SRC_WATCHPOINT);
	r->size = (uint16_t)len;
	r->addr = at;
	r->pc = pc;
	r->value = value;
	r->stack = stack;
	r->sub = 0;
	r->seq = seq;
	lw_trace_commit(r, LW_REC_ACCESS, sizeof *r);
}

/* Whether the instruction at pc (the one before it) touched [lo, hi), LW_ACCESS_* or 0. */
static unsigned touches(uintptr_t pc, const long long *gregs, uintptr_t lo, uintptr_t hi)
{
	uintptr_t at;
	unsigned len;
	return lo < hi ? lw_decode_access(pc, gregs, lo, hi, &at, &len) : 0;
}

/* Issue 20: records one hit of automatic watching's slot s.  Only what the decoder is sure
 * of is recorded, and only the bytes the instruction touched: a granule may hold two struct
 * members, which two threads may use under two different locks.  Async-signal-safe. */
static void record_auto_hit(uint32_t s, const siginfo_t *si, const ucontext_t *uc, bool async)
{
	if (async || __atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
		return;
	struct lw_thread *t = lw_self;
	if (!t)
		return;
	const long long *gregs = (const long long *)uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)gregs[REG_RIP];
	struct lw_auto_slot *sl = lw_auto_hit(s, (uintptr_t)si->si_addr, pc, t->tid);
	if (!sl)
		return;
	uintptr_t lo = __atomic_load_n(&sl->addr, __ATOMIC_ACQUIRE), hi = lo + sl->len;
	unsigned how = touches(pc, gregs, lo, hi);
	if (!how)
		return;
	/* The first and the last byte it touched, by halves. */
	uintptr_t a = lo, b = hi;
	while (b - a > 1) {
		uintptr_t mid = a + (b - a) / 2;
		if (touches(pc, gregs, lo, mid))
			b = mid;
		else
			a = mid;
	}
	uintptr_t first = a;
	a = first;
	b = hi;
	while (b - a > 1) {
		uintptr_t mid = a + (b - a) / 2;
		if (touches(pc, gregs, mid, hi))
			a = mid;
		else
			b = mid;
	}
	uintptr_t end = b;
	if (!lw_guard) {
		lw_guard = 1;
		lw_window_join(t);
		lw_guard = 0;
	}
	uint64_t seq = lw_next_seq();
	struct lw_watch w = { .addr = first, .len = (uint32_t)(end - first) };
	uint64_t value = 0;
	if (w.len > 8 || !lw_watch_read(&w, &value))
		value = 0;
	uint32_t stack = 0;
	if (!lw_guard) {
		lw_guard = 1;
		stack = lw_access_stack(t, pc);
		lw_guard = 0;
	}
	struct lw_rec_access *r = lw_trace_reserve_shared(sizeof *r);
	if (!r)
		return;
	r->tid = t->tid;
	r->flags = (uint16_t)(how | LW_SRC_WATCHPOINT);
	r->size = (uint16_t)(end - first);
	r->addr = first;
	r->pc = pc;
	r->value = value;
	r->stack = stack;
	r->sub = 0;
	r->seq = seq;
	lw_trace_commit(r, LW_REC_ACCESS, sizeof *r);
	lw_auto_recorded();
}

/* Hands a SIGTRAP that is not ours to the program's disposition. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction a = prog_act[__atomic_load_n(&prog_cur, __ATOMIC_ACQUIRE)];
	if (a.sa_handler == SIG_IGN) {
		/* Issue 24: a trap the CPU raised (int3, a breakpoint: si_code > 0) is forced
		 * past an ignored disposition by the kernel, which kills the process; only a
		 * SIGTRAP sent by kill() or raise() stays ignored.  As without the shim. */
		if (si->si_code <= 0)
			return;
		a.sa_handler = SIG_DFL;
	}
	if (a.sa_handler == SIG_DFL) {
		/* The default action, as without the shim: the process dumps core. */
		struct sigaction d;
		memset(&d, 0, sizeof d);
		d.sa_handler = SIG_DFL;
		sigemptyset(&d.sa_mask);
		get_real_sigaction()(sig, &d, NULL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, sig);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
		raise(sig);
		return;
	}
	if (a.sa_flags & SA_RESETHAND) {
		int cur = __atomic_load_n(&prog_cur, __ATOMIC_ACQUIRE);
		memset(&prog_act[!cur], 0, sizeof prog_act[0]);
		prog_act[!cur].sa_handler = SIG_DFL;
		__atomic_store_n(&prog_cur, !cur, __ATOMIC_RELEASE);
	}
	sigset_t old;
	pthread_sigmask(SIG_BLOCK, &a.sa_mask, &old);
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else
		a.sa_handler(sig);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	const struct lw_perf_siginfo *ps = (const struct lw_perf_siginfo *)si;
	uint64_t data = ps->data;
	if (si->si_code == TRAP_PERF && ps->type == PERF_TYPE_BREAKPOINT &&
	    (data & ~0xffffffffull) == LW_WATCH_TAG &&
	    (data & 0xffffffffull) < (uint64_t)__atomic_load_n(&lw_n_watches, __ATOMIC_ACQUIRE))
		record_hit(&lw_watches[data & 0xffffffffull], uc,
			   (ps->flags & LW_TRAP_PERF_FLAG_ASYNC) != 0);
	else if (si->si_code == TRAP_PERF && ps->type == PERF_TYPE_BREAKPOINT &&
		 (data & ~0xffffffffull) == LW_AUTO_TAG)
		record_auto_hit((uint32_t)(data & 0xffffffffull), si, uc,
				(ps->flags & LW_TRAP_PERF_FLAG_ASYNC) != 0);
	else if (si->si_code == TRAP_PERF && ps->type == PERF_TYPE_BREAKPOINT &&
		 (data & ~0xffffffffull) == LW_COLLIDER_TAG)   /* issue 20: the collider's */
		lw_collider_trap(data & 0xffffffffull, uc, (ps->flags & LW_TRAP_PERF_FLAG_ASYNC) != 0);
	else
		chain(sig, si, uc);
	errno = saved;
}

/* The handler returns through this copy of the C library's rt_sigreturn trampoline, with
 * the same instructions (which is how libunwind knows a signal frame), but inside the
 * shim: the stack of a hit then starts at the accessing function, because the shim's own
 * frames are left out of every stack. */
void lw_trap_restorer(void);
/* Its unwind information, as glibc gives __restore_rt's: the frame is a signal frame, the
 * stack pointer points at the ucontext_t, and every register is read back from the
 * saved registers in it (at 40 + 8 * REG_x).  DWARF register numbers: rax 0, rdx 1, rcx 2,
 * rbx 3, rsi 4, rdi 5, rbp 6, rsp 7, r8-r15 8-15, rip 16. */
#define LW_CFI_REG(dwarf, off) ".cfi_escape 0x10, " #dwarf ", 0x03, 0x77, " off "\n"
__asm__(".text\n"
	".align 16\n"
	".cfi_startproc simple\n"
	".cfi_signal_frame\n"
	".cfi_escape 0x0f, 0x04, 0x77, 0xa0, 0x01, 0x06\n"  /* CFA = *(rsp + 160) */
	LW_CFI_REG(8, "0xa8, 0x00") LW_CFI_REG(9, "0xb0, 0x00") LW_CFI_REG(10, "0xb8, 0x00")
	LW_CFI_REG(11, "0xc0, 0x00") LW_CFI_REG(12, "0xc8, 0x00") LW_CFI_REG(13, "0xd0, 0x00")
	LW_CFI_REG(14, "0xd8, 0x00") LW_CFI_REG(15, "0xe0, 0x00") LW_CFI_REG(5, "0xe8, 0x00")
	LW_CFI_REG(4, "0xf0, 0x00") LW_CFI_REG(6, "0xf8, 0x00") LW_CFI_REG(3, "0x80, 0x01")
	LW_CFI_REG(1, "0x88, 0x01") LW_CFI_REG(0, "0x90, 0x01") LW_CFI_REG(2, "0x98, 0x01")
	LW_CFI_REG(7, "0xa0, 0x01") LW_CFI_REG(16, "0xa8, 0x01")
	"\tnop\n"      /* unwinders look up pc - 1 */
	".type lw_trap_restorer, @function\n"
	"lw_trap_restorer:\n"
	"\tmovq $15, %rax\n"
	"\tsyscall\n"
	".cfi_endproc\n"
	".size lw_trap_restorer, .-lw_trap_restorer\n");

/* The kernel's struct sigaction for rt_sigaction(2) on x86-64. */
struct lw_ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};
#define LW_SA_RESTORER 0x04000000ul

int lw_trap_install(void)
{
	if (__atomic_load_n(&installed, __ATOMIC_ACQUIRE))
		return 0;
	if (!get_real_sigaction())
		return -ENOSYS;
	struct lw_ksigaction ka = {
		.handler = (void *)on_trap,
		.flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK | LW_SA_RESTORER,
		.restorer = lw_trap_restorer,
		.mask = 0,
	}, ko;
	lw_spin_lock(&prog_lock);
	long rc = syscall(SYS_rt_sigaction, SIGTRAP, &ka, &ko, sizeof ka.mask);
	int err = errno;
	if (rc == 0) {
		struct sigaction *old = &prog_act[0];
		memset(old, 0, sizeof *old);
		old->sa_handler = (sighandler_t)ko.handler;
		old->sa_flags = (int)(ko.flags & ~LW_SA_RESTORER);
		memcpy(&old->sa_mask, &ko.mask, sizeof ko.mask);
		__atomic_store_n(&prog_cur, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
	}
	lw_spin_unlock(&prog_lock);
	return rc == 0 ? 0 : -err;
}

/* sigaction(SIGTRAP, ...) while watchpoints are armed: the program's handler is kept aside
 * and called for every SIGTRAP that is not a watchpoint hit; ours stays installed. */
LW_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	sigaction_fn f = get_real_sigaction();
	if (sig != SIGTRAP || !__atomic_load_n(&installed, __ATOMIC_ACQUIRE)) {
		if (!f) {
			errno = ENOSYS;
			return -1;
		}
		return f(sig, act, oact);
	}
	/* No signal may interrupt this thread while it holds the lock. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	lw_spin_lock(&prog_lock);
	int cur = __atomic_load_n(&prog_cur, __ATOMIC_ACQUIRE);
	if (oact)
		*oact = prog_act[cur];
	if (act) {
		prog_act[!cur] = *act;
		__atomic_store_n(&prog_cur, !cur, __ATOMIC_RELEASE);
	}
	lw_spin_unlock(&prog_lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/* signal(SIGTRAP, ...): glibc's signal() does not go through the exported sigaction. */
LW_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	if (sig != SIGTRAP || !__atomic_load_n(&installed, __ATOMIC_ACQUIRE)) {
		signal_fn f = __atomic_load_n(&real_signal, __ATOMIC_ACQUIRE);
		if (!f) {
			f = (signal_fn)dlsym(RTLD_NEXT, "signal");
			__atomic_store_n(&real_signal, f, __ATOMIC_RELEASE);
		}
		if (!f) {
			errno = ENOSYS;
			return SIG_ERR;
		}
		return f(sig, handler);
	}
	/* glibc's BSD semantics: restart system calls, block the signal in its handler. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	if (sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}
