/* Internal interfaces of the lockwatch shim (liblockwatch.so). */
#ifndef LW_SHIM_H
#define LW_SHIM_H

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "lw_trace_format.h"

#define LW_HIDDEN __attribute__((visibility("hidden")))
#define LW_EXPORT __attribute__((visibility("default")))
#define LW_LIKELY(x)   __builtin_expect(!!(x), 1)
#define LW_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- real functions (real.c) ---- */
struct lw_real {
	int (*mutex_init)(pthread_mutex_t *, const pthread_mutexattr_t *);
	int (*mutex_destroy)(pthread_mutex_t *);
	int (*mutex_lock)(pthread_mutex_t *);
	int (*mutex_trylock)(pthread_mutex_t *);
	int (*mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
	int (*mutex_clocklock)(pthread_mutex_t *, clockid_t, const struct timespec *);
	int (*mutex_unlock)(pthread_mutex_t *);
	int (*rwlock_init)(pthread_rwlock_t *, const pthread_rwlockattr_t *);
	int (*rwlock_destroy)(pthread_rwlock_t *);
	int (*rwlock_rdlock)(pthread_rwlock_t *);
	int (*rwlock_wrlock)(pthread_rwlock_t *);
	int (*rwlock_tryrdlock)(pthread_rwlock_t *);
	int (*rwlock_trywrlock)(pthread_rwlock_t *);
	int (*rwlock_timedrdlock)(pthread_rwlock_t *, const struct timespec *);
	int (*rwlock_timedwrlock)(pthread_rwlock_t *, const struct timespec *);
	int (*rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
	int (*rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
	int (*rwlock_unlock)(pthread_rwlock_t *);
	int (*spin_init)(pthread_spinlock_t *, int);
	int (*spin_destroy)(pthread_spinlock_t *);
	int (*spin_lock)(pthread_spinlock_t *);
	int (*spin_trylock)(pthread_spinlock_t *);
	int (*spin_unlock)(pthread_spinlock_t *);
	int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
	int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
	int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
	int (*cond_signal)(pthread_cond_t *);
	int (*cond_init)(pthread_cond_t *, const pthread_condattr_t *);
	int (*cond_destroy)(pthread_cond_t *);
	int (*cond_broadcast)(pthread_cond_t *);
	int (*sem_init)(sem_t *, int, unsigned);
	int (*sem_destroy)(sem_t *);
	int (*sem_wait)(sem_t *);
	int (*sem_trywait)(sem_t *);
	int (*sem_timedwait)(sem_t *, const struct timespec *);
	int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
	int (*sem_post)(sem_t *);
	sem_t *(*sem_open)(const char *, int, ...);
	int (*sem_close)(sem_t *);
	int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	int (*join)(pthread_t, void **);
	int (*detach)(pthread_t);
	void (*exit)(void *) __attribute__((noreturn));
	int (*barrier_wait)(pthread_barrier_t *);
	pid_t (*fork)(void);
	/* Path calls, for check-then-act on files (wrap_path.c).  The __xstat family is what
	 * programs built against glibc before 2.33 call instead of stat/lstat/fstatat. */
	int (*access)(const char *, int);
	int (*stat)(const char *, struct stat *);
	int (*stat64)(const char *, struct stat64 *);
	int (*lstat)(const char *, struct stat *);
	int (*lstat64)(const char *, struct stat64 *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*fstatat64)(int, const char *, struct stat64 *, int);
	int (*xstat)(int, const char *, struct stat *);
	int (*xstat64)(int, const char *, struct stat64 *);
	int (*lxstat)(int, const char *, struct stat *);
	int (*lxstat64)(int, const char *, struct stat64 *);
	int (*fxstatat)(int, int, const char *, struct stat *, int);
	int (*fxstatat64)(int, int, const char *, struct stat64 *, int);
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*creat)(const char *, mode_t);
	int (*creat64)(const char *, mode_t);
	int (*unlink)(const char *);
	int (*rename)(const char *, const char *);
};

LW_HIDDEN extern struct lw_real lw_real;
/* Resolves every real function.  Safe to call many times, from any thread. */
LW_HIDDEN void lw_real_resolve(void);
#define REAL(fn) (LW_LIKELY(lw_real.fn != NULL) ? lw_real.fn : (lw_real_resolve(), lw_real.fn))

/* ---- options (options.c) ---- */
struct lw_options {
	char trace_dir[4096];
	int level;                   /* enum lw_level */
	int stack_depth;
	uint64_t max_trace_bytes;
	int verbose;
	int enabled;
	uint64_t session;
	int on_deadlock;             /* enum lw_on_deadlock */
	int deadlock_ms;             /* a wait-for cycle must hold this long */
	int hang_ms;                 /* every thread blocked this long is a hang */
	int deadlock_exitcode;
};

enum lw_on_deadlock { LW_ON_DEADLOCK_EXIT = 0, LW_ON_DEADLOCK_ABORT = 1, LW_ON_DEADLOCK_CONTINUE = 2 };
LW_HIDDEN extern struct lw_options lw_opt;
/* Fills lw_opt from the defaults and LOCKWATCH_OPTIONS/LOCKWATCH_SESSION.  Warns on stderr
 * about keys it does not know; never fails. */
LW_HIDDEN void lw_options_load(void);

/* ---- messages (msg.c): the shim's one voice, "lockwatch: ..." on stderr ---- */
LW_HIDDEN void lw_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- arena (arena.c): memory without malloc ---- */
/* Returns zeroed memory from mmap, or NULL.  Never freed. */
LW_HIDDEN void *lw_arena_alloc(size_t size);
LW_HIDDEN void *lw_map_anon(size_t size);

/* A spin flag for the shim's rare slow paths; never held across a real blocking call. */
typedef struct { int v; } lw_spin_t;
LW_HIDDEN void lw_spin_lock(lw_spin_t *s);
LW_HIDDEN bool lw_spin_trylock(lw_spin_t *s);
LW_HIDDEN void lw_spin_unlock(lw_spin_t *s);

/* Step `spins` (from 0) of a busy wait for another thread that is a few instructions from
 * done: a pause, then, past 64 steps (it was preempted there), the CPU given up. */
static inline void lw_spin_wait(unsigned spins)
{
	if (spins > 64)
		sched_yield();
	else
		__builtin_ia32_pause();
}

/* ---- trace writer (trace_writer.c) ---- */
/* Creates this process's trace file.  Returns 0, or a negative errno (recording off). */
LW_HIDDEN int lw_trace_open(bool forked_child);
/* Reserves size bytes (multiple of 8) for one record.  Returns NULL when the record must be
 * dropped (limit reached, disk full, trace closed). */
LW_HIDDEN void *lw_trace_reserve(uint32_t size);
/* The same, from the tail every thread shares: async-signal-safe anywhere (the SIGTRAP
 * handler's). */
LW_HIDDEN void *lw_trace_reserve_shared(uint32_t size);
/* Whether rec, of size bytes, is the last record the calling thread reserved in its chunk of
 * the current trace (nothing of anybody's lies after it there yet). */
LW_HIDDEN bool lw_trace_last_in_chunk(const void *rec, uint32_t size);
/* Publishes a reserved record: stores its head word last, with release ordering. */
LW_HIDDEN void lw_trace_commit(void *rec, uint16_t kind, uint32_t size);
/* Marks the trace closed (clean exit) and trims it when no other thread can write. */
LW_HIDDEN void lw_trace_close(bool only_thread);
/* In a fork child: forgets the parent's file without touching it. */
LW_HIDDEN void lw_trace_forget(void);
/* Takes the next position in the process's event order (and starts a new hook epoch for
 * the calling thread, see hooks.c). */
LW_HIDDEN uint64_t lw_next_seq(void);
/* The same, for a lock acquisition: an event that orders nothing of this thread's before
 * any other thread's (lw_epoch.releases stays). */
LW_HIDDEN uint64_t lw_next_acquire_seq(void);
/* The last position taken, by any thread. */
LW_HIDDEN uint64_t lw_current_seq(void);
/* A position for an operation of a lock only this thread has taken, or for a release of any
 * lock (acquire.c), from a block of positions the thread reserved (its last acquisition
 * reserved two): no shared counter to bump.  It is in the order of the thread's own events,
 * and before every event that can follow it in another thread, which takes its position
 * from the counter, past the block.  release: as lw_next_seq, else as lw_next_acquire_seq. */
LW_HIDDEN uint64_t lw_next_private_seq(bool release);

/* ---- trace pages in memory (trace_residency.c) ---- */
/* The step of the shared tail at which the pages behind the writers are dropped (a power of
 * two). */
#define LW_TRACE_WINDOW (256u << 10)
/* Forgets what was dropped: a new trace whose records start at offset start. */
LW_HIDDEN void lw_trace_residency_reset(uint64_t start);
/* The shared tail has just passed a multiple of LW_TRACE_WINDOW with a reservation that starts
 * at `behind`: drops what is behind the writers, below it.  Called under the writer's grow
 * lock. */
LW_HIDDEN void lw_trace_advance(char *map, uint64_t behind);
/* The calling thread took the chunk [lo, hi), inside the file: faults it in. */
LW_HIDDEN void lw_trace_chunk_taken(char *map, uint64_t lo, uint64_t hi);
/* The calling thread finished its chunk [lo, hi): drops its whole pages. */
LW_HIDDEN void lw_trace_chunk_done(char *map, uint64_t lo, uint64_t hi);

#define LW_REC_ALIGN(n) (((n) + 7u) & ~7u)

/* ---- stacks and modules (stacks.c) ---- */
/* Returns the stack id for a call site (the return address into the program), capturing the
 * stack the first time the site is seen.  Returns 0 when no stack can be had. */
LW_HIDDEN uint32_t lw_site_stack(uintptr_t site);
/* Captures the current stack unconditionally; returns its id or 0. */
LW_HIDDEN uint32_t lw_stack_capture(void);
LW_HIDDEN void lw_modules_init(void);
LW_HIDDEN void lw_stacks_reset_after_fork(void);
LW_HIDDEN void lw_fork_prepare(void);
LW_HIDDEN void lw_fork_parent(void);
LW_HIDDEN void lw_fork_child(void);

/* ---- locks (locks.c) ---- */
struct lw_lock {
	uintptr_t addr;              /* 0: free slot; written once, by CAS */
	uint32_t gen;
	uint16_t kind;               /* enum lw_lock_kind */
	uint16_t flags;              /* LW_LOCKF_* */
	uint32_t announced;          /* trace epoch in which LOCK_INIT was written */
	uint32_t init_stack;
	uint32_t foreign;            /* unlocks by a thread that did not hold it (atomic) */
	/* Full level: the only thread that has taken this generation of a mutex or spinlock
	 * (0: none yet, LW_USER_SHARED: two or more have).  See acquire.c, "A lock one
	 * thread uses". */
	uint32_t user;
	/* The last two acquisition keys (see acquire.c) taken of this lock: a loop that walks
	 * more locks than a thread's own cache holds finds its keys here, on the line the
	 * lookup already read, instead of in the process-wide set.  The full level, which
	 * looks up keys only for a lock with one user, keeps one, and in seen[1] the seq of
	 * that user's last release left out of the trace (0: none). */
	uint64_t seen[2];
};
#define lw_lock_unwritten_release(l) (&(l)->seen[1])

#define LW_USER_SHARED UINT32_MAX

/* Shim-internal lock flags (never written to the trace). */
#define LW_LOCKF_DESTROYED (1u << 15)
/* Semaphores (acquire.c, "Semaphores that signal"): this generation was posted by a thread
 * that had not waited on it, so it enters no held set; and, at the dependencies level, it
 * was destroyed with its generation kept for a sem_init at the same address and site. */
#define LW_LOCKF_SEM_SIGNALS  (1u << 14)
#define LW_LOCKF_SEM_GEN_KEPT (1u << 13)
/* Issue 18, shim-internal: another process may hold, unlock, post or signal the lock (it is
 * process-shared and lives in a MAP_SHARED mapping, or where it lives is unknown).  Set when
 * its LOCK_INIT is written (locks.c). */
#define LW_LOCKF_XPROC     (1u << 12)
#define LW_LOCKF_SHIM_ONLY (LW_LOCKF_DESTROYED | LW_LOCKF_SEM_SIGNALS | LW_LOCKF_SEM_GEN_KEPT | \
			    LW_LOCKF_XPROC)
/* lw_lock.announced of a generation kept at its destroy: the epoch with this bit. */
#define LW_ANNOUNCED_KEPT 0x80000000u
/* Open addressing on the address.  The hash keeps nearby addresses in nearby slots (so
 * 100k mutexes in one array touch few pages) and folds the high bits in (so locks at the
 * same offset of different thread stacks do not collide).  Its unit is 32 bytes, less than
 * any lock but a spinlock: mutexes 64 bytes apart fill every other slot, and the table
 * spans 1.5 times their memory (in 8-byte units it was 6 times, all of it resident). */
#define LW_LOCK_BITS  21
#define LW_LOCK_SLOTS (1u << LW_LOCK_BITS)
LW_HIDDEN extern struct lw_lock *lw_lock_table;
LW_HIDDEN extern uint32_t lw_trace_epoch;
static inline uint32_t slot_of(uintptr_t a)
{
	return (uint32_t)((a >> 5) ^ (a >> (5 + LW_LOCK_BITS)) ^ (a >> 43)) & (LW_LOCK_SLOTS - 1);
}
LW_HIDDEN struct lw_lock *lw_lock_get_slow(const void *addr, uint16_t kind, uintptr_t site);
/* Finds the lock at addr, registering it (as first used, LW_LOCKF_STATIC) if unknown, and
 * writes its LOCK_INIT to the trace if this trace has not seen it.  Returns NULL only when
 * the lock table is full. */
static inline struct lw_lock *lw_lock_get(const void *addr, uint16_t kind, uintptr_t site)
{
	struct lw_lock *t = lw_lock_table;
	if (LW_LIKELY(t != NULL)) {
		struct lw_lock *l = &t[slot_of((uintptr_t)addr)];
		if (LW_LIKELY(__atomic_load_n(&l->addr, __ATOMIC_ACQUIRE) == (uintptr_t)addr &&
			      __atomic_load_n(&l->announced, __ATOMIC_ACQUIRE) == lw_trace_epoch))
			return l;
	}
	return lw_lock_get_slow(addr, kind, site);
}
/* Starts a new generation at addr (an *_init or sem_open). */
LW_HIDDEN void lw_lock_new_gen(const void *addr, uint16_t kind, uint16_t flags, uintptr_t site);
LW_HIDDEN void lw_lock_destroyed(const void *addr, uintptr_t site);
/* A semaphore that signals is destroyed at the dependencies level: its LOCK_DESTROY is
 * written once per generation, and the generation is kept for a sem_init at the same
 * address and site (acquire.c, "Semaphores that signal"). */
LW_HIDDEN void lw_sem_destroyed_keep_gen(const void *addr, uintptr_t site);
/* The LW_LOCKF_* flags of a known lock, 0 if unknown.  Never inserts. */
LW_HIDDEN uint16_t lw_lock_flags(uintptr_t addr);
/* The known lock at addr, or NULL.  Never inserts. */
LW_HIDDEN const struct lw_lock *lw_lock_find(uintptr_t addr);
LW_HIDDEN void lw_locks_reset_after_fork(void);
/* Issue 18: process-shared objects (locks.c). */
struct lw_thread;
/* In a fork() child: drops from t's held set the locks another process may hold (a
 * process-shared lock in shared memory stays its parent's).  Writes nothing. */
LW_HIDDEN void lw_locks_fork_child_held(struct lw_thread *t);
/* Whether another process may hold, unlock, post or signal the object of that kind at addr.
 * Never faults; says true when it cannot tell (the object is gone). */
LW_HIDDEN bool lw_lock_cross_process(uintptr_t addr, uint16_t kind);
/* LW_LOCKF_PSHARED when the glibc object at obj (readable) says it is process-shared. */
LW_HIDDEN uint16_t lw_pshared_in_memory(const void *obj, uint16_t kind);
/* Finds addr in /proc/self/maps without malloc: 1 and *id filled when its mapping is
 * MAP_SHARED, 0 when it is private, -1 when unknown. */
LW_HIDDEN int lw_shared_mapping(uintptr_t addr, struct lw_lock_init_shared *id);
/* Copies len bytes at addr into buf; false, never a fault, when they are not mapped. */
LW_HIDDEN bool lw_mem_read(uintptr_t addr, void *buf, size_t len);

/* ---- dedup set (dedup.c) ---- */
/* Adds key; returns true when it was new.  On overflow returns true (write again). */
LW_HIDDEN bool lw_dedup_insert(uint64_t key);
LW_HIDDEN void lw_dedup_reset(void);
static inline uint64_t lw_mix64(uint64_t x)
{
	x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x ? x : 1;
}

/* ---- threads (threads.c) ---- */
struct lw_held_ent {
	uintptr_t addr;
	uint32_t gen;
	uint16_t mode;
	uint16_t flags;
	uint16_t kind;
	uint16_t pad;
	uint32_t stack;
	uint32_t count;              /* recursive holds */
	uint32_t foreign;            /* the lock's foreign-unlock count when taken */
	struct lw_lock *lock;        /* its entry in the lock table */
	bool unwritten;              /* full level: taken while one thread used it, and its
				      * acquisition is not in the trace (nor will its release be) */
	uint64_t acquired;           /* with unwritten: the seq its acquisition took */
	uint32_t section;            /* with unwritten, in hook mode: 1 + its index in the
				      * thread's sections, 0 if none */
	uint32_t section_version;    /* that section's version when it was noted */
};

/* Hook mode: a recent critical section of a lock only its thread had taken, left out of the
 * trace (acquire.c).  Another thread that writes an access of this thread's on its behalf
 * (hooks.c) first writes the sections that contain it, so that the analyzer knows what the
 * access held.  Written by the thread, read by others: version is odd while it changes. */
#define LW_PRIVATE_SECTIONS 64
struct lw_private_section {
	uint32_t version;            /* atomic */
	uint32_t placed;             /* atomic: the version whose records are in the trace */
	uint64_t acquired;           /* seq of the acquisition */
	uint64_t released;           /* atomic: seq of the release, 0 while held */
	uintptr_t addr;
	uint32_t gen, stack;
	uint16_t mode, flags;
};

#define LW_DEDUP_CACHE 256
#define LW_SITE_CACHE  128

struct lw_site_cache_ent { uintptr_t site; uint32_t stack; uint32_t pad; };

/* Hook mode: this thread's recent accesses to shared granules (hooks.c). */
#define LW_HOOK_RECENT 64
struct lw_hook_recent { uint64_t granule; uint32_t releases; uint32_t write; uint64_t cell; };
/* Hook mode: the thread's latest read of a granule that threads share and none has written
 * since (hooks.c, "Reads of data nobody writes"), kept out of the trace until a write to it,
 * or its eviction, needs it. */
#define LW_RO_READS 64
#define LW_RO_BUSY    1u           /* version: its thread is changing it */
#define LW_RO_WRITTEN 2u           /* version: its record is in the trace */
struct lw_ro_read {
	uint32_t version;            /* atomic: counts by 4, with the two flags above */
	uint32_t sub;
	uint64_t granule;            /* 0: none */
	uint64_t seq;                /* the thread's epoch at the read */
	uint64_t where;              /* as a cell's (hooks.c) */
};

enum lw_thread_state {
	LW_TS_FREE = 0, LW_TS_LIVE = 1, LW_TS_ENDED = 2,
};

struct lw_thread {
	struct lw_thread *next;      /* registry, never unlinked */
	int state;                   /* enum lw_thread_state, atomic */
	int detached;
	int joined;
	uint32_t tid;
	pid_t os_tid;
	pthread_t handle;
	struct lw_held_ent *held;
	uint32_t n_held, cap_held;
	uint32_t n_unwritten;        /* held entries with `unwritten` set */
	uint64_t held_hash;          /* valid when held_hash_ok */
	bool held_hash_ok;
	/* What the thread blocks on, published only on the slow path (the lock was busy, or
	 * the call always blocks), read by the watchdog (watchdog.c). */
	uintptr_t wait_addr;         /* atomic; 0: not blocked */
	uint32_t wait_gen;
	uint16_t wait_kind;          /* enum lw_lock_kind or LW_WAIT_* */
	uint16_t wait_mode;
	uint32_t wait_stack;
	uint32_t wait_seq;           /* atomic; bumped at every wait */
	uint64_t wait_since;         /* CLOCK_MONOTONIC ns */
	uintptr_t wait_mutex;        /* the mutex of a condition wait */
	uint32_t foreign_seen;       /* lw_foreign_unlocks when the held set was last checked */
	uint64_t seen[LW_DEDUP_CACHE];        /* recent dedup keys */
	struct lw_site_cache_ent sites[LW_SITE_CACHE]; /* recent call sites and their stacks */
	struct lw_held_ent inline_held[16];
	struct lw_hook_recent hook_recent[LW_HOOK_RECENT]; /* hooks.c: reads, then writes */
	struct lw_ro_read ro_reads[LW_RO_READS];          /* hooks.c: reads nobody's writes */
	struct lw_private_section sections[LW_PRIVATE_SECTIONS]; /* a ring, hook mode only */
	uint32_t n_sections;         /* sections noted so far */
	uint32_t parent;             /* creating thread, 0 if unknown */
	uint64_t start_seq;          /* seq of its THREAD record (its creation) */
	/* Hook mode (hooks.c, "Owners' plain stores"): while hook_bias is set, the thread
	 * stamps the cells it owns with plain stores, each inside hook_restamping; a thread
	 * clears it, and waits those stores out, before it takes one of the thread's cells. */
	uint32_t hook_bias;          /* atomic */
	uint32_t hook_restamping;    /* atomic; written by the thread only */
	/* The chunk of the trace it is filling at the full level, [chunk_lo, chunk_hi) (atomic,
	 * written by the thread: trace_writer.c, read by trace_residency.c). */
	uint64_t chunk_lo, chunk_hi;
};

LW_HIDDEN extern __thread struct lw_thread *lw_self __attribute__((tls_model("initial-exec")));
LW_HIDDEN extern __thread int lw_guard __attribute__((tls_model("initial-exec")));
/* The LW_LOCKF_API_* of the lock the calling wrapper serves (0: pthreads): a lock first seen
 * in use is registered with it, and a lock not of glibc's pthread layout is not read as one
 * (wrap_c11.c, wrap_glib.c, annotate_tsan_mutex.c set it for their calls into the shim). */
LW_HIDDEN extern __thread uint16_t lw_lock_api __attribute__((tls_model("initial-exec")));
/* Whether flags (LW_LOCKF_*) name a lock whose memory is laid out as glibc's pthread one. */
#define LW_PTHREAD_LAYOUT(flags) (((flags) & LW_LOCKF_API_MASK) <= LW_LOCKF_API_C11)

/* Process-wide state. */
enum lw_run_state { LW_UNINIT = 0, LW_INITIALIZING = 1, LW_READY = 2, LW_OFF = 3 };
LW_HIDDEN extern int lw_state;
LW_HIDDEN void lw_init(void);

/* Returns the calling thread's state with the guard taken, or NULL when the call must pass
 * straight through (recording off, inside the shim, or during set-up). */
static inline struct lw_thread *lw_enter(void)
{
	if (LW_UNLIKELY(lw_guard))
		return NULL;
	if (LW_UNLIKELY(__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)) {
		if (lw_state != LW_UNINIT)
			return NULL;
		lw_guard = 1;
		lw_init();
		lw_guard = 0;
		if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
			return NULL;
	}
	lw_guard = 1;
	if (LW_UNLIKELY(lw_self == NULL)) {
		extern struct lw_thread *lw_thread_adopt(void);
		if (lw_thread_adopt() == NULL) {
			lw_guard = 0;
			return NULL;
		}
	}
	return lw_self;
}

static inline void lw_leave(void)
{
	lw_guard = 0;
}

LW_HIDDEN struct lw_thread *lw_thread_adopt(void);
LW_HIDDEN struct lw_thread *lw_thread_claim(uint32_t tid);
LW_HIDDEN uint32_t lw_thread_new_tid(void);
LW_HIDDEN void lw_thread_started(struct lw_thread *t, uint32_t parent, uint32_t create_stack,
				 uintptr_t start_routine, uint64_t seq);
LW_HIDDEN void lw_thread_ended(struct lw_thread *t);
LW_HIDDEN struct lw_thread *lw_thread_by_handle(pthread_t h);
/* The thread whose tid is tid, live, or ended and not yet freed; NULL if none. */
LW_HIDDEN struct lw_thread *lw_thread_by_tid(uint32_t tid);
/* Whether a thread is being created whose handle the shim does not know yet. */
LW_HIDDEN bool lw_thread_pending(void);
LW_HIDDEN void lw_thread_release(struct lw_thread *t);
LW_HIDDEN int lw_threads_live(void);
LW_HIDDEN void lw_threads_reset_after_fork(struct lw_thread *self);

/* ---- acquisitions (acquire.c) ---- */
/* An acquisition is looked up before the real call (outside the critical section) and
 * committed after it succeeded. */
struct lw_acq {
	struct lw_thread *t;
	struct lw_lock *l;
	uintptr_t addr;
	uint32_t gen, stack, foreign;
	uint16_t kind, mode, flags;
};
/* Drops from t's held set the locks another thread unlocked for it. */
LW_HIDDEN void lw_held_purge(struct lw_thread *t);
/* Unlocks of a lock by a thread that did not hold it, process-wide (atomic). */
LW_HIDDEN extern uint32_t lw_foreign_unlocks;
/* Release bookkeeping; notes an unlock of a lock the thread does not hold. */
LW_HIDDEN void lw_release_checked(struct lw_thread *t, const void *addr, uintptr_t site);
/* Threads holding or waiting on addr, for destroy checks. */
LW_HIDDEN void lw_check_destroy(struct lw_thread *t, const void *addr, uint16_t kind, uintptr_t site);
/* Full level: a happens-before operation other than acquire/release. */
/* Process order (wrap_wait.c): a SYNC record of op LW_SYNC_FORK or LW_SYNC_WAIT_CHILD for the
 * child pid, written at every level. */
LW_HIDDEN void lw_record_child(struct lw_thread *t, uint16_t op, pid_t pid);
LW_HIDDEN void lw_sync(struct lw_thread *t, uint16_t op, uintptr_t addr, uint64_t value,
		       uintptr_t site);
LW_HIDDEN bool lw_acq_begin_slow(struct lw_acq *a, struct lw_thread *t, const void *addr,
				 uint16_t kind, uint16_t mode, uint16_t flags, uintptr_t site);
LW_HIDDEN void lw_acq_commit(const struct lw_acq *a);
/* The lock was busy: notes a relock by its owner and publishes the wait. */
LW_HIDDEN void lw_acq_blocking(const struct lw_acq *a);
/* The acquisition failed with rc: notes an error-checking mutex's refused relock (EDEADLK),
 * a warning.  Keeps errno. */
LW_HIDDEN void lw_acq_refused(const struct lw_acq *a, int rc);
/* A mutex unlock that the mutex refused with rc (a non-owner's, or of an unlocked mutex, on a
 * mutex that checks): a warning, and no change to anyone's held set. */
LW_HIDDEN void lw_unlock_refused(struct lw_thread *t, const void *addr, int rc, uintptr_t site);
/* Whether glibc's mutex type (in the public <bits/struct_mutex.h>, kept also by a static
 * initialiser) is error-checking: its owner's relock fails with EDEADLK. */
static inline bool lw_mutex_errorcheck(const void *addr)
{
	int k = __atomic_load_n(&((const pthread_mutex_t *)addr)->__data.__kind, __ATOMIC_RELAXED);
	return k >= 0 && (k & 3) == PTHREAD_MUTEX_ERRORCHECK;
}
/* Whether glibc refuses an unlock of the mutex by a thread that does not own it (EPERM):
 * error-checking, recursive, robust and priority-inheritance mutexes (glibc's pthreadP.h:
 * the kind's bit 16 is robust, 32 priority inheritance). */
#define LW_GLIBC_MUTEX_ROBUST 16
#define LW_GLIBC_MUTEX_PI     32
static inline bool lw_mutex_checks_owner(const void *addr)
{
	int k = __atomic_load_n(&((const pthread_mutex_t *)addr)->__data.__kind, __ATOMIC_RELAXED);
	return k >= 0 && ((k & 3) == PTHREAD_MUTEX_ERRORCHECK || (k & 3) == PTHREAD_MUTEX_RECURSIVE ||
			  (k & (LW_GLIBC_MUTEX_ROBUST | LW_GLIBC_MUTEX_PI)));
}
/* Records that t now holds lock (after the real call succeeded). */
LW_HIDDEN void lw_acquired(struct lw_thread *t, const void *addr, uint16_t kind, uint16_t mode,
			   uint16_t flags, uintptr_t site);
/* Records that t released lock; returns false when t did not hold it. */
LW_HIDDEN bool lw_released(struct lw_thread *t, const void *addr);
/* Full level: whether the operations of a lock only one thread has taken are left out of
 * the trace (acquire.c, "A lock one thread uses"), and whether the thread notes their
 * critical sections (hook mode). */
LW_HIDDEN extern bool lw_one_user_unwritten, lw_private_sections;
/* Writes the acquisitions of the locks t holds that the trace does not have, before an
 * access record of t: the analyzer must know what the access held. */
LW_HIDDEN void lw_write_unwritten_holds(struct lw_thread *t);
/* Before an access of thread tid's, in its epoch `seq`, is written on its behalf: writes
 * the critical sections of tid's that contain it and that the trace does not have. */
LW_HIDDEN void lw_write_private_sections(uint32_t tid, uint64_t seq);
/* Finds a held entry, or NULL. */
LW_HIDDEN struct lw_held_ent *lw_held_find(struct lw_thread *t, const void *addr);
LW_HIDDEN void lw_sem_posted(struct lw_thread *t, const void *addr);
/* Before the real sem_destroy: every held entry of the semaphore ends, and its generation
 * ends (or is kept, see lw_sem_destroyed_keep_gen). */
LW_HIDDEN void lw_sem_destroying(struct lw_thread *t, const void *addr, uintptr_t site);

/* ---- misuse of the API (misuse.c) ---- */
/* Writes a MISUSE record.  other_*: the thread and stack that set up the conflicting state. */
LW_HIDDEN void lw_misuse(struct lw_thread *t, uint16_t what, uint16_t kind, uintptr_t addr,
			 uint32_t gen, uint32_t stack, uint32_t other_tid, uint32_t other_stack,
			 uint64_t value);

/* ---- the watchdog (watchdog.c): real deadlocks and hangs end with a report ---- */
/* A timed condition wait: published for the misuse checks, never a hang (shim-internal). */
#define LW_WAIT_COND_TIMED 0x12u
/* Publishes that t is about to block on addr.  Starts the watchdog the first time. */
LW_HIDDEN void lw_wait_begin(struct lw_thread *t, uintptr_t addr, uint32_t gen, uint16_t kind,
			     uint16_t mode, uint32_t stack);
static inline void lw_wait_end(struct lw_thread *t)
{
	__atomic_store_n(&t->wait_addr, 0, __ATOMIC_RELEASE);
}
LW_HIDDEN void lw_watchdog_after_fork(void);
LW_HIDDEN struct lw_thread *lw_registry_head(void);

#define LW_SITE() ((uintptr_t)__builtin_return_address(0))

/* ---- compiler hooks (hooks.c) ---- */
/* What the hooks' fast path reads, per thread: the stack to ignore and the thread's current
 * epoch key (its tid and the seq of its last event, as a shadow cell holds them; 0 until the
 * thread's first hook call went through the slow path). */
struct lw_hook_tls {
	uintptr_t stack_lo;
	uintptr_t stack_span;
	uint64_t key;
	struct lw_cell *shadow;
	uint32_t tid;
	uint32_t parent;             /* the creating thread's tid, 0 if unknown */
	uint64_t start_seq;          /* the seq at which it was created */
	uint32_t writes;             /* its writes to shared granules (hooks.c: written_state) */
};
LW_HIDDEN extern __thread struct lw_hook_tls lw_hook __attribute__((tls_model("initial-exec")));
#define LW_CELL_SEQ_MASK 0x7fffffffull /* bit 31 of a cell's state is LW_ST_BUSY */
/* The calling thread's place in the trace's order: the seq of its last event (0: none yet
 * in this trace), how many records it has placed after that event since (LW_ACCESS_AFTER
 * accesses), and how many of its events could order it before another thread (every event
 * but a lock acquisition).  lw_next_seq and lw_next_acquire_seq set it. */
struct lw_epoch {
	uint64_t seq;
	uint32_t sub;
	uint32_t releases;
};
LW_HIDDEN extern __thread struct lw_epoch lw_epoch __attribute__((tls_model("initial-exec")));
/* A new event of this thread starts a new epoch for its hooks. */
static inline void lw_hook_note_seq(uint64_t seq)
{
	if (lw_hook.key)
		lw_hook.key = (lw_hook.key & ~LW_CELL_SEQ_MASK) | (seq & LW_CELL_SEQ_MASK);
}
/* Whether a loaded object calls the compiler hooks; after the options, in lw_access_configure. */
LW_HIDDEN bool lw_hooks_referenced(void);
/* Maps the shadow table when hooks are in use.  Never fails: says why on stderr and leaves
 * the hooks off. */
LW_HIDDEN void lw_hooks_init(void);
/* In a fork() child: forgets every location's owner (the child's threads are new). */
LW_HIDDEN void lw_hooks_after_fork(void);
/* Thread t ends (called by t): its reads kept out of the trace go in, and its bias on its
 * cells ends (hooks.c). */
LW_HIDDEN void lw_hooks_thread_ended(struct lw_thread *t);
/* A heap block was handed out at [addr, addr+size): its cells forget their owners. */
LW_HIDDEN void lw_hooks_forget(uintptr_t addr, size_t size);
/* The program is freeing the heap block [addr, addr+size) from pc: a write to all of it (its
 * first LW_ACCESS_FREE_MAX bytes), recorded when another thread touched it.  Keeps errno. */
LW_HIDDEN void lw_hooks_free(uintptr_t addr, size_t size, uintptr_t pc);
/* The program's allocator handed the calling thread the block p of size bytes (p may be
 * NULL) at pc, by fn (enum lw_alloc_fn): its cells forget their owners and an ALLOC record
 * names it (shim/hooks_heap.c).  p must come from the C library's malloc.  Keeps errno. */
LW_HIDDEN void lw_hooks_allocated(void *p, size_t size, uint16_t fn, uintptr_t pc);

/* ---- access sources (watch.c, watch_trap.c, annotate.c) ---- */
/* Adds the value of a watch= option (names or 0xADDR:SIZE, comma-separated). */
LW_HIDDEN void lw_watch_set_spec(const char *val);
/* After the options: forces the full level when a watch is asked for or a loaded object
 * uses the lockwatch.h annotations. */
LW_HIDDEN void lw_access_configure(void);
/* With the trace open, in the only thread: resolves and arms the watchpoints, writes their
 * WATCH records; says on stderr what it could not watch.  Never fails. */
LW_HIDDEN void lw_watch_arm(void);
/* In a fork() child with its own trace: writes the WATCH records again. */
LW_HIDDEN void lw_watch_after_fork(void);

#endif
