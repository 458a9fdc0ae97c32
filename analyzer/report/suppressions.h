/* Suppressions in ThreadSanitizer's syntax: drop the findings a file names. */
#ifndef LW_SUPPRESSIONS_H
#define LW_SUPPRESSIONS_H

#include <stddef.h>

#include "detect/findings.h"

enum lw_supp_type {
	LW_SUPP_DEADLOCK,            /* lock-order cycles and deadlocks */
	LW_SUPP_RACE,                /* data races and atomicity violations, any frame */
	LW_SUPP_RACE_TOP,            /* the same, the top frame of a stack only */
	LW_SUPP_MUTEX,               /* misuse of the pthread API */
	LW_SUPP_CALLED_FROM_LIB,     /* any finding whose acquisition or access a module made */
};

struct lw_suppression {
	enum lw_supp_type type;
	char             *pattern;
	char             *text;      /* "deadlock:foo" as written */
	int               line;      /* in the file */
	size_t            hits;
};

struct lw_suppressions {
	char *path;
	LW_VEC(struct lw_suppression) v;
};

/* Reads a suppressions file: one "TYPE:PATTERN" per line, '#' comments and blank lines
 * ignored, TYPE one of deadlock, race, race_top, mutex, called_from_lib (thread: and signal:
 * lines, which have no meaning here, are ignored with a warning).  Returns 0, or -1 after a
 * one-line message naming the file and line. */
int lw_suppressions_load(struct lw_suppressions *s, const char *path);
/* Issue 24: the most of a suppressions file that is read (16 MiB). */
#define LW_SUPP_MAX_BYTES (16u << 20)
/* Parses text[0..len) (text[len] is NUL; lines are cut in place) as the suppressions file
 * path: what lw_suppressions_load does after reading it.  Returns 0 or -1 (reported). */
int lw_suppressions_parse(struct lw_suppressions *s, const char *path, char *text, size_t len);

/* ThreadSanitizer's template match: '*' matches any run of characters, a leading '^' and a
 * trailing '$' anchor, and otherwise the pattern may match anywhere in s. */
bool lw_supp_match(const char *pattern, const char *s);

/* Moves the findings of fs that a suppression matches into dropped (which the caller frees
 * with lw_findings_free) and counts the hits.  Returns how many were dropped. */
size_t lw_suppressions_apply(struct lw_suppressions *s, struct lw_findings *fs,
			     struct lw_findings *dropped);

/* Prints one warning per suppression that matched no finding. */
void lw_suppressions_report_unused(const struct lw_suppressions *s);

void lw_suppressions_free(struct lw_suppressions *s);

#endif
