/* Checked allocation and small string helpers for the analyzer. */
#include "base/util.h"
#include "base/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int lw_read_regular_file(const char *path, size_t max, char **text, size_t *len)
{
	return lw_read_regular_file_stat(path, max, text, len, NULL);
}

int lw_read_regular_file_stat(const char *path, size_t max, char **text, size_t *len,
			      struct stat *st_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap = 0;

	*text = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if (st_out)
		*st_out = st;
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	for (;;) {
		ssize_t n;

		if (got + 1 >= cap)
			buf = lw_grow(buf, &cap, got + 65536 < max + 2 ? got + 65536 : max + 2, 1);
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			close(fd);
			free(buf);
			return -EFBIG;
		}
	}
	close(fd);
	if (!buf)
		buf = lw_xmalloc(1);
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
}

const char *lw_read_error(int err)
{
	switch (err) {
	case -EINVAL: return "not a regular file";
	case -EFBIG:  return "file too large";
	default:      return strerror(-err);
	}
}
