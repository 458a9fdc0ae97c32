/* C11 <threads.h>: mtx_*, cnd_* and thrd_*.  glibc implements them on its internal pthread
 * functions, not through the exported (interposed) ones, so they are wrapped here and
 * recorded as the pthread objects they are: a mtx_t is a mutex (LW_LOCKF_API_C11), a cnd_t a
 * condition variable, a thrd_create'd thread a thread. */
#include <dlfcn.h>
#include <threads.h>
#include "locks/wrap.h"
#include "core/msg.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/trace_writer.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"

/* The real functions: glibc 2.34 moved them from libpthread (GLIBC_2.28) into libc
 * (GLIBC_2.34), the same code under both versions; the newer is what programs link to. */
static struct {
	int (*mtx_init)(mtx_t *, int);
	void (*mtx_destroy)(mtx_t *);
	int (*mtx_lock)(mtx_t *);
	int (*mtx_trylock)(mtx_t *);
	int (*mtx_timedlock)(mtx_t *__restrict, const struct timespec *__restrict);
	int (*mtx_unlock)(mtx_t *);
	int (*cnd_init)(cnd_t *);
	void (*cnd_destroy)(cnd_t *);
	int (*cnd_wait)(cnd_t *, mtx_t *);
	int (*cnd_timedwait)(cnd_t *__restrict, mtx_t *__restrict, const struct timespec *__restrict);
	int (*cnd_signal)(cnd_t *);
	int (*cnd_broadcast)(cnd_t *);
	int (*thrd_create)(thrd_t *, thrd_start_t, void *);
	int (*thrd_join)(thrd_t, int *);
	int (*thrd_detach)(thrd_t);
} real_c11;

static void *resolve(const char *name)
{
	void *p = dlvsym(RTLD_NEXT, name, "GLIBC_2.34");
	if (!p)
		p = dlvsym(RTLD_NEXT, name, "GLIBC_2.28");
	if (!p)
		p = dlsym(RTLD_NEXT, name);
	return p;
}

#define C11(fn) (LW_LIKELY(real_c11.fn != NULL) ? real_c11.fn : \
	(__atomic_store_n((void **)&real_c11.fn, resolve(#fn), __ATOMIC_RELEASE), real_c11.fn))

/* ---- mtx_t ---- */

LW_EXPORT int mtx_init(mtx_t *m, int type)
{
	lw_note_reinit(m, LW_LOCK_MUTEX, LW_SITE(), LW_CFA());   /* issue 22, as pthread's */
	int rc = C11(mtx_init)(m, type);
	if (rc == thrd_success)
		lw_note_init_at(m, LW_LOCK_MUTEX,
				LW_LOCKF_API_C11 | ((type & mtx_recursive) ? LW_LOCKF_RECURSIVE : 0),
				LW_SITE(), LW_CFA());
	return rc;
}

LW_EXPORT void mtx_destroy(mtx_t *m)
{
	lw_note_destroy(m, LW_LOCK_MUTEX, LW_SITE());
	C11(mtx_destroy)(m);
}

/* Tries first, as pthread_mutex_lock's wrapper does: only a busy mutex publishes its wait
 * (and a relock by its owner, which never returns, is noted). */
LW_EXPORT int mtx_lock(mtx_t *m)
{
	struct lw_acq a;
	if (!lw_acq_begin(&a, m, LW_LOCK_MUTEX, LW_MODE_WRITE, 0, LW_SITE()))
		return C11(mtx_lock)(m);
	int rc = C11(mtx_trylock)(m);
	if (rc == thrd_busy) {
		lw_acq_blocking(&a);
		rc = C11(mtx_lock)(m);
		lw_wait_end(a.t);
	}
	if (rc == thrd_success)
		lw_acq_end(&a);
	return rc;
}

LW_EXPORT int mtx_trylock(mtx_t *m)
{
	LW_ACQUIRE(C11(mtx_trylock)(m), m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TRY);
}

LW_EXPORT int mtx_timedlock(mtx_t *__restrict m, const struct timespec *__restrict abs)
{
	LW_ACQUIRE(C11(mtx_timedlock)(m, abs), m, LW_LOCK_MUTEX, LW_MODE_WRITE, LW_ACQF_TIMED);
}

LW_EXPORT int mtx_unlock(mtx_t *m)
{
	LW_RELEASE(C11(mtx_unlock)(m), m);
}

/* ---- cnd_t ---- */

LW_EXPORT int cnd_init(cnd_t *c)
{
	lw_note_reinit(c, LW_LOCK_COND, LW_SITE(), LW_CFA());   /* issue 22, as pthread's */
	int rc = C11(cnd_init)(c);
	if (rc == thrd_success)
		lw_note_init_at(c, LW_LOCK_COND, LW_LOCKF_API_C11, LW_SITE(), LW_CFA());
	return rc;
}

LW_EXPORT void cnd_destroy(cnd_t *c)
{
	struct lw_thread *t = lw_cond_destroy_begin(c, LW_SITE());
	C11(cnd_destroy)(c);
	lw_cond_destroy_end(t);
}


LW_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
	LW_COND_WAIT(false, C11(cnd_wait)(c, m));
}

LW_EXPORT int cnd_timedwait(cnd_t *__restrict c, mtx_t *__restrict m,
			    const struct timespec *__restrict abs)
{
	LW_COND_WAIT(true, C11(cnd_timedwait)(c, m, abs));
}

LW_EXPORT int cnd_signal(cnd_t *c)
{
	lw_cond_note_sync(LW_SYNC_COND_SIGNAL, c, LW_SITE());
	return C11(cnd_signal)(c);
}

LW_EXPORT int cnd_broadcast(cnd_t *c)
{
	lw_cond_note_sync(LW_SYNC_COND_BROADCAST, c, LW_SITE());
	return C11(cnd_broadcast)(c);
}

/* ---- thrd_t (a pthread_t in glibc) ---- */

/* A C11 thread's start: returns the int its function returns (glibc calls it as one). */
static int trampoline(void *arg)
{
	void *(*fn)(void *);
	void *farg;
	int ret;
	struct lw_thread *t = lw_thread_begin(arg, &fn, &farg);
	pthread_cleanup_push(lw_thread_cleanup, t);
	ret = ((thrd_start_t)(void (*)(void))fn)(farg);
	pthread_cleanup_pop(1);
	return ret;
}

LW_EXPORT int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
	struct lw_thread *child;
	struct lw_start *s = lw_create_begin((void *(*)(void *))(void (*)(void))fn, arg, false,
					     LW_SITE(), &child);
	if (!s)
		return C11(thrd_create)(thr, fn, arg);
	int rc = C11(thrd_create)(thr, trampoline, s);
	lw_create_end(s, child, false, rc == thrd_success, rc == thrd_success ? *thr : 0);
	return rc;
}

LW_EXPORT int thrd_join(thrd_t thr, int *res)
{
	struct lw_join w;
	int rc;
	lw_join_begin(&w, thr, LW_SITE());
	pthread_cleanup_push(lw_join_cancelled, &w);
	rc = C11(thrd_join)(thr, res);
	pthread_cleanup_pop(0);
	lw_join_end(&w, rc == thrd_success);
	return rc;
}

LW_EXPORT int thrd_detach(thrd_t thr)
{
	int rc = C11(thrd_detach)(thr);
	if (rc == thrd_success)
		lw_detached(thr);
	return rc;
}
