/* Call stacks (libunwind), captured once per call site, and the module map that lets the
 * analyzer symbolise them offline. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <libunwind.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/stacks.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/trace_writer.h"

/* ---- module map ---- */

#define LW_MAX_MODULES 1024

struct lw_module { uintptr_t lo, hi; };
static struct lw_module modules[LW_MAX_MODULES];
static int n_modules;                    /* atomic */
static lw_spin_t modules_lock;
static uintptr_t self_lo, self_hi;       /* liblockwatch.so itself */

static bool pc_known(uintptr_t pc)
{
	int n = __atomic_load_n(&n_modules, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (pc >= modules[i].lo && pc < modules[i].hi)
			return true;
	return false;
}

static void write_module(struct dl_phdr_info *info, uintptr_t lo, uintptr_t hi)
{
	const void *build_id = NULL;
	uint16_t build_id_len = 0;
	for (int i = 0; i < info->dlpi_phnum && !build_id; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof *nh;
			const char *desc = name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(name, "GNU", 4) && desc + nh->n_descsz <= end) {
				build_id = desc;
				build_id_len = (uint16_t)nh->n_descsz;
				break;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	char exe[LW_TRACE_EXE_MAX];
	const char *path = info->dlpi_name;
	if (!path || !*path) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = '\0';
		path = exe;
	}
	size_t path_len = strlen(path);
	if (path_len > 4000)
		path_len = 4000;
	uint32_t size = LW_REC_ALIGN(sizeof(struct lw_rec_module) + build_id_len + path_len);
	struct lw_rec_module *r = lw_trace_reserve(size);
	if (!r)
		return;
	r->base = info->dlpi_addr;
	r->lo = lo;
	r->hi = hi;
	r->build_id_len = build_id_len;
	r->path_len = (uint16_t)path_len;
	char *body = (char *)(r + 1);
	memcpy(body, build_id, build_id_len);
	memcpy(body + build_id_len, path, path_len);
	lw_trace_commit(r, LW_REC_MODULE, size);
}

static int module_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	uintptr_t me = (uintptr_t)&module_cb;
	if (me >= lo && me < hi) {
		self_lo = lo;
		self_hi = hi;
	}
	int n = __atomic_load_n(&n_modules, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++)
		if (modules[i].lo == lo && modules[i].hi == hi)
			return 0;
	if (n >= LW_MAX_MODULES)
		return 0;
	modules[n].lo = lo;
	modules[n].hi = hi;
	__atomic_store_n(&n_modules, n + 1, __ATOMIC_RELEASE);
	write_module(info, lo, hi);
	return 0;
}

/* Writes a MODULE record for every loaded object not yet written. */
static void modules_scan(void)
{
	int saved = errno;
	lw_spin_lock(&modules_lock);
	dl_iterate_phdr(module_cb, NULL);
	lw_spin_unlock(&modules_lock);
	errno = saved;
}

static void unwind_probe(void);

void lw_modules_init(void)
{
	modules_scan();
	unwind_probe();
}

/* ---- stacks ---- */

#define LW_SITE_SLOTS (1u << 16)
struct lw_site { uintptr_t site; uint32_t stack; uint32_t pad; };
static struct lw_site *sites;            /* open addressing, never deleted */
static uint32_t next_stack_id;           /* atomic */
/* Forking while another thread is inside libunwind would leave its locks held in the
 * child: count the threads that are unwinding, and let fork wait for them. */
static int unwinding;                    /* atomic */
static int fork_pending;                 /* atomic */
static int stacks_off;                   /* set in a child forked mid-unwind */

/*
 * libunwind checks addresses by writing them into a pipe that it opens once (on its first
 * unwind) and then keeps by descriptor number.  A program that closes every descriptor
 * (closefrom, close_range) and opens files again can be given those numbers: libunwind
 * would then read a byte from, write a byte to, and close the program's own file.  So the
 * shim notes which descriptors the pipe got on the first unwind, and before every later
 * unwind checks that they are still that pipe; when they are not, it stops capturing
 * stacks (one warning) rather than let libunwind touch the program's files.
 */
enum { UNW_PIPE_UNKNOWN, UNW_PIPE_PROBING, UNW_PIPE_KNOWN, UNW_PIPE_UNGUARDED, UNW_PIPE_LOST };
static struct {
	int state;                           /* atomic */
	int fd[2];
	dev_t dev;
	ino_t ino;
} unw_pipe = { .fd = { -1, -1 } };

/* Returns the lowest free descriptor number at or above `from`, or -1. */
static int lowest_free_fd(int from)
{
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, from);
	if (fd < 0)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, from);
	if (fd < 0) {
		int tmp = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tmp < 0)
			return -1;
		fd = tmp >= from ? tmp : fcntl(tmp, F_DUPFD_CLOEXEC, from);
		if (fd != tmp)
			close(tmp);
	}
	return fd;
}

/* Whether descriptor fd is an end of the pipe (dev, ino). */
static bool is_pipe(int fd, dev_t dev, ino_t ino)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static bool is_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/* Like unw_backtrace(): the return addresses of the calling frames, the first in the caller
 * of this function.  It walks with unw_step() rather than calling unw_backtrace(), whose fast
 * path gives every thread that unwinds a 256 KiB frame cache, written whole when it is made:
 * in a program of a few threads that would be most of the shim's memory.  A stack is taken
 * once per call site, so the slower walk is rarely paid for.  Returns the depth. */
static __attribute__((noinline)) int backtrace_by_steps(void **pcs, int want)
{
	unw_context_t uc;
	unw_cursor_t cursor;
	int n = 0;
	if (unw_getcontext(&uc) < 0 || unw_init_local(&cursor, &uc) < 0)
		return 0;
	while (n < want && unw_step(&cursor) > 0) {
		unw_word_t ip;
		if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0)
			break;
		pcs[n++] = (void *)(uintptr_t)ip;
	}
	return n;
}

/* Unwinds while watching which descriptors libunwind's pipe2() takes (the two lowest
 * free numbers); notes them when a new pipe appeared there.  Returns the depth. */
static int unwind_and_locate(void **pcs, int want)
{
	int a = lowest_free_fd(0);
	int b = a >= 0 ? lowest_free_fd(a + 1) : -1;
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	int n = backtrace_by_steps(pcs, want);
	struct stat sa, sb;
	if (a >= 0 && b >= 0 && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    S_ISFIFO(sa.st_mode) && S_ISFIFO(sb.st_mode) && sa.st_ino == sb.st_ino &&
	    sa.st_dev == sb.st_dev && (fcntl(a, F_GETFD) & FD_CLOEXEC) &&
	    (fcntl(b, F_GETFD) & FD_CLOEXEC)) {
		unw_pipe.fd[0] = a;
		unw_pipe.fd[1] = b;
		unw_pipe.dev = sa.st_dev;
		unw_pipe.ino = sa.st_ino;
	}
	return n;
}

/* Unwinds the calling thread into pcs.  Returns the depth, or 0 when the stack must not
 * be taken because libunwind's pipe descriptors now belong to the program. */
static int unwind(void **pcs, int want)
{
	int state;
	while ((state = __atomic_load_n(&unw_pipe.state, __ATOMIC_ACQUIRE)) == UNW_PIPE_PROBING)
		sched_yield();               /* a few system calls in another thread */
	if (state == UNW_PIPE_UNGUARDED)
		return backtrace_by_steps(pcs, want);
	if (state == UNW_PIPE_LOST)
		return 0;
	if (LW_LIKELY(state == UNW_PIPE_KNOWN) &&
	    is_pipe(unw_pipe.fd[0], unw_pipe.dev, unw_pipe.ino) &&
	    is_pipe(unw_pipe.fd[1], unw_pipe.dev, unw_pipe.ino))
		return backtrace_by_steps(pcs, want);
	if (!__atomic_compare_exchange_n(&unw_pipe.state, &state, UNW_PIPE_PROBING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return unwind(pcs, want);
	int n = 0, next;
	if (state == UNW_PIPE_UNKNOWN) {
		/* libunwind's first unwind opens the pipe. */
		n = unwind_and_locate(pcs, want);
		next = unw_pipe.fd[0] >= 0 ? UNW_PIPE_KNOWN : UNW_PIPE_UNGUARDED;
	} else if (is_closed(unw_pipe.fd[0]) && is_closed(unw_pipe.fd[1])) {
		/* The program closed both and reused neither number: libunwind's read fails
		 * harmlessly and it opens a new pipe, perhaps during this unwind. */
		n = unwind_and_locate(pcs, want);
		next = UNW_PIPE_KNOWN;
	} else {
		lw_msg("the program reused the descriptors of the stack unwinder's pipe; call "
		       "stacks are no longer recorded");
		next = UNW_PIPE_LOST;
	}
	__atomic_store_n(&unw_pipe.state, next, __ATOMIC_RELEASE);
	return n;
}

/* Lets libunwind open its pipe now, while the shim can see which descriptors it gets
 * (at start-up, usually before the program has other threads). */
static void unwind_probe(void)
{
	if (__atomic_load_n(&unw_pipe.state, __ATOMIC_ACQUIRE) != UNW_PIPE_UNKNOWN)
		return;
	void *pcs[4];
	int saved = errno;
	unwind(pcs, 4);
	errno = saved;
}

uint32_t lw_stack_capture(void)
{
	if (stacks_off)
		return 0;
	__atomic_add_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&fork_pending, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	void *pcs[64 + 16];
	int want = lw_opt.stack_depth + 16;
	if (want > (int)(sizeof pcs / sizeof pcs[0]))
		want = sizeof pcs / sizeof pcs[0];
	int saved = errno;
	int n = unwind(pcs, want);
	errno = saved;
	__atomic_sub_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);

	/* Drop the shim's own frames (the wrappers, the thread trampoline). */
	int depth = 0;
	for (int i = 0; i < n && depth < lw_opt.stack_depth; i++) {
		uintptr_t pc = (uintptr_t)pcs[i];
		if (pc >= self_lo && pc < self_hi)
			continue;
		pcs[depth++] = pcs[i];
	}
	if (depth == 0)
		return 0;
	for (int i = 0; i < depth; i++) {
		if (!pc_known((uintptr_t)pcs[i])) {
			modules_scan();
			break;
		}
	}
	uint32_t id = __atomic_add_fetch(&next_stack_id, 1, __ATOMIC_RELAXED);
	uint32_t size = (uint32_t)(sizeof(struct lw_rec_stack) + (size_t)depth * 8);
	struct lw_rec_stack *r = lw_trace_reserve(size);
	if (!r)
		return 0;
	r->id = id;
	r->depth = (uint32_t)depth;
	uint64_t *pc = (uint64_t *)(r + 1);
	for (int i = 0; i < depth; i++)
		pc[i] = (uintptr_t)pcs[i];
	lw_trace_commit(r, LW_REC_STACK, size);
	return id;
}

uint32_t lw_site_stack(uintptr_t site)
{
	if (site == 0)
		return 0;            /* no call site: and 0 marks a free slot below */
	if (LW_UNLIKELY(!sites)) {
		struct lw_site *s = lw_map_anon(LW_SITE_SLOTS * sizeof *s);
		if (!s)
			return 0;
		struct lw_site *expected = NULL;
		if (!__atomic_compare_exchange_n(&sites, &expected, s, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			munmap(s, LW_SITE_SLOTS * sizeof *s);
	}
	uint32_t mask = LW_SITE_SLOTS - 1;
	uint32_t i = (uint32_t)lw_mix64(site) & mask;
	for (uint32_t probes = 0; probes < 64; probes++, i = (i + 1) & mask) {
		uintptr_t cur = __atomic_load_n(&sites[i].site, __ATOMIC_ACQUIRE);
		if (cur == site) {
			uint32_t id;
			/* The capturing thread publishes the id after the site: wait while it
			 * unwinds (microseconds), giving the CPU up if it was preempted there (one
			 * CPU, or more threads than CPUs, or valgrind, where spinning on took the
			 * thread's whole time slice, each time). */
			for (unsigned spins = 0;
			     (id = __atomic_load_n(&sites[i].stack, __ATOMIC_ACQUIRE)) == 0 &&
			     __atomic_load_n(&sites[i].pad, __ATOMIC_ACQUIRE) == 0;
			     spins++)
				lw_spin_wait(spins);
			return id;
		}
		if (cur == 0) {
			uintptr_t expected = 0;
			if (__atomic_compare_exchange_n(&sites[i].site, &expected, site, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				uint32_t id = lw_stack_capture();
				__atomic_store_n(&sites[i].stack, id, __ATOMIC_RELEASE);
				__atomic_store_n(&sites[i].pad, 1, __ATOMIC_RELEASE);
				return id;
			}
			if (expected == site) {
				i = (i - 1) & mask;     /* look at this slot again */
				continue;
			}
		}
	}
	return lw_stack_capture();           /* table crowded: capture without caching */
}

void lw_stacks_reset_after_fork(void)
{
	if (sites)
		memset(sites, 0, LW_SITE_SLOTS * sizeof *sites);
	next_stack_id = 0;
	n_modules = 0;
	modules_lock.v = 0;
}

void lw_fork_prepare(void)
{
	__atomic_store_n(&fork_pending, 1, __ATOMIC_SEQ_CST);
	/* Unwinding takes microseconds; do not wait forever for a thread that is stuck. */
	for (int i = 0; i < 100000 && __atomic_load_n(&unwinding, __ATOMIC_SEQ_CST); i++)
		sched_yield();
}

void lw_fork_parent(void)
{
	__atomic_store_n(&fork_pending, 0, __ATOMIC_SEQ_CST);
}

void lw_fork_child(void)
{
	stacks_off = __atomic_load_n(&unwinding, __ATOMIC_SEQ_CST) != 0;
	unwinding = 0;
	fork_pending = 0;
	lw_stacks_reset_after_fork();
}
