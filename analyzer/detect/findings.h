/* Findings: what the detectors conclude, as structures, before any rendering. */
#ifndef LW_FINDINGS_H
#define LW_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/model.h"
#include "base/util.h"

enum lw_finding_kind {
	LW_FIND_LOCK_ORDER_CYCLE,
	LW_FIND_DEADLOCK,
	LW_FIND_DATA_RACE,
	LW_FIND_ATOMICITY,
	LW_FIND_MISUSE,
};

enum lw_severity {
	LW_SEV_ERROR,
	LW_SEV_WARNING,
};

/* Why a lock-order cycle cannot deadlock in this program (or a finding cannot fail). */
enum lw_reason {
	LW_REASON_NONE,
	LW_REASON_SINGLE_THREAD,
	LW_REASON_HAPPENS_BEFORE,
	LW_REASON_GATE_LOCK,
	LW_REASON_TRYLOCK,
	LW_REASON_TIMED_LOCK,
	LW_REASON_READ_READ,
	LW_REASON_LOCK_CLASS,
	/* Not a cycle's: a file check-then-act whose calls all ran under a common file lock. */
	LW_REASON_FILE_LOCK,
};

/* One resolved stack frame; strings owned by the finding. */
struct lw_frame {
	char    *function;           /* NULL when unknown */
	char    *file;               /* NULL when unknown */
	int      line;               /* 0 when unknown */
	char    *module;             /* basename, NULL when no module contains pc */
	uint64_t module_offset;      /* pc - module base */
	uint64_t pc;
};

struct lw_fstack {
	size_t           n;
	struct lw_frame *frames;
};

struct lw_flock {
	char    *name;
	uint64_t addr;
	bool     show_addr;          /* the name does not identify the instance by itself */
};

/* An edge of a lock-order cycle: thread took `to` while holding `from`. */
struct lw_fedge {
	size_t           from, to;   /* indexes in the finding's locks */
	uint32_t         thread;
	uint16_t         mode;       /* of the acquisition of `to` */
	uint16_t         from_mode;
	bool             try_lock, timed;
	struct lw_fstack from_stack; /* where `from` was acquired */
	struct lw_fstack to_stack;   /* where `to` was acquired */
};

/* A lock a thread holds, for deadlock and misuse findings. */
struct lw_fheld {
	size_t           lock;       /* index in the finding's locks */
	uint16_t         mode;
	struct lw_fstack stack;
};

struct lw_fthread {
	uint32_t         tid;
	uint32_t         parent;     /* 0 if unknown */
	struct lw_frame  start;      /* start routine (function == NULL if unknown) */
	struct lw_fstack create_stack;
	struct lw_fstack stack;      /* deadlock: where it blocks; misuse: where it acted */
	char            *role;       /* misuse: "owner" etc.; NULL otherwise */
	size_t           n_held;
	struct lw_fheld *held;
	char            *waiting_for;/* deadlock: what it waits for, NULL otherwise */
	uint32_t         n_like;     /* issue 23 (perf): threads like it counted, not recorded */
};

/* A variable of a data-race or atomicity finding. */
struct lw_fvariable {
	char    *name;               /* watch name, ELF symbol ("balance", "accounts+8"), heap
				      * block ("heap block of 24 bytes from new_account+8") or
				      * address */
	uint64_t addr;
	uint64_t size;
	bool     heap;               /* in a heap block the program allocated (hook mode): */
	uint64_t block_addr;         /*   the block, */
	uint64_t block_size;
	uint32_t block_thread;       /*   the thread that allocated it, */
	struct lw_fstack block_stack;/*   and where */
};

/* One memory access of a data-race or atomicity finding. */
struct lw_faccess {
	uint32_t         thread;
	bool             write;
	bool             atomic;     /* an atomic operation (it races only with plain accesses) */
	bool             free;       /* the free of the heap block (a write to all of it) */
	const char      *role;       /* atomicity: "check", "interfering-write" or "act"; else NULL */
	uint64_t         addr;
	uint16_t         size;
	struct lw_fstack stack;      /* the pc alone as one frame when no stack was recorded */
	size_t           n_locks;
	size_t          *locks;      /* locks the thread held then: indexes in the finding's locks */
};

struct lw_finding {
	enum lw_finding_kind kind;
	enum lw_severity     severity;
	char                *message;     /* one line */
	enum lw_reason       reason;
	char                *reason_text; /* explanation for warnings, NULL otherwise */
	uint64_t             count;
	int32_t              pid;
	char                *exe;
	char                *path;        /* check-then-act on a file: the path; NULL otherwise */
	LW_VEC(struct lw_flock)   locks;
	LW_VEC(struct lw_fedge)   edges;
	LW_VEC(struct lw_fthread) threads;
	struct lw_fvariable  variable;    /* data-race, atomicity-violation */
	LW_VEC(struct lw_faccess) accesses;/* data-race: 2, in trace order; atomicity: 3, in
					   * interleaving order (check, interfering write, act) */
	char                *interleaving;/* atomicity: "T2: read balance (bank.c:20) ... " */
	bool                 observed;    /* atomicity: the interfering write did fall between */
	bool                 baseline;    /* its fingerprint is in the --baseline report */
	/* Issue 20: data-race: the collider caught it in the act ("caught in the act: thread 3
	 * wrote ... while thread 2's read at bank.c:20 was in flight"); NULL otherwise. */
	char                *caught;
};

struct lw_findings {
	LW_VEC(struct lw_finding *) v;
	size_t n_processes;
	size_t truncated_sccs;       /* components whose cycles were not all enumerated */
	size_t unlisted_warn_cycles;   /* warning-level cycles beyond the listed ones */
	/* detect_cycles.c's search for cycles that can deadlock in the truncated components:
	 * warning-level instance cycles listed, components where the search stopped at its
	 * budget, and the longest cycle length it had covered in all of them by then. */
	size_t listed_warn_cycles;
	size_t deadlock_search_stopped;
	uint32_t deadlock_search_len;
	size_t n_suppressed;         /* findings dropped by --suppressions */
	/* Issue 20: the collider's counts over all processes (detect_caught.c). */
	struct lw_collider_counts {
		size_t   processes;          /* processes that wrote counts */
		size_t   refused;            /* ... where perf_event_open was refused */
		size_t   forked;             /* ... fork children, which do not sample */
		int32_t  err;                /* the errno of the first refusal */
		uint64_t candidates, sampled, fired, watched, caught, skipped;
	} collider;
	/* Issue 20: what automatic watching of globals covered, summed over the processes
	 * that wrote a coverage record (lw_coverage_line says it in words). */
	struct lw_coverage_sum {
		size_t   processes;          /* with a coverage record; 0: none, no line */
		size_t   refused;            /* of them, where perf_event_open was refused */
		int32_t  err;                /* the errno of the first refusal */
		size_t   whole_run;          /* of them, watched everything for the whole run */
		uint64_t globals, globals_watched, granules, granules_watched, granules_dropped;
		uint64_t windows, run_ns, window_ns, traps;
	} coverage;
};

/* Issue 20: the coverage line, e.g. "watched 3 of 3 globals for the whole run"; false (and
 * buf empty) when no process wrote a coverage record. */
bool lw_coverage_line(const struct lw_coverage_sum *c, char *buf, size_t len);
/* Issue 20: the collider's counts in words ("412 code sites sampled of 1200, 57 heap
 * addresses watched, 2 races caught in the act"); false when no process sampled. */
bool lw_collider_line(const struct lw_collider_counts *c, char *buf, size_t len);
/* Issue 20: the report's one line on what watching covered: the globals' line and the
 * collider's, joined by "; "; false when neither has anything to say. */
bool lw_watching_line(const struct lw_findings *fs, char *buf, size_t len);

/* Constructors; they cannot fail. */
struct lw_finding *lw_finding_new(struct lw_findings *fs, enum lw_finding_kind kind,
				  enum lw_severity sev, const struct lw_model *m, uint32_t proc);
/* Adds model lock li (or returns its existing index) to the finding's locks. */
size_t lw_finding_lock(struct lw_finding *f, const struct lw_model *m, uint32_t li);
/* Adds thread tid of proc (or returns its index) with its start routine and creation stack. */
struct lw_fthread *lw_finding_thread(struct lw_finding *f, struct lw_model *m, uint32_t proc,
				     uint32_t tid);
/* A one-frame stack for a bare code address (pc is the instruction after the access, like
 * a return address). */
struct lw_fstack lw_finding_pc_stack(struct lw_model *m, uint32_t proc, uint64_t pc);
/* Resolves a trace stack (innermost first, leading libc pthread frames skipped). */
struct lw_fstack lw_finding_stack(struct lw_model *m, uint32_t proc, uint32_t stack_id);
void lw_findings_free(struct lw_findings *fs);
/* "read", "write", "atomic read", "atomic write" or "free": what the access was. */
const char *lw_faccess_kind(const struct lw_faccess *a);
/* Frees a stack's frames (not st itself). */
void lw_fstack_free(struct lw_fstack *st);
/* Formats a frame as "func (file:line)", "func (module+0xoff)", "module+0xoff" or "0xpc". */
void lw_fframe_format(const struct lw_frame *fr, char *buf, size_t len);

/* Names for the JSON contract: "lock-order-cycle", "error", "gate-lock", ... */
const char *lw_finding_kind_name(enum lw_finding_kind k);
const char *lw_severity_name(enum lw_severity s);
const char *lw_reason_name(enum lw_reason r);
/* Number of findings with severity s. */
size_t lw_findings_count(const struct lw_findings *fs, enum lw_severity s);

#endif
