/* Call stacks (libunwind), one per call path to a site, and the module map that lets the
 * analyzer symbolise them offline. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <libunwind.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/stacks.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/threads.h"
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

/* The path of the file mapped at addr, from /proc/self/maps, into buf (len bytes).  Returns
 * whether it found one.  No malloc: it may run in a signal handler (a watchpoint's). */
static bool mapped_path(uintptr_t addr, char *buf, size_t len)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char chunk[4096];
	size_t have = 0;
	bool found = false, eof = false;
	while (!found) {
		char *nl = memchr(chunk, '\n', have);
		if (!nl) {
			if (eof || have == sizeof chunk)
				break;       /* the end, or a line longer than the chunk */
			ssize_t n = read(fd, chunk + have, sizeof chunk - have);
			if (n <= 0)
				eof = true;
			else
				have += (size_t)n;
			continue;
		}
		*nl = '\0';
		/* "lo-hi perms offset dev inode   path" */
		char *p = chunk, *end;
		uintptr_t a = (uintptr_t)strtoull(p, &end, 16);
		uintptr_t b = *end == '-' ? (uintptr_t)strtoull(end + 1, &end, 16) : 0;
		char *path = strchr(end, '/');
		if (addr >= a && addr < b && path) {
			size_t n = strlen(path);
			if (n < len) {
				memcpy(buf, path, n + 1);
				found = true;
			}
		}
		size_t used = (size_t)(nl + 1 - chunk);
		memmove(chunk, nl + 1, have - used);
		have -= used;
	}
	close(fd);
	return found;
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
	} else if (path[0] != '/' && strchr(path, '/') && mapped_path(lo, exe, sizeof exe)) {
		/* dlopen("./lib.so") names it relative to a directory the program may leave,
		 * and the analyzer runs elsewhere: the kernel knows the file. */
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

void lw_module_extent(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
	*lo = UINTPTR_MAX;
	*hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < *lo)
			*lo = a;
		if (a + ph->p_memsz > *hi)
			*hi = a + ph->p_memsz;
	}
}

static int module_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
	uintptr_t lo, hi;
	lw_module_extent(info, &lo, &hi);
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
struct lw_site {
	uintptr_t site;
	uint32_t stack;
	uint32_t captured;            /* atomic: the capture ended (its stack may be 0) */
	uint32_t paths;
	uint32_t pad;
};
static struct lw_site *sites;            /* open addressing, never deleted */
static uint32_t next_stack_id;           /* atomic */
/* Forking while another thread is inside libunwind would leave its locks held in the
 * child: count the threads that are unwinding, and let fork wait for them. */
static int unwinding;                    /* atomic */
static int fork_pending;                 /* atomic */
static int stacks_off;                   /* set in a child forked mid-unwind */

/*
 * Memory checks without a pipe.  libunwind (1.6) checks an address before it reads it by
 * writing a byte from it into a pipe that it opens at its first unwind and then keeps by
 * number: two descriptors at the bottom of the program's range (its first open() returned
 * 5, not 3), which a daemon that closes every descriptor, or dup2s over low ones, took
 * from it (every stack was lost from then on, or libunwind read, wrote and closed the
 * program's own file).  So the shim gives libunwind's local address space its own
 * memory reader (the accessors are the public unw_get_accessors()), which checks an
 * address with a system call that reads 8 bytes from it and fails with EFAULT when it
 * cannot (rt_sigprocmask with an invalid `how`: the kernel copies the set before it looks
 * at `how`, and changes nothing), and closes the pipe libunwind opened at its start-up,
 * which nothing uses any more.
 */
enum { UNWINDER_UNSET, UNWINDER_SETTING, UNWINDER_READY };
static int unwinder_state;               /* atomic */

#define LW_PAGE_CACHE 8
/* The pages checked in the calling thread's current unwind (the stack's, mostly).  Only
 * while the shim unwinds: a page may be unmapped afterwards. */
static __thread struct {
	bool on;
	unsigned n;
	uintptr_t page[LW_PAGE_CACHE];
} checked __attribute__((tls_model("initial-exec")));

/* Whether the 8 bytes at addr can be read (addr 8-aligned: one page). */
static bool readable8(uintptr_t addr)
{
	uintptr_t page = addr & ~(uintptr_t)4095;
	if (page == 0)
		return false;
	if (checked.on)
		for (unsigned i = 0; i < checked.n && i < LW_PAGE_CACHE; i++)
			if (checked.page[i] == page)
				return true;
	int saved = errno;
	long rc = syscall(SYS_rt_sigprocmask, ~0, (void *)addr, NULL, (size_t)8);
	bool ok = !(rc < 0 && errno == EFAULT);
	errno = saved;
	if (ok && checked.on)
		checked.page[checked.n++ % LW_PAGE_CACHE] = page;
	return ok;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
		      void *arg)
{
	if (write) {
		*(unw_word_t *)addr = *val;
		return 0;
	}
	uintptr_t a = (uintptr_t)addr;
	if (!readable8(a & ~(uintptr_t)7) || ((a & 7) && !readable8((a + 7) & ~(uintptr_t)7)))
		return -UNW_EINVAL;
	memcpy(val, (const void *)a, sizeof *val);
	return 0;
}

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

/* Whether descriptors a and b are the two ends of one pipe, both close-on-exec (as
 * libunwind's pipe2 makes them). */
static bool one_pipe(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && S_ISFIFO(sa.st_mode) &&
	       S_ISFIFO(sb.st_mode) && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev &&
	       (fcntl(a, F_GETFD) & FD_CLOEXEC) && (fcntl(b, F_GETFD) & FD_CLOEXEC);
}

/* Sets libunwind up (its start-up opens the pipe, in the two lowest free descriptors),
 * gives it the shim's memory reader and closes that pipe. */
static void unwinder_setup(void)
{
	int a = lowest_free_fd(0);
	int b = a >= 0 ? lowest_free_fd(a + 1) : -1;
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	unw_accessors_t *acc = unw_get_accessors(unw_local_addr_space);
	if (acc)
		__atomic_store_n(&acc->access_mem, access_mem, __ATOMIC_RELEASE);
	/* Two free descriptors that are now one new pipe are libunwind's (when it had
	 * started before the shim, its pipe is elsewhere and stays: it is not used). */
	if (acc && a >= 0 && b >= 0 && one_pipe(a, b)) {
		close(a);
		close(b);
	}
}

/* Makes sure the unwinder is set up; waits while another thread does it. */
static void unwinder_ready(void)
{
	int state = __atomic_load_n(&unwinder_state, __ATOMIC_ACQUIRE);
	if (LW_LIKELY(state == UNWINDER_READY))
		return;
	if (state == UNWINDER_UNSET &&
	    __atomic_compare_exchange_n(&unwinder_state, &state, UNWINDER_SETTING, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		int saved = errno;
		unwinder_setup();
		errno = saved;
		__atomic_store_n(&unwinder_state, UNWINDER_READY, __ATOMIC_RELEASE);
		return;
	}
	for (unsigned spins = 0;
	     __atomic_load_n(&unwinder_state, __ATOMIC_ACQUIRE) != UNWINDER_READY; spins++)
		lw_spin_wait(spins);
}

/* Like unw_backtrace(): the return addresses of the calling frames, the first in the caller
 * of this function.  It walks with unw_step() rather than calling unw_backtrace(), whose fast
 * path gives every thread that unwinds a 256 KiB frame cache, written whole when it is made:
 * in a program of a few threads that would be most of the shim's memory.  A stack is taken
 * once per call site, so the slower walk is rarely paid for.  Returns the depth. */
static __attribute__((noinline)) int backtrace_by_steps(void **pcs, uintptr_t *locs, int want)
{
	unw_context_t uc;
	unw_cursor_t cursor;
	int n = 0;
	unwinder_ready();
	checked.n = 0;
	checked.on = true;
	if (unw_getcontext(&uc) < 0 || unw_init_local(&cursor, &uc) < 0) {
		checked.on = false;
		return 0;
	}
	while (n < want && unw_step(&cursor) > 0) {
		unw_word_t ip, sp;
		if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0)
			break;
		/* Where the return address was read from: just below the caller's stack
		 * pointer after the return.  Not for a frame a signal interrupted (its pc
		 * came from the signal frame), nor for any frame above one. */
		if (locs) {
			bool ok = n == 0 || locs[n - 1] != 0;
			locs[n] = ok && !unw_is_signal_frame(&cursor) &&
					  unw_get_reg(&cursor, UNW_REG_SP, &sp) == 0
				  ? (uintptr_t)sp - 8
				  : 0;
		}
		pcs[n++] = (void *)(uintptr_t)ip;
	}
	checked.on = false;
	return n;
}

/* Sets the unwinder up now, at start-up, before the program opens files. */
static void unwind_probe(void)
{
	unwinder_ready();
}

/* ---- stack ids: one per distinct stack ---- */

#define LW_CONTENT_SLOTS (1u << 15)
struct lw_content { uint64_t hash; uint32_t id; uint32_t pad; };
static struct lw_content *contents;      /* open addressing, never deleted */

/* Maps n anonymous zeroed slots of size bytes into *table once.  Returns it, or NULL. */
static void *table_get(void **table, size_t bytes)
{
	void *t = __atomic_load_n(table, __ATOMIC_ACQUIRE);
	if (LW_LIKELY(t != NULL))
		return t;
	void *m = lw_map_anon(bytes);
	if (!m)
		return NULL;
	void *expected = NULL;
	if (!__atomic_compare_exchange_n(table, &expected, m, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		munmap(m, bytes);
		return expected;
	}
	return m;
}

/* The id of the stack pcs[0..depth), writing its STACK record when it is new.  Returns 0
 * when it cannot be written. */
static uint32_t stack_id(void *const *pcs, int depth)
{
	uint64_t h = (uint64_t)depth;
	for (int i = 0; i < depth; i++)
		h = lw_mix64(h ^ (uintptr_t)pcs[i]);
	h |= 1;                              /* 0 marks a free slot */
	struct lw_content *c = table_get((void **)&contents, LW_CONTENT_SLOTS * sizeof *c);
	struct lw_content *slot = NULL;
	if (c) {
		uint32_t mask = LW_CONTENT_SLOTS - 1, i = (uint32_t)(h >> 17) & mask;
		for (uint32_t probes = 0; probes < 32; probes++, i = (i + 1) & mask) {
			uint64_t cur = __atomic_load_n(&c[i].hash, __ATOMIC_ACQUIRE);
			if (cur == h) {
				uint32_t id = __atomic_load_n(&c[i].id, __ATOMIC_ACQUIRE);
				if (id)
					return id;
				break;       /* being written by another thread: write it too */
			}
			uint64_t expected = 0;
			if (cur == 0 && __atomic_compare_exchange_n(&c[i].hash, &expected, h, false,
								    __ATOMIC_ACQ_REL,
								    __ATOMIC_ACQUIRE)) {
				slot = &c[i];
				break;
			}
		}
	}
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
	if (slot)
		__atomic_store_n(&slot->id, id, __ATOMIC_RELEASE);
	return id;
}

/* ---- stacks per call path ---- */

/*
 * A call site's stack differs with the path that reached it: a helper called first from
 * main and then from worker threads.  So a stack is kept per call path, found without
 * unwinding: the first unwind at a site notes where on the stack (bytes above the stack
 * pointer) the return addresses of its first LW_VERIFY frames were, and a later call at
 * the same site, the same depth below its thread's stack top, and the same return
 * addresses in those places took the same path.  Only the thread's own stack is read, below
 * its top.  A site reached by more than LW_SITE_PATHS paths (recursion, alloca) gets its
 * first stack for the rest, so a program never unwinds at every call.
 */
#define LW_PATH_SLOTS (1u << 16)
#define LW_VERIFY 6
#define LW_SITE_PATHS 32
struct lw_path {
	uint64_t key;                        /* atomic: site and depth mixed; 0: free */
	uint32_t stack;                      /* atomic */
	uint32_t ready;                      /* atomic: the rest is written */
	uint32_t n;                          /* return addresses to check */
	uint32_t off[LW_VERIFY];
	uintptr_t ret[LW_VERIFY];
};
static struct lw_path *paths;

extern void *__libc_stack_end;

/* The top of the calling thread's stack above sp (a thread's descriptor sits at the top of
 * its stack; the main thread's top is __libc_stack_end), or 0 when it is not known. */
static uintptr_t stack_top(uintptr_t sp)
{
	uintptr_t self = (uintptr_t)__builtin_thread_pointer();
	if (self > sp && self - sp < (1u << 30))
		return self;
	uintptr_t end = (uintptr_t)__libc_stack_end;
	if (end > sp && end - sp < (1u << 30))
		return end;
	return 0;
}

/* Unwinds the calling thread: its stack id, and into p (when not NULL) where its first
 * return addresses are, as offsets above sp below top. */
static uint32_t capture(struct lw_path *p, uintptr_t sp, uintptr_t top)
{
	if (stacks_off)
		return 0;
	__atomic_add_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&fork_pending, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	void *pcs[64 + 16];
	uintptr_t locs[64 + 16];
	int want = lw_opt.stack_depth + 16;
	if (want > (int)(sizeof pcs / sizeof pcs[0]))
		want = sizeof pcs / sizeof pcs[0];
	int saved = errno;
	int n = backtrace_by_steps(pcs, locs, want);
	errno = saved;
	__atomic_sub_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);

	/* Drop the shim's own frames (the wrappers, the thread trampoline). */
	int depth = 0;
	for (int i = 0; i < n && depth < lw_opt.stack_depth; i++) {
		uintptr_t pc = (uintptr_t)pcs[i];
		if (pc >= self_lo && pc < self_hi)
			continue;
		if (p && depth == (int)p->n && p->n < LW_VERIFY && locs[i] > sp &&
		    locs[i] + 8 <= top) {
			p->off[p->n] = (uint32_t)(locs[i] - sp);
			p->ret[p->n++] = pc;
		}
		pcs[depth++] = pcs[i];
	}
	return depth ? stack_id(pcs, depth) : 0;
}

uint32_t lw_stack_capture(void)
{
	return capture(NULL, 0, 0);
}

/* Whether the stack above sp, below top, holds p's return addresses in p's places. */
static inline bool same_path(const struct lw_path *p, uintptr_t sp, uintptr_t top)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (p->off[i] + 8 > top - sp || *(const uintptr_t *)(sp + p->off[i]) != p->ret[i])
			return false;
	return true;
}

/* The first stack taken at a site (the stack of every call there, before stacks were
 * kept per path), and in *paths_seen how many paths were taken there before this call. */
static uint32_t site_first_stack(uintptr_t site, struct lw_path *p, uintptr_t sp, uintptr_t top,
				 uint32_t *paths_seen)
{
	*paths_seen = 0;
	if (!table_get((void **)&sites, LW_SITE_SLOTS * sizeof *sites))
		return 0;
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
			     __atomic_load_n(&sites[i].captured, __ATOMIC_ACQUIRE) == 0;
			     spins++)
				lw_spin_wait(spins);
			*paths_seen = __atomic_fetch_add(&sites[i].paths, 1, __ATOMIC_RELAXED);
			return id;
		}
		if (cur == 0) {
			uintptr_t expected = 0;
			if (__atomic_compare_exchange_n(&sites[i].site, &expected, site, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				uint32_t id = capture(p, sp, top);
				__atomic_store_n(&sites[i].paths, 1, __ATOMIC_RELAXED);
				__atomic_store_n(&sites[i].stack, id, __ATOMIC_RELEASE);
				__atomic_store_n(&sites[i].captured, 1, __ATOMIC_RELEASE);
				return id;
			}
			if (expected == site) {
				i = (i - 1) & mask;     /* look at this slot again */
				continue;
			}
		}
	}
	*paths_seen = UINT32_MAX;            /* table crowded */
	return capture(p, sp, top);
}

/* Fills path p (claimed for this call) and returns its stack. */
static uint32_t path_fill(struct lw_path *p, uintptr_t site, uintptr_t sp, uintptr_t top)
{
	uint32_t seen;
	p->n = 0;
	uint32_t id = site_first_stack(site, p, sp, top, &seen);
	if (seen > 0 && seen < LW_SITE_PATHS)
		id = capture(p, sp, top);    /* another path to a known site */
	/* else: the site's first call (p filled by its unwind), or one of too many paths (p
	 * checks nothing: the first stack stands for them). */
	__atomic_store_n(&p->stack, id, __ATOMIC_RELAXED);
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	return id;
}

__attribute__((noinline)) uint32_t lw_site_stack(uintptr_t site)
{
	if (site == 0)
		return 0;            /* no call site: and 0 marks a free slot below */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t top = stack_top(sp);
	uint32_t seen;
	if (!top || !table_get((void **)&paths, LW_PATH_SLOTS * sizeof *paths))
		return site_first_stack(site, NULL, 0, 0, &seen);
	uint64_t key = (lw_mix64(site) + (uint64_t)(top - sp) * 0x9e3779b97f4a7c15ull) | 1;
	uint32_t mask = LW_PATH_SLOTS - 1;
	uint32_t i = (uint32_t)(key >> 11) & mask;
	for (uint32_t probes = 0; probes < 64; probes++, i = (i + 1) & mask) {
		struct lw_path *p = &paths[i];
		uint64_t cur = __atomic_load_n(&p->key, __ATOMIC_ACQUIRE);
		if (cur == key) {
			for (unsigned spins = 0; !__atomic_load_n(&p->ready, __ATOMIC_ACQUIRE);
			     spins++)
				lw_spin_wait(spins);
			if (same_path(p, sp, top))
				return __atomic_load_n(&p->stack, __ATOMIC_RELAXED);
			continue;            /* the same depth by another path */
		}
		if (cur == 0) {
			uint64_t expected = 0;
			if (__atomic_compare_exchange_n(&p->key, &expected, key, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return path_fill(p, site, sp, top);
			if (expected == key)
				i = (i - 1) & mask;     /* look at this slot again */
		}
	}
	return site_first_stack(site, NULL, 0, 0, &seen); /* table crowded */
}

void lw_stacks_reset_after_fork(void)
{
	if (sites)
		memset(sites, 0, LW_SITE_SLOTS * sizeof *sites);
	/* The forking thread's own cache of sites holds the parent trace's stack ids, which in
	 * the child's trace would name other stacks, or none. */
	if (lw_self)
		memset(lw_self->sites, 0, sizeof lw_self->sites);
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
	/* The child's trace has none of the parent's stacks: its paths and stack contents
	 * are found again. */
	if (paths)
		memset(paths, 0, LW_PATH_SLOTS * sizeof *paths);
	if (contents)
		memset(contents, 0, LW_CONTENT_SLOTS * sizeof *contents);
	lw_stacks_reset_after_fork();
}
