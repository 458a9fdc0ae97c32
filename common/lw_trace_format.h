/* The lockwatch trace file format, shared by the shim (writer) and the analyzer (reader). */
#ifndef LW_TRACE_FORMAT_H
#define LW_TRACE_FORMAT_H

#include <stdint.h>

/*
 * A trace is one file per process: a fixed-size header, then records.
 *
 * The shim writes through a shared file mapping, so everything it has committed is in the
 * page cache and survives SIGKILL, abort or a deadlock.  Every record starts with one
 * 64-bit word (struct lw_rec_head) that is stored last, with release ordering, after the
 * body: a record whose head word is non-zero is complete.  A zero head word is the end of
 * the trace, or a hole left by a thread killed between reserving space and committing it;
 * the reader skips such a hole by looking for the next valid head (see lockwatch-trace(5)).
 * All multi-byte fields are in the writer's native byte order (little-endian on x86-64);
 * every record size is a multiple of 8.
 */

#define LW_TRACE_MAGIC       "LWTRACE"          /* 8 bytes including the NUL */
#define LW_TRACE_VERSION     4u                 /* 2: records 17 and 18, LW_ACCESS_FREE, and the
						 * full level's per-thread chunks; 3: an access's
						 * sub, hook accesses placed after their
						 * thread's last event, LW_ALLOC_NEW and
						 * LW_ALLOC_NEW_ARRAY; 4: LW_ACCESS_UPDATE */
#define LW_TRACE_VERSION_MIN 1u                 /* the oldest a reader of this one reads */
#define LW_TRACE_HEADER_SIZE 4096u              /* records start at this offset */
#define LW_TRACE_EXE_MAX     1024u

/* Header flags. */
#define LW_HDR_CLOSED        (1u << 0)          /* process exited through exit(): tail is exact */
#define LW_HDR_TRUNCATED     (1u << 1)          /* the shim dropped records (size limit, disk full) */
#define LW_HDR_FORKED        (1u << 2)          /* this process is a fork() child of ppid */
/* Issue 20 (automatic watching): at the dependencies level, synchronisation was recorded in
 * full, in order, while a watch window was open: between an LW_SYNC_WINDOW_OPEN and the next
 * LW_SYNC_FENCE (records of tid 0).  Readers replay happens-before inside the windows only. */
#define LW_HDR_WINDOWS       (1u << 6)

enum lw_level {
	LW_LEVEL_DEPENDENCIES = 0,   /* each distinct (thread, held set, lock, site) once */
	LW_LEVEL_FULL         = 1,   /* every synchronisation operation, in order */
};

struct lw_trace_header {
	char     magic[8];           /* LW_TRACE_MAGIC; stored last when the file is created */
	uint32_t version;            /* LW_TRACE_VERSION */
	uint32_t header_size;        /* LW_TRACE_HEADER_SIZE */
	uint64_t session;            /* LOCKWATCH_SESSION of the run that started it, or 0 */
	int32_t  pid;
	int32_t  ppid;
	uint64_t start_ns;           /* CLOCK_REALTIME at start, nanoseconds */
	uint32_t level;              /* enum lw_level */
	uint32_t flags;              /* LW_HDR_* */
	uint64_t end_offset;         /* with LW_HDR_CLOSED: offset just past the last record */
	uint64_t dropped;            /* records the shim could not write */
	char     exe[LW_TRACE_EXE_MAX]; /* path of the executable, NUL-terminated */
	/* With LW_HDR_TRUNCATED: the last seq taken when the shim dropped its first record
	 * (0: not known, a trace of an older shim).  Every record with a larger seq was written
	 * while others were being dropped, so readers leave those out.  Issue 21: in a closed
	 * trace without LW_HDR_TRUNCATED, the last seq taken when a thread still running after
	 * the close first found no room (the same cut; nothing counted as dropped). */
	uint64_t cut_seq;
	/* Issue 18 (locktable): nonzero when the shim could not record some lock operations
	 * (its lock table was full): an acquisition may be missing, so the trace's lock orders
	 * and held sets are incomplete.  0 in traces of older shims. */
	uint64_t locks_unrecorded;
};

/* Record head: the commit word. */
#define LW_REC_MAGIC 0x4c57u    /* "LW" */

struct lw_rec_head {
	uint16_t magic;              /* LW_REC_MAGIC */
	uint16_t kind;               /* enum lw_rec_kind */
	uint32_t size;               /* whole record in bytes, head included, multiple of 8 */
};

#define LW_REC_MAX_SIZE (1u << 20)

enum lw_rec_kind {
	LW_REC_MODULE       = 1,
	LW_REC_STACK        = 2,
	LW_REC_THREAD       = 3,
	LW_REC_THREAD_END   = 4,
	LW_REC_JOIN         = 5,
	LW_REC_LOCK_INIT    = 6,
	LW_REC_LOCK_DESTROY = 7,
	LW_REC_ACQUIRE      = 8,
	LW_REC_RELEASE      = 9,     /* full level only */
	LW_REC_SEM_LOCKLIKE = 10,    /* a thread posted a semaphore it had waited on */
	LW_REC_DEADLOCK     = 11,
	LW_REC_MISUSE       = 12,
	LW_REC_ACCESS       = 13,    /* a memory access seen by a watchpoint, annotation or hook */
	LW_REC_SYNC         = 14,    /* full level: other happens-before operations */
	LW_REC_PATH         = 15,    /* a file-system check or create on a path */
	LW_REC_WATCH        = 16,    /* a watched variable: address, size, name */
	LW_REC_ALLOC        = 17,    /* hook mode: the program allocated a heap block */
	LW_REC_SEM_SIGNAL   = 18,    /* a thread posted a semaphore it had not waited on */
	/* Issue 20, the collider (shim/access/collider.c): */
	LW_REC_RACE_CAUGHT  = 21,    /* a conflicting access landed while another was held back */
	LW_REC_COLLIDER     = 22,    /* the collider's counts so far (the last one counts) */
	/* Issue 20 (automatic watching of globals): what it covered; 20 is reserved. */
	LW_REC_COVERAGE     = 19,
	/* issue 23 (perf): kind 26 */
	LW_REC_THREADS_LIKE = 26,    /* default level: threads counted, not written */
	LW_REC_KIND_MAX     = 26,
};

/* What a lock is; a lock's identity is (addr, gen). */
enum lw_lock_kind {
	LW_LOCK_MUTEX   = 1,
	LW_LOCK_RWLOCK  = 2,
	LW_LOCK_SPIN    = 3,
	LW_LOCK_SEM     = 4,
	LW_LOCK_COND    = 5,
	LW_LOCK_BARRIER = 6,
};

/* LW_REC_LOCK_INIT flags. */
#define LW_LOCKF_STATIC     (1u << 0)  /* never initialised through *_init: first seen in use
					* (or, in a fork child's trace, inherited from its
					* parent and announced at its first use there) */
#define LW_LOCKF_RECURSIVE  (1u << 1)
#define LW_LOCKF_ERRORCHECK (1u << 2)
#define LW_LOCKF_PSHARED    (1u << 3)
#define LW_LOCKF_NAMED_SEM  (1u << 4)  /* from sem_open */
/* Issue 18 (process-shared locks): the lock is process-shared (LW_LOCKF_PSHARED or
 * LW_LOCKF_NAMED_SEM) and lives in a MAP_SHARED mapping; its LOCK_INIT record is then
 * followed by a struct lw_lock_init_shared naming the mapped object, which is the same lock
 * in every process that maps it, at whatever address. */
#define LW_LOCKF_SHARED_MAP (1u << 5)
/* Bits 7-8: the API of the lock, where it is not pthreads' (shim/locks/wrap_c11.c, wrap_glib.c,
 * shim/access/annotate_tsan_mutex.c).  Only the pthread and C11 objects have glibc's pthread layout. */
#define LW_LOCKF_API_MASK      (3u << 7)
#define LW_LOCKF_API_C11       (1u << 7)  /* C11 <threads.h>: mtx_t, cnd_t */
#define LW_LOCKF_API_GLIB      (2u << 7)  /* GLib: GMutex, GRecMutex, GRWLock, GCond */
#define LW_LOCKF_API_ANNOTATED (3u << 7)  /* the program's own, taught by __tsan_mutex_* */

/* Acquisition modes. */
enum lw_mode {
	LW_MODE_WRITE = 1,           /* exclusive: mutex, spin, wrlock, sem_wait */
	LW_MODE_READ  = 2,           /* shared: rdlock */
};

/* LW_REC_ACQUIRE and held-entry flags. */
#define LW_ACQF_TRY         (1u << 0)  /* trylock: cannot block */
#define LW_ACQF_TIMED       (1u << 1)  /* timed/clock lock: cannot block forever */
#define LW_ACQF_CONTENDED   (1u << 2)  /* the lock was busy when this thread asked */
#define LW_ACQF_COND_REACQ  (1u << 3)  /* re-acquired on return from pthread_cond_*wait */

/* Module map: one record per loaded object, written at start and when a PC falls outside
 * every known module.  Body: struct lw_rec_module, then build_id, then path (no NUL),
 * padded with zeros to a multiple of 8. */
struct lw_rec_module {
	struct lw_rec_head head;
	uint64_t base;               /* load bias (dlpi_addr) */
	uint64_t lo, hi;             /* lowest and highest+1 address of its PT_LOAD segments */
	uint16_t build_id_len;
	uint16_t path_len;
	uint32_t pad;
};

/* A call stack: raw return addresses, innermost first, shim frames removed.  Stack ids
 * are unique within a trace, start at 1; 0 means "no stack". */
struct lw_rec_stack {
	struct lw_rec_head head;
	uint32_t id;
	uint32_t depth;
	/* uint64_t pc[depth]; */
};

/* Thread ids are lockwatch's own: 1 is the first thread seen (normally main), numbered
 * in order of appearance within the process. */
struct lw_rec_thread {
	struct lw_rec_head head;
	uint32_t tid;
	uint32_t parent;             /* creating thread, 0 if unknown */
	int32_t  os_tid;
	uint32_t create_stack;       /* stack of the pthread_create call, 0 if none */
	uint64_t start_routine;      /* address of the thread function, 0 if unknown */
	uint64_t seq;                /* position in the process's event order */
};

#define LW_ENDF_HELD_LOCKS  (1u << 0)  /* the thread ended while holding locks */

struct lw_rec_thread_end {
	struct lw_rec_head head;
	uint32_t tid;
	uint32_t flags;              /* LW_ENDF_* */
	uint64_t seq;
};

struct lw_rec_join {
	struct lw_rec_head head;
	uint32_t joiner;
	uint32_t joined;
	uint32_t stack;
	uint32_t pad;
	uint64_t seq;
};

/* issue 23 (perf): at the dependencies level, after the first few threads with the same
 * start routine and creation site (a class), a thread whose acquisitions the class has all
 * written already leaves no THREAD, THREAD_END, JOIN or ACQUIRE record: it is counted.  This
 * record says `count` such threads of the class of thread `like` had ended so far; a later
 * one for the same `like` supersedes it (written at counts 1, 2, 4, 8, ... and at exit). */
struct lw_rec_threads_like {
	struct lw_rec_head head;
	uint32_t like;               /* tid of the class's first thread (written in full) */
	uint32_t count;              /* threads of the class counted so far */
	uint64_t start_routine;
	uint32_t create_stack;
	uint32_t pad;
	uint64_t seq;
};

struct lw_rec_lock_init {
	struct lw_rec_head head;
	uint64_t addr;
	uint32_t gen;
	uint16_t lock_kind;          /* enum lw_lock_kind */
	uint16_t flags;              /* LW_LOCKF_* */
	uint32_t stack;              /* init site, or first-use site for LW_LOCKF_STATIC */
	uint32_t tid;
	uint64_t seq;
};

/* After a LOCK_INIT record with LW_LOCKF_SHARED_MAP (its size includes it; older readers
 * skip it): the object the lock lives in, as /proc/PID/maps names it: the device and inode of
 * the mapped file (shared anonymous memory, System V and POSIX shared memory included), and
 * the lock's byte offset in it.  Two processes' locks with the same triple are one lock. */
struct lw_lock_init_shared {
	uint64_t dev;                /* makedev(major, minor) */
	uint64_t ino;
	uint64_t offset;
};

struct lw_rec_lock_destroy {
	struct lw_rec_head head;
	uint64_t addr;
	uint32_t gen;
	uint32_t stack;
	uint32_t tid;
	uint32_t pad;
	uint64_t seq;
};

/* One lock held at the moment of an acquisition. */
struct lw_held {
	uint64_t addr;
	uint32_t gen;
	uint16_t mode;               /* enum lw_mode */
	uint16_t flags;              /* LW_ACQF_* of the acquisition that took it */
	uint32_t stack;              /* where it was acquired */
	uint32_t pad;
};

/* A lock acquired while n_held others were held: the edges held[i] -> (addr, gen).  In the
 * dependencies level each distinct (tid, held set, lock, mode, flags, site) is written once;
 * in the full level every acquisition is written. */
struct lw_rec_acquire {
	struct lw_rec_head head;
	uint32_t tid;
	uint32_t n_held;
	uint64_t addr;
	uint32_t gen;
	uint16_t mode;
	uint16_t flags;              /* LW_ACQF_* */
	uint32_t stack;
	uint32_t pad;
	uint64_t seq;
	/* struct lw_held held[n_held]; */
};

struct lw_rec_release {
	struct lw_rec_head head;
	uint32_t tid;
	uint32_t gen;
	uint64_t addr;
	uint64_t seq;
};

struct lw_rec_sem_locklike {
	struct lw_rec_head head;
	uint32_t tid;
	uint32_t gen;
	uint64_t addr;
};

/* A thread posted a semaphore it had not waited on: a signal, not an unlock, so the
 * semaphore is not a lock in any thread, whatever LW_REC_SEM_LOCKLIKE says (a barrier built
 * of semaphores waits in one round and posts in the next).  Same layout. */
struct lw_rec_sem_signal {
	struct lw_rec_head head;
	uint32_t tid;
	uint32_t gen;
	uint64_t addr;
};

/* A real deadlock, seen by the shim while it happened.  Body: struct lw_rec_deadlock, then
 * n_threads times (struct lw_deadlock_thread, then lw_held[n_held]). */
enum lw_deadlock_reason {
	LW_DEADLOCK_CYCLE       = 1,  /* threads wait for each other's locks in a cycle */
	LW_DEADLOCK_SELF        = 2,  /* a thread waits for a non-recursive lock it holds */
	LW_DEADLOCK_ALL_BLOCKED = 3,  /* every live thread is blocked (a hang) */
};

/* What a blocked thread waits on, beyond the lock kinds. */
#define LW_WAIT_JOIN  0x10u           /* wait_addr is the lockwatch tid being joined */
#define LW_WAIT_COND  0x11u           /* wait_addr is the condition variable */
/* issue 22: pthread_cond_destroy blocked by the waiters of wait_addr (the condvar) */
#define LW_WAIT_COND_DESTROY 0x13u

struct lw_rec_deadlock {
	struct lw_rec_head head;
	uint32_t reason;             /* enum lw_deadlock_reason */
	uint32_t n_threads;
	uint64_t seq;
};

struct lw_deadlock_thread {
	uint32_t tid;
	uint32_t stack;              /* where it blocks */
	uint64_t wait_addr;
	uint32_t wait_gen;
	uint16_t wait_kind;          /* enum lw_lock_kind or LW_WAIT_* */
	uint16_t wait_mode;          /* enum lw_mode */
	uint32_t n_held;
	uint32_t pad;
	/* struct lw_held held[n_held]; */
};

/* Misuse of the pthread API, seen by the shim.  The program's call still went through. */
enum lw_misuse_what {
	LW_MISUSE_UNLOCK_NOT_LOCKED   = 1,
	LW_MISUSE_UNLOCK_OTHER_OWNER  = 2,  /* other_tid/other_stack: the owner and where it locked */
	LW_MISUSE_RELOCK              = 3,  /* non-recursive relock by its owner */
	LW_MISUSE_DESTROY_LOCKED      = 4,
	LW_MISUSE_DESTROY_WAITED      = 5,  /* semaphore or condvar destroyed while waited on */
	LW_MISUSE_EXIT_HOLDING        = 6,  /* warning: thread ended holding the lock */
	LW_MISUSE_COND_NOT_HELD       = 7,  /* cond wait with a mutex the thread does not hold */
	LW_MISUSE_COND_TWO_MUTEXES    = 8,  /* other_*: the earlier wait with the other mutex (value) */
	LW_MISUSE_USE_AFTER_DESTROY   = 9,
	LW_MISUSE_SEM_OVERFLOW        = 10, /* sem_post past SEM_VALUE_MAX */
	LW_MISUSE_JOIN_TWICE          = 11,
	LW_MISUSE_JOIN_DETACHED       = 12,
	/* Warnings: a call the mutex refused, as it must (defined behaviour).  value: the
	 * error code the call returned. */
	LW_MISUSE_RELOCK_REFUSED      = 20, /* an error-checking mutex relocked by its owner */
	LW_MISUSE_UNLOCK_REFUSED      = 21, /* unlock by a non-owner, or of an unlocked mutex,
					     * of a mutex that checks (other_tid: the owner) */
	/* Issue 22, barriers and semaphores (30..34). */
	LW_MISUSE_INIT_REFUSED        = 30, /* warning: a barrier's or semaphore's init failed with
					     * EINVAL (value: the count or value passed) */
	LW_MISUSE_REINIT              = 31, /* a barrier initialised again while live (other_*:
					     * its init) */
	/* 32: unused (a barrier re-initialised while a thread waits on it is REINIT_WAITED, 43) */
	LW_MISUSE_NOT_INITIALISED     = 33, /* wait, post or destroy of an object never initialised
					     * (other_*: a refused init at its address, if any) */
	/* Issue 22, memory and re-initialisation (errors).  other_tid/other_stack: the holder
	 * and where it locked (REINIT_WAITED: a waiter and where it waits). */
	LW_MISUSE_FREE_LOCKED         = 40, /* free() of a block holding the lock; value: block */
	LW_MISUSE_UNMAP_LOCKED        = 41, /* munmap() of a range holding it; value: range start */
	LW_MISUSE_REINIT_LOCKED       = 42, /* *_init of a lock some thread holds */
	LW_MISUSE_REINIT_WAITED       = 43, /* *_init of a lock threads wait for */
	/* LW_MISUSE_EXIT_HOLDING with value LW_EXIT_PROCESS: the thread ended the process
	 * (main returned, or exit() was called) holding the lock; a warning too. */
	/* Issue 22, the third-party misuse programs (50..59). */
	LW_MISUSE_REINIT_LIVE         = 50, /* *_init of a mutex, rwlock, spinlock or condvar
					     * initialised and not destroyed, unused (other_*:
					     * its init; value 1: static storage, an error; 0: a
					     * stack lock, both inits from one frame, a warning) */
	LW_MISUSE_TIMEOUT_INVALID     = 51, /* warning: a timed wait or lock refused its
					     * timeout (tv_nsec out of range: EINVAL); value:
					     * the tv_nsec passed */
	LW_MISUSE_NOT_AN_OBJECT       = 52, /* a lock call on memory that holds no valid object
					     * of its kind: never initialised, or overwritten
					     * since (value: LW_UNINIT_* op; other_*: its init) */
	LW_MISUSE_BAD_THREAD          = 53, /* join, detach or cancel of a thread that cannot
					     * take it (value: LW_BADTHR_*; other_tid: that
					     * thread, 0 if unknown) */
	LW_MISUSE_WRONG_KIND          = 54, /* a condvar wait whose "mutex" is a lock of another
					     * kind (value: its enum lw_lock_kind) */
	LW_MISUSE_ATTR_REFUSED        = 55, /* warning: a mutex's or rwlock's init refused its
					     * attributes (EINVAL); value: the error */
};
#define LW_EXIT_PROCESS 1u
/* LW_MISUSE_NOT_AN_OBJECT's value beyond the LW_UNINIT_* ops 1..3 (wait, post, destroy). */
#define LW_UNINIT_LOCK   4u
#define LW_UNINIT_UNLOCK 5u
/* LW_MISUSE_BAD_THREAD's value: what was asked of which thread. */
#define LW_BADTHR_JOIN_SELF      1u   /* pthread_join of the caller itself (EDEADLK) */
#define LW_BADTHR_DETACH_JOINED  2u   /* pthread_detach of a thread already joined */
#define LW_BADTHR_CANCEL_JOINED  3u   /* pthread_cancel of a thread already joined */

struct lw_rec_misuse {
	struct lw_rec_head head;
	uint32_t tid;
	uint16_t what;               /* enum lw_misuse_what */
	uint16_t lock_kind;
	uint64_t addr;
	uint32_t gen;
	uint32_t stack;
	uint32_t other_tid;
	uint32_t other_stack;
	uint64_t value;              /* what-specific: the other mutex, the joined tid, ... */
	uint64_t seq;
};

/* A memory access.  In the full level the trace order (seq) of accesses and
 * synchronisation is the order in which they happened in the process.  A reader checks an
 * access on its first LW_ACCESS_CHECKED bytes (a free on its first LW_ACCESS_FREE_MAX);
 * hook mode writes a range (a memcpy) as records of at most that many bytes. */
#define LW_ACCESS_CHECKED 4096u
#define LW_ACCESS_READ    (1u << 0)
#define LW_ACCESS_WRITE   (1u << 1)
#define LW_ACCESS_ATOMIC  (1u << 2)   /* an atomic operation: synchronises, never races */
/* Hook mode: an access placed by its thread's last event instead of taking a seq of its
 * own.  Its seq is that of the accessing thread's last event before it: it happened after
 * that event and before the thread's next one, and sorts after every record with the same
 * seq, in the order of its sub among the thread's records placed there (sub 0, first: an
 * access the shim kept out of the trace while one thread owned the location, written when
 * a second thread touched it). */
#define LW_ACCESS_AFTER   (1u << 3)
/* Hook mode: the program freed the heap block [addr, addr+size) (size: its first bytes, at
 * most LW_ACCESS_FREE_MAX): a write to all of it, as ThreadSanitizer counts a free. */
#define LW_ACCESS_FREE    (1u << 4)
#define LW_ACCESS_FREE_MAX 32768u
/* Hook mode: a read-modify-write (x++): a read of [addr, addr+size) at pc, with stack,
 * placed at sub, then a write of the same bytes by the same thread, with nothing of the
 * thread's between them, placed at sub + 1: its pc in the low LW_UPDATE_PC_BITS bits of
 * value, its stack id in the bits above (LW_UPDATE_PC, LW_UPDATE_STACK).  Always with
 * LW_ACCESS_READ, LW_ACCESS_WRITE and LW_ACCESS_AFTER, never with LW_ACCESS_ATOMIC or
 * LW_ACCESS_FREE.  One record where there were two. */
#define LW_ACCESS_UPDATE  (1u << 5)
/* Issue 20, the collider's RACE_CAUGHT records only: the instruction could not be decoded;
 * the access changed the bytes, so it wrote (LW_ACCESS_WRITE is set with it). */
#define LW_ACCESS_UNDECODED (1u << 6)
#define LW_UPDATE_PC_BITS 47
#define LW_UPDATE_PC(v)     ((v) & ((UINT64_C(1) << LW_UPDATE_PC_BITS) - 1))
#define LW_UPDATE_STACK(v)  ((uint32_t)((v) >> LW_UPDATE_PC_BITS))
#define LW_UPDATE_STACK_MAX ((1u << (64 - LW_UPDATE_PC_BITS)) - 1)
#define LW_SRC_WATCHPOINT (1u << 8)   /* hardware watchpoint (perf_event_open) */
#define LW_SRC_ANNOTATION (1u << 9)   /* LW_READ/LW_WRITE from lockwatch.h */
#define LW_SRC_HOOK       (1u << 10)  /* compiler load/store hooks */

struct lw_rec_access {
	struct lw_rec_head head;
	uint32_t tid;
	uint16_t flags;              /* LW_ACCESS_* | LW_SRC_* */
	uint16_t size;               /* bytes accessed (1, 2, 4, 8, ...) */
	uint64_t addr;
	uint64_t pc;                 /* the accessing instruction (watchpoints: the one after it) */
	uint64_t value;              /* value after the access, when known (first 8 bytes) */
	uint32_t stack;              /* 0 when none could be taken (signal handler) */
	uint32_t sub;                /* with LW_ACCESS_AFTER: its order after seq (else 0) */
	uint64_t seq;
};

/* Issue 20: a race caught in the act by the collider (DataCollider's sampling): thread tid1
 * was held back just before its access of [addr, addr+size) at pc1 (a sampled instruction;
 * pc1 is the address after it, as for a watchpoint hit), and thread tid2 accessed the same
 * bytes meanwhile, at pc2 (after its instruction).  At least one of the two is a write and
 * neither is atomic.  flags1/flags2: LW_ACCESS_READ, _WRITE, _ATOMIC of each; flags2 is
 * LW_ACCESS_READ | LW_ACCESS_WRITE when the instruction could not be decoded and the value
 * changed.  Any level: no happens-before reasoning is needed. */
struct lw_rec_race_caught {
	struct lw_rec_head head;
	uint64_t addr;
	uint32_t size;               /* 1, 2, 4 or 8: what the data breakpoint covered */
	uint16_t flags1, flags2;
	uint32_t tid1, tid2;
	uint64_t pc1, pc2;
	uint32_t stack1, stack2;     /* 0 when none could be taken */
	uint64_t seq;
};

/* Issue 20: the collider's counts for the process so far; a later record replaces an
 * earlier one.  state: LW_COLLIDER_RAN, or why it did not sample. */
enum lw_collider_state {
	LW_COLLIDER_RAN      = 0,    /* sampled (or was ready to) for the whole run */
	LW_COLLIDER_FORKED   = 1,    /* a fork() child: the parent's breakpoints, not sampled */
	LW_COLLIDER_REFUSED  = 2,    /* perf_event_open refused (err: the errno) */
	LW_COLLIDER_NO_SITES = 3,    /* no candidate instruction in the program's own code */
};
struct lw_rec_collider {
	struct lw_rec_head head;
	uint32_t state;              /* enum lw_collider_state */
	int32_t  err;
	uint64_t candidates;         /* memory-access instructions in the sampling table */
	uint64_t sampled;            /* code breakpoints placed on one of them */
	uint64_t fired;              /* ... that trapped */
	uint64_t watched;            /* addresses a data breakpoint watched for the delay */
	uint64_t caught;             /* races caught in the act (LW_REC_RACE_CAUGHT records) */
	uint64_t skipped;            /* fires not watched: thread-local address, another sample
				      * in flight, undecodable, inside the shim */
	uint64_t sample_ns;          /* time in the fired threads' handlers, delays left out */
};

/* Happens-before operations beyond lock acquire/release (full level). */
enum lw_sync_op {
	LW_SYNC_SEM_POST        = 1,  /* release on the semaphore: orders before later waits */
	LW_SYNC_COND_SIGNAL     = 2,
	LW_SYNC_COND_BROADCAST  = 3,
	LW_SYNC_COND_WAKE       = 4,  /* a cond wait returned (addr: the condvar) */
	LW_SYNC_BARRIER_ARRIVE  = 5,  /* every arrival orders before every departure */
	LW_SYNC_BARRIER_DEPART  = 6,
	LW_SYNC_ATOMIC_BEGIN    = 7,  /* LW_ATOMIC_BEGIN(): the thread means this to be atomic */
	LW_SYNC_ATOMIC_END      = 8,
	LW_SYNC_FORK            = 9,  /* value: child pid (fork, vfork, posix_spawn); any level */
	/* Process order (shim/locks/wrap_wait.c), written at every level: */
	LW_SYNC_WAIT_CHILD      = 10, /* a wait call reaped the child whose pid is value */
	LW_SYNC_SYSTEM_BEGIN    = 11, /* system() called; value: CLOCK_REALTIME ns */
	LW_SYNC_SYSTEM_END      = 12, /* ... returned: its children (started within these times,
				       * with no FORK record) all ended; value: as BEGIN */
	/* Issue 20 (automatic watching), tid 0, written by the shim's sampler: */
	LW_SYNC_WINDOW_OPEN     = 13, /* a watch window opens: from here to the next FENCE every
				       * synchronisation is in the trace, in order (value: the
				       * window's number, from 1) */
	LW_SYNC_FENCE           = 14, /* the window closes: everything every thread did before
				       * happens before everything any thread does after */
	/* Issue 20: a channel through the kernel (shim/access/wrap_fd.c), written where the order
	 * is (the full level, a watch window); addr: the channel's key (a pipe's or FIFO's or
	 * eventfd's inode, mixed with its device, in 0xfff0...): */
	LW_SYNC_CHANNEL_SEND    = 15, /* about to write to it: a release */
	LW_SYNC_CHANNEL_RECV    = 16, /* read from it: an acquire of every send before */
};

struct lw_rec_sync {
	struct lw_rec_head head;
	uint32_t tid;
	uint16_t op;                 /* enum lw_sync_op */
	uint16_t pad;
	uint64_t addr;
	uint64_t value;
	uint32_t stack;
	uint32_t pad2;
	uint64_t seq;
};

/* A file-system call on a path, for check-then-act on files.  Body: struct, then the path
 * (path_len bytes, no NUL) padded to a multiple of 8. */
enum lw_path_op {
	LW_PATH_CHECK        = 1,    /* access, stat, lstat, fstatat */
	LW_PATH_CREATE       = 2,    /* open/openat/creat with O_CREAT and without O_EXCL */
	LW_PATH_CREATE_EXCL  = 3,    /* O_CREAT|O_EXCL: the atomic way */
	LW_PATH_UNLINK       = 4,
	LW_PATH_RENAME_FROM  = 5,
	LW_PATH_RENAME_TO    = 6,
	/* File locks (fcntl, lockf, flock): written once per process and locked file, the first
	 * time the process locks it; the path is the file's (from /proc/self/fd), flocks its
	 * signature.  Older readers skip it: it opens no window and interferes with none. */
	LW_PATH_LOCK         = 7,
};

struct lw_rec_path {
	struct lw_rec_head head;
	uint32_t tid;
	uint16_t op;                 /* enum lw_path_op */
	uint16_t path_len;
	int32_t  result;             /* the call's return value (>= 0 success) */
	int32_t  err;                /* errno when it failed */
	uint32_t stack;
	/* The file locks the process held during the call: the OR of the signatures (two bits
	 * of 32 from the file's device and inode) of every file it held a lock on; for
	 * LW_PATH_LOCK the locked file's own signature.  0: none, or a shim older than this
	 * field (it wrote 0 here: the same version 4, no reader misreads either). */
	uint32_t flocks;
	uint64_t seq;
};

/* Hook mode: a heap block the program allocated, seen through the link-time wrappers
 * `lockwatch cc` puts around its calls (ld --wrap).  Accesses to [addr, addr+size) after
 * seq are to this block; accesses there before it were to an earlier block, which the
 * allocator handed back: they never race with this block's. */
enum lw_alloc_fn {
	LW_ALLOC_MALLOC   = 1,       /* malloc */
	LW_ALLOC_CALLOC   = 2,       /* calloc */
	LW_ALLOC_REALLOC  = 3,       /* realloc, reallocarray: a new block, contents copied */
	LW_ALLOC_ALIGNED  = 4,       /* aligned_alloc, posix_memalign, memalign */
	LW_ALLOC_STRDUP   = 5,       /* strdup, strndup */
	LW_ALLOC_NEW      = 6,       /* C++ operator new (and its nothrow form) */
	LW_ALLOC_NEW_ARRAY = 7,      /* C++ operator new[] */
	LW_ALLOC_FN_MAX   = 7,
};

struct lw_rec_alloc {
	struct lw_rec_head head;
	uint32_t tid;
	uint16_t fn;                 /* enum lw_alloc_fn */
	uint16_t pad;
	uint64_t addr;
	uint64_t size;               /* bytes asked for (>= 1) */
	uint64_t pc;                 /* the call's return address in the program */
	uint32_t stack;              /* 0 when none could be taken */
	uint32_t slack;              /* usable bytes past size (malloc_usable_size), which the
				      * block covers too: a free writes them */
	uint64_t seq;
};

/* A watched variable.  Body: struct, then name (name_len bytes, no NUL), padded to 8. */
struct lw_rec_watch {
	struct lw_rec_head head;
	uint64_t addr;
	uint32_t size;
	uint16_t name_len;
	uint16_t armed;              /* 1: hardware watchpoint armed; 0: refused */
};

/* Issue 20: what automatic watching of the program's globals covered (watch=auto), written
 * when the process exits and in a fork child; the last one counts.  Granules are aligned
 * 8-byte pieces of the candidate objects (data objects of the program and of its own
 * shared libraries). */
enum lw_coverage_status {
	LW_COVERAGE_WATCHED    = 0,  /* watching worked (possibly with nothing to watch) */
	LW_COVERAGE_REFUSED    = 1,  /* perf_event_open refused the breakpoints: err says why */
	LW_COVERAGE_FORKED     = 2,  /* a fork child: watching stopped at the fork */
};
#define LW_COVF_WHOLE_RUN (1u << 0)  /* one window, open the whole run: every candidate
				      * granule was watched from start-up to this record */

struct lw_rec_coverage {
	struct lw_rec_head head;
	uint16_t status;             /* enum lw_coverage_status */
	uint16_t flags;              /* LW_COVF_* */
	int32_t  err;                /* LW_COVERAGE_REFUSED: the errno of perf_event_open */
	uint32_t globals;            /* candidate objects */
	uint32_t globals_watched;    /* objects at least one granule of which was watched */
	uint32_t granules;           /* candidate granules */
	uint32_t granules_watched;   /* granules watched at some time */
	uint32_t granules_dropped;   /* dropped: touched from the C library, the loader or the
				      * shim (a lock, a stdio buffer) */
	uint32_t windows;            /* windows opened */
	uint64_t run_ns;             /* from start-up to this record */
	uint64_t window_ns;          /* of which windows were open */
	uint64_t traps;              /* watchpoint hits recorded */
	uint64_t seq;
};

#endif
