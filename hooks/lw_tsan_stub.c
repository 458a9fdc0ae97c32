/* liblockwatch-hooks.so, ThreadSanitizer's compiler interface: what a program compiled with
 * -fsanitize=thread and linked by `lockwatch cc --tsan-abi` calls.  Memory accesses and
 * function entries do nothing; atomic operations are performed (lw_tsan_atomic.h, shared
 * with the shim) and recorded by nobody, so the program runs unchanged without lockwatch.
 * Under LD_PRELOAD=liblockwatch.so the shim's definitions of the same names come first. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LW_STUB __attribute__((visibility("default")))

#define LW_TSAN_API LW_STUB
#define LW_TSAN_AFTER_LOAD(p, n)   ((void)0)
#define LW_TSAN_BEFORE_STORE(p, n) ((void)0)
#define LW_TSAN_BEFORE_RMW(p, n)   ((void)0)
#define LW_TSAN_AFTER_RMW(p, n)    ((void)0)
#include "lw_tsan_atomic.h"

LW_TSAN_ATOMIC_ENTRY_POINTS

#define LW_TSAN_NOP(name) LW_STUB void name(void *p) { (void)p; }

#define LW_TSAN_ACCESS_STUBS(n)                                         \
	LW_TSAN_NOP(__tsan_read##n)                                     \
	LW_TSAN_NOP(__tsan_write##n)                                    \
	LW_TSAN_NOP(__tsan_volatile_read##n)                            \
	LW_TSAN_NOP(__tsan_volatile_write##n)                           \
	LW_TSAN_NOP(__tsan_read_write##n)

#define LW_TSAN_UNALIGNED_STUBS(n)                                      \
	LW_TSAN_NOP(__tsan_unaligned_read##n)                           \
	LW_TSAN_NOP(__tsan_unaligned_write##n)                          \
	LW_TSAN_NOP(__tsan_unaligned_volatile_read##n)                  \
	LW_TSAN_NOP(__tsan_unaligned_volatile_write##n)                 \
	LW_TSAN_NOP(__tsan_unaligned_read_write##n)

LW_TSAN_ACCESS_STUBS(1)
LW_TSAN_ACCESS_STUBS(2)
LW_TSAN_ACCESS_STUBS(4)
LW_TSAN_ACCESS_STUBS(8)
LW_TSAN_ACCESS_STUBS(16)
LW_TSAN_UNALIGNED_STUBS(2)
LW_TSAN_UNALIGNED_STUBS(4)
LW_TSAN_UNALIGNED_STUBS(8)
LW_TSAN_UNALIGNED_STUBS(16)

LW_TSAN_NOP(__tsan_vptr_read)
LW_TSAN_NOP(__tsan_func_entry)

LW_STUB void __tsan_read_range(void *p, unsigned long size)
{
	(void)p;
	(void)size;
}

LW_STUB void __tsan_write_range(void *p, unsigned long size)
{
	(void)p;
	(void)size;
}

LW_STUB void __tsan_vptr_update(void **p, void *value)
{
	(void)p;
	(void)value;
}

LW_STUB void __tsan_init(void) {}
LW_STUB void __tsan_func_exit(void) {}
LW_STUB void __tsan_ignore_thread_begin(void) {}
LW_STUB void __tsan_ignore_thread_end(void) {}

/* clang 16 and later call these for memcpy, memset and memmove. */
LW_STUB void *__tsan_memcpy(void *dst, const void *src, size_t n)
{
	return memcpy(dst, src, n);
}

LW_STUB void *__tsan_memmove(void *dst, const void *src, size_t n)
{
	return memmove(dst, src, n);
}

LW_STUB void *__tsan_memset(void *dst, int c, size_t n)
{
	return memset(dst, c, n);
}

/* ThreadSanitizer's mutex annotations, which a library built with -fsanitize=thread calls
 * around its own locks (shim/access/annotate_tsan_mutex.c records them). */
#define LW_TSAN_MUTEX_NOP(name) LW_STUB void name(void *addr, unsigned flags) { (void)addr; (void)flags; }
LW_TSAN_MUTEX_NOP(__tsan_mutex_create)
LW_TSAN_MUTEX_NOP(__tsan_mutex_destroy)
LW_TSAN_MUTEX_NOP(__tsan_mutex_pre_lock)
LW_TSAN_MUTEX_NOP(__tsan_mutex_post_unlock)
LW_TSAN_MUTEX_NOP(__tsan_mutex_pre_signal)
LW_TSAN_MUTEX_NOP(__tsan_mutex_post_signal)
LW_TSAN_MUTEX_NOP(__tsan_mutex_pre_divert)
LW_TSAN_MUTEX_NOP(__tsan_mutex_post_divert)

LW_STUB void __tsan_mutex_post_lock(void *addr, unsigned flags, int recursion)
{
	(void)addr;
	(void)flags;
	(void)recursion;
}

LW_STUB int __tsan_mutex_pre_unlock(void *addr, unsigned flags)
{
	(void)addr;
	(void)flags;
	return 0;
}
