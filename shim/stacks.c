/* Call stacks (libunwind), captured once per call site, and the module map that lets the
 * analyzer symbolise them offline. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <errno.h>
#include <elf.h>
#include <link.h>
#include <libunwind.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lw_shim.h"

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

void lw_modules_init(void)
{
	modules_scan();
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
	int n = unw_backtrace(pcs, want);
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
			/* The capturing thread publishes the id after the site: wait briefly. */
			while ((id = __atomic_load_n(&sites[i].stack, __ATOMIC_ACQUIRE)) == 0 &&
			       __atomic_load_n(&sites[i].pad, __ATOMIC_ACQUIRE) == 0)
				;
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
