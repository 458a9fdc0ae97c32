/* Hook mode's C++ heap blocks: the ld --wrap targets `lockwatch cc` links the program's
 * operator new and delete calls to, which name each block as hooks_heap.c does malloc's. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "watch.h"

/*
 * The program's own calls only (a block libstdc++ allocates inside itself is not seen).
 * Each wrapper calls the operator the program would have called, found by name as the
 * program would find it (RTLD_DEFAULT: a program that defines its own operator new keeps
 * it), and returns what it returned; an exception it throws passes through.  A block is
 * named, and a delete counts as a write to it, only when the operator is the C++ library's
 * (libstdc++ or libc++), whose blocks come from malloc: another allocator's blocks are not
 * malloc's to measure.  The aligned forms (std::align_val_t) are not wrapped: their blocks
 * are named by address.
 */

enum cxx_op {
	NEW, NEW_ARRAY, NEW_NOTHROW, NEW_ARRAY_NOTHROW,
	DELETE, DELETE_ARRAY, DELETE_SIZED, DELETE_ARRAY_SIZED, DELETE_NOTHROW,
	DELETE_ARRAY_NOTHROW, N_CXX_OPS
};

static const char *const op_names[N_CXX_OPS] = {
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	"_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
};

static struct {
	void *fn;                    /* the operator, or NULL before the first call */
	int standard;                /* 1: the C++ library's; 0: the program's own or unknown */
} ops[N_CXX_OPS];

/* The operator the program's call meant, looked up once; NULL only if nothing defines it
 * (the program then could not have called it). */
static void *op(enum cxx_op i)
{
	void *f = __atomic_load_n(&ops[i].fn, __ATOMIC_ACQUIRE);
	if (LW_LIKELY(f != NULL))
		return f;
	int saved = lw_guard;
	lw_guard = 1;
	f = dlsym(RTLD_DEFAULT, op_names[i]);
	Dl_info info;
	int standard = f && dladdr(f, &info) && info.dli_fname &&
		       (strstr(info.dli_fname, "libstdc++") || strstr(info.dli_fname, "libc++"));
	lw_guard = saved;
	__atomic_store_n(&ops[i].standard, standard, __ATOMIC_RELAXED);
	__atomic_store_n(&ops[i].fn, f, __ATOMIC_RELEASE);
	return f;
}

static int standard(enum cxx_op i)
{
	return __atomic_load_n(&ops[i].standard, __ATOMIC_RELAXED);
}

#define LW_PC() ((uintptr_t)__builtin_return_address(0))

typedef void *(*new_fn)(size_t);
typedef void *(*new_nothrow_fn)(size_t, const void *);
typedef void (*delete_fn)(void *);
typedef void (*delete_sized_fn)(void *, size_t);
typedef void (*delete_nothrow_fn)(void *, const void *);

/* Calls operator new (or new[]) i; names the block it returns. */
static void *call_new(enum cxx_op i, size_t n, uint16_t fn, uintptr_t pc)
{
	new_fn f = (new_fn)op(i);
	void *p = f ? f(n) : malloc(n);
	if (standard(i))
		lw_hooks_allocated(p, n, fn, pc);
	return p;
}

static void *call_new_nothrow(enum cxx_op i, size_t n, const void *tag, uint16_t fn,
			      uintptr_t pc)
{
	new_nothrow_fn f = (new_nothrow_fn)op(i);
	void *p = f ? f(n, tag) : malloc(n);
	if (standard(i))
		lw_hooks_allocated(p, n, fn, pc);
	return p;
}

/* Before operator delete i frees p: a write to the whole block.  Returns the operator. */
static void *deleting(enum cxx_op i, void *p, uintptr_t pc)
{
	void *f = op(i);
	if (p && !lw_guard && standard(i))
		lw_hooks_free((uintptr_t)p, malloc_usable_size(p), pc);
	return f;
}

LW_EXPORT void *__wrap__Znwm(size_t n)
{
	return call_new(NEW, n, LW_ALLOC_NEW, LW_PC());
}

LW_EXPORT void *__wrap__Znam(size_t n)
{
	return call_new(NEW_ARRAY, n, LW_ALLOC_NEW_ARRAY, LW_PC());
}

LW_EXPORT void *__wrap__ZnwmRKSt9nothrow_t(size_t n, const void *tag)
{
	return call_new_nothrow(NEW_NOTHROW, n, tag, LW_ALLOC_NEW, LW_PC());
}

LW_EXPORT void *__wrap__ZnamRKSt9nothrow_t(size_t n, const void *tag)
{
	return call_new_nothrow(NEW_ARRAY_NOTHROW, n, tag, LW_ALLOC_NEW_ARRAY, LW_PC());
}

LW_EXPORT void __wrap__ZdlPv(void *p)
{
	delete_fn f = (delete_fn)deleting(DELETE, p, LW_PC());
	f ? f(p) : free(p);
}

LW_EXPORT void __wrap__ZdaPv(void *p)
{
	delete_fn f = (delete_fn)deleting(DELETE_ARRAY, p, LW_PC());
	f ? f(p) : free(p);
}

LW_EXPORT void __wrap__ZdlPvm(void *p, size_t n)
{
	delete_sized_fn f = (delete_sized_fn)deleting(DELETE_SIZED, p, LW_PC());
	f ? f(p, n) : free(p);
}

LW_EXPORT void __wrap__ZdaPvm(void *p, size_t n)
{
	delete_sized_fn f = (delete_sized_fn)deleting(DELETE_ARRAY_SIZED, p, LW_PC());
	f ? f(p, n) : free(p);
}

LW_EXPORT void __wrap__ZdlPvRKSt9nothrow_t(void *p, const void *tag)
{
	delete_nothrow_fn f = (delete_nothrow_fn)deleting(DELETE_NOTHROW, p, LW_PC());
	f ? f(p, tag) : free(p);
}

LW_EXPORT void __wrap__ZdaPvRKSt9nothrow_t(void *p, const void *tag)
{
	delete_nothrow_fn f = (delete_nothrow_fn)deleting(DELETE_ARRAY_NOTHROW, p, LW_PC());
	f ? f(p, tag) : free(p);
}
