/* The analyzer's model of one or more traced processes: threads, locks, stacks, acquisitions. */
#ifndef LW_MODEL_H
#define LW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"
#include "trace/trace_reader.h"
#include "base/util.h"

#define LW_NONE UINT32_MAX           /* "no such index" */

struct lw_symbolizer;

struct lw_module {
	uint64_t base, lo, hi;
	char    *path;
	uint8_t *build_id;
	uint16_t build_id_len;
};

struct lw_stack {
	uint32_t  id;
	uint32_t  depth;
	uint64_t *pc;                /* innermost first */
};

struct lw_thread {
	uint32_t tid;
	uint32_t parent;             /* lockwatch tid, 0 if unknown */
	int32_t  os_tid;
	uint32_t create_stack;
	uint64_t start_routine;
	uint64_t seq;                /* creation, in the process's event order */
	bool     known;              /* a THREAD record was seen */
	bool     ended;
	uint32_t end_flags;
	uint64_t end_seq;
	uint32_t first_join, n_joins;/* its joins (as joiner) in lw_process.joins, sorted by seq */
	bool     was_joined;         /* some thread joined it */
	uint32_t n_like;             /* issue 23 (perf): threads like it counted, not written */
};

struct lw_join {
	uint32_t joiner, joined, stack;
	uint64_t seq;
};

/* A memory access (LW_REC_ACCESS), as recorded. */
struct lw_access {
	uint32_t tid;
	uint16_t flags;              /* LW_ACCESS_* | LW_SRC_* */
	uint16_t size;               /* bytes, >= 1 (the reader rejects 0) */
	uint64_t addr;
	uint64_t pc;                 /* the accessing instruction (watchpoints: the next one) */
	uint64_t value;              /* value after the access, when known */
	uint32_t stack;              /* 0: none, the pc alone stands for the stack */
	uint64_t seq;
};

/* A happens-before operation other than lock acquire/release (LW_REC_SYNC). */
struct lw_sync {
	uint32_t tid;
	uint16_t op;                 /* enum lw_sync_op */
	uint64_t addr;               /* the semaphore, condvar or barrier; 0 for ATOMIC_* */
	uint64_t value;
	uint32_t stack;
	uint64_t seq;
};

/* A heap block the program allocated (LW_REC_ALLOC, hook mode). */
struct lw_alloc {
	uint32_t tid;
	uint16_t fn;                 /* enum lw_alloc_fn */
	uint64_t addr, size;
	uint64_t span;               /* size plus the usable slack past it: what it covers */
	uint64_t pc;
	uint32_t stack;              /* 0: none, the pc alone stands for the stack */
	uint64_t seq;
};

/* A watched variable (LW_REC_WATCH): accesses inside [addr, addr+size) are named after it. */
struct lw_watch {
	uint64_t addr;
	uint32_t size;
	bool     armed;              /* false: the kernel refused the watchpoint */
	char    *name;               /* NUL-terminated copy (an embedded NUL cuts it) */
};

/* Issue 20: a race the collider caught in the act (LW_REC_RACE_CAUGHT); at any level. */
struct lw_caught {
	uint64_t addr;
	uint32_t size;
	uint16_t flags1, flags2;     /* LW_ACCESS_* of the held-back and the trapped access */
	uint32_t tid1, tid2;
	uint64_t pc1, pc2;
	uint32_t stack1, stack2;
	uint64_t seq;
};

/* The full level's ordered stream, replayed by happens-before and the access detectors.
 * Filled only for traces recorded at LW_LEVEL_FULL; sorted by seq (then file order) by
 * lw_model_finish. */
enum lw_event_kind {
	LW_EV_THREAD  = 1,           /* thread tid created by thread arg (0: no parent) */
	LW_EV_JOIN    = 2,           /* tid joined thread arg */
	LW_EV_ACQUIRE = 3,           /* tid acquired lock arg (index in lw_model.locks), mode */
	LW_EV_RELEASE = 4,           /* tid is about to release lock arg */
	LW_EV_SYNC    = 5,           /* lw_process.syncs.v[arg] */
	LW_EV_ACCESS  = 6,           /* lw_process.accesses.v[arg] */
	LW_EV_ALLOC   = 7,           /* lw_process.allocs.v[arg] */
	/* Issue 21 (races on the pthread objects): a *_init call (not a static initialiser's
	 * first use) and a *_destroy, as writes of the object; they order nothing. */
	LW_EV_INIT    = 8,           /* tid initialised lock arg (its init_stack) */
	LW_EV_DESTROY = 9,           /* lw_process.destroys.v[arg] */
};

/* Issue 21: a LOCK_DESTROY record (full level). */
struct lw_destroy {
	uint32_t lock;               /* index in lw_model.locks */
	uint32_t stack;
};

/* An access recorded with LW_ACCESS_AFTER: it sorts after every event of the same seq, in
 * the order of its sub (the mode's bits above LW_EV_AFTER, at most LW_EV_SUB_MAX; ties in
 * trace order). */
#define LW_EV_AFTER     1
#define LW_EV_SUB_SHIFT 1
#define LW_EV_SUB_MAX   0x7fffu

struct lw_event {
	uint64_t seq;
	uint32_t order;              /* position in the trace, breaks ties in seq */
	uint16_t kind;               /* enum lw_event_kind */
	uint16_t mode;               /* LW_EV_ACQUIRE: enum lw_mode; LW_EV_ACCESS: LW_EV_AFTER |
				      * sub << LW_EV_SUB_SHIFT */
	uint32_t tid;
	uint32_t arg;
};

/* One traced process. */
struct lw_process {
	char                  *name;       /* trace file name */
	struct lw_trace_header hdr;
	LW_VEC(struct lw_module) modules;
	LW_VEC(struct lw_stack)  stacks;
	struct lw_map          stack_ids;  /* (id, 0) -> index in stacks */
	LW_VEC(struct lw_thread) threads;
	struct lw_map          tids;       /* (tid, 0) -> index in threads */
	uint32_t               last_tid, last_thread1; /* issue 23 (perf): get_thread's memo
						    * (index + 1, 0: none) */
	LW_VEC(struct lw_join)   joins;
	struct lw_map          locklike;   /* (addr, tid << 32 | gen) -> 1 */
	struct lw_map          sem_signal; /* (addr, gen) -> 1: posted by a non-holder */
	struct lw_map          hb_memo;    /* (a_tid, b_tid) -> lifetime-before result + 1 */
	struct lw_symbolizer  *sym;        /* made on first use */
	LW_VEC(struct lw_access) accesses; /* trace order */
	LW_VEC(struct lw_sync)   syncs;    /* trace order */
	LW_VEC(struct lw_watch)  watches;
	LW_VEC(struct lw_caught) caught;   /* issue 20: the collider's catches */
	struct lw_rec_collider   collider; /* its last counts (head.kind 0: none) */
	LW_VEC(struct lw_alloc)  allocs;   /* trace order */
	uint32_t              *alloc_order;/* indexes in allocs by address, made on first use */
	LW_VEC(struct lw_event)  events;   /* full level only; by seq after lw_model_finish */
	LW_VEC(struct lw_destroy) destroys;/* issue 21: LW_EV_DESTROY's, full level only */
	size_t                 n_cut;      /* records left out: after the header's cut_seq */
	/* Issue 20: automatic watching's last LW_REC_COVERAGE record, if any. */
	bool                   has_coverage;
	struct lw_rec_coverage coverage;
};

/* Issue 20: whether the trace orders its synchronisation (events is filled): the full level,
 * or automatic watching's windows (LW_HDR_WINDOWS). */
static inline bool lw_trace_ordered(const struct lw_trace_header *h)
{
	return h->level == LW_LEVEL_FULL || (h->flags & LW_HDR_WINDOWS);
}

/* A lock instance: (process, addr, gen). */
struct lw_lock {
	uint32_t proc;
	uint32_t gen;
	uint64_t addr;
	uint16_t kind;               /* enum lw_lock_kind, 0 if never initialised in the trace */
	uint16_t flags;              /* LW_LOCKF_* */
	uint32_t init_stack;
	uint32_t init_tid;
	bool     has_init;
	/* Issue 18: with LW_LOCKF_SHARED_MAP, the mapped object it lives in, which names it in
	 * every process (lock_names.c makes it the lock's class). */
	struct lw_lock_init_shared shared;
	uint32_t cls;                /* lock class, set by lw_lock_classes */
	bool     global;             /* named after an ELF data symbol */
	bool     name_has_addr;      /* name already shows the address */
	char    *name;               /* set by lw_name_locks */
};

/* A lock held during an acquisition. */
struct lw_held_ref {
	uint32_t lock;               /* index in lw_model.locks */
	uint16_t mode, flags;
	uint32_t stack;
};

/* An acquisition observation: thread tid took lock while holding held[]. */
struct lw_acq {
	uint32_t proc;
	uint32_t tid;
	uint32_t lock;
	uint16_t mode, flags;
	uint32_t stack;
	uint32_t n_held;
	uint64_t seq;                /* first time seen */
	uint32_t count;              /* times recorded (full level records each one) */
	struct lw_held_ref *held;
};

struct lw_dl_thread {
	uint32_t tid, stack;
	uint64_t wait_addr;
	uint32_t wait_gen;
	uint16_t wait_kind, wait_mode;
	uint32_t wait_lock;          /* index in locks, LW_NONE for joins and condvars */
	uint32_t n_held;
	struct lw_held_ref *held;
};

struct lw_deadlock {
	uint32_t proc;
	uint32_t reason;             /* enum lw_deadlock_reason */
	uint64_t seq;
	uint32_t n_threads;
	struct lw_dl_thread *threads;
};

struct lw_misuse {
	uint32_t proc;
	uint32_t tid;
	uint16_t what, lock_kind;
	uint64_t addr;
	uint32_t gen, stack;
	uint32_t other_tid, other_stack;
	uint64_t value;
	uint64_t seq;
	uint32_t lock;               /* index in locks, or LW_NONE */
};

/* A file-system call on a path (a PATH record), for check-then-act on files. */
struct lw_path_event {
	uint32_t proc, tid;
	uint16_t op;                  /* enum lw_path_op */
	int32_t  result, err;
	uint32_t stack;
	uint32_t flocks;             /* the file locks the process held (lw_rec_path) */
	uint64_t seq;
	char    *path;               /* as recorded (absolute when the shim could make it so) */
};

/* A lock class (lockdep's idea): globals by symbol, others by init (or first-use) site. */
struct lw_class {
	char    *key;                /* identity, comparable across processes */
	char    *name;               /* "lock_a", "mutex initialised at f (f.c:3)" */
	uint32_t first_lock;         /* a representative instance */
};

struct lw_model {
	LW_VEC(struct lw_process) procs;
	LW_VEC(struct lw_lock)    locks;
	struct lw_map             lock_ids;  /* (addr, proc << 32 | gen) -> index */
	LW_VEC(struct lw_acq)     acqs;
	struct lw_map             acq_ids;   /* (content hash, proc << 32 | tid) -> index */
	LW_VEC(struct lw_deadlock) deadlocks;
	LW_VEC(struct lw_misuse)  misuses;
	LW_VEC(struct lw_path_event) paths;
	LW_VEC(struct lw_class)   classes;   /* set by lw_name_locks */
	struct lw_map             class_ids; /* (key hash, n) -> index */
	/* issue 23 (perf): a direct-mapped cache in front of lock_ids (get_lock): a trace names
	 * the same few locks over and over.  idx1: index + 1, 0 for an empty entry. */
	struct { uint64_t addr, b; uint32_t idx1; } lock_cache[256];
};

/* Returns an empty model (never NULL). */
struct lw_model *lw_model_new(void);
/* Adds a parsed trace as a new process; the model copies what it needs, so the trace may be
 * closed afterwards.  Returns the process index.  Cannot fail. */
uint32_t lw_model_add_trace(struct lw_model *m, const struct lw_trace *t);
/* Builds the indexes the detectors use; call once after the last lw_model_add_trace. */
void lw_model_finish(struct lw_model *m);
void lw_model_free(struct lw_model *m);

/* Lookups; they return NULL / LW_NONE when the id is unknown. */
const struct lw_stack *lw_model_stack(const struct lw_model *m, uint32_t proc, uint32_t id);
struct lw_thread *lw_model_thread(const struct lw_model *m, uint32_t proc, uint32_t tid);
uint32_t lw_model_find_lock(const struct lw_model *m, uint32_t proc, uint64_t addr, uint32_t gen);
/* True if a SEM_LOCKLIKE record exists for (tid, lock). */
bool lw_model_sem_locklike(const struct lw_model *m, uint32_t tid, const struct lw_lock *l);
/* Returns the symbolizer of a process, making it on first use (never NULL). */
struct lw_symbolizer *lw_model_symbolizer(struct lw_model *m, uint32_t proc);

/* Returns the watch of process proc containing addr (the latest declared), or NULL. */
const struct lw_watch *lw_model_watch(const struct lw_model *m, uint32_t proc, uint64_t addr);
/* The heap block that covered addr at seq (the latest allocated at or before it), or NULL.
 * Cannot fail. */
const struct lw_alloc *lw_model_alloc(const struct lw_model *m, uint32_t proc, uint64_t addr,
				      uint64_t seq);

/* "mutex", "rwlock", ...; "lock" for an unknown kind. */
const char *lw_lock_kind_name(unsigned kind);

#endif
