/* GLib's locks, condition variables and threads: GMutex and GCond are futexes of GLib's
 * own, GRecMutex and GRWLock pthread objects GLib makes behind the program's back, and
 * libglib calls its own functions directly; so the program's calls are wrapped here and
 * recorded as the mutexes, read-write locks and condition variables they are
 * (LW_LOCKF_API_GLIB).  GLib's own internal locking is not seen.  GThreads are pthreads, seen
 * by pthread_create and pthread_join; g_thread_new and g_thread_join only name the
 * program's call and function in place of GLib's.  A program without GLib never gets here:
 * nothing is looked up, nothing loaded. */
#include <dlfcn.h>
#include "locks/wrap.h"
#include "core/msg.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/trace_writer.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"

/* GLib's types, as far as the shim needs them (it does not build against GLib). */
typedef int gboolean;
typedef void GMutex, GRecMutex, GRWLock, GCond, GThread, GError;
typedef void *(*GThreadFunc)(void *);

static struct {
	void (*g_mutex_init)(GMutex *);
	void (*g_mutex_clear)(GMutex *);
	void (*g_mutex_lock)(GMutex *);
	gboolean (*g_mutex_trylock)(GMutex *);
	void (*g_mutex_unlock)(GMutex *);
	void (*g_rec_mutex_init)(GRecMutex *);
	void (*g_rec_mutex_clear)(GRecMutex *);
	void (*g_rec_mutex_lock)(GRecMutex *);
	gboolean (*g_rec_mutex_trylock)(GRecMutex *);
	void (*g_rec_mutex_unlock)(GRecMutex *);
	void (*g_rw_lock_init)(GRWLock *);
	void (*g_rw_lock_clear)(GRWLock *);
	void (*g_rw_lock_writer_lock)(GRWLock *);
	gboolean (*g_rw_lock_writer_trylock)(GRWLock *);
	void (*g_rw_lock_writer_unlock)(GRWLock *);
	void (*g_rw_lock_reader_lock)(GRWLock *);
	gboolean (*g_rw_lock_reader_trylock)(GRWLock *);
	void (*g_rw_lock_reader_unlock)(GRWLock *);
	void (*g_cond_init)(GCond *);
	void (*g_cond_clear)(GCond *);
	void (*g_cond_wait)(GCond *, GMutex *);
	gboolean (*g_cond_wait_until)(GCond *, GMutex *, int64_t);
	void (*g_cond_signal)(GCond *);
	void (*g_cond_broadcast)(GCond *);
	GThread *(*g_thread_new)(const char *, GThreadFunc, void *);
	GThread *(*g_thread_try_new)(const char *, GThreadFunc, void *, GError **);
	void *(*g_thread_join)(GThread *);
} real_glib;

/* The real function, looked up in the objects loaded after the shim the first time it is
 * called (a program that calls it has GLib loaded).  NULL only if GLib is not there. */
#define G(fn) (LW_LIKELY(real_glib.fn != NULL) ? real_glib.fn : \
	(__atomic_store_n((void **)&real_glib.fn, dlsym(RTLD_NEXT, #fn), __ATOMIC_RELEASE), \
	 real_glib.fn))
/* Calls a real function, returning nothing when GLib is missing. */
#define CALL(fn, ...) do { if (G(fn)) real_glib.fn(__VA_ARGS__); } while (0)

/* GRecMutex, GRWLock (and on other platforms GMutex, GCond) call pthread functions through
 * the shim: the wrappers here record the GLib object, so those calls pass straight
 * through, as the shim's own do. */
#define PASS(stmt) do { int g_ = lw_guard; lw_guard = 1; stmt; lw_guard = g_; } while (0)

/* Around a wrapper's calls into the shim: the lock is GLib's (lw_lock_api). */
#define API_BEGIN uint16_t api_ = lw_lock_api; lw_lock_api = LW_LOCKF_API_GLIB
#define API_END   lw_lock_api = api_

/* A blocking lock: tries first, so only a busy lock publishes its wait for the watchdog
 * (and a relock by the owner of a non-recursive one, which never returns, is noted). */
#define BLOCKING(trylock, lock, obj, kind, mode) do { \
		struct lw_acq a_; \
		API_BEGIN; \
		if (!lw_acq_begin(&a_, (obj), kind, mode, 0, LW_SITE())) { \
			PASS(CALL(lock, obj)); \
		} else { \
			gboolean got_ = FALSE; \
			PASS(got_ = G(trylock) ? real_glib.trylock(obj) : TRUE); \
			if (!got_) { \
				lw_acq_blocking(&a_); \
				PASS(CALL(lock, obj)); \
				lw_wait_end(a_.t); \
			} \
			lw_acq_end(&a_); \
		} \
		API_END; \
	} while (0)

#define TRY(trylock, obj, kind, mode) do { \
		struct lw_acq a_; \
		API_BEGIN; \
		bool rec_ = lw_acq_begin(&a_, (obj), kind, mode, LW_ACQF_TRY, LW_SITE()); \
		gboolean got_ = FALSE; \
		PASS(got_ = G(trylock) ? real_glib.trylock(obj) : FALSE); \
		if (rec_ && got_) \
			lw_acq_end(&a_); \
		API_END; \
		return got_; \
	} while (0)

/* The release is noted before the real unlock: GLib aborts the program on an unlock of a
 * GMutex nobody holds, and the misuse must be in the trace first. */
#define RELEASE(unlock, obj) do { \
		API_BEGIN; \
		lw_note_release((obj), LW_SITE()); \
		API_END; \
		PASS(CALL(unlock, obj)); \
	} while (0)

/* A new object, and the end of one. */
/* Issue 22: an init of an object in use, or initialised and not cleared, is checked as
 * pthread's are (GLib: "calling g_mutex_init() on an already initialized GMutex leads to
 * undefined behaviour"). */
#define INIT(init, obj, kind, flags) do { \
		API_BEGIN; \
		lw_note_reinit((obj), kind, LW_SITE(), LW_CFA()); \
		API_END; \
		PASS(CALL(init, obj)); \
		lw_note_init_at((obj), kind, LW_LOCKF_API_GLIB | (flags), LW_SITE(), LW_CFA()); \
	} while (0)
#define CLEAR(clear, obj, kind) do { \
		API_BEGIN; \
		lw_note_destroy((obj), kind, LW_SITE()); \
		API_END; \
		PASS(CALL(clear, obj)); \
	} while (0)

#define TRUE 1
#define FALSE 0

/* ---- GMutex ---- */

LW_EXPORT void g_mutex_init(GMutex *m)
{
	INIT(g_mutex_init, m, LW_LOCK_MUTEX, 0);
}

LW_EXPORT void g_mutex_clear(GMutex *m)
{
	CLEAR(g_mutex_clear, m, LW_LOCK_MUTEX);
}

LW_EXPORT void g_mutex_lock(GMutex *m)
{
	BLOCKING(g_mutex_trylock, g_mutex_lock, m, LW_LOCK_MUTEX, LW_MODE_WRITE);
}

LW_EXPORT gboolean g_mutex_trylock(GMutex *m)
{
	TRY(g_mutex_trylock, m, LW_LOCK_MUTEX, LW_MODE_WRITE);
}

LW_EXPORT void g_mutex_unlock(GMutex *m)
{
	RELEASE(g_mutex_unlock, m);
}

/* ---- GRecMutex ---- */

LW_EXPORT void g_rec_mutex_init(GRecMutex *m)
{
	INIT(g_rec_mutex_init, m, LW_LOCK_MUTEX, LW_LOCKF_RECURSIVE);
}

LW_EXPORT void g_rec_mutex_clear(GRecMutex *m)
{
	CLEAR(g_rec_mutex_clear, m, LW_LOCK_MUTEX);
}

LW_EXPORT void g_rec_mutex_lock(GRecMutex *m)
{
	BLOCKING(g_rec_mutex_trylock, g_rec_mutex_lock, m, LW_LOCK_MUTEX, LW_MODE_WRITE);
}

LW_EXPORT gboolean g_rec_mutex_trylock(GRecMutex *m)
{
	TRY(g_rec_mutex_trylock, m, LW_LOCK_MUTEX, LW_MODE_WRITE);
}

LW_EXPORT void g_rec_mutex_unlock(GRecMutex *m)
{
	RELEASE(g_rec_mutex_unlock, m);
}

/* ---- GRWLock ---- */

LW_EXPORT void g_rw_lock_init(GRWLock *l)
{
	INIT(g_rw_lock_init, l, LW_LOCK_RWLOCK, 0);
}

LW_EXPORT void g_rw_lock_clear(GRWLock *l)
{
	CLEAR(g_rw_lock_clear, l, LW_LOCK_RWLOCK);
}

LW_EXPORT void g_rw_lock_writer_lock(GRWLock *l)
{
	BLOCKING(g_rw_lock_writer_trylock, g_rw_lock_writer_lock, l, LW_LOCK_RWLOCK, LW_MODE_WRITE);
}

LW_EXPORT gboolean g_rw_lock_writer_trylock(GRWLock *l)
{
	TRY(g_rw_lock_writer_trylock, l, LW_LOCK_RWLOCK, LW_MODE_WRITE);
}

LW_EXPORT void g_rw_lock_writer_unlock(GRWLock *l)
{
	RELEASE(g_rw_lock_writer_unlock, l);
}

LW_EXPORT void g_rw_lock_reader_lock(GRWLock *l)
{
	BLOCKING(g_rw_lock_reader_trylock, g_rw_lock_reader_lock, l, LW_LOCK_RWLOCK, LW_MODE_READ);
}

LW_EXPORT gboolean g_rw_lock_reader_trylock(GRWLock *l)
{
	TRY(g_rw_lock_reader_trylock, l, LW_LOCK_RWLOCK, LW_MODE_READ);
}

LW_EXPORT void g_rw_lock_reader_unlock(GRWLock *l)
{
	RELEASE(g_rw_lock_reader_unlock, l);
}

/* ---- GCond ---- */

LW_EXPORT void g_cond_init(GCond *c)
{
	INIT(g_cond_init, c, LW_LOCK_COND, 0);
}

LW_EXPORT void g_cond_clear(GCond *c)
{
	CLEAR(g_cond_clear, c, LW_LOCK_COND);
}

LW_EXPORT void g_cond_wait(GCond *c, GMutex *m)
{
	struct lw_cond_wait w;
	API_BEGIN;
	lw_cond_wait_begin(&w, c, m, false, LW_SITE());
	PASS(CALL(g_cond_wait, c, m));
	lw_cond_wait_end(&w, c, m, LW_SITE());
	API_END;
}

LW_EXPORT gboolean g_cond_wait_until(GCond *c, GMutex *m, int64_t end_time)
{
	struct lw_cond_wait w;
	gboolean rc = FALSE;
	API_BEGIN;
	lw_cond_wait_begin(&w, c, m, true, LW_SITE());
	PASS(rc = G(g_cond_wait_until) ? real_glib.g_cond_wait_until(c, m, end_time) : FALSE);
	lw_cond_wait_end(&w, c, m, LW_SITE());
	API_END;
	return rc;
}

LW_EXPORT void g_cond_signal(GCond *c)
{
	lw_cond_note_sync(LW_SYNC_COND_SIGNAL, c, LW_SITE());
	PASS(CALL(g_cond_signal, c));
}

LW_EXPORT void g_cond_broadcast(GCond *c)
{
	lw_cond_note_sync(LW_SYNC_COND_BROADCAST, c, LW_SITE());
	PASS(CALL(g_cond_broadcast, c));
}

/* ---- GThread: GLib's pthread_create and pthread_join calls are recorded, as the
 * program's call of the function it gave (lw_api_site, lw_api_start). ---- */

#define AS_PROGRAM(site, start, stmt) do { \
		uintptr_t s_ = lw_api_site, f_ = lw_api_start; \
		if (!s_) { \
			lw_api_site = (site); \
			lw_api_start = (uintptr_t)(start); \
		} \
		stmt; \
		lw_api_site = s_; \
		lw_api_start = f_; \
	} while (0)

LW_EXPORT GThread *g_thread_new(const char *name, GThreadFunc fn, void *data)
{
	GThread *th = NULL;
	AS_PROGRAM(LW_SITE(), fn,
		   th = G(g_thread_new) ? real_glib.g_thread_new(name, fn, data) : NULL);
	return th;
}

LW_EXPORT GThread *g_thread_try_new(const char *name, GThreadFunc fn, void *data, GError **err)
{
	GThread *th = NULL;
	AS_PROGRAM(LW_SITE(), fn,
		   th = G(g_thread_try_new) ? real_glib.g_thread_try_new(name, fn, data, err) : NULL);
	return th;
}

LW_EXPORT void *g_thread_join(GThread *th)
{
	void *ret = NULL;
	AS_PROGRAM(LW_SITE(), 0, ret = G(g_thread_join) ? real_glib.g_thread_join(th) : NULL);
	return ret;
}
