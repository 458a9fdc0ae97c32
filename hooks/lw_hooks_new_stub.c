/* liblockwatch-hooks.so's C++ allocation wrappers: `lockwatch cc` links the program's
 * operator new and delete calls to __wrap__Znwm and friends (ld --wrap); without lockwatch
 * these call the operator the program would have called.  Under LD_PRELOAD=liblockwatch.so
 * the shim's definitions (shim/access/hooks_new.c) come first and also name each block.  The
 * operators are weak references: a C program never calls these, and needs no C++ library. */
#include <stddef.h>

#define LW_STUB __attribute__((visibility("default")))
#define LW_WEAK __attribute__((weak))

extern void *_Znwm(size_t) LW_WEAK;
extern void *_Znam(size_t) LW_WEAK;
extern void *_ZnwmRKSt9nothrow_t(size_t, const void *) LW_WEAK;
extern void *_ZnamRKSt9nothrow_t(size_t, const void *) LW_WEAK;
extern void _ZdlPv(void *) LW_WEAK;
extern void _ZdaPv(void *) LW_WEAK;
extern void _ZdlPvm(void *, size_t) LW_WEAK;
extern void _ZdaPvm(void *, size_t) LW_WEAK;
extern void _ZdlPvRKSt9nothrow_t(void *, const void *) LW_WEAK;
extern void _ZdaPvRKSt9nothrow_t(void *, const void *) LW_WEAK;
/* The aligned forms: std::align_val_t is a size_t. */
extern void *_ZnwmSt11align_val_t(size_t, size_t) LW_WEAK;
extern void *_ZnamSt11align_val_t(size_t, size_t) LW_WEAK;
extern void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *) LW_WEAK;
extern void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *) LW_WEAK;
extern void _ZdlPvSt11align_val_t(void *, size_t) LW_WEAK;
extern void _ZdaPvSt11align_val_t(void *, size_t) LW_WEAK;
extern void _ZdlPvmSt11align_val_t(void *, size_t, size_t) LW_WEAK;
extern void _ZdaPvmSt11align_val_t(void *, size_t, size_t) LW_WEAK;
extern void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *) LW_WEAK;
extern void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *) LW_WEAK;

LW_STUB void *__wrap__Znwm(size_t n) { return _Znwm(n); }
LW_STUB void *__wrap__Znam(size_t n) { return _Znam(n); }
LW_STUB void *__wrap__ZnwmRKSt9nothrow_t(size_t n, const void *t)
{
	return _ZnwmRKSt9nothrow_t(n, t);
}
LW_STUB void *__wrap__ZnamRKSt9nothrow_t(size_t n, const void *t)
{
	return _ZnamRKSt9nothrow_t(n, t);
}
LW_STUB void __wrap__ZdlPv(void *p) { _ZdlPv(p); }
LW_STUB void __wrap__ZdaPv(void *p) { _ZdaPv(p); }
LW_STUB void __wrap__ZdlPvm(void *p, size_t n) { _ZdlPvm(p, n); }
LW_STUB void __wrap__ZdaPvm(void *p, size_t n) { _ZdaPvm(p, n); }
LW_STUB void __wrap__ZdlPvRKSt9nothrow_t(void *p, const void *t) { _ZdlPvRKSt9nothrow_t(p, t); }
LW_STUB void __wrap__ZdaPvRKSt9nothrow_t(void *p, const void *t) { _ZdaPvRKSt9nothrow_t(p, t); }
LW_STUB void *__wrap__ZnwmSt11align_val_t(size_t n, size_t a)
{
	return _ZnwmSt11align_val_t(n, a);
}
LW_STUB void *__wrap__ZnamSt11align_val_t(size_t n, size_t a)
{
	return _ZnamSt11align_val_t(n, a);
}
LW_STUB void *__wrap__ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t a, const void *t)
{
	return _ZnwmSt11align_val_tRKSt9nothrow_t(n, a, t);
}
LW_STUB void *__wrap__ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t a, const void *t)
{
	return _ZnamSt11align_val_tRKSt9nothrow_t(n, a, t);
}
LW_STUB void __wrap__ZdlPvSt11align_val_t(void *p, size_t a) { _ZdlPvSt11align_val_t(p, a); }
LW_STUB void __wrap__ZdaPvSt11align_val_t(void *p, size_t a) { _ZdaPvSt11align_val_t(p, a); }
LW_STUB void __wrap__ZdlPvmSt11align_val_t(void *p, size_t n, size_t a)
{
	_ZdlPvmSt11align_val_t(p, n, a);
}
LW_STUB void __wrap__ZdaPvmSt11align_val_t(void *p, size_t n, size_t a)
{
	_ZdaPvmSt11align_val_t(p, n, a);
}
LW_STUB void __wrap__ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t a, const void *t)
{
	_ZdlPvSt11align_val_tRKSt9nothrow_t(p, a, t);
}
LW_STUB void __wrap__ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t a, const void *t)
{
	_ZdaPvSt11align_val_tRKSt9nothrow_t(p, a, t);
}
