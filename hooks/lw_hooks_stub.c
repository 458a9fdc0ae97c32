/* liblockwatch-hooks.so: no-op definitions of the compiler hooks, so that a program built
 * with `lockwatch cc` runs unchanged without lockwatch.  Under LD_PRELOAD=liblockwatch.so
 * the shim's definitions of the same names come first and these are never called. */
#include <stdint.h>

#define LW_STUB __attribute__((visibility("default")))

#define LW_STUBS(n)                                                   \
	LW_STUB void __sanitizer_cov_load##n(void *p) { (void)p; }     \
	LW_STUB void __sanitizer_cov_store##n(void *p) { (void)p; }    \
	LW_STUB void __lockwatch_cov_atomic_load##n(void *p) { (void)p; } \
	LW_STUB void __lockwatch_cov_atomic_store##n(void *p) { (void)p; }

LW_STUBS(1)
LW_STUBS(2)
LW_STUBS(4)
LW_STUBS(8)
LW_STUBS(16)

LW_STUB void __lockwatch_cov_atomic_rmw(void *p, uint64_t size)
{
	(void)p;
	(void)size;
}
