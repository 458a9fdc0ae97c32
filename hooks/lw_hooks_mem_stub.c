/* liblockwatch-hooks.so's memory and string wrappers: `lockwatch cc` links the program's
 * memcpy, memset, strcpy, ... calls to __wrap_memcpy and friends (ld --wrap); without
 * lockwatch these forward to the C library unchanged.  Under LD_PRELOAD=liblockwatch.so the
 * shim's definitions come first and also record the bytes each reads and writes. */
#include <string.h>

#define LW_STUB __attribute__((visibility("default")))

extern void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
extern void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_len);
extern void *__memset_chk(void *dst, int c, size_t n, size_t dst_len);
extern int bcmp(const void *a, const void *b, size_t n);

LW_STUB void *__wrap_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
LW_STUB void *__wrap_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
LW_STUB void *__wrap_memset(void *d, int c, size_t n) { return memset(d, c, n); }
LW_STUB void *__wrap___memcpy_chk(void *d, const void *s, size_t n, size_t len)
{
	return __memcpy_chk(d, s, n, len);
}
LW_STUB void *__wrap___memmove_chk(void *d, const void *s, size_t n, size_t len)
{
	return __memmove_chk(d, s, n, len);
}
LW_STUB void *__wrap___memset_chk(void *d, int c, size_t n, size_t len)
{
	return __memset_chk(d, c, n, len);
}
LW_STUB int __wrap_memcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }
LW_STUB int __wrap_bcmp(const void *a, const void *b, size_t n) { return bcmp(a, b, n); }
LW_STUB size_t __wrap_strlen(const char *s) { return strlen(s); }
LW_STUB size_t __wrap_strnlen(const char *s, size_t n) { return strnlen(s, n); }
LW_STUB void *__wrap_memchr(const void *s, int c, size_t n) { return memchr(s, c, n); }
LW_STUB char *__wrap_strchr(const char *s, int c) { return strchr(s, c); }
LW_STUB char *__wrap_strrchr(const char *s, int c) { return strrchr(s, c); }
LW_STUB char *__wrap_strcpy(char *d, const char *s) { return strcpy(d, s); }
LW_STUB char *__wrap_strncpy(char *d, const char *s, size_t n) { return strncpy(d, s, n); }
LW_STUB char *__wrap_strcat(char *d, const char *s) { return strcat(d, s); }
LW_STUB int __wrap_strcmp(const char *a, const char *b) { return strcmp(a, b); }
LW_STUB int __wrap_strncmp(const char *a, const char *b, size_t n) { return strncmp(a, b, n); }
