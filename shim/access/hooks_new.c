/* Hook mode's C++ heap blocks: the ld --wrap targets `lockwatch cc` links the program's
 * operator new and delete calls to, which name each block as hooks_heap.c does malloc's. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "access/hooks.h"
#include "access/watch.h"
#include "core/defs.h"
#include "core/threads.h"

/*
 * The program's own calls only (a block libstdc++ allocates inside itself is not seen).
 * Each wrapper calls the operator the program would have called, found by name as the
 * program would find it (RTLD_DEFAULT: a program that defines its own operator new keeps
 * it), and returns what it returned; an exception it throws passes through.  A block is
 * named, and a delete counts as a write to it, only when the operator is the C++ library's
 * (libstdc++ or libc++), whose blocks come from malloc (aligned_alloc for the aligned
 * forms, std::align_val_t): another allocator's blocks are not malloc's to measure.
 */

enum cxx_op {
	NEW, NEW_ARRAY, NEW_NOTHROW, NEW_ARRAY_NOTHROW,
	DELETE, DELETE_ARRAY, DELETE_SIZED, DELETE_ARRAY_SIZED, DELETE_NOTHROW,
	DELETE_ARRAY_NOTHROW,
	NEW_ALIGNED, NEW_ARRAY_ALIGNED, NEW_ALIGNED_NOTHROW, NEW_ARRAY_ALIGNED_NOTHROW,
	DELETE_ALIGNED, DELETE_ARRAY_ALIGNED, DELETE_SIZED_ALIGNED, DELETE_ARRAY_SIZED_ALIGNED,
	DELETE_ALIGNED_NOTHROW, DELETE_ARRAY_ALIGNED_NOTHROW, N_CXX_OPS
};

static const char *const op_names[N_CXX_OPS] = {
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	"_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
	"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
	"_ZnamSt11align_val_tRKSt9nothrow_t",
	"_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t", "_ZdlPvmSt11align_val_t",
	"_ZdaPvmSt11align_val_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
	"_ZdaPvSt11align_val_tRKSt9nothrow_t",
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
typedef void *(*new_aligned_fn)(size_t, size_t);       /* std::align_val_t is a size_t */
typedef void *(*new_aligned_nothrow_fn)(size_t, size_t, const void *);
typedef void (*delete_fn)(void *);
typedef void (*delete_sized_fn)(void *, size_t);       /* or aligned: (void *, align_val_t) */
typedef void (*delete_sized_aligned_fn)(void *, size_t, size_t);
typedef void (*delete_nothrow_fn)(void *, const void *);
typedef void (*delete_aligned_nothrow_fn)(void *, size_t, const void *);

/* What the aligned operators do when none is found: aligned_alloc wants a size that is a
 * multiple of the alignment. */
static void *alloc_aligned(size_t n, size_t al)
{
	return aligned_alloc(al, n % al ? n + (al - n % al) : n);
}

/* Calls operator new (or new[]) i for n bytes, with the alignment al of an aligned form
 * (else 0) and the std::nothrow tag of a nothrow form (else NULL); names the block it
 * returns. */
static void *call_new(enum cxx_op i, size_t n, size_t al, const void *tag, uint16_t fn,
		      uintptr_t pc)
{
	void *f = op(i), *p;
	if (!f)
		p = al ? alloc_aligned(n, al) : malloc(n);
	else if (al)
		p = tag ? ((new_aligned_nothrow_fn)f)(n, al, tag) : ((new_aligned_fn)f)(n, al);
	else
		p = tag ? ((new_nothrow_fn)f)(n, tag) : ((new_fn)f)(n);
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
	return call_new(NEW, n, 0, NULL, LW_ALLOC_NEW, LW_PC());
}

LW_EXPORT void *__wrap__Znam(size_t n)
{
	return call_new(NEW_ARRAY, n, 0, NULL, LW_ALLOC_NEW_ARRAY, LW_PC());
}

LW_EXPORT void *__wrap__ZnwmRKSt9nothrow_t(size_t n, const void *tag)
{
	return call_new(NEW_NOTHROW, n, 0, tag, LW_ALLOC_NEW, LW_PC());
}

LW_EXPORT void *__wrap__ZnamRKSt9nothrow_t(size_t n, const void *tag)
{
	return call_new(NEW_ARRAY_NOTHROW, n, 0, tag, LW_ALLOC_NEW_ARRAY, LW_PC());
}

/* An exported operator delete with parameters params: the write of its block, then the
 * operator it stands for (i, of type fn_type, called with args), or free when there is
 * none. */
#define LW_DELETE(name, i, fn_type, params, args)                                       \
	LW_EXPORT void __wrap_##name params                                             \
	{                                                                               \
		fn_type f = (fn_type)deleting(i, p, LW_PC());                           \
		f ? f args : free(p);                                                   \
	}

LW_DELETE(_ZdlPv, DELETE, delete_fn, (void *p), (p))
LW_DELETE(_ZdaPv, DELETE_ARRAY, delete_fn, (void *p), (p))
LW_DELETE(_ZdlPvm, DELETE_SIZED, delete_sized_fn, (void *p, size_t n), (p, n))
LW_DELETE(_ZdaPvm, DELETE_ARRAY_SIZED, delete_sized_fn, (void *p, size_t n), (p, n))
LW_DELETE(_ZdlPvRKSt9nothrow_t, DELETE_NOTHROW, delete_nothrow_fn,
	  (void *p, const void *tag), (p, tag))
LW_DELETE(_ZdaPvRKSt9nothrow_t, DELETE_ARRAY_NOTHROW, delete_nothrow_fn,
	  (void *p, const void *tag), (p, tag))

LW_EXPORT void *__wrap__ZnwmSt11align_val_t(size_t n, size_t al)
{
	return call_new(NEW_ALIGNED, n, al, NULL, LW_ALLOC_NEW, LW_PC());
}

LW_EXPORT void *__wrap__ZnamSt11align_val_t(size_t n, size_t al)
{
	return call_new(NEW_ARRAY_ALIGNED, n, al, NULL, LW_ALLOC_NEW_ARRAY, LW_PC());
}

LW_EXPORT void *__wrap__ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *tag)
{
	return call_new(NEW_ALIGNED_NOTHROW, n, al, tag, LW_ALLOC_NEW, LW_PC());
}

LW_EXPORT void *__wrap__ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *tag)
{
	return call_new(NEW_ARRAY_ALIGNED_NOTHROW, n, al, tag, LW_ALLOC_NEW_ARRAY, LW_PC());
}

LW_DELETE(_ZdlPvSt11align_val_t, DELETE_ALIGNED, delete_sized_fn,
	  (void *p, size_t al), (p, al))
LW_DELETE(_ZdaPvSt11align_val_t, DELETE_ARRAY_ALIGNED, delete_sized_fn,
	  (void *p, size_t al), (p, al))
LW_DELETE(_ZdlPvmSt11align_val_t, DELETE_SIZED_ALIGNED, delete_sized_aligned_fn,
	  (void *p, size_t n, size_t al), (p, n, al))
LW_DELETE(_ZdaPvmSt11align_val_t, DELETE_ARRAY_SIZED_ALIGNED, delete_sized_aligned_fn,
	  (void *p, size_t n, size_t al), (p, n, al))
LW_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, DELETE_ALIGNED_NOTHROW,
	  delete_aligned_nothrow_fn, (void *p, size_t al, const void *tag), (p, al, tag))
LW_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, DELETE_ARRAY_ALIGNED_NOTHROW,
	  delete_aligned_nothrow_fn, (void *p, size_t al, const void *tag), (p, al, tag))
