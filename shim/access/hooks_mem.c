/* Hook mode's memory and string functions: the ld --wrap targets `lockwatch cc` links the
 * program's memcpy, memset, strcpy, ... calls to, which record the bytes each reads and
 * writes. */
#include <string.h>
#include "access/hooks.h"
#include "core/defs.h"

/*
 * The compiler's hooks see the loads and stores of the program's own code, not those of the
 * C library's functions it calls, nor of the struct copies and clears the compiler turns into
 * memcpy and memset calls.  `lockwatch cc` links with -Wl,--wrap=memcpy (and the others
 * below), so the program's own calls come here; the C library's internal ones and other
 * libraries' calls do not (their other accesses are not seen either, so neither would pair
 * with the synchronisation in them).  liblockwatch-hooks.so has plain forwarding definitions
 * of the same names for a run without the shim.
 *
 * Each one records what the function reads, then what it writes, as plain accesses of the
 * calling line (the ranges of hooks.c), then calls the real function and returns what it
 * returned.  A comparison reads what it compared: memcmp and bcmp all n bytes of both (as
 * ThreadSanitizer's strict_memcmp does: the C library may read them all), strcmp and strncmp
 * up to the first difference or terminating NUL.  The fortified __*_chk forms record the
 * same and keep their checks.
 */

#define LW_PC() ((uintptr_t)__builtin_return_address(0))

extern void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
extern void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_len);
extern void *__memset_chk(void *dst, int c, size_t n, size_t dst_len);
extern int bcmp(const void *a, const void *b, size_t n);

static inline void reads(const void *p, size_t n, uintptr_t pc)
{
	lw_hook_read_range((uintptr_t)p, n, pc);
}

static inline void writes(const void *p, size_t n, uintptr_t pc)
{
	lw_hook_write_range((uintptr_t)p, n, pc);
}

LW_EXPORT void *__wrap_memcpy(void *dst, const void *src, size_t n)
{
	reads(src, n, LW_PC());
	writes(dst, n, LW_PC());
	return memcpy(dst, src, n);
}

LW_EXPORT void *__wrap_memmove(void *dst, const void *src, size_t n)
{
	reads(src, n, LW_PC());
	writes(dst, n, LW_PC());
	return memmove(dst, src, n);
}

LW_EXPORT void *__wrap_memset(void *dst, int c, size_t n)
{
	writes(dst, n, LW_PC());
	return memset(dst, c, n);
}

LW_EXPORT void *__wrap___memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
	reads(src, n, LW_PC());
	writes(dst, n <= dst_len ? n : dst_len, LW_PC());
	return __memcpy_chk(dst, src, n, dst_len);
}

LW_EXPORT void *__wrap___memmove_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
	reads(src, n, LW_PC());
	writes(dst, n <= dst_len ? n : dst_len, LW_PC());
	return __memmove_chk(dst, src, n, dst_len);
}

LW_EXPORT void *__wrap___memset_chk(void *dst, int c, size_t n, size_t dst_len)
{
	writes(dst, n <= dst_len ? n : dst_len, LW_PC());
	return __memset_chk(dst, c, n, dst_len);
}

LW_EXPORT int __wrap_memcmp(const void *a, const void *b, size_t n)
{
	reads(a, n, LW_PC());
	reads(b, n, LW_PC());
	return memcmp(a, b, n);
}

LW_EXPORT int __wrap_bcmp(const void *a, const void *b, size_t n)
{
	reads(a, n, LW_PC());
	reads(b, n, LW_PC());
	return bcmp(a, b, n);
}

LW_EXPORT size_t __wrap_strlen(const char *s)
{
	size_t n = strlen(s);
	reads(s, n + 1, LW_PC());
	return n;
}

LW_EXPORT size_t __wrap_strnlen(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	reads(s, n < max ? n + 1 : max, LW_PC());
	return n;
}

/* A search reads through what it found, or all it searched. */
LW_EXPORT void *__wrap_memchr(const void *s, int c, size_t n)
{
	void *p = memchr(s, c, n);
	reads(s, p ? (size_t)((const char *)p - (const char *)s) + 1 : n, LW_PC());
	return p;
}

LW_EXPORT char *__wrap_strchr(const char *s, int c)
{
	char *p = strchr(s, c);
	reads(s, p ? (size_t)(p - s) + 1 : strlen(s) + 1, LW_PC());
	return p;
}

LW_EXPORT char *__wrap_strrchr(const char *s, int c)
{
	reads(s, strlen(s) + 1, LW_PC());
	return strrchr(s, c);
}

LW_EXPORT char *__wrap_strcpy(char *dst, const char *src)
{
	size_t n = strlen(src) + 1;
	reads(src, n, LW_PC());
	writes(dst, n, LW_PC());
	return strcpy(dst, src);
}

/* strncpy reads up to n bytes, fewer after a NUL, and writes all n (padding with NULs). */
LW_EXPORT char *__wrap_strncpy(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n);
	reads(src, len < n ? len + 1 : n, LW_PC());
	writes(dst, n, LW_PC());
	return strncpy(dst, src, n);
}

LW_EXPORT char *__wrap_strcat(char *dst, const char *src)
{
	size_t at = strlen(dst), n = strlen(src) + 1;
	reads(dst, at, LW_PC());
	reads(src, n, LW_PC());
	writes(dst + at, n, LW_PC());
	return strcat(dst, src);
}

/* The bytes a comparison of at most n bytes of two strings reads of each: through the first
 * difference or NUL. */
static size_t compared(const char *a, const char *b, size_t n)
{
	size_t i = 0;
	while (i < n && a[i] == b[i] && a[i] != '\0')
		i++;
	return i < n ? i + 1 : n;
}

LW_EXPORT int __wrap_strcmp(const char *a, const char *b)
{
	size_t n = compared(a, b, SIZE_MAX);
	reads(a, n, LW_PC());
	reads(b, n, LW_PC());
	return strcmp(a, b);
}

LW_EXPORT int __wrap_strncmp(const char *a, const char *b, size_t n)
{
	size_t m = compared(a, b, n);
	reads(a, m, LW_PC());
	reads(b, m, LW_PC());
	return strncmp(a, b, n);
}
