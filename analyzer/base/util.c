/* Checked allocation and small string helpers for the analyzer. */
#include "base/util.h"
#include "base/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(void)
{
	lw_msg_error("out of memory");
	exit(1);
}

void *lw_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *lw_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *lw_xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		out_of_memory();
	p = realloc(p, n && size ? n * size : 1);
	if (!p)
		out_of_memory();
	return p;
}

char *lw_xstrdup(const char *s)
{
	return lw_xstrndup(s, strlen(s));
}

char *lw_xstrndup(const char *s, size_t n)
{
	char *p = lw_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *lw_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		out_of_memory();
	va_end(ap);
	return s;
}

void *lw_grow(void *v, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap;

	if (need <= c)
		return v;
	if (c < 8)
		c = 8;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			out_of_memory();
		c *= 2;
	}
	v = lw_xrealloc(v, c, elem);
	*cap = c;
	return v;
}

uint64_t lw_fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
