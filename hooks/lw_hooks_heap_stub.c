/* liblockwatch-hooks.so's allocation wrappers: `lockwatch cc` links the program's malloc,
 * calloc, realloc, ... calls to __wrap_malloc and friends (ld --wrap); without lockwatch
 * these forward to the C library unchanged.  Under LD_PRELOAD=liblockwatch.so the shim's
 * definitions come first and also name each block for the reports. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define LW_STUB __attribute__((visibility("default")))

LW_STUB void *__wrap_malloc(size_t n) { return malloc(n); }
LW_STUB void *__wrap_calloc(size_t n, size_t size) { return calloc(n, size); }
LW_STUB void *__wrap_realloc(void *p, size_t n) { return realloc(p, n); }
LW_STUB void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return reallocarray(p, n, size);
}
LW_STUB void *__wrap_aligned_alloc(size_t align, size_t n) { return aligned_alloc(align, n); }
LW_STUB void *__wrap_memalign(size_t align, size_t n) { return memalign(align, n); }
LW_STUB int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
	return posix_memalign(out, align, n);
}
LW_STUB void __wrap_free(void *p) { free(p); }
LW_STUB char *__wrap_strdup(const char *s) { return strdup(s); }
LW_STUB char *__wrap_strndup(const char *s, size_t n) { return strndup(s, n); }
