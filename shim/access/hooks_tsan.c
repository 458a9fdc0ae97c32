/* ThreadSanitizer's compiler interface (the "TSan ABI"): the __tsan_* functions a program
 * compiled with -fsanitize=thread calls, recorded through the same filter as clang's
 * load/store hooks, for programs linked without ThreadSanitizer's runtime. */
#include <dlfcn.h>
#include <string.h>
#include "access/hooks.h"
#include "core/defs.h"

/*
 * gcc 12 and clang 14 call, in an instrumented function:
 *   __tsan_func_entry(caller pc), __tsan_func_exit()       here nothing: stacks come from
 *                                                          libunwind, not a shadow stack
 *   __tsan_{read,write}{1,2,4,8,16}(addr)                  a plain access, as
 *   __tsan_unaligned_{read,write}{2,4,8,16}(addr)            __sanitizer_cov_load/store*
 *   __tsan_{read,write}_range(addr, size)                  gcc: aggregate copies
 *   __tsan_vptr_read(addr), __tsan_vptr_update(addr, new)  C++ virtual table pointers
 *   __tsan_atomicN_*(addr, ..., order)                     performed, then recorded as the
 *                                                            __lockwatch_cov_atomic_* hooks
 *   __tsan_atomic_{thread,signal}_fence(order)             performed, not recorded
 * and each object's constructor calls __tsan_init().  With options they also call
 * __tsan_volatile_* (gcc --param tsan-distinguish-volatile=1, clang -mllvm
 * -tsan-distinguish-volatile) and __tsan_read_write* (clang -mllvm
 * -tsan-compound-read-before-write); clang 16 and later call __tsan_memcpy, __tsan_memset
 * and __tsan_memmove.  All are defined here.
 *
 * A volatile access is a plain one (volatile does not synchronise).  A vptr update that
 * stores the value already there is not a write (a constructor of a derived class rewrites
 * the vptr its base's constructor set), as in ThreadSanitizer.  Between
 * __tsan_ignore_thread_begin and _end (clang emits them around Objective-C methods only)
 * the thread's plain accesses are not recorded; its atomics are.
 */

#define LW_PC() ((uintptr_t)__builtin_return_address(0))

/* The thread's __tsan_ignore_thread_begin nesting. */
static __thread unsigned ignore_depth __attribute__((tls_model("initial-exec")));

/* medium: the access's medium path (hooks.h), NULL for any. */
static inline __attribute__((always_inline)) void plain(const void *p, unsigned size,
							 unsigned flags, uintptr_t pc,
							 lw_medium_fn *medium)
{
	if (LW_LIKELY(ignore_depth == 0))
		lw_hook_fast((uintptr_t)p, size, flags, pc, medium);
}

/* A range the program reads or writes (hooks.c), outside __tsan_ignore_thread_begin/_end. */
static void read_range(const void *p, size_t size, uintptr_t pc)
{
	if (ignore_depth == 0)
		lw_hook_read_range((uintptr_t)p, size, pc);
}

static void write_range(const void *p, size_t size, uintptr_t pc)
{
	if (ignore_depth == 0)
		lw_hook_write_range((uintptr_t)p, size, pc);
}

#define LW_TSAN_ACCESS(name, n, flags)                                                       \
	LW_EXPORT void name(void *p) { plain(p, n, flags, LW_PC(), LW_HOOK_MEDIUM(n, flags)); }

#define LW_TSAN_READ_WRITE(name, n)                                                          \
	LW_EXPORT void name(void *p)                                                         \
	{                                                                                    \
		plain(p, n, LW_ACCESS_READ, LW_PC(), lw_hook_medium_read##n);                \
		plain(p, n, LW_ACCESS_WRITE, LW_PC(), lw_hook_medium_write##n);              \
	}

#define LW_TSAN_ACCESSES(n)                                                                  \
	LW_TSAN_ACCESS(__tsan_read##n, n, LW_ACCESS_READ)                                    \
	LW_TSAN_ACCESS(__tsan_write##n, n, LW_ACCESS_WRITE)                                  \
	LW_TSAN_ACCESS(__tsan_volatile_read##n, n, LW_ACCESS_READ)                           \
	LW_TSAN_ACCESS(__tsan_volatile_write##n, n, LW_ACCESS_WRITE)                         \
	LW_TSAN_READ_WRITE(__tsan_read_write##n, n)

#define LW_TSAN_UNALIGNED(n)                                                                 \
	LW_TSAN_ACCESS(__tsan_unaligned_read##n, n, LW_ACCESS_READ)                          \
	LW_TSAN_ACCESS(__tsan_unaligned_write##n, n, LW_ACCESS_WRITE)                        \
	LW_TSAN_ACCESS(__tsan_unaligned_volatile_read##n, n, LW_ACCESS_READ)                 \
	LW_TSAN_ACCESS(__tsan_unaligned_volatile_write##n, n, LW_ACCESS_WRITE)               \
	LW_TSAN_READ_WRITE(__tsan_unaligned_read_write##n, n)

LW_TSAN_ACCESSES(1)
LW_TSAN_ACCESSES(2)
LW_TSAN_ACCESSES(4)
LW_TSAN_ACCESSES(8)
LW_TSAN_ACCESSES(16)
LW_TSAN_UNALIGNED(2)
LW_TSAN_UNALIGNED(4)
LW_TSAN_UNALIGNED(8)
LW_TSAN_UNALIGNED(16)

LW_EXPORT void __tsan_read_range(void *p, unsigned long size)
{
	read_range(p, size, LW_PC());
}

LW_EXPORT void __tsan_write_range(void *p, unsigned long size)
{
	write_range(p, size, LW_PC());
}

LW_EXPORT void __tsan_vptr_read(void **p)
{
	plain(p, sizeof *p, LW_ACCESS_READ, LW_PC(), lw_hook_medium_read8);
}

LW_EXPORT void __tsan_vptr_update(void **p, void *value)
{
	if (__atomic_load_n(p, __ATOMIC_RELAXED) != value)
		plain(p, sizeof *p, LW_ACCESS_WRITE, LW_PC(), lw_hook_medium_write8);
}

LW_EXPORT void *__tsan_memcpy(void *dst, const void *src, size_t n)
{
	read_range(src, n, LW_PC());
	write_range(dst, n, LW_PC());
	return memcpy(dst, src, n);
}

LW_EXPORT void *__tsan_memmove(void *dst, const void *src, size_t n)
{
	read_range(src, n, LW_PC());
	write_range(dst, n, LW_PC());
	return memmove(dst, src, n);
}

LW_EXPORT void *__tsan_memset(void *dst, int c, size_t n)
{
	write_range(dst, n, LW_PC());
	return memset(dst, c, n);
}

/* Called by every instrumented object's constructor, maybe before ours: the shim starts
 * on its own (lazily), so there is nothing to do. */
LW_EXPORT void __tsan_init(void) {}
LW_EXPORT void __tsan_func_entry(void *pc) { (void)pc; }
LW_EXPORT void __tsan_func_exit(void) {}
LW_EXPORT void __tsan_ignore_thread_begin(void) { ignore_depth++; }
LW_EXPORT void __tsan_ignore_thread_end(void) { if (ignore_depth) ignore_depth--; }

/* The atomics (lw_tsan_atomic.h, shared with liblockwatch-hooks.so): a load is recorded
 * after it (its acquire), a store before it (its release), a read-modify-write or a
 * compare-exchange before (release) and after (acquire), whatever its memory order or
 * outcome: every atomic access counts as sequentially consistent on its address, which can
 * hide a race, never invent one. */
#define LW_TSAN_API LW_EXPORT
#define LW_TSAN_AFTER_LOAD(p, n)                                                             \
	lw_hook_slow((uintptr_t)(p), n, LW_ACCESS_READ | LW_ACCESS_ATOMIC, LW_PC())
#define LW_TSAN_BEFORE_STORE(p, n)                                                           \
	lw_hook_slow((uintptr_t)(p), n, LW_ACCESS_WRITE | LW_ACCESS_ATOMIC, LW_PC())
#define LW_TSAN_BEFORE_RMW(p, n)                                                             \
	lw_hook_slow((uintptr_t)(p), n, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC,    \
		     LW_PC())
#define LW_TSAN_AFTER_RMW(p, n) LW_TSAN_BEFORE_RMW(p, n)
#include "lw_tsan_atomic.h"

LW_TSAN_ATOMIC_ENTRY_POINTS

/* ThreadSanitizer's runtime defines its Java interface; neither lockwatch library does. */
bool lw_tsan_runtime_loaded(void)
{
	return dlsym(RTLD_DEFAULT, "__tsan_java_init") != NULL;
}
