/* The real pthread and semaphore functions, found once with dlsym/dlvsym. */
#include <dlfcn.h>
#include "core/real.h"

struct lw_real lw_real;

#define GET(field, name) \
	do { if (!lw_real.field) \
		__atomic_store_n((void **)&lw_real.field, dlsym(RTLD_NEXT, name), __ATOMIC_RELEASE); \
	} while (0)
/* The condition variable family exists in two ABIs; programs built since glibc 2.3.2 use this
 * one, and dlsym alone may hand back the old one. */
#define GETV(field, name, ver) \
	do { if (!lw_real.field) { \
		void *p_ = dlvsym(RTLD_NEXT, name, ver); \
		if (!p_) p_ = dlsym(RTLD_NEXT, name); \
		__atomic_store_n((void **)&lw_real.field, p_, __ATOMIC_RELEASE); \
	} } while (0)

void *lw_real_fn(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

void lw_real_resolve(void)
{
	GET(mutex_init, "pthread_mutex_init");
	GET(mutex_destroy, "pthread_mutex_destroy");
	GET(mutex_lock, "pthread_mutex_lock");
	GET(mutex_trylock, "pthread_mutex_trylock");
	GET(mutex_timedlock, "pthread_mutex_timedlock");
	GET(mutex_clocklock, "pthread_mutex_clocklock");
	GET(mutex_unlock, "pthread_mutex_unlock");
	GET(rwlock_init, "pthread_rwlock_init");
	GET(rwlock_destroy, "pthread_rwlock_destroy");
	GET(rwlock_rdlock, "pthread_rwlock_rdlock");
	GET(rwlock_wrlock, "pthread_rwlock_wrlock");
	GET(rwlock_tryrdlock, "pthread_rwlock_tryrdlock");
	GET(rwlock_trywrlock, "pthread_rwlock_trywrlock");
	GET(rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
	GET(rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
	GET(rwlock_clockrdlock, "pthread_rwlock_clockrdlock");
	GET(rwlock_clockwrlock, "pthread_rwlock_clockwrlock");
	GET(rwlock_unlock, "pthread_rwlock_unlock");
	GET(spin_init, "pthread_spin_init");
	GET(spin_destroy, "pthread_spin_destroy");
	GET(spin_lock, "pthread_spin_lock");
	GET(spin_trylock, "pthread_spin_trylock");
	GET(spin_unlock, "pthread_spin_unlock");
	GETV(cond_wait, "pthread_cond_wait", "GLIBC_2.3.2");
	GETV(cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2");
	GET(cond_clockwait, "pthread_cond_clockwait");
	GETV(cond_signal, "pthread_cond_signal", "GLIBC_2.3.2");
	GETV(cond_broadcast, "pthread_cond_broadcast", "GLIBC_2.3.2");
	GETV(cond_init, "pthread_cond_init", "GLIBC_2.3.2");
	GETV(cond_destroy, "pthread_cond_destroy", "GLIBC_2.3.2");
	GET(sem_init, "sem_init");
	GET(sem_destroy, "sem_destroy");
	GET(sem_wait, "sem_wait");
	GET(sem_trywait, "sem_trywait");
	GET(sem_timedwait, "sem_timedwait");
	GET(sem_clockwait, "sem_clockwait");
	GET(sem_post, "sem_post");
	GET(sem_open, "sem_open");
	GET(sem_close, "sem_close");
	GET(create, "pthread_create");
	GET(join, "pthread_join");
	GET(detach, "pthread_detach");
	GET(cancel, "pthread_cancel");                    /* issue 22 */
	GET(exit, "pthread_exit");
	GET(barrier_wait, "pthread_barrier_wait");
	GET(barrier_init, "pthread_barrier_init");        /* issue 22 */
	GET(barrier_destroy, "pthread_barrier_destroy");
	GET(fork, "fork");
	GET(access, "access");
	GET(stat, "stat");
	GET(stat64, "stat64");
	GET(lstat, "lstat");
	GET(lstat64, "lstat64");
	GET(fstatat, "fstatat");
	GET(fstatat64, "fstatat64");
	GET(xstat, "__xstat");
	GET(xstat64, "__xstat64");
	GET(lxstat, "__lxstat");
	GET(lxstat64, "__lxstat64");
	GET(fxstatat, "__fxstatat");
	GET(fxstatat64, "__fxstatat64");
	GET(open, "open");
	GET(open64, "open64");
	GET(openat, "openat");
	GET(openat64, "openat64");
	GET(creat, "creat");
	GET(creat64, "creat64");
	GET(unlink, "unlink");
	GET(rename, "rename");
	/* wrap_flock.c */
	GET(fcntl, "fcntl");
	GET(fcntl64, "fcntl64");
	GET(lockf, "lockf");
	GET(lockf64, "lockf64");
	GET(flock, "flock");
	GET(close, "close");
	GET(once, "pthread_once");   /* issue 20 */
}
