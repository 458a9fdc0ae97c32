/* Small helpers for the analyzer: checked allocation, growable arrays, formatted strings. */
#ifndef LW_UTIL_H
#define LW_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocation helpers.  They never return NULL: running out of memory prints
 * "lockwatch: out of memory" and exits with status 1 (the analyzer's inputs are
 * bounded by the size of the trace files, so this is a real exhaustion). */
void *lw_xmalloc(size_t size);
void *lw_xcalloc(size_t n, size_t size);
void *lw_xrealloc(void *p, size_t n, size_t size);
char *lw_xstrdup(const char *s);
char *lw_xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string. */
char *lw_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows an array to hold at least need elements; returns the (possibly moved) array. */
void *lw_grow(void *v, size_t *cap, size_t need, size_t elem);

/* A growable array of T: LW_VEC(T) v = {0}; lw_vec_push(&v, x); free(v.v). */
#define LW_VEC(T) struct { T *v; size_t n, cap; }
/* issue 23 (perf): the capacity check inline, lw_grow only to grow. */
#define lw_vec_reserve(vec, k) \
	((vec)->v = (vec)->n + (k) <= (vec)->cap ? (vec)->v : \
		    lw_grow((vec)->v, &(vec)->cap, (vec)->n + (k), sizeof(*(vec)->v)))
#define lw_vec_push(vec, x) \
	do { lw_vec_reserve(vec, 1); (vec)->v[(vec)->n++] = (x); } while (0)

/* Issue 24: reads the whole regular file at path (opened with O_NONBLOCK, so a FIFO or a
 * device is refused without blocking) into *text, NUL-terminated, its length in *len.
 * Returns 0, or a negative errno: -EINVAL not a regular file, -EISDIR a directory, -EFBIG
 * more than max bytes (checked while reading too: the file may grow), or open's/read's. */
int lw_read_regular_file(const char *path, size_t max, char **text, size_t *len);
/* The same, and the file's status (of the descriptor read) into *st when st is not NULL. */
struct stat;
int lw_read_regular_file_stat(const char *path, size_t max, char **text, size_t *len,
			      struct stat *st);
/* What lw_read_regular_file's error means, for "cannot read X: ..." messages. */
const char *lw_read_error(int err);

/* 64-bit FNV-1a over a buffer, continuing from h (start with LW_FNV_INIT). */
#define LW_FNV_INIT 0xcbf29ce484222325ull
uint64_t lw_fnv1a(uint64_t h, const void *buf, size_t len);

#endif
