/* The collider: races on the heap (and anywhere else) caught in the act, as DataCollider
 * (Erickson et al., OSDI 2010) does in a kernel, here in user space.
 *
 * One execute breakpoint (perf_event_open, HW_BREAKPOINT_X) sits on a memory-access
 * instruction of the program's own code, picked at random from a table made by scanning that
 * code with Zydis; a shim thread of its own (the sampler, invisible to the program and the
 * trace) moves it on every few milliseconds.  When it fires in thread T1, before the
 * instruction runs, T1's SIGTRAP handler decodes the instruction's operand address A from
 * T1's registers, puts the one data breakpoint (HW_BREAKPOINT_RW) on A, and holds T1 back for
 * a short delay.  A thread T2 that touches A meanwhile traps, and when one of the two accesses
 * is a write and neither is atomic, T2's handler writes a RACE_CAUGHT record with both
 * threads' stacks.  Then T1 disarms the data breakpoint and runs its own access.
 *
 * Every catch is a real race, with no happens-before reasoning: T1's access has not
 * happened yet, so T2's cannot be ordered after it; and T1 does nothing between the trap and
 * its access, so it cannot acquire anything that would order T2's access before it.  Locks
 * that T1 holds during the delay are no exception: a T2 that needs the same lock blocks on
 * it and cannot touch A, so an access by a T2 inside the window is one that the lock did
 * not protect (tests/integration/test_collider.c: a locked heap counter is never reported).
 *
 * Both breakpoints are opened by the only thread at start-up with inherit=1, so every thread
 * created later has them, and re-targeted through the parent's file descriptors with
 * PERF_EVENT_IOC_MODIFY_ATTRIBUTES, which since Linux 5.13 applies to every inherited child
 * event ("perf: Apply PERF_EVENT_IOC_MODIFY_ATTRIBUTES to children", kernel/events/core.c:
 * perf_event_modify_attr walks event->child_list); PERF_EVENT_IOC_DISABLE does the same
 * (perf_event_for_each_child).  An x86 execute breakpoint is a fault: the trap comes before
 * the instruction, and the kernel sets RF in the saved flags (arch/x86/kernel/
 * hw_breakpoint.c, hw_breakpoint_handler) that sigreturn restores, so the instruction runs
 * once the handler returns instead of trapping again.
 *
 * The collider uses LW_COLLIDER_REGS of the four debug registers; the globals' watching
 * (watch=auto) takes the other two.  It is on when no variable is named (watch= absent,
 * empty or auto); watch=off or named variables turn it off, and so does collider_rate=0. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "access/collider.h"
#include "access/autowatch.h"
#include "access/decode.h"
#include "access/watch.h"
#include "core/defs.h"
#include "core/fds.h"
#include "core/init.h"
#include "core/layers.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"

/* The sampling table's capacity: beyond it, a uniform sample of the program's sites. */
#define LW_COLLIDER_MAX_SITES (1u << 16)
/* Bytes of code scanned at most (the loader's lock is held while an object is scanned). */
#define LW_COLLIDER_SCAN_MAX  (16u << 20)
#define LW_COLLIDER_WRITABLE_MAX 512
/* Defaults of collider_rate (code breakpoint placements per second) and collider_delay_us
 * (how long a sampled thread is held back). */
#define LW_COLLIDER_RATE_DEFAULT  4000
#define LW_COLLIDER_DELAY_DEFAULT 500
/* The budget: after a sample, no new one for LW_COLLIDER_BUDGET - 1 times its delay, so that
 * threads are held back for at most 1/LW_COLLIDER_BUDGET of one thread's time. */
#define LW_COLLIDER_BUDGET        10
#define LW_COLLIDER_DELAY_MAX     100000
/* The cost budget (collider_budget, percent): what the collider costs (its sampler thread's
 * CPU time, twice, for the CPUs its system calls interrupt; the program's threads' time in
 * its trap handlers, with a fixed charge for each trap's way through the kernel; the time
 * they are held back) is kept under this share of
 * the program's own time (its CPU time beside the collider's, or the wall-clock time when
 * the program is mostly idle), both summed since the sampler started, plus
 * LW_COLLIDER_GRACE_NS.  The sampler looks every LW_COLLIDER_CONTROL_NS and doubles its
 * period when over budget, halves it (down to 1/collider_rate) when under half of it. */
#define LW_COLLIDER_BUDGET_DEFAULT 10
#define LW_COLLIDER_CONTROL_NS     (20ull * 1000 * 1000)
#define LW_COLLIDER_PERIOD_MAX_NS  (1000ull * 1000 * 1000)
#define LW_COLLIDER_TRAP_KERNEL_NS 3000
#define LW_COLLIDER_GRACE_NS       (20ull * 1000 * 1000)
/* How long the sampler sleeps while the program has one thread. */
#define LW_COLLIDER_NAP_NS        (1000 * 1000)
/* When the sampler writes the counts into the trace (if they changed): after 100 ms, then
 * at twice the last interval, up to every 10 s; a process that ends without exit() (the
 * watchdog's, a signal) keeps its last ones, and a long run's trace grows by a few hundred
 * KiB a day. */
#define LW_COLLIDER_STATS_FIRST_NS (100ull * 1000 * 1000)
#define LW_COLLIDER_STATS_MAX_NS   (10ull * 1000 * 1000 * 1000)

static int rate = LW_COLLIDER_RATE_DEFAULT;
static int delay_us = LW_COLLIDER_DELAY_DEFAULT;
static int budget_pct = LW_COLLIDER_BUDGET_DEFAULT;
static bool named_watch;             /* watch= named variables, or said off */

static uintptr_t *sites;             /* mmap'd table of candidate instructions */
static size_t n_sites;
static struct { uintptr_t lo, hi; } writable[LW_COLLIDER_WRITABLE_MAX];
static int n_writable;
static size_t scanned_bytes;
/* Globals the program's own code updates with a LOCK-prefixed instruction or xchg (an
 * __atomic or __sync builtin on a plain int, a C11 atomic): their plain moves are atomic
 * loads and stores (release, acquire, relaxed), whatever the DWARF type says.  Sorted by
 * address once the scan is done; n_atomic_globals is published after. */
#define LW_COLLIDER_ATOMIC_MAX 4096
static struct { uintptr_t lo, hi; } atomic_globals[LW_COLLIDER_ATOMIC_MAX];
static uint32_t n_atomic_scan, n_atomic_globals;
static uint64_t seen_sites;          /* candidates found, for the reservoir */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static int fd_code = -1, fd_data = -1;
static struct perf_event_attr attr_code, attr_data;
static pid_t owner;                  /* the process whose events these are */
static int active;                   /* atomic: traps are ours to act on */
static int stopping;                 /* atomic: the process is exiting */
static uintptr_t main_tp, main_stack_lo, main_stack_hi;

/* The sample in flight, published as a seqlock: gen is odd while T1 writes it. */
static int busy;                     /* atomic: a thread holds a sample */
static uint64_t sample_end;          /* atomic: when the last sample ended (ns) */
static uint32_t gen;                 /* atomic */
static struct {
	uintptr_t addr;
	uint32_t len;
	uint32_t tid;
	uintptr_t pc;                /* after the instruction */
	uint32_t stack;
	unsigned how;
	uint64_t value;              /* the watched bytes when armed */
	int caught;                  /* atomic: a catch was written for it */
} cur;

static struct {
	uint64_t sampled, fired, watched, caught, skipped;   /* atomic */
	uint64_t sample_ns;                                  /* atomic */
	uint64_t held_ns, data_ns, data_traps;               /* atomic: the cost budget */
	uint64_t period_ns;          /* the sampler's current period (the budget's) */
} st;
static int state = LW_COLLIDER_RAN;
static int state_err;

static bool option(const char *key, const char *val)
{
	if (!strcmp(key, "watch")) {
		/* The access layer takes this key too (see the rank below): names, or off, mean
		 * the user chose what to watch. */
		if (val[0] && strcmp(val, "auto") != 0)
			named_watch = true;
		return false;
	}
	int *slot;
	unsigned long max;
	if (!strcmp(key, "collider_rate"))
		slot = &rate, max = 100000;
	else if (!strcmp(key, "collider_delay_us"))
		slot = &delay_us, max = LW_COLLIDER_DELAY_MAX;
	else if (!strcmp(key, "collider_budget"))
		slot = &budget_pct, max = 100;
	else
		return false;
	char *end;
	unsigned long v = strtoul(val, &end, 10);
	if (!val[0] || *end || v > max) {
		lw_msg("LOCKWATCH_OPTIONS: bad value '%s' for %s ignored", val, key);
		return true;
	}
	*slot = (int)v;
	return true;
}

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- the code scan (the sampler thread, never a signal handler) ---- */

static bool system_path(const char *p)
{
	static const char *const dirs[] = { "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (!strncmp(p, dirs[i], strlen(dirs[i])))
			return true;
	return false;
}

static bool in_writable(uintptr_t a)
{
	for (int i = 0; i < n_writable; i++)
		if (a >= writable[i].lo && a < writable[i].hi)
			return true;
	return false;
}

static void add_site(uintptr_t ip)
{
	seen_sites++;
	if (n_sites < LW_COLLIDER_MAX_SITES) {
		sites[n_sites++] = ip;
		return;
	}
	uint64_t k = next_random() % seen_sites;   /* reservoir sampling: uniform over all */
	if (k < LW_COLLIDER_MAX_SITES)
		sites[k] = ip;
}

/* Scans [lo, hi) through copies (process_vm_readv): an object unloaded meanwhile (dlclose)
 * ends its scan instead of the process. */
static void scan_segment(uintptr_t lo, uintptr_t hi)
{
	static uint8_t buf[65536 + 16];
	for (uintptr_t at = lo; at < hi && scanned_bytes < LW_COLLIDER_SCAN_MAX;) {
		size_t want = hi - at < 65536 ? hi - at : 65536;
		struct iovec local = { buf, want }, remote = { (void *)at, want };
		if (process_vm_readv(owner, &local, 1, &remote, 1, 0) != (ssize_t)want)
			return;
		/* Decode to the chunk's end, less an instruction's length unless it is the
		 * segment's end: the next chunk starts where the last decode stopped. */
		size_t stop = at + want == hi ? want : want - 15, off = 0;
		while (off < stop) {
			struct lw_scan_insn in;
			size_t avail = want - off < 15 ? want - off : 15;
			size_t n = lw_decode_scan(buf + off, avail, at + off, &in);
			if (n == 0)
				n = 1;
			else if (in.candidate && (!in.target || in_writable(in.target)))
				add_site(at + off);
			else if (in.atomic_target && in_writable(in.atomic_target) &&
				 n_atomic_scan < LW_COLLIDER_ATOMIC_MAX) {
				atomic_globals[n_atomic_scan].lo = in.atomic_target;
				atomic_globals[n_atomic_scan++].hi = in.atomic_target +
								     in.atomic_size;
			}
			off += n;
		}
		at += off;
		scanned_bytes += off;
	}
}

/* The program's own executable segments, noted under the loader's lock and scanned after
 * it (a fork() while this thread held it would leave it locked in the child). */
#define LW_COLLIDER_SEGMENTS 256
static struct { uintptr_t lo, hi; } own_text[LW_COLLIDER_SEGMENTS];
static int n_own_text;

/* Notes one loaded object's executable segments if it is the program's own: the main
 * executable and shared objects outside the system's library directories (/lib, /lib64,
 * /usr/lib, /usr/lib64), not the shim, not the vDSO.  Every object's executable segments go
 * to the decoder, which reads code only inside them. */
static int scan_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
	const char *name = info->dlpi_name ? info->dlpi_name : "";
	bool *first = data;
	bool own = *first || name[0] == '/' || (name[0] && name[0] != 'l');
	*first = false;
	if (!strncmp(name, "linux-vdso", 10) || !strncmp(name, "linux-gate", 10) ||
	    system_path(name))
		own = false;
	uintptr_t self = (uintptr_t)&scan_cb;
	int w0 = n_writable;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			lw_decode_add_text(lo, hi);
			if (self >= lo && self < hi)
				own = false;         /* the shim */
		}
	}
	if (!own)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    n_own_text < LW_COLLIDER_SEGMENTS) {
			own_text[n_own_text].lo = lo;
			own_text[n_own_text++].hi = hi;
		}
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) &&
		    n_writable < LW_COLLIDER_WRITABLE_MAX) {
			writable[n_writable].lo = lo;
			writable[n_writable++].hi = hi;
		}
	}
	/* Read-only after relocation: the GOT and .data.rel.ro are not shared data. */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_GNU_RELRO)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		for (int k = w0; k < n_writable; k++)
			if (writable[k].lo >= lo && writable[k].lo < hi)
				writable[k].lo = hi < writable[k].hi ? hi : writable[k].hi;
	}
	return 0;
}

/* Sorts the atomic globals by address (insertion sort: no malloc) and publishes them. */
static void publish_atomic_globals(void)
{
	for (uint32_t i = 1; i < n_atomic_scan; i++) {
		uintptr_t lo = atomic_globals[i].lo, hi = atomic_globals[i].hi;
		uint32_t j = i;
		for (; j > 0 && atomic_globals[j - 1].lo > lo; j--)
			atomic_globals[j] = atomic_globals[j - 1];
		atomic_globals[j].lo = lo;
		atomic_globals[j].hi = hi;
	}
	__atomic_store_n(&n_atomic_globals, n_atomic_scan, __ATOMIC_RELEASE);
}

/* Whether [a, a + len) overlaps a global the program updates atomically.  Async-signal-safe. */
static bool atomic_global(uintptr_t a, uint32_t len)
{
	uint32_t n = __atomic_load_n(&n_atomic_globals, __ATOMIC_ACQUIRE), lo = 0, hi = n;
	while (lo < hi) {            /* the first entry starting at or after a + len */
		uint32_t mid = lo + (hi - lo) / 2;
		if (atomic_globals[mid].lo < a + len)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Entries are at most 16 bytes long: those starting 16 bytes before a may reach it. */
	for (uint32_t i = lo; i > 0 && atomic_globals[i - 1].lo + 16 > a; i--)
		if (atomic_globals[i - 1].hi > a)
			return true;
	return false;
}

/* A read-modify-write instruction without LOCK: never a C11 atomic operation. */
static bool plain_rmw(unsigned how)
{
	return (how & LW_ACCESS_READ) && (how & LW_ACCESS_WRITE) &&
	       !(how & (LW_ACCESS_ATOMIC | LW_ACCESS_UNDECODED));
}

/* ---- the breakpoints ---- */

static int open_bp(struct perf_event_attr *at, uint32_t type, uintptr_t addr, uint64_t len,
		   uint64_t which)
{
	memset(at, 0, sizeof *at);
	at->type = PERF_TYPE_BREAKPOINT;
	at->size = sizeof *at;
	at->bp_type = type;
	at->bp_addr = addr;
	at->bp_len = len;
	at->sample_period = 1;
	at->disabled = 1;
	at->inherit = 1;                    /* threads (and fork children) created later */
	at->remove_on_exec = 1;
	at->sigtrap = 1;
	at->sig_data = LW_COLLIDER_TAG | which;
	at->exclude_kernel = 1;
	at->exclude_hv = 1;
	int fd = (int)syscall(SYS_perf_event_open, at, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Out of the numbers the program gets (issue 24): where that is impossible, the
	 * collider takes none of them and says so. */
	bool costly;
	fd = lw_fd_place(fd, &costly);
	if (costly) {
		close(fd);
		return -EMFILE;
	}
	return fd;
}

/* Moves breakpoint fd (attributes *at as opened) to addr/len and enables it in every
 * thread.  Returns 0 or a negative errno.  Async-signal-safe (one ioctl). */
static int retarget(int fd, const struct perf_event_attr *at, uintptr_t addr, uint64_t len)
{
	struct perf_event_attr a = *at;
	a.bp_addr = addr;
	a.bp_len = len;
	a.disabled = 0;
	return ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &a) < 0 ? -errno : 0;
}

static void disarm(int fd)
{
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
}

/* The thread pointer (glibc's TCB, at %fs:0 on x86-64). */
static inline uintptr_t thread_pointer(void)
{
	uintptr_t tp;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* Whether a is in the calling thread's own stack or static TLS: its accesses there are
 * thread-local, mostly.  glibc puts a thread's struct pthread at the top of its stack
 * mapping, its static TLS below that and the stack below both; the main thread's stack is
 * the process's ([stack], read at start-up) and its TLS sits below its thread pointer. */
static bool thread_local_addr(uintptr_t a, uintptr_t sp)
{
	uintptr_t tp = thread_pointer();
	uintptr_t top = (tp | 4095) + 1;
	if (a >= tp - 65536 && a < top)
		return true;                 /* TLS and the TCB */
	if (tp == main_tp)
		return a >= main_stack_lo && a < main_stack_hi && a + 128 >= sp;
	return a + 128 >= sp && a < top;
}

/* The [stack] mapping's bounds, from /proc/self/maps (start-up only). */
static void read_main_stack(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[4096], line[512];
	size_t ll = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof line - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			if (!strstr(line, "[stack]"))
				continue;
			char *end;
			main_stack_lo = (uintptr_t)strtoull(line, &end, 16);
			main_stack_hi = (uintptr_t)strtoull(end + 1, NULL, 16);
		}
	}
	close(fd);
	/* The stack grows below the mapping's current start: allow its usual limit. */
	if (main_stack_lo > (8u << 20))
		main_stack_lo -= 8u << 20;
}

/* ---- the handlers (async-signal-safe: no lock, no malloc) ---- */

static bool read_bytes(uintptr_t addr, uint32_t len, uint64_t *v)
{
	*v = 0;
	struct iovec local = { v, len }, remote = { (void *)addr, len };
	return process_vm_readv(owner, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static uint32_t bp_len_for(uintptr_t addr, uint64_t size)
{
	uint32_t len = 8;
	while (len > 1 && (len > size || (addr & (len - 1))))
		len /= 2;
	return len;
}

static bool ours(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) == LW_READY &&
	       (pid_t)syscall(SYS_getpid) == owner;
}

static void skip(void)
{
	__atomic_add_fetch(&st.skipped, 1, __ATOMIC_RELAXED);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The code breakpoint fired in this thread, T1, before the instruction at the trap's pc. */
static void sample(const ucontext_t *uc, uint64_t *slept);

static void code_trap(const ucontext_t *uc)
{
	uint64_t t0 = now_ns(), slept = 0;
	sample(uc, &slept);
	__atomic_add_fetch(&st.sample_ns, now_ns() - t0 - slept, __ATOMIC_RELAXED);
}

static void sample(const ucontext_t *uc, uint64_t *slept)
{
	if (!ours())
		return;
	int expected = 0;
	if (!__atomic_compare_exchange_n(&busy, &expected, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED)) {
		skip();              /* another thread holds a sample */
		return;
	}
	disarm(fd_code);
	__atomic_add_fetch(&st.fired, 1, __ATOMIC_RELAXED);
	const long long *gregs = (const long long *)uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)gregs[REG_RIP];
	struct lw_thread *t = lw_self;
	struct lw_operand op;
	if (!t || lw_guard || lw_decode_operand(pc, gregs, &op) < 0 ||
	    (op.how & LW_ACCESS_ATOMIC) || !(op.how & (LW_ACCESS_READ | LW_ACCESS_WRITE)) ||
	    thread_local_addr(op.addr, (uintptr_t)gregs[REG_RSP])) {
		skip();
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
		return;
	}
	uint32_t len = bp_len_for(op.addr, op.size);
	uintptr_t after = pc + op.len;
	lw_guard = 1;
	uint32_t stack = lw_access_stack(t, after);
	lw_guard = 0;
	uint64_t value = 0;
	read_bytes(op.addr, len, &value);
	/* Publish the sample (seqlock), then arm the data breakpoint in every thread. */
	__atomic_add_fetch(&gen, 1, __ATOMIC_ACQ_REL);
	cur.addr = op.addr;
	cur.len = len;
	cur.tid = t->tid;
	cur.pc = after;
	cur.stack = stack;
	cur.how = op.how;
	cur.value = value;
	__atomic_store_n(&cur.caught, 0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&gen, 1, __ATOMIC_ACQ_REL);
	if (retarget(fd_data, &attr_data, op.addr, len) == 0) {
		__atomic_add_fetch(&st.watched, 1, __ATOMIC_RELAXED);
		/* Held back: other threads run (on this CPU too) and may touch A. */
		struct timespec d = { delay_us / 1000000, (long)(delay_us % 1000000) * 1000 };
		uint64_t t = now_ns();
		while (delay_us && clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &d) == EINTR)
			;
		*slept = now_ns() - t;
		/* The budget is charged the delay asked for, not a loaded machine's lateness. */
		uint64_t asked = (uint64_t)delay_us * 1000;
		__atomic_add_fetch(&st.held_ns, *slept < asked ? *slept : asked, __ATOMIC_RELAXED);
		/* Before this thread's own access runs. */
		disarm(fd_data);
	} else {
		skip();
	}
	__atomic_store_n(&sample_end, now_ns(), __ATOMIC_RELEASE);
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

/* The data breakpoint trapped in this thread, T2, just after its access. */
static void data_hit(const ucontext_t *uc, bool async);

static void data_trap(const ucontext_t *uc, bool async)
{
	uint64_t t0 = now_ns();
	data_hit(uc, async);
	__atomic_add_fetch(&st.data_ns, now_ns() - t0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&st.data_traps, 1, __ATOMIC_RELAXED);
}

static void data_hit(const ucontext_t *uc, bool async)
{
	if (!ours())
		return;
	struct lw_thread *t = lw_self;
	if (!t || !__atomic_load_n(&busy, __ATOMIC_ACQUIRE))
		return;
	uint32_t g = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);
	if (g & 1)
		return;
	uintptr_t addr = cur.addr, pc1 = cur.pc;
	uint32_t len = cur.len, tid1 = cur.tid, stack1 = cur.stack;
	unsigned how1 = cur.how;
	uint64_t before = cur.value;
	if (__atomic_load_n(&gen, __ATOMIC_ACQUIRE) != g || tid1 == t->tid)
		return;
	const long long *gregs = (const long long *)uc->uc_mcontext.gregs;
	uintptr_t pc = async ? 0 : (uintptr_t)gregs[REG_RIP];
	uintptr_t at2;
	unsigned len2;
	unsigned how2 = pc ? lw_decode_access(pc, gregs, addr, addr + len, &at2, &len2) : 0;
	if (!how2) {
		/* Not decoded: a changed value was written by this access. */
		uint64_t now;
		if (!read_bytes(addr, len, &now) || now == before)
			return;
		how2 = LW_ACCESS_WRITE | LW_ACCESS_UNDECODED;
	}
	/* A conflict: a write, and no atomic instruction on either side.  (x86 compiles a C11
	 * atomic load, and a relaxed or release store, to a plain move: a plain access beside
	 * a LOCK-prefixed one is most likely such an atomic, and no race.) */
	if (!((how1 | how2) & LW_ACCESS_WRITE) || ((how1 | how2) & LW_ACCESS_ATOMIC))
		return;
	/* Two moves on a global that the program's code also updates with a LOCK prefix or
	 * xchg: an atomic load or store on each side (a spin lock's release store and its
	 * waiters' loads), whatever its type says.  A plain read-modify-write stays a race. */
	if (!plain_rmw(how1) && !plain_rmw(how2) && atomic_global(addr, len))
		return;
	int expected = 0;
	if (!__atomic_compare_exchange_n(&cur.caught, &expected, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;              /* one record per sample */
	uint32_t stack2 = 0;
	if (pc && !lw_guard) {
		lw_guard = 1;
		stack2 = lw_access_stack(t, pc);
		lw_guard = 0;
	}
	if (__atomic_load_n(&gen, __ATOMIC_ACQUIRE) != g)
		return;
	struct lw_rec_race_caught *r = lw_trace_reserve_shared(sizeof *r);
	if (!r)
		return;
	r->addr = addr;
	r->size = len;
	r->flags1 = (uint16_t)how1;
	r->flags2 = (uint16_t)how2;
	r->tid1 = tid1;
	r->tid2 = t->tid;
	r->pc1 = pc1;
	r->pc2 = pc;
	r->stack1 = stack1;
	r->stack2 = stack2;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_RACE_CAUGHT, sizeof *r);
	__atomic_add_fetch(&st.caught, 1, __ATOMIC_RELAXED);
}

void lw_collider_trap(uint64_t which, const void *uc, bool async)
{
	if (which == LW_COLLIDER_CODE) {
		if (!async)      /* a trap delivered late has no pc to decode */
			code_trap(uc);
	} else if (which == LW_COLLIDER_DATA) {
		data_trap(uc, async);
	}
}

/* ---- the counts ---- */

static void write_stats(void)
{
	struct lw_rec_collider *r = lw_trace_reserve_shared(sizeof *r);
	if (!r)
		return;
	r->state = (uint32_t)state;
	r->err = state_err;
	r->candidates = n_sites;
	r->sampled = __atomic_load_n(&st.sampled, __ATOMIC_RELAXED);
	r->fired = __atomic_load_n(&st.fired, __ATOMIC_RELAXED);
	r->watched = __atomic_load_n(&st.watched, __ATOMIC_RELAXED);
	r->caught = __atomic_load_n(&st.caught, __ATOMIC_RELAXED);
	r->skipped = __atomic_load_n(&st.skipped, __ATOMIC_RELAXED);
	r->sample_ns = __atomic_load_n(&st.sample_ns, __ATOMIC_RELAXED);
	lw_trace_commit(r, LW_REC_COLLIDER, sizeof *r);
}

/* ---- the sampler thread ---- */

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The cost budget's controller (see LW_COLLIDER_BUDGET_DEFAULT), in the sampler thread:
 * the cost and the program's time are summed from the sampler's start, so a quiet stretch
 * lets a busy one sample more, and the whole run stays within the budget (plus a start-up
 * allowance, LW_COLLIDER_GRACE_NS, that lets a short program be sampled at the full rate). */
struct budget {
	uint64_t at0, proc0, own0;   /* at the start */
	uint64_t at, placed;         /* at the last look */
	uint64_t min_ns;             /* 1/collider_rate */
};

static uint64_t budget_spent(void)
{
	return __atomic_load_n(&st.sample_ns, __ATOMIC_RELAXED) +
	       __atomic_load_n(&st.data_ns, __ATOMIC_RELAXED) +
	       __atomic_load_n(&st.held_ns, __ATOMIC_RELAXED);
}

static void budget_look(struct budget *b, uint64_t t, bool start)
{
	uint64_t proc = clock_ns(CLOCK_PROCESS_CPUTIME_ID), own = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint64_t placed = __atomic_load_n(&st.sampled, __ATOMIC_RELAXED);
	if (start) {
		b->at0 = t;
		b->proc0 = proc;
		b->own0 = own;
	} else if (budget_pct > 0) {
		uint64_t traps = __atomic_load_n(&st.fired, __ATOMIC_RELAXED) +
				 __atomic_load_n(&st.data_traps, __ATOMIC_RELAXED);
		/* The sampler's time twice: a move of the breakpoints interrupts the CPUs that
		 * run the program's threads about as long as it keeps the sampler waiting
		 * (measured on xz: charged once, the budget of 10% cost it 18%). */
		uint64_t cost = 2 * (own - b->own0) + budget_spent() +
				traps * LW_COLLIDER_TRAP_KERNEL_NS;
		uint64_t cpu = proc - b->proc0, wall = t - b->at0;
		uint64_t work = cpu > cost ? cpu - cost : 0;
		if (work < wall)
			work = wall;
		uint64_t allowed = work / 100 * (uint64_t)budget_pct + LW_COLLIDER_GRACE_NS;
		if (cost > allowed) {
			/* Half as many placements as in the last interval, which the gap after
			 * each sample may have spaced wider than the period. */
			uint64_t p = st.period_ns;
			uint64_t since = t - b->at;
			if (placed > b->placed && since / (placed - b->placed) > p)
				p = since / (placed - b->placed);
			st.period_ns = p * 2 < LW_COLLIDER_PERIOD_MAX_NS ? p * 2
								   : LW_COLLIDER_PERIOD_MAX_NS;
		} else if (cost * 2 < allowed) {
			st.period_ns = st.period_ns / 2 > b->min_ns ? st.period_ns / 2 : b->min_ns;
		}
	}
	b->at = t;
	b->placed = placed;
}

static int sampler_alive;            /* atomic: counted in lw_internal_threads */

static void *sampler_main(void *arg)
{
	lw_guard = 1;                /* nothing this thread does is the program's */
	bool first = true;
	dl_iterate_phdr(scan_cb, &first);
	for (int i = 0; i < n_own_text; i++)
		scan_segment(own_text[i].lo, own_text[i].hi);
	publish_atomic_globals();
	if (!n_sites) {
		state = LW_COLLIDER_NO_SITES;
		write_stats();
		lw_internal_thread_gone(&sampler_alive);
		return arg;
	}
	struct budget b = { .min_ns = 1000000000ull / (unsigned)rate };
	st.period_ns = b.min_ns;
	budget_look(&b, now_ns(), true);
	bool armed = false;
	uint64_t interval = LW_COLLIDER_STATS_FIRST_NS, next_stats = now_ns() + interval;
	uint64_t last_counts = 0;
	for (;;) {
		struct timespec period = { (time_t)(st.period_ns / 1000000000u),
					   (long)(st.period_ns % 1000000000u) };
		clock_nanosleep(CLOCK_MONOTONIC, 0, &period, NULL);
		if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
			break;
		uint64_t t = now_ns();
		if (t - b.at >= LW_COLLIDER_CONTROL_NS)
			budget_look(&b, t, false);
		if (t >= next_stats) {
			uint64_t counts = __atomic_load_n(&st.sampled, __ATOMIC_RELAXED) +
					  __atomic_load_n(&st.skipped, __ATOMIC_RELAXED);
			if (counts != last_counts)
				write_stats();
			last_counts = counts;
			interval = interval * 2 < LW_COLLIDER_STATS_MAX_NS ? interval * 2
									   : LW_COLLIDER_STATS_MAX_NS;
			next_stats = t + interval;
		}
		if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
			continue;
		if (lw_threads_live() < 2) {
			/* One thread cannot race: no traps meanwhile, and the sampler naps. */
			if (armed)
				disarm(fd_code);
			armed = false;
			struct timespec nap = { 0, LW_COLLIDER_NAP_NS };
			clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
			continue;
		}
		if (__atomic_load_n(&busy, __ATOMIC_ACQUIRE))
			continue;    /* the sampled thread moves on when it is done */
		if (t < __atomic_load_n(&sample_end, __ATOMIC_ACQUIRE) +
			(uint64_t)delay_us * 1000 * (LW_COLLIDER_BUDGET - 1))
			continue;    /* the budget */
		uintptr_t ip = sites[next_random() % n_sites];
		if (retarget(fd_code, &attr_code, ip, sizeof(long)) < 0)
			continue;    /* unmapped since (dlclose): another one next time */
		armed = true;
		__atomic_add_fetch(&st.sampled, 1, __ATOMIC_RELAXED);
	}
	lw_internal_thread_gone(&sampler_alive);
	return arg;
}

/* With the trace open, in the only thread: opens both breakpoints and starts the sampler. */
static void start(void)
{
	/* Automatic watching off (watch=off, hook mode, annotations: access/watch.c) turns the
	 * collider off too: hook mode sees every access exactly, and its own. */
	if (named_watch || rate == 0 || !lw_opt.enabled || !lw_auto_enabled)
		return;
	int saved = errno;
	owner = (pid_t)syscall(SYS_getpid);
	main_tp = thread_pointer();
	read_main_stack();
	rng ^= (uint64_t)owner * 0x2545f4914f6cdd1dull ^ (uint64_t)time(NULL);
	sites = mmap(NULL, LW_COLLIDER_MAX_SITES * sizeof *sites, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sites == MAP_FAILED) {
		sites = NULL;
		errno = saved;
		return;
	}
	int rc = lw_trap_install();
	if (rc == 0) {
		rc = open_bp(&attr_code, HW_BREAKPOINT_X, (uintptr_t)&start, sizeof(long),
			     LW_COLLIDER_CODE);
		if (rc >= 0) {
			fd_code = rc;
			rc = open_bp(&attr_data, HW_BREAKPOINT_RW, (uintptr_t)&gen, 4,
				     LW_COLLIDER_DATA);
			if (rc >= 0)
				fd_data = rc;
		}
	}
	if (rc < 0) {
		state = LW_COLLIDER_REFUSED;
		state_err = -rc;
		if (fd_code >= 0)
			close(fd_code);
		fd_code = -1;
		if (lw_opt.verbose)
			lw_msg("collider: no breakpoints (%s); races on the heap are not sampled",
			       strerror(-rc));
		write_stats();
		errno = saved;
		return;
	}
	__atomic_store_n(&active, 1, __ATOMIC_RELEASE);
	if (lw_internal_thread_start(sampler_main, NULL, 256 * 1024, &sampler_alive) != 0) {
		__atomic_store_n(&active, 0, __ATOMIC_RELEASE);
		lw_msg("collider: cannot start its sampler thread; heap races are not sampled");
	}
	errno = saved;
}

static void exiting(struct lw_thread *t)
{
	if (fd_code < 0)
		return;
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	if (fd_code >= 0 && (pid_t)syscall(SYS_getpid) == owner) {
		disarm(fd_code);
		write_stats();
	}
}

/* In a fork() child: the sampler thread is the parent's alone. */
static void forked(void)
{
	if (fd_code < 0)
		return;
	__atomic_store_n(&active, 0, __ATOMIC_RELEASE);
	lw_internal_thread_gone(&sampler_alive);
}

/* A fork() child: the inherited breakpoints are the parent's (its descriptors move the
 * parent's events), and its sampler thread is not here.  The child samples nothing and says
 * so; its handler ignores the traps (owner is the parent). */
static void forked_traced(void)
{
	if (fd_code < 0)
		return;
	__atomic_store_n(&active, 0, __ATOMIC_RELEASE);
	state = LW_COLLIDER_FORKED;
	memset(&st, 0, sizeof st);
	n_sites = 0;
	write_stats();
}

/* Rank 1, before the access layer's 2: it sees the watch= key first and passes it on. */
LW_LAYER(collider) = {
	.name = "collider",
	.rank = 1,
	.option = option,
	.started = start,
	.forked = forked,
	.forked_traced = forked_traced,
	.process_exiting = exiting,
};
