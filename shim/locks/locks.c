/* The lock table: every lock the program used, by address, with its generation. */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>
#include "locks/locks.h"
#include "core/arena.h"
#include "core/defs.h"
#include "core/msg.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"
#include "locks/dedup.h"
#include "locks/misuse.h"

#define LW_LOCK_MAX_PROBES 256

_Static_assert(sizeof(struct lw_lock) == 48, "a lock's entry stays 48 bytes: 100k locks cost 7 MB");

struct lw_lock *lw_lock_table;
#define table lw_lock_table
uint32_t lw_trace_epoch = 1;
static int full_warned;
uint64_t lw_locks_unrecorded;

/*
 * Slots of destroyed locks are taken again (issue 18).  OpenSSL creates and frees a rwlock
 * with most of its objects: loading the CA store 60 times put 34k distinct heap addresses in
 * the table, 99.9% of them destroyed, and the table was "full" with 1.4k live locks.
 *
 * A slot's addr word: 0, never used; addr, a live lock; addr | LW_SLOT_TOMB, the lock at
 * addr was destroyed (its entry still says so: a use without init is found as misuse); or
 * LW_SLOT_BUSY, being taken for another address.  Only inserts turn 0 or a tombstone into
 * BUSY, one at a time (insert_lock), so an address is never in two slots; BUSY is written
 * over with the address once the entry is reset.  A lookup of addr, lock-free, walks from
 * slot_of(addr) until addr, addr | TOMB or 0: the run never loses a slot, so it finds the
 * address wherever an insert put it.  A tombstone of addr is made live again (an init at a
 * freed-and-reused address, the common case) by a CAS back to addr, which a competing
 * insert's CAS from the same tombstone excludes.
 *
 * Identity is (address, generation): an address whose slot was taken may come back in
 * another slot, so from the first take on, every new generation comes from one clock above
 * any per-address count (next_gen).
 */
#define LW_SLOT_TOMB (1ull << 63)
#define LW_SLOT_BUSY (1ull << 62)
#define LW_GEN_CLOCK_START 0x80000000u
static lw_spin_t insert_lock;
static __thread int in_insert __attribute__((tls_model("initial-exec")));
static int slots_retaken;          /* a tombstone was taken: gens come from gen_clock */
static uint32_t gen_clock = LW_GEN_CLOCK_START;

static uint32_t next_gen(uint32_t gen)
{
	if (!__atomic_load_n(&slots_retaken, __ATOMIC_ACQUIRE))
		return gen + 1;
	uint32_t g = __atomic_add_fetch(&gen_clock, 1, __ATOMIC_RELAXED);
	return g ? g : __atomic_add_fetch(&gen_clock, 1, __ATOMIC_RELAXED);
}

static void bump_gen(struct lw_lock *l)
{
	__atomic_store_n(&l->gen, next_gen(__atomic_load_n(&l->gen, __ATOMIC_ACQUIRE)),
			 __ATOMIC_RELEASE);
}

/* A destroyed lock: its slot may be taken by another address from now on. */
static void make_tomb(struct lw_lock *l)
{
	uintptr_t live = __atomic_load_n(&l->addr, __ATOMIC_ACQUIRE);
	if (!(live & (LW_SLOT_TOMB | LW_SLOT_BUSY)))
		__atomic_compare_exchange_n(&l->addr, &live, live | LW_SLOT_TOMB, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

void lw_locks_note_unrecorded(void)
{
	__atomic_add_fetch(&lw_locks_unrecorded, 1, __ATOMIC_RELEASE);
	lw_trace_note_locks_unrecorded();
}

/* Walks addr's run: its live or destroyed slot (*tomb says which), else NULL with *first_free
 * the first tombstone or never-used slot (NULL: none within the probe limit). */
static struct lw_lock *probe(uintptr_t addr, bool *tomb, struct lw_lock **first_free)
{
	*first_free = NULL;
	uint32_t i = slot_of(addr);
	for (int n = 0; n < LW_LOCK_MAX_PROBES; n++, i = (i + 1) & (LW_LOCK_SLOTS - 1)) {
		uintptr_t cur = __atomic_load_n(&table[i].addr, __ATOMIC_ACQUIRE);
		if (cur == addr || cur == (addr | LW_SLOT_TOMB)) {
			*tomb = cur != addr;
			return &table[i];
		}
		if (cur == 0 || (cur & LW_SLOT_TOMB)) {
			if (!*first_free)
				*first_free = &table[i];
			if (cur == 0)
				break;
		}
	}
	return NULL;
}

static struct lw_lock *find_or_insert(uintptr_t addr, bool *inserted)
{
	*inserted = false;
	if (LW_UNLIKELY(!table)) {
		struct lw_lock *t = lw_map_anon(LW_LOCK_SLOTS * sizeof *t);
		if (!t)
			return NULL;
		struct lw_lock *expected = NULL;
		if (!__atomic_compare_exchange_n(&table, &expected, t, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			munmap(t, LW_LOCK_SLOTS * sizeof *t);
	}
	bool locked = false;
	struct lw_lock *l = NULL;
	for (;;) {
		bool tomb;
		struct lw_lock *free_slot;
		l = probe(addr, &tomb, &free_slot);
		if (l) {
			uintptr_t t = addr | LW_SLOT_TOMB;
			/* Live again (an init or use at a freed-and-reused address); a failed
			 * CAS means another thread revived it, or an insert took it: look again. */
			if (!tomb || __atomic_compare_exchange_n(&l->addr, &t, addr, false,
								 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
			    t == addr)
				break;
			continue;
		}
		if (!locked) {
			/* A signal handler's call while this thread inserts: not recorded. */
			if (in_insert)
				break;
			in_insert = 1;
			while (!lw_spin_trylock(&insert_lock))
				sched_yield();
			locked = true;
			continue;            /* look again: nobody else inserts now */
		}
		if (!free_slot)
			break;
		uintptr_t cur = __atomic_load_n(&free_slot->addr, __ATOMIC_ACQUIRE);
		if (!(cur == 0 || (cur & LW_SLOT_TOMB)) ||
		    !__atomic_compare_exchange_n(&free_slot->addr, &cur, LW_SLOT_BUSY, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;            /* its lock was revived meanwhile */
		l = free_slot;
		if (cur) {
			/* A destroyed lock's slot: the entry starts over, in a generation no
			 * earlier life of addr had. */
			__atomic_store_n(&slots_retaken, 1, __ATOMIC_RELEASE);
			uint32_t gen = next_gen(0);
			memset(l, 0, sizeof *l);
			l->gen = gen;
		} else if (__atomic_load_n(&slots_retaken, __ATOMIC_ACQUIRE)) {
			l->gen = next_gen(0);
		}
		__atomic_store_n(&l->addr, addr, __ATOMIC_RELEASE);
		*inserted = true;
		break;
	}
	if (locked) {
		lw_spin_unlock(&insert_lock);
		in_insert = 0;
	}
	if (!l) {
		lw_locks_note_unrecorded();
		if (!__atomic_exchange_n(&full_warned, 1, __ATOMIC_RELAXED))
			lw_msg("lock table full; locks first used from now on are not recorded");
	}
	return l;
}

/* A new generation: nobody has used the lock in it yet. */
static void lock_forget_user(struct lw_lock *l)
{
	__atomic_store_n(&l->user, 0, __ATOMIC_RELAXED);
	__atomic_store_n(lw_lock_unwritten_release(l), 0, __ATOMIC_RELAXED);
}

/* ---- process-shared objects (issue 18) ----
 *
 * A process-shared lock in a MAP_SHARED mapping can be held, unlocked, posted or signalled
 * by another process, which the shim of this one does not see: the watchdog never calls a
 * wait on one a hang, and believes a holder only when the lock's own owner field names it
 * (watchdog.c).  Its LOCK_INIT names the mapped object (device, inode, offset), so that the
 * analyzer joins the processes' lock orders into one graph. */

bool lw_mem_read(uintptr_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	int saved = errno;
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	errno = saved;
	return n == (ssize_t)len;
}

/* glibc's layouts (x86-64): a semaphore's `private` word and a barrier's `shared` word are
 * FUTEX_PRIVATE_FLAG for a process-private object, 0 for a shared one. */
struct glibc_sem { uint64_t data; uint32_t private_flag; uint32_t pad; };
struct glibc_barrier { uint32_t in, current_round, count; int32_t shared; uint32_t out; };
#define LW_GLIBC_MUTEX_PSHARED_BIT 128     /* PTHREAD_MUTEX_PSHARED_BIT in __kind */
#define LW_GLIBC_COND_SHARED_MASK  1u      /* __PTHREAD_COND_SHARED_MASK in __wrefs */
#define LW_FUTEX_PRIVATE_FLAG      128u

uint16_t lw_pshared_in_memory(const void *obj, uint16_t kind)
{
	switch (kind) {
	case LW_LOCK_MUTEX:
		return (((const pthread_mutex_t *)obj)->__data.__kind & LW_GLIBC_MUTEX_PSHARED_BIT)
			? LW_LOCKF_PSHARED : 0;
	case LW_LOCK_RWLOCK:
		return ((const pthread_rwlock_t *)obj)->__data.__shared ? LW_LOCKF_PSHARED : 0;
	case LW_LOCK_COND:
		return (((const pthread_cond_t *)obj)->__data.__wrefs & LW_GLIBC_COND_SHARED_MASK)
			? LW_LOCKF_PSHARED : 0;
	case LW_LOCK_SEM:
		return ((const struct glibc_sem *)obj)->private_flag == 0 ? LW_LOCKF_PSHARED : 0;
	case LW_LOCK_BARRIER:
		return ((const struct glibc_barrier *)obj)->shared == 0 ? LW_LOCKF_PSHARED : 0;
	default:
		return 0;            /* a spinlock is one int: nothing says */
	}
}

/* Parses the head of one line of /proc/self/maps ("lo-hi perms offset maj:min inode ...").
 * Returns 1 when the mapping holds addr and is MAP_SHARED (*id filled), 0 when it holds addr
 * and is private, -1 when it does not hold addr (or the line does not parse). */
static int maps_line(const char *p, const char *end, uintptr_t addr, struct lw_lock_init_shared *id,
		     uint64_t *range)
{
	uint64_t v[3] = { 0, 0, 0 };          /* lo, hi, offset */
	char perms[4];
	unsigned maj = 0, min = 0;
	uint64_t ino = 0;
	for (int f = 0; f < 3; f++) {
		const char *start = p;
		for (; p < end && *p != '-' && *p != ' '; p++) {
			unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0')
				   : *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10) : 16u;
			if (d == 16)
				return -1;
			v[f] = v[f] << 4 | d;
		}
		if (p == start || p >= end)
			return -1;
		p++;
		if (f == 1) {
			if (end - p < 5)
				return -1;
			memcpy(perms, p, 4);
			p += 5;
		}
	}
	if (addr < v[0] || addr >= v[1])
		return -1;
	if (perms[3] != 's')
		return 0;
	for (unsigned *n = &maj; p < end && *p != ' '; p++) {
		if (*p == ':') {
			n = &min;
			continue;
		}
		unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0')
			   : *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10) : 16u;
		if (d == 16)
			return -1;
		*n = *n << 4 | d;
	}
	for (p++; p < end && *p >= '0' && *p <= '9'; p++)
		ino = ino * 10 + (uint64_t)(*p - '0');
	id->dev = makedev(maj, min);
	id->ino = ino;
	id->offset = v[2] + (addr - v[0]);
	memcpy(range, v, sizeof v);
	return 1;
}

/*
 * The last shared mapping found, so that a program that initialises many locks in one
 * shared region reads /proc/self/maps once (about 100 us), not once a lock.  A hit is
 * checked with a stat of /proc/self/map_files/LO-HI, which exists only while a mapping has
 * exactly that range, and names its object: the cache is never believed about another
 * mapping.  A seqlock (version odd while written, writers take it by CAS and skip when
 * busy): no lock, so a signal handler's sem_post cannot deadlock with its own thread.
 */
static struct {
	uint32_t version;            /* atomic */
	uint64_t lo, hi, pgoff, dev, ino;
} maps_cache;

static bool cache_lookup(uintptr_t addr, struct lw_lock_init_shared *id)
{
	uint32_t v = __atomic_load_n(&maps_cache.version, __ATOMIC_ACQUIRE);
	if (v & 1)
		return false;
	uint64_t lo = __atomic_load_n(&maps_cache.lo, __ATOMIC_RELAXED);
	uint64_t hi = __atomic_load_n(&maps_cache.hi, __ATOMIC_RELAXED);
	uint64_t pgoff = __atomic_load_n(&maps_cache.pgoff, __ATOMIC_RELAXED);
	uint64_t dev = __atomic_load_n(&maps_cache.dev, __ATOMIC_RELAXED);
	uint64_t ino = __atomic_load_n(&maps_cache.ino, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&maps_cache.version, __ATOMIC_RELAXED) != v || addr < lo || addr >= hi)
		return false;
	char path[64] = "/proc/self/map_files/";
	char *p = path + strlen(path);
	for (int half = 0; half < 2; half++) {
		uint64_t x = half ? hi : lo;
		char digits[16];
		int n = 0;
		do
			digits[n++] = "0123456789abcdef"[x & 15];
		while ((x >>= 4) && n < 16);
		while (n)
			*p++ = digits[--n];
		*p++ = half ? '\0' : '-';
	}
	struct stat st;
	int saved = errno;
	bool same = stat(path, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
	errno = saved;
	if (!same)
		return false;
	id->dev = dev;
	id->ino = ino;
	id->offset = pgoff + (addr - lo);
	return true;
}

static void cache_store(const uint64_t *range, const struct lw_lock_init_shared *id)
{
	uint32_t v = __atomic_load_n(&maps_cache.version, __ATOMIC_RELAXED);
	if ((v & 1) || !__atomic_compare_exchange_n(&maps_cache.version, &v, v + 1, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&maps_cache.lo, range[0], __ATOMIC_RELAXED);
	__atomic_store_n(&maps_cache.hi, range[1], __ATOMIC_RELAXED);
	__atomic_store_n(&maps_cache.pgoff, range[2], __ATOMIC_RELAXED);
	__atomic_store_n(&maps_cache.dev, id->dev, __ATOMIC_RELAXED);
	__atomic_store_n(&maps_cache.ino, id->ino, __ATOMIC_RELAXED);
	__atomic_store_n(&maps_cache.version, v + 2, __ATOMIC_RELEASE);
}

int lw_shared_mapping(uintptr_t addr, struct lw_lock_init_shared *id)
{
	if (cache_lookup(addr, id))
		return 1;
	uint64_t range[3];
	int saved = errno;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = saved;
		return -1;
	}
	char buf[4096];
	size_t have = 0;
	bool skip = false;            /* the rest of a line longer than buf */
	int found = -1;
	for (bool eof = false; !eof && found == -1;) {
		ssize_t n = read(fd, buf + have, sizeof buf - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = true;
			n = 0;
		}
		have += (size_t)n;
		char *line = buf, *end = buf + have;
		for (char *nl; found == -1 && (nl = memchr(line, '\n', (size_t)(end - line)));
		     line = nl + 1) {
			if (!skip) {
				int r = maps_line(line, nl, addr, id, range);
				if (r >= 0)
					found = r;
			}
			skip = false;
		}
		if (found != -1)
			break;
		size_t rest = (size_t)(end - line);
		if (rest == sizeof buf || (eof && rest)) {
			/* Its head, which is all that matters, is here. */
			if (!skip) {
				int r = maps_line(line, end, addr, id, range);
				if (r >= 0)
					found = r;
			}
			skip = true;
			rest = 0;
		}
		memmove(buf, line, rest);
		have = rest;
	}
	close(fd);
	errno = saved;
	if (found == 1)
		cache_store(range, id);
	/* No line held addr: unmapped, or a maps file cut short; say unknown. */
	return found;
}

static void announce(struct lw_lock *l, uint16_t kind, uint16_t flags, uint32_t stack)
{
	struct lw_lock_init_shared id;
	bool shared = false;
	if (flags & (LW_LOCKF_PSHARED | LW_LOCKF_NAMED_SEM)) {
		/* Another process may use it unless it lives in private memory. */
		int m = lw_shared_mapping(l->addr, &id);
		shared = m == 1;
		if (m != 0)
			__atomic_or_fetch(&l->flags, LW_LOCKF_XPROC, __ATOMIC_RELAXED);
		else
			__atomic_and_fetch(&l->flags, (uint16_t)~LW_LOCKF_XPROC, __ATOMIC_RELAXED);
	}
	uint32_t size = sizeof(struct lw_rec_lock_init) + (shared ? sizeof id : 0);
	struct lw_rec_lock_init *r = lw_trace_reserve(size);
	if (!r)
		return;
	r->addr = l->addr;
	r->gen = l->gen;
	r->lock_kind = kind;
	r->flags = (flags & (uint16_t)~(LW_LOCKF_SHIM_ONLY | LW_LOCKF_SHARED_MAP)) |
		   (shared ? LW_LOCKF_SHARED_MAP : 0);
	r->stack = stack;
	r->tid = lw_self ? lw_self->tid : 0;
	r->seq = lw_next_seq();
	if (shared)
		memcpy(r + 1, &id, sizeof id);
	lw_trace_commit(r, LW_REC_LOCK_INIT, size);
}

__thread uint16_t lw_lock_api __attribute__((tls_model("initial-exec")));

struct lw_lock *lw_lock_get_slow(const void *addr, uint16_t kind, uintptr_t site)
{
	bool inserted;
	struct lw_lock *l = find_or_insert((uintptr_t)addr, &inserted);
	if (LW_UNLIKELY(!l))
		return NULL;
	uint32_t ep = __atomic_load_n(&l->announced, __ATOMIC_ACQUIRE);
	if (LW_LIKELY(ep == lw_trace_epoch))
		return l;
	/* First use in this trace: whoever wins the exchange writes the LOCK_INIT. */
	if (__atomic_compare_exchange_n(&l->announced, &ep, lw_trace_epoch, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (inserted || l->kind == 0 || (l->flags & LW_LOCKF_DESTROYED)) {
			/* Used again after destroy without a new init: a semaphore has no static
			 * initialiser, and glibc marks a destroyed mutex with kind -1, so
			 * either is misuse (memory reused with PTHREAD_MUTEX_INITIALIZER is
			 * not). */
			if ((l->flags & LW_LOCKF_DESTROYED) && lw_self &&
			    ((l->kind == LW_LOCK_SEM && kind == LW_LOCK_SEM) ||
			     (kind == LW_LOCK_MUTEX && LW_PTHREAD_LAYOUT(lw_lock_api) &&
			      ((const pthread_mutex_t *)addr)->__data.__kind == -1)))
				lw_misuse(lw_self, LW_MISUSE_USE_AFTER_DESTROY, kind, l->addr,
					  l->gen, lw_site_stack(site), 0, 0, 0);
			/* A semaphore's generation kept at its destroy ends here. */
			if (l->flags & LW_LOCKF_SEM_GEN_KEPT)
				bump_gen(l);
			if (kind)
				l->kind = kind;
			/* Initialised elsewhere (another process, or statically): its memory
			 * says whether it is process-shared (only a pthread or C11 object has
			 * glibc's layout). */
			uint16_t pshared = 0;
			if (LW_PTHREAD_LAYOUT(lw_lock_api)) {
				pshared = lw_pshared_in_memory(addr, l->kind);
				/* A spinlock is one int, and has no static initialiser: one first
				 * seen in use in shared memory was initialised by another process. */
				struct lw_lock_init_shared id;
				if (l->kind == LW_LOCK_SPIN && lw_shared_mapping((uintptr_t)addr, &id) == 1)
					pshared = LW_LOCKF_PSHARED;
			}
			l->flags = LW_LOCKF_STATIC | lw_lock_api | pshared;
			l->init_stack = lw_site_stack(site);
		} else if (ep != 0 && ep != lw_trace_epoch) {
			/* Known from an earlier trace (a fork() child's lock, inherited from its
			 * parent): the init stack's id is the parent trace's, which means another
			 * stack, or none, in this one.  This trace names it by its first use. */
			announce(l, l->kind, l->flags | LW_LOCKF_STATIC, lw_site_stack(site));
			return l;
		}
		announce(l, l->kind, l->flags, l->init_stack);
	}
	return l;
}

void lw_lock_new_gen(const void *addr, uint16_t kind, uint16_t flags, uintptr_t site)
{
	bool inserted;
	struct lw_lock *l = find_or_insert((uintptr_t)addr, &inserted);
	if (!l)
		return;
	uint32_t stack = lw_site_stack(site);
	if (!inserted && (l->flags & LW_LOCKF_SEM_GEN_KEPT)) {
		/* A semaphore that signalled, destroyed and now initialised again at the same
		 * address, from the same site, in the same trace: it goes on in its generation,
		 * and the trace gets nothing (a completion semaphore per request).  The
		 * generation still signals. */
		if (kind == LW_LOCK_SEM && l->kind == LW_LOCK_SEM && l->init_stack == stack &&
		    (l->flags & LW_LOCKF_PSHARED) == (flags & LW_LOCKF_PSHARED) &&
		    __atomic_load_n(&l->announced, __ATOMIC_ACQUIRE) ==
			    (lw_trace_epoch | LW_ANNOUNCED_KEPT)) {
			l->flags = (uint16_t)(flags | LW_LOCKF_SEM_SIGNALS);
			__atomic_store_n(&l->announced, lw_trace_epoch, __ATOMIC_RELEASE);
			return;
		}
	}
	bump_gen(l);
	lock_forget_user(l);
	/* Issue 21: the initialising thread counts as the lock's first user, so that another
	 * thread's acquisitions are written (acquire.c's one_user): an init races with them
	 * unless something orders it before them. */
	if (lw_self)
		__atomic_store_n(&l->user, lw_self->tid, __ATOMIC_RELAXED);
	l->kind = kind;
	l->flags = flags;
	l->init_stack = stack;
	__atomic_store_n(&l->announced, lw_trace_epoch, __ATOMIC_RELEASE);
	announce(l, kind, flags, l->init_stack);
}

static void write_destroy(const struct lw_lock *l, uintptr_t site)
{
	struct lw_rec_lock_destroy *r = lw_trace_reserve(sizeof *r);
	if (r) {
		r->addr = l->addr;
		r->gen = l->gen;
		r->stack = lw_site_stack(site);
		r->tid = lw_self ? lw_self->tid : 0;
		r->seq = lw_next_seq();
		lw_trace_commit(r, LW_REC_LOCK_DESTROY, sizeof *r);
	}
}

void lw_sem_destroyed_keep_gen(const void *addr, uintptr_t site)
{
	bool inserted;
	struct lw_lock *l = find_or_insert((uintptr_t)addr, &inserted);
	if (!l)
		return;
	uint32_t ep = __atomic_load_n(&l->announced, __ATOMIC_ACQUIRE);
	if (inserted || ep != lw_trace_epoch || l->kind != LW_LOCK_SEM) {
		lw_lock_destroyed(addr, site);
		return;
	}
	if (lw_dedup_insert(lw_mix64(((uint64_t)l->gen << 32 | 0xde57) ^ l->addr ^
				     ((uint64_t)lw_trace_epoch << 56))))
		write_destroy(l, site);
	l->flags |= LW_LOCKF_DESTROYED | LW_LOCKF_SEM_GEN_KEPT;
	/* Not this epoch: a use without sem_init takes the slow path, which says so. */
	__atomic_store_n(&l->announced, lw_trace_epoch | LW_ANNOUNCED_KEPT, __ATOMIC_RELEASE);
	/* A sem_init at this address finds it still, unless another address took the slot
	 * (then the semaphore starts a new generation there). */
	make_tomb(l);
}

void lw_lock_destroyed(const void *addr, uintptr_t site)
{
	bool inserted;
	struct lw_lock *l = find_or_insert((uintptr_t)addr, &inserted);
	if (!l)
		return;
	write_destroy(l, site);
	/* A later use without *_init (memory reused with a static initialiser) is a new lock. */
	bump_gen(l);
	lock_forget_user(l);
	l->flags |= LW_LOCKF_DESTROYED;
	__atomic_store_n(&l->announced, 0, __ATOMIC_RELEASE);
	make_tomb(l);
}

void lw_locks_reset_after_fork(void)
{
	/* The child writes a new trace: every lock must be announced again. */
	lw_trace_epoch++;
	/* Its lock entries still name the parent's users, whose tids the child's threads
	 * take again: the child writes every lock operation (acquire.c, "A lock one thread
	 * uses"). */
	lw_one_user_unwritten = false;
	lw_private_sections = false;
	full_warned = 0;
	/* Only the forking thread goes on, and it was not inserting. */
	insert_lock = (lw_spin_t){ 0 };
}

void lw_locks_fork_child_held(struct lw_thread *t)
{
	/* A process-shared lock in shared memory that the forking thread held is still held by
	 * that thread, in the parent: the child's copy of the thread does not hold it. */
	uint32_t k = 0;
	for (uint32_t i = 0; i < t->n_held; i++) {
		struct lw_held_ent *e = &t->held[i];
		const struct lw_lock *l = e->lock;
		if (l && l->addr == e->addr && (l->flags & LW_LOCKF_XPROC)) {
			t->n_unwritten -= e->unwritten;
			continue;
		}
		if (k != i)
			t->held[k] = *e;
		k++;
	}
	if (k != t->n_held) {
		t->n_held = k;
		t->held_hash_ok = false;
	}
}

bool lw_lock_cross_process(uintptr_t addr, uint16_t kind)
{
	const struct lw_lock *l = lw_lock_find(addr);
	uint16_t flags = l ? __atomic_load_n(&l->flags, __ATOMIC_RELAXED) : 0;
	/* GLib's and the program's own locks have no process-shared form. */
	if (l && !LW_PTHREAD_LAYOUT(flags))
		return false;
	if (l && l->kind && !(flags & LW_LOCKF_DESTROYED) &&
	    __atomic_load_n(&l->announced, __ATOMIC_ACQUIRE) == lw_trace_epoch)
		return (flags & LW_LOCKF_XPROC) != 0;
	/* Not announced in this trace (a condition variable is registered only by its init):
	 * ask its memory, and then its mapping. */
	union {
		pthread_mutex_t m;
		pthread_rwlock_t rw;
		pthread_cond_t c;
		sem_t s;
		pthread_barrier_t b;
	} copy;
	size_t len = kind == LW_LOCK_MUTEX ? sizeof copy.m : kind == LW_LOCK_RWLOCK ? sizeof copy.rw
		   : kind == LW_LOCK_COND ? sizeof copy.c : kind == LW_LOCK_SEM ? sizeof copy.s
		   : kind == LW_LOCK_BARRIER ? sizeof copy.b : 0;
	if (len == 0)
		return (flags & (LW_LOCKF_PSHARED | LW_LOCKF_NAMED_SEM)) != 0;
	if (!lw_mem_read(addr, &copy, len))
		return true;         /* gone, so the wait is over: never judge it */
	if (!((flags & (LW_LOCKF_PSHARED | LW_LOCKF_NAMED_SEM)) || lw_pshared_in_memory(&copy, kind)))
		return false;
	struct lw_lock_init_shared id;
	return lw_shared_mapping(addr, &id) != 0;
}

const struct lw_lock *lw_lock_find(uintptr_t addr)
{
	if (!table)
		return NULL;
	/* A destroyed lock's entry too (its flags say so), until its slot is taken. */
	bool tomb;
	struct lw_lock *free_slot;
	return probe(addr, &tomb, &free_slot);
}

uint16_t lw_lock_flags(uintptr_t addr)
{
	const struct lw_lock *l = lw_lock_find(addr);
	return l ? l->flags : 0;
}
