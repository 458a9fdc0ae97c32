/* Reading and validating lockwatch trace files (see common/lw_trace_format.h). */
#ifndef LW_TRACE_READER_H
#define LW_TRACE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_trace_format.h"

/* What is wrong with a trace: one line, and the file offset when there is one. */
struct lw_trace_error {
	char     what[256];
	uint64_t offset;
	bool     has_offset;
};

/* One validated record. */
struct lw_record_ref {
	uint64_t offset;             /* of its head word in the file */
	uint32_t kind;               /* enum lw_rec_kind */
	uint32_t size;
};

/* A parsed trace.  The records point into the buffer given to lw_trace_parse (or the
 * mapping made by lw_trace_open), which must stay valid until lw_trace_close. */
struct lw_trace {
	char                  *name;
	const unsigned char   *data;
	size_t                 len;
	void                  *map;       /* owned copy of the file (malloc), or NULL */
	size_t                 map_len;
	struct lw_trace_header hdr;       /* copy; exe is NUL-terminated */
	struct lw_record_ref  *recs;
	size_t                 n_recs;
	uint64_t               end;       /* where records end (end_offset, or where reading stopped) */
	uint64_t               hole_bytes;/* bytes skipped in holes left by killed writers */
};

/* Validates buf[0..len) as a trace named name (used in messages).  Returns 0 and fills *t,
 * or -EINVAL and fills *err with what is wrong (-ENODATA: empty or all-zero magic, a file
 * that holds nothing).  Does not copy buf. */
int lw_trace_parse(const void *buf, size_t len, const char *name, struct lw_trace *t,
		   struct lw_trace_error *err);

/* Issue 24: the most of a trace file lw_trace_open reads (into memory): 2 GiB.  A larger
 * file (or a closed trace whose end_offset is larger) is refused. */
#define LW_TRACE_READ_MAX (2048u << 20)

/* Issue 24: unless trust is set (--trust-dir), lw_trace_open and lw_trace_read_header refuse
 * with -EPERM a symlink, and a file that is not the user's or root's or that its group or
 * others can write. */
struct stat;
void lw_trace_set_trust(bool trust);
bool lw_trace_trusted(void);
/* NULL when st (a trace or a directory of traces) may be read, else why not, in buf
 * ("belongs to uid N, not to this user or root", "is writable by others"). */
const char *lw_trace_untrusted(const struct stat *st, char *buf, size_t len);

/* Reads the regular file at path into a private buffer and parses it.  Returns 0, or a
 * negative errno with *err filled (I/O errors included); -ENODATA for a file that holds
 * nothing (empty, or a header never completed: its magic is zero), which is not corrupt. */
int lw_trace_open(const char *path, struct lw_trace *t, struct lw_trace_error *err);

/* Reads only the header of the file at path (for choosing traces by session).  Returns 0 or
 * a negative errno with *err filled. */
int lw_trace_read_header(const char *path, struct lw_trace_header *hdr, struct lw_trace_error *err);

/* Releases what lw_trace_parse/lw_trace_open allocated or mapped.  Safe on a zeroed struct. */
void lw_trace_close(struct lw_trace *t);

/* Returns a pointer to record i (aligned as in the file). */
static inline const void *lw_trace_record(const struct lw_trace *t, size_t i)
{
	return t->data + t->recs[i].offset;
}

/* Returns the fixed size of a record kind, or 0 for an unknown kind. */
size_t lw_rec_fixed_size(uint32_t kind);
/* Returns the name of a record kind ("acquire"), or "unknown". */
const char *lw_rec_kind_name(uint32_t kind);

/* Formats "NAME: what is wrong (at offset N)" into buf. */
void lw_trace_error_format(const char *name, const struct lw_trace_error *err, char *buf, size_t len);

#endif
