/* Objects used but never initialised, and inits the implementation refused (issue 22):
 * sem_init with a value above SEM_VALUE_MAX, pthread_barrier_init with count 0, and a wait,
 * post or destroy of an object no init ever started. */
#include <errno.h>
#include <link.h>

#include "locks/uninit.h"
#include "core/layers.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "locks/locks.h"
#include "locks/misuse.h"

/* Refused inits, by address (never removed; a later successful init clears the stack). */
#define REFUSED_SLOTS 64
static struct {
	uintptr_t addr;              /* 0: free; written once, by CAS */
	uint32_t stack, tid;
	uint32_t refused;            /* atomic; 0: an init accepted since (or none yet) */
} refused[REFUSED_SLOTS];

static bool inits_unrecorded;   /* atomic */
/* The shim was loaded before libc (LD_PRELOAD), so every init of the process went through
 * it: set at start-up. */
static bool since_start;

static uint32_t refused_slot(uintptr_t addr, bool insert)
{
	uint32_t h = (uint32_t)(lw_mix64(addr) % REFUSED_SLOTS);
	for (uint32_t i = 0; i < REFUSED_SLOTS; i++) {
		uint32_t k = (h + i) % REFUSED_SLOTS;
		uintptr_t a = __atomic_load_n(&refused[k].addr, __ATOMIC_ACQUIRE);
		if (a == addr)
			return k;
		if (a == 0) {
			if (!insert)
				return UINT32_MAX;
			uintptr_t zero = 0;
			if (__atomic_compare_exchange_n(&refused[k].addr, &zero, addr, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
			    zero == addr)
				return k;
		}
	}
	return UINT32_MAX;
}

void lw_init_refused(struct lw_thread *t, const void *addr, uint16_t kind, uint64_t arg,
		     uintptr_t site)
{
	uint32_t stack = lw_site_stack(site);
	lw_misuse(t, LW_MISUSE_INIT_REFUSED, kind, (uintptr_t)addr, 0, stack, 0, 0, arg);
	uint32_t k = refused_slot((uintptr_t)addr, true);
	if (k != UINT32_MAX) {
		__atomic_store_n(&refused[k].tid, t->tid, __ATOMIC_RELAXED);
		__atomic_store_n(&refused[k].stack, stack, __ATOMIC_RELAXED);
		__atomic_store_n(&refused[k].refused, 1, __ATOMIC_RELEASE);
	}
}

void lw_init_accepted(const void *addr)
{
	uint32_t k = refused_slot((uintptr_t)addr, false);
	if (k != UINT32_MAX)
		__atomic_store_n(&refused[k].refused, 0, __ATOMIC_RELEASE);
}

void lw_init_unrecorded(void)
{
	__atomic_store_n(&inits_unrecorded, true, __ATOMIC_RELEASE);
}

bool lw_uninit_report(struct lw_thread *t, const void *addr, uint16_t kind, uint64_t op,
		      uintptr_t site)
{
	uint32_t k = refused_slot((uintptr_t)addr, false);
	bool sure = k != UINT32_MAX && __atomic_load_n(&refused[k].refused, __ATOMIC_ACQUIRE);
	struct lw_lock_init_shared id;
	int mapping = -1;
	uint32_t other_stack = sure ? __atomic_load_n(&refused[k].stack, __ATOMIC_RELAXED) : 0;
	uint32_t other_tid = sure ? __atomic_load_n(&refused[k].tid, __ATOMIC_RELAXED) : 0;
	if (!sure && since_start && !__atomic_load_n(&inits_unrecorded, __ATOMIC_ACQUIRE) &&
	    !lw_locks_incomplete()) {
		/* Another process may have initialised it (process-shared, in shared memory):
		 * only private memory, known to be private, is sure. */
		mapping = lw_shared_mapping((uintptr_t)addr, &id);
		sure = mapping == 0;
	}
	/* Known from now on (its LOCK_INIT names it in the finding), reported or not. */
	struct lw_lock *l = lw_lock_get(addr, kind, site);
	if (!sure)
		return false;
	/* Never initialised, its memory reads as process-shared (glibc's private flag is 0);
	 * in private memory no other process can post or reach it, so the watchdog may call a
	 * wait on it that never ends a hang. */
	if (l && mapping < 0)
		mapping = lw_shared_mapping((uintptr_t)addr, &id);
	if (l && mapping == 0)
		__atomic_and_fetch(&l->flags, (uint16_t)~(LW_LOCKF_PSHARED | LW_LOCKF_XPROC),
				   __ATOMIC_RELAXED);
	lw_misuse(t, LW_MISUSE_NOT_INITIALISED, kind, (uintptr_t)addr, l ? l->gen : 0,
		  lw_site_stack(site), other_tid, other_stack, op);
	return true;
}

void lw_sem_used_slow(struct lw_thread *t, const void *s, uint64_t op, uintptr_t site)
{
	if (!lw_lock_find((uintptr_t)s))
		lw_uninit_report(t, s, LW_LOCK_SEM, op, site);
}

/* ---- whether the shim saw the process begin ---- */

struct load_order {
	uintptr_t self, libc;
	int i, self_i, libc_i;
};

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct load_order *o = arg;
	for (int k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (o->self >= lo && o->self < hi && o->self_i < 0)
			o->self_i = o->i;
		if (o->libc >= lo && o->libc < hi && o->libc_i < 0)
			o->libc_i = o->i;
	}
	o->i++;
	return 0;
}

static void started(void)
{
	/* Preloaded, the shim comes before libc in the loader's list; opened later by dlopen,
	 * after it, and objects may have been initialised before it came. */
	struct load_order o = { (uintptr_t)&visit, (uintptr_t)REAL(sem_init), 0, -1, -1 };
	int saved = errno;
	if (o.libc)
		dl_iterate_phdr(visit, &o);
	errno = saved;
	since_start = o.self_i >= 0 && o.libc_i >= 0 && o.self_i < o.libc_i;
}

LW_LAYER(uninit) = {
	.name = "uninit",
	.rank = 1,
	.started = started,
};
