/* Building the model from parsed traces. */
#include "trace/model.h"
#include "trace/symbolize.h"

#include <stdlib.h>
#include <string.h>

struct lw_model *lw_model_new(void)
{
	return lw_xcalloc(1, sizeof(struct lw_model));
}

const char *lw_lock_kind_name(unsigned kind)
{
	switch (kind) {
	case LW_LOCK_MUTEX:   return "mutex";
	case LW_LOCK_RWLOCK:  return "rwlock";
	case LW_LOCK_SPIN:    return "spinlock";
	case LW_LOCK_SEM:     return "semaphore";
	case LW_LOCK_COND:    return "condition variable";
	case LW_LOCK_BARRIER: return "barrier";
	default:              return "lock";
	}
}

static uint64_t lock_key_b(uint32_t proc, uint32_t gen)
{
	return (uint64_t)proc << 32 | gen;
}

uint32_t lw_model_find_lock(const struct lw_model *m, uint32_t proc, uint64_t addr, uint32_t gen)
{
	uint32_t i;

	return lw_map_get(&m->lock_ids, addr, lock_key_b(proc, gen), &i) ? i : LW_NONE;
}

/* Returns the index of lock (proc, addr, gen), creating an unknown-kind lock if needed. */
static __attribute__((noinline)) uint32_t get_lock_slow(struct lw_model *m, uint32_t proc,
							 uint64_t addr, uint32_t gen,
							 uint64_t b, size_t c)
{
	uint32_t i = lw_model_find_lock(m, proc, addr, gen);

	if (i == LW_NONE) {
		i = (uint32_t)m->locks.n;
		lw_vec_push(&m->locks, ((struct lw_lock){ .proc = proc, .addr = addr, .gen = gen,
							 .cls = LW_NONE }));
		lw_map_put(&m->lock_ids, addr, b, i);
	}
	m->lock_cache[c].addr = addr;
	m->lock_cache[c].b = b;
	m->lock_cache[c].idx1 = i + 1;
	return i;
}

static inline uint32_t get_lock(struct lw_model *m, uint32_t proc, uint64_t addr, uint32_t gen)
{
	uint64_t b = lock_key_b(proc, gen);
	size_t c = (size_t)((addr >> 3) ^ (addr >> 11) ^ b) % (sizeof(m->lock_cache) /
							       sizeof(m->lock_cache[0]));

	if (m->lock_cache[c].idx1 && m->lock_cache[c].addr == addr && m->lock_cache[c].b == b)
		return m->lock_cache[c].idx1 - 1;
	return get_lock_slow(m, proc, addr, gen, b, c);
}

struct lw_thread *lw_model_thread(const struct lw_model *m, uint32_t proc, uint32_t tid)
{
	const struct lw_process *p = &m->procs.v[proc];
	uint32_t i;

	return lw_map_get(&p->tids, tid, 0, &i) ? &p->threads.v[i] : NULL;
}

static struct lw_thread *get_thread(struct lw_process *p, uint32_t tid)
{
	uint32_t i;

	if (p->last_thread1 && p->last_tid == tid)
		return &p->threads.v[p->last_thread1 - 1];
	if (!lw_map_get(&p->tids, tid, 0, &i)) {
		i = (uint32_t)p->threads.n;
		lw_vec_push(&p->threads, ((struct lw_thread){ .tid = tid }));
		lw_map_put(&p->tids, tid, 0, i);
	}
	p->last_tid = tid;
	p->last_thread1 = i + 1;
	return &p->threads.v[i];
}

/* Appends an event to the full level's stream (nothing for the dependencies level). */
static void add_event(struct lw_process *p, uint64_t seq, uint16_t kind, uint16_t mode,
		      uint32_t tid, uint32_t arg)
{
	if (!lw_trace_ordered(&p->hdr))
		return;
	lw_vec_push(&p->events, ((struct lw_event){ .seq = seq, .order = (uint32_t)p->events.n,
						    .kind = kind, .mode = mode, .tid = tid,
						    .arg = arg }));
}

const struct lw_watch *lw_model_watch(const struct lw_model *m, uint32_t proc, uint64_t addr)
{
	const struct lw_process *p = &m->procs.v[proc];

	for (size_t i = p->watches.n; i-- > 0;) {
		const struct lw_watch *w = &p->watches.v[i];

		if (addr >= w->addr && addr - w->addr < w->size)
			return w;
	}
	return NULL;
}

static const struct lw_process *sort_proc;

static int by_addr(const void *a, const void *b)
{
	const struct lw_alloc *x = &sort_proc->allocs.v[*(const uint32_t *)a];
	const struct lw_alloc *y = &sort_proc->allocs.v[*(const uint32_t *)b];

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* How far back from the last block starting at or below an address the lookup looks for
 * one that covers it: bounds the work on a trace with very many blocks. */
#define ALLOC_LOOKBACK 4096u

const struct lw_alloc *lw_model_alloc(const struct lw_model *m, uint32_t proc, uint64_t addr,
				      uint64_t seq)
{
	struct lw_process *p = &m->procs.v[proc];
	const struct lw_alloc *best = NULL;
	size_t lo = 0, hi, n = 0;

	if (!p->allocs.n)
		return NULL;
	if (!p->alloc_order) {
		p->alloc_order = lw_xmalloc(p->allocs.n * sizeof(uint32_t));
		for (size_t i = 0; i < p->allocs.n; i++)
			p->alloc_order[i] = (uint32_t)i;
		sort_proc = p;
		qsort(p->alloc_order, p->allocs.n, sizeof(uint32_t), by_addr);
	}
	hi = p->allocs.n;
	while (lo < hi) {            /* the first block starting above addr */
		size_t mid = lo + (hi - lo) / 2;

		if (p->allocs.v[p->alloc_order[mid]].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo-- > 0 && n++ < ALLOC_LOOKBACK) {
		const struct lw_alloc *a = &p->allocs.v[p->alloc_order[lo]];

		if (addr - a->addr < a->span && a->seq <= seq && (!best || a->seq > best->seq))
			best = a;
	}
	return best;
}

const struct lw_stack *lw_model_stack(const struct lw_model *m, uint32_t proc, uint32_t id)
{
	const struct lw_process *p = &m->procs.v[proc];
	uint32_t i;

	if (id == 0 || !lw_map_get(&p->stack_ids, id, 0, &i))
		return NULL;
	return &p->stacks.v[i];
}

bool lw_model_sem_locklike(const struct lw_model *m, uint32_t tid, const struct lw_lock *l)
{
	const struct lw_process *p = &m->procs.v[l->proc];
	uint32_t v;

	/* A semaphore some thread posted without having waited on it signals: not a lock. */
	if (lw_map_get(&p->sem_signal, l->addr, l->gen, &v))
		return false;
	return lw_map_get(&p->locklike, l->addr, (uint64_t)tid << 32 | l->gen, &v);
}

struct lw_symbolizer *lw_model_symbolizer(struct lw_model *m, uint32_t proc)
{
	struct lw_process *p = &m->procs.v[proc];

	if (!p->sym)
		p->sym = lw_symbolizer_new(p->modules.v, p->modules.n);
	return p->sym;
}

static void add_module(struct lw_process *p, const unsigned char *r)
{
	struct lw_rec_module rec;
	struct lw_module mod;

	memcpy(&rec, r, sizeof(rec));
	mod.base = rec.base;
	mod.lo = rec.lo;
	mod.hi = rec.hi;
	mod.build_id_len = rec.build_id_len;
	mod.build_id = lw_xmalloc(rec.build_id_len);
	memcpy(mod.build_id, r + sizeof(rec), rec.build_id_len);
	mod.path = lw_xstrndup((const char *)r + sizeof(rec) + rec.build_id_len, rec.path_len);
	/* A path with an embedded NUL is cut there; a module seen twice is kept once. */
	for (size_t i = 0; i < p->modules.n; i++) {
		struct lw_module *o = &p->modules.v[i];

		if (o->base == mod.base && o->lo == mod.lo && strcmp(o->path, mod.path) == 0) {
			free(mod.path);
			free(mod.build_id);
			return;
		}
	}
	lw_vec_push(&p->modules, mod);
}

static void add_stack(struct lw_process *p, const unsigned char *r)
{
	struct lw_rec_stack rec;
	struct lw_stack st;
	uint32_t i;

	memcpy(&rec, r, sizeof(rec));
	if (lw_map_get(&p->stack_ids, rec.id, 0, &i))
		return;                 /* the first definition wins */
	st.id = rec.id;
	st.depth = rec.depth;
	st.pc = lw_xmalloc((size_t)rec.depth * sizeof(uint64_t));
	memcpy(st.pc, r + sizeof(rec), (size_t)rec.depth * sizeof(uint64_t));
	lw_map_put(&p->stack_ids, rec.id, 0, (uint32_t)p->stacks.n);
	lw_vec_push(&p->stacks, st);
}

static struct lw_held_ref *fill_held(struct lw_model *m, uint32_t proc, const unsigned char *h,
				     uint32_t n, struct lw_held_ref *out)
{
	for (uint32_t i = 0; i < n; i++) {
		struct lw_held rec;

		memcpy(&rec, h + (size_t)i * sizeof(rec), sizeof(rec));
		out[i] = (struct lw_held_ref){ get_lock(m, proc, rec.addr, rec.gen), rec.mode,
					       rec.flags, rec.stack };
	}
	return out;
}

static struct lw_held_ref *copy_held(struct lw_model *m, uint32_t proc, const unsigned char *h,
				     uint32_t n)
{
	return fill_held(m, proc, h, n, lw_xmalloc((size_t)n * sizeof(struct lw_held_ref)));
}

/* issue 23 (perf): a word at a time (byte-wise FNV-1a was a tenth of the analyzer's time
 * on a full-level trace); the map mixes it again. */
static uint64_t acq_hash(const struct lw_acq *a)
{
	uint64_t h = ((uint64_t)a->lock << 32 | (uint64_t)a->mode << 16 | a->flags) *
		     0x9e3779b97f4a7c15ull;

	h = (h ^ (h >> 29) ^ a->stack) * 0xbf58476d1ce4e5b9ull;
	for (uint32_t i = 0; i < a->n_held; i++) {
		const struct lw_held_ref *e = &a->held[i];

		h = (h ^ (h >> 31) ^ ((uint64_t)e->lock << 32 | (uint64_t)e->mode << 16 |
				      e->flags)) * 0x94d049bb133111ebull;
		h = (h ^ (h >> 29) ^ e->stack) * 0xbf58476d1ce4e5b9ull;
	}
	return h ^ (h >> 32);
}

static bool acq_same(const struct lw_acq *a, const struct lw_acq *b)
{
	if (a->proc != b->proc || a->tid != b->tid || a->lock != b->lock || a->mode != b->mode ||
	    a->flags != b->flags || a->stack != b->stack || a->n_held != b->n_held)
		return false;
	for (uint32_t i = 0; i < a->n_held; i++)
		if (memcmp(&a->held[i], &b->held[i], sizeof(a->held[i])) != 0)
			return false;
	return true;
}

static void add_acquire(struct lw_model *m, uint32_t proc, const unsigned char *r)
{
	struct lw_rec_acquire rec;
	struct lw_acq a;
	struct lw_held_ref held_buf[16];
	uint64_t h;
	uint32_t i;

	memcpy(&rec, r, sizeof(rec));
	a = (struct lw_acq){ .proc = proc, .tid = rec.tid, .mode = rec.mode, .flags = rec.flags,
			     .stack = rec.stack, .n_held = rec.n_held, .seq = rec.seq, .count = 1 };
	a.lock = get_lock(m, proc, rec.addr, rec.gen);
	/* issue 23 (perf): decoded on the stack; copied to the heap only when kept. */
	a.held = rec.n_held <= sizeof(held_buf) / sizeof(held_buf[0]) ?
		 fill_held(m, proc, r + sizeof(rec), rec.n_held, held_buf) :
		 copy_held(m, proc, r + sizeof(rec), rec.n_held);
	get_thread(&m->procs.v[proc], rec.tid);
	add_event(&m->procs.v[proc], rec.seq, LW_EV_ACQUIRE, rec.mode, rec.tid, a.lock);
	/* The full level records every acquisition: keep each distinct one once, counted.
	 * On a hash collision between different acquisitions the second is kept separately. */
	h = acq_hash(&a);
	if (lw_map_get(&m->acq_ids, h, (uint64_t)proc << 32 | rec.tid, &i)) {
		if (acq_same(&m->acqs.v[i], &a)) {
			if (m->acqs.v[i].count < UINT32_MAX)
				m->acqs.v[i].count++;
			if (a.held != held_buf)
				free(a.held);
			return;
		}
	} else {
		lw_map_put(&m->acq_ids, h, (uint64_t)proc << 32 | rec.tid, (uint32_t)m->acqs.n);
	}
	if (a.held == held_buf)
		a.held = memcpy(lw_xmalloc((size_t)a.n_held * sizeof(*a.held)), held_buf,
				(size_t)a.n_held * sizeof(*a.held));
	lw_vec_push(&m->acqs, a);
}

static void add_deadlock(struct lw_model *m, uint32_t proc, const unsigned char *r)
{
	struct lw_rec_deadlock rec;
	struct lw_deadlock d;
	size_t off;

	memcpy(&rec, r, sizeof(rec));
	d = (struct lw_deadlock){ .proc = proc, .reason = rec.reason, .seq = rec.seq,
				  .n_threads = rec.n_threads };
	d.threads = lw_xcalloc(rec.n_threads, sizeof(*d.threads));
	off = sizeof(rec);
	for (uint32_t i = 0; i < rec.n_threads; i++) {
		struct lw_deadlock_thread t;
		struct lw_dl_thread *o = &d.threads[i];

		memcpy(&t, r + off, sizeof(t));
		off += sizeof(t);
		*o = (struct lw_dl_thread){ .tid = t.tid, .stack = t.stack, .wait_addr = t.wait_addr,
					    .wait_gen = t.wait_gen, .wait_kind = t.wait_kind,
					    .wait_mode = t.wait_mode, .n_held = t.n_held,
					    .wait_lock = LW_NONE };
		if (t.wait_kind != LW_WAIT_JOIN && t.wait_kind != LW_WAIT_COND &&
		    t.wait_kind != LW_WAIT_COND_DESTROY)
			o->wait_lock = get_lock(m, proc, t.wait_addr, t.wait_gen);
		o->held = copy_held(m, proc, r + off, t.n_held);
		off += (size_t)t.n_held * sizeof(struct lw_held);
	}
	lw_vec_push(&m->deadlocks, d);
}

static void add_misuse(struct lw_model *m, uint32_t proc, const unsigned char *r)
{
	struct lw_rec_misuse rec;
	struct lw_misuse u;

	memcpy(&rec, r, sizeof(rec));
	u = (struct lw_misuse){ .proc = proc, .tid = rec.tid, .what = rec.what,
				.lock_kind = rec.lock_kind, .addr = rec.addr, .gen = rec.gen,
				.stack = rec.stack, .other_tid = rec.other_tid,
				.other_stack = rec.other_stack, .value = rec.value, .seq = rec.seq,
				.lock = LW_NONE };
	if (rec.what != LW_MISUSE_JOIN_TWICE && rec.what != LW_MISUSE_JOIN_DETACHED) {
		u.lock = get_lock(m, proc, rec.addr, rec.gen);
		if (!m->locks.v[u.lock].kind)
			m->locks.v[u.lock].kind = rec.lock_kind;
	}
	lw_vec_push(&m->misuses, u);
}

static void add_path(struct lw_model *m, uint32_t proc, const unsigned char *r)
{
	struct lw_rec_path rec;

	memcpy(&rec, r, sizeof(rec));
	get_thread(&m->procs.v[proc], rec.tid);
	lw_vec_push(&m->paths, ((struct lw_path_event){
		.proc = proc, .tid = rec.tid, .op = rec.op, .result = rec.result, .err = rec.err,
		.stack = rec.stack, .flocks = rec.flocks, .seq = rec.seq,
		.path = lw_xstrndup((const char *)r + sizeof(rec), rec.path_len) }));
}

/* The mode of an event placed after its thread's last event, sub-th there. */
static uint16_t after_mode(uint32_t sub)
{
	return (uint16_t)(LW_EV_AFTER |
			  (sub < LW_EV_SUB_MAX ? sub : LW_EV_SUB_MAX) << LW_EV_SUB_SHIFT);
}

/* Records 13, 14, 16 and 17: accesses, synchronisation, watched variables, heap blocks. */
static void add_access_record(struct lw_process *p, const unsigned char *r, uint32_t kind)
{
	switch (kind) {
	case LW_REC_ACCESS: {
		struct lw_rec_access rec;

		memcpy(&rec, r, sizeof(rec));
		get_thread(p, rec.tid);
		if (rec.flags & LW_ACCESS_UPDATE) {
			/* A read-modify-write: the read at sub, then the write at sub + 1. */
			uint16_t common = rec.flags & (uint16_t)~(LW_ACCESS_READ | LW_ACCESS_WRITE |
								  LW_ACCESS_UPDATE);
			add_event(p, rec.seq, LW_EV_ACCESS, after_mode(rec.sub), rec.tid,
				  (uint32_t)p->accesses.n);
			lw_vec_push(&p->accesses, ((struct lw_access){
				rec.tid, (uint16_t)(common | LW_ACCESS_READ), rec.size, rec.addr,
				rec.pc, 0, rec.stack, rec.seq }));
			add_event(p, rec.seq, LW_EV_ACCESS, after_mode(rec.sub + 1), rec.tid,
				  (uint32_t)p->accesses.n);
			lw_vec_push(&p->accesses, ((struct lw_access){
				rec.tid, (uint16_t)(common | LW_ACCESS_WRITE), rec.size, rec.addr,
				LW_UPDATE_PC(rec.value), 0, LW_UPDATE_STACK(rec.value), rec.seq }));
			break;
		}
		add_event(p, rec.seq, LW_EV_ACCESS,
			  rec.flags & LW_ACCESS_AFTER ? after_mode(rec.sub) : 0, rec.tid,
			  (uint32_t)p->accesses.n);
		lw_vec_push(&p->accesses, ((struct lw_access){ rec.tid, rec.flags, rec.size, rec.addr,
							      rec.pc, rec.value, rec.stack,
							      rec.seq }));
		break;
	}
	case LW_REC_SYNC: {
		struct lw_rec_sync rec;

		memcpy(&rec, r, sizeof(rec));
		/* Issue 20: a window's opening or fence is no thread's (tid 0). */
		if (rec.tid || (rec.op != LW_SYNC_WINDOW_OPEN && rec.op != LW_SYNC_FENCE))
			get_thread(p, rec.tid);
		add_event(p, rec.seq, LW_EV_SYNC, 0, rec.tid, (uint32_t)p->syncs.n);
		lw_vec_push(&p->syncs, ((struct lw_sync){ rec.tid, rec.op, rec.addr, rec.value,
							 rec.stack, rec.seq }));
		break;
	}
	case LW_REC_ALLOC: {
		struct lw_rec_alloc rec;

		memcpy(&rec, r, sizeof(rec));
		get_thread(p, rec.tid);
		add_event(p, rec.seq, LW_EV_ALLOC, 0, rec.tid, (uint32_t)p->allocs.n);
		lw_vec_push(&p->allocs, ((struct lw_alloc){ rec.tid, rec.fn, rec.addr, rec.size,
							   rec.size + rec.slack, rec.pc,
							   rec.stack, rec.seq }));
		break;
	}
	case LW_REC_WATCH: {
		struct lw_rec_watch rec;

		memcpy(&rec, r, sizeof(rec));
		lw_vec_push(&p->watches, ((struct lw_watch){
			rec.addr, rec.size, rec.armed != 0,
			lw_xstrndup((const char *)r + sizeof(rec), rec.name_len) }));
		break;
	}
	}
}

static void add_record(struct lw_model *m, uint32_t proc, const unsigned char *r, uint32_t kind)
{
	struct lw_process *p = &m->procs.v[proc];

	switch (kind) {
	case LW_REC_MODULE:
		add_module(p, r);
		break;
	case LW_REC_STACK:
		add_stack(p, r);
		break;
	case LW_REC_THREAD: {
		struct lw_rec_thread rec;
		struct lw_thread *t;

		memcpy(&rec, r, sizeof(rec));
		t = get_thread(p, rec.tid);
		t->known = true;
		t->parent = rec.parent == rec.tid ? 0 : rec.parent;
		t->os_tid = rec.os_tid;
		t->create_stack = rec.create_stack;
		t->start_routine = rec.start_routine;
		t->seq = rec.seq;
		add_event(p, rec.seq, LW_EV_THREAD, 0, rec.tid, t->parent);
		break;
	}
	case LW_REC_THREAD_END: {
		struct lw_rec_thread_end rec;
		struct lw_thread *t;

		memcpy(&rec, r, sizeof(rec));
		t = get_thread(p, rec.tid);
		t->ended = true;
		t->end_flags = rec.flags;
		t->end_seq = rec.seq;
		break;
	}
	case LW_REC_THREADS_LIKE: {   /* issue 23 (perf): threads counted, not written */
		struct lw_rec_threads_like rec;
		struct lw_thread *t;

		memcpy(&rec, r, sizeof(rec));
		t = get_thread(p, rec.like);
		if (rec.count > t->n_like)
			t->n_like = rec.count;
		break;
	}
	case LW_REC_JOIN: {
		struct lw_rec_join rec;

		memcpy(&rec, r, sizeof(rec));
		get_thread(p, rec.joiner);
		get_thread(p, rec.joined);
		lw_vec_push(&p->joins, ((struct lw_join){ rec.joiner, rec.joined, rec.stack, rec.seq }));
		add_event(p, rec.seq, LW_EV_JOIN, 0, rec.joiner, rec.joined);
		break;
	}
	case LW_REC_LOCK_INIT: {
		struct lw_rec_lock_init rec;
		struct lw_lock *l;
		uint32_t li;

		memcpy(&rec, r, sizeof(rec));
		li = get_lock(m, proc, rec.addr, rec.gen);
		l = &m->locks.v[li];
		if (!l->has_init) {
			l->has_init = true;
			l->kind = rec.lock_kind;
			l->flags = rec.flags;
			l->init_stack = rec.stack;
			l->init_tid = rec.tid;
			/* The reader checked that the record is long enough for it. */
			if (rec.flags & LW_LOCKF_SHARED_MAP)
				memcpy(&l->shared, r + sizeof(rec), sizeof(l->shared));
			/* Issue 21: an init call writes the object; a static initialiser's
			 * first use (or a fork child's inherited lock) is no init. */
			if (!(rec.flags & LW_LOCKF_STATIC) && rec.tid)
				add_event(p, rec.seq, LW_EV_INIT, 0, rec.tid, li);
		}
		break;
	}
	case LW_REC_ACQUIRE:
		add_acquire(m, proc, r);
		break;
	case LW_REC_SEM_LOCKLIKE: {
		struct lw_rec_sem_locklike rec;

		memcpy(&rec, r, sizeof(rec));
		lw_map_put(&p->locklike, rec.addr, (uint64_t)rec.tid << 32 | rec.gen, 1);
		break;
	}
	case LW_REC_SEM_SIGNAL: {
		struct lw_rec_sem_signal rec;

		memcpy(&rec, r, sizeof(rec));
		lw_map_put(&p->sem_signal, rec.addr, rec.gen, 1);
		break;
	}
	case LW_REC_DEADLOCK:
		add_deadlock(m, proc, r);
		break;
	case LW_REC_MISUSE:
		add_misuse(m, proc, r);
		break;
	case LW_REC_PATH:
		add_path(m, proc, r);
		break;
	case LW_REC_RELEASE: {
		struct lw_rec_release rec;

		if (!lw_trace_ordered(&p->hdr))
			break;
		memcpy(&rec, r, sizeof(rec));
		get_thread(p, rec.tid);
		add_event(p, rec.seq, LW_EV_RELEASE, 0, rec.tid, get_lock(m, proc, rec.addr, rec.gen));
		break;
	}
	case LW_REC_ACCESS:
	case LW_REC_SYNC:
	case LW_REC_WATCH:
	case LW_REC_ALLOC:
		add_access_record(p, r, kind);
		break;
	case LW_REC_RACE_CAUGHT: {   /* issue 20 */
		struct lw_rec_race_caught rec;

		memcpy(&rec, r, sizeof(rec));
		get_thread(p, rec.tid1);
		get_thread(p, rec.tid2);
		lw_vec_push(&p->caught, ((struct lw_caught){ rec.addr, rec.size, rec.flags1,
							    rec.flags2, rec.tid1, rec.tid2, rec.pc1,
							    rec.pc2, rec.stack1, rec.stack2,
							    rec.seq }));
		break;
	}
	case LW_REC_COLLIDER:
		memcpy(&p->collider, r, sizeof(p->collider));
		break;
	case LW_REC_COVERAGE:        /* issue 20: the last one counts */
		memcpy(&p->coverage, r, sizeof(p->coverage));
		p->has_coverage = true;
		break;
	case LW_REC_LOCK_DESTROY: {  /* issue 21: a write of the object, for its races */
		struct lw_rec_lock_destroy rec;

		memcpy(&rec, r, sizeof(rec));
		if (!lw_trace_ordered(&p->hdr) || !rec.tid)
			break;
		get_thread(p, rec.tid);
		add_event(p, rec.seq, LW_EV_DESTROY, 0, rec.tid, (uint32_t)p->destroys.n);
		lw_vec_push(&p->destroys, ((struct lw_destroy){ get_lock(m, proc, rec.addr, rec.gen),
								rec.stack }));
		break;
	}
	default:
		break;
	}
}

/* Where the records that have a seq keep it (0: a kind without one). */
static const uint16_t seq_offset[LW_REC_KIND_MAX + 1] = {
	[LW_REC_THREAD] = offsetof(struct lw_rec_thread, seq),
	[LW_REC_THREAD_END] = offsetof(struct lw_rec_thread_end, seq),
	[LW_REC_JOIN] = offsetof(struct lw_rec_join, seq),
	[LW_REC_LOCK_INIT] = offsetof(struct lw_rec_lock_init, seq),
	[LW_REC_LOCK_DESTROY] = offsetof(struct lw_rec_lock_destroy, seq),
	[LW_REC_ACQUIRE] = offsetof(struct lw_rec_acquire, seq),
	[LW_REC_RELEASE] = offsetof(struct lw_rec_release, seq),
	[LW_REC_DEADLOCK] = offsetof(struct lw_rec_deadlock, seq),
	[LW_REC_MISUSE] = offsetof(struct lw_rec_misuse, seq),
	[LW_REC_ACCESS] = offsetof(struct lw_rec_access, seq),
	[LW_REC_SYNC] = offsetof(struct lw_rec_sync, seq),
	[LW_REC_PATH] = offsetof(struct lw_rec_path, seq),
	[LW_REC_ALLOC] = offsetof(struct lw_rec_alloc, seq),
	[LW_REC_COVERAGE] = offsetof(struct lw_rec_coverage, seq),
	[LW_REC_THREADS_LIKE] = offsetof(struct lw_rec_threads_like, seq),   /* issue 23 (perf) */
};

/* Whether record r, of kind `kind`, has a seq after `cut`. */
static bool after_cut(uint32_t kind, const unsigned char *r, uint64_t cut)
{
	uint64_t seq;

	if (kind > LW_REC_KIND_MAX || !seq_offset[kind])
		return false;
	memcpy(&seq, r + seq_offset[kind], sizeof(seq));
	return seq > cut;
}

uint32_t lw_model_add_trace(struct lw_model *m, const struct lw_trace *t)
{
	uint32_t proc = (uint32_t)m->procs.n;
	struct lw_process p = { 0 };
	/* A trace the shim cut short: what it wrote after its first drop is left out, since
	 * other threads' records of that time are missing (a thread that went on writing would
	 * seem to race with one whose release was dropped). */
	uint64_t cut = t->hdr.flags & LW_HDR_TRUNCATED ? t->hdr.cut_seq : 0;
	/* Issue 21: a closed trace's cut_seq without LW_HDR_TRUNCATED is where a thread that
	 * went on after the program's exit began first found no room: the same cut. */
	if (!cut && (t->hdr.flags & LW_HDR_CLOSED))
		cut = t->hdr.cut_seq;

	p.name = lw_xstrdup(t->name ? t->name : "(trace)");
	p.hdr = t->hdr;
	lw_vec_push(&m->procs, p);
	for (size_t i = 0; i < t->n_recs; i++) {
		const unsigned char *r = lw_trace_record(t, i);

		if (cut && after_cut(t->recs[i].kind, r, cut)) {
			m->procs.v[proc].n_cut++;
			continue;
		}
		add_record(m, proc, r, t->recs[i].kind);
	}
	return proc;
}

/* Whether an event is an access placed after its thread's last event rather than by a seq
 * of its own. */
static bool placed_after(const struct lw_event *e)
{
	return e->kind == LW_EV_ACCESS && (e->mode & LW_EV_AFTER);
}

/* The sort key of an event: its seq, then the events placed after that seq's event
 * (LW_EV_AFTER) after the others. */
static uint64_t event_key(const struct lw_event *e)
{
	return e->seq << 1 | placed_after(e);
}

/* The second sort key: among the events placed after one seq's event, their sub. */
static uint64_t event_sub(const struct lw_event *e)
{
	return placed_after(e) ? e->mode >> LW_EV_SUB_SHIFT : 0;
}

/* One stable radix sort of v by key into v (tmp: scratch of the same size), 11 bits a pass
 * and only as many passes as the largest key needs.  (issue 23, perf: inlined, so that key
 * is too; a pass whose digit is the same for every event moves nothing.) */
static inline __attribute__((always_inline)) void radix_pass(struct lw_event *v, struct lw_event *tmp, size_t *count, size_t n,
		       uint64_t (*key)(const struct lw_event *))
{
	struct lw_event *src = v, *dst = tmp;
	uint64_t bits = 0;

	for (size_t i = 0; i < n; i++)
		bits |= key(&v[i]);
	for (unsigned shift = 0; shift < 64 && (bits >> shift); shift += 11) {
		size_t sum = 0;

		memset(count, 0, 2048 * sizeof(size_t));
		for (size_t i = 0; i < n; i++)
			count[(key(&src[i]) >> shift) & 0x7ff]++;
		if (count[(key(&src[0]) >> shift) & 0x7ff] == n)
			continue;
		for (size_t d = 0; d < 2048; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(key(&src[i]) >> shift) & 0x7ff]++] = src[i];
		struct lw_event *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/* Sorts a process's events by key, then sub, ties in file order (the order they were added
 * in): stable radix sorts, the second key's first.  At the full level a thread writes into
 * its own chunks of the file, so the events arrive in runs rather than nearly sorted, and a
 * comparison sort of tens of millions of them was most of the analysis. */
static void sort_events(struct lw_event *v, size_t n)
{
	if (n < 2)
		return;
	struct lw_event *tmp = lw_xmalloc(n * sizeof(*v));
	size_t *count = lw_xmalloc(2048 * sizeof(size_t));

	radix_pass(v, tmp, count, n, event_sub);
	radix_pass(v, tmp, count, n, event_key);
	free(tmp);
	free(count);
}

static int join_cmp(const void *a, const void *b)
{
	const struct lw_join *x = a, *y = b;

	if (x->joiner != y->joiner)
		return x->joiner < y->joiner ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Copies into child the parent's modules it does not list itself, placed before its own so
 * that its own (later) records win.  Returns true if any was added. */
static bool inherit_modules(struct lw_process *child, const struct lw_process *parent)
{
	LW_VEC(struct lw_module) mods = { 0 };
	bool added = false;

	for (size_t i = 0; i < parent->modules.n; i++) {
		const struct lw_module *pm = &parent->modules.v[i];
		bool have = false;

		for (size_t k = 0; k < child->modules.n && !have; k++)
			have = child->modules.v[k].base == pm->base && child->modules.v[k].lo == pm->lo &&
			       strcmp(child->modules.v[k].path, pm->path) == 0;
		if (have)
			continue;
		lw_vec_push(&mods, ((struct lw_module){ pm->base, pm->lo, pm->hi,
							lw_xstrdup(pm->path),
							lw_xmalloc(pm->build_id_len),
							pm->build_id_len }));
		memcpy(mods.v[mods.n - 1].build_id, pm->build_id, pm->build_id_len);
		added = true;
	}
	for (size_t k = 0; k < child->modules.n; k++)
		lw_vec_push(&mods, child->modules.v[k]);
	free(child->modules.v);
	child->modules.v = mods.v;
	child->modules.n = mods.n;
	child->modules.cap = mods.cap;
	return added;
}

/*
 * A fork() child inherits its parent's mappings, and its trace need not list them again:
 * give it the module map of its parent's trace (same session, pid == its ppid) when that
 * trace was loaded too.  Repeated for grandchildren.
 */
static void inherit_fork_modules(struct lw_model *m)
{
	for (size_t pass = 0; pass < m->procs.n; pass++) {
		bool changed = false;

		for (size_t ci = 0; ci < m->procs.n; ci++) {
			struct lw_process *c = &m->procs.v[ci];

			if (!(c->hdr.flags & LW_HDR_FORKED))
				continue;
			for (size_t pi = 0; pi < m->procs.n; pi++) {
				const struct lw_process *p = &m->procs.v[pi];

				if (pi != ci && p->hdr.pid == c->hdr.ppid &&
				    p->hdr.session == c->hdr.session && p->hdr.start_ns <= c->hdr.start_ns)
					changed |= inherit_modules(c, p);
			}
		}
		if (!changed)
			break;
	}
}

void lw_model_finish(struct lw_model *m)
{
	inherit_fork_modules(m);
	for (size_t pi = 0; pi < m->procs.n; pi++) {
		struct lw_process *p = &m->procs.v[pi];

		if (p->joins.n)
			qsort(p->joins.v, p->joins.n, sizeof(p->joins.v[0]), join_cmp);
		sort_events(p->events.v, p->events.n);
		for (size_t i = 0; i < p->joins.n; i++)
			lw_model_thread(m, (uint32_t)pi, p->joins.v[i].joined)->was_joined = true;
		for (size_t i = 0; i < p->joins.n;) {
			size_t j = i;
			struct lw_thread *t = lw_model_thread(m, (uint32_t)pi, p->joins.v[i].joiner);

			while (j < p->joins.n && p->joins.v[j].joiner == p->joins.v[i].joiner)
				j++;
			t->first_join = (uint32_t)i;
			t->n_joins = (uint32_t)(j - i);
			i = j;
		}
	}
}

void lw_model_free(struct lw_model *m)
{
	if (!m)
		return;
	for (size_t pi = 0; pi < m->procs.n; pi++) {
		struct lw_process *p = &m->procs.v[pi];

		for (size_t i = 0; i < p->modules.n; i++) {
			free(p->modules.v[i].path);
			free(p->modules.v[i].build_id);
		}
		free(p->modules.v);
		for (size_t i = 0; i < p->stacks.n; i++)
			free(p->stacks.v[i].pc);
		free(p->stacks.v);
		lw_map_free(&p->stack_ids);
		free(p->threads.v);
		lw_map_free(&p->tids);
		free(p->joins.v);
		lw_map_free(&p->locklike);
		lw_map_free(&p->sem_signal);
		lw_map_free(&p->hb_memo);
		lw_symbolizer_free(p->sym);
		free(p->name);
		free(p->accesses.v);
		free(p->syncs.v);
		for (size_t i = 0; i < p->watches.n; i++)
			free(p->watches.v[i].name);
		free(p->watches.v);
		free(p->caught.v);
		free(p->allocs.v);
		free(p->alloc_order);
		free(p->events.v);
		free(p->destroys.v);
	}
	free(m->procs.v);
	for (size_t i = 0; i < m->locks.n; i++)
		free(m->locks.v[i].name);
	free(m->locks.v);
	lw_map_free(&m->lock_ids);
	for (size_t i = 0; i < m->acqs.n; i++)
		free(m->acqs.v[i].held);
	free(m->acqs.v);
	lw_map_free(&m->acq_ids);
	for (size_t i = 0; i < m->deadlocks.n; i++) {
		for (uint32_t j = 0; j < m->deadlocks.v[i].n_threads; j++)
			free(m->deadlocks.v[i].threads[j].held);
		free(m->deadlocks.v[i].threads);
	}
	free(m->deadlocks.v);
	free(m->misuses.v);
	for (size_t i = 0; i < m->paths.n; i++)
		free(m->paths.v[i].path);
	free(m->paths.v);
	for (size_t i = 0; i < m->classes.n; i++) {
		free(m->classes.v[i].key);
		free(m->classes.v[i].name);
	}
	free(m->classes.v);
	lw_map_free(&m->class_ids);
	free(m);
}
