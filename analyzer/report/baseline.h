/* Baselines: fingerprints of findings already known, read from an earlier report. */
#ifndef LW_BASELINE_H
#define LW_BASELINE_H

#include <stdbool.h>

#include "detect/findings.h"
#include "base/util.h"

struct lw_baseline {
	LW_VEC(char *) fingerprints;
};

/* Reads the fingerprints of an earlier report: a lockwatch JSON report (every "fingerprint"
 * member) or a lockwatch SARIF log (every "lockwatch/v1" partial fingerprint).  Returns 0, or
 * -1 after a one-line message naming the file and what is wrong (unreadable, not JSON, or no
 * lockwatch report). */
int lw_baseline_load(struct lw_baseline *b, const char *path);
/* Issue 24: the most of a baseline that is read (256 MiB); only regular files are read. */
#define LW_BASELINE_MAX_BYTES (256u << 20)
/* What lw_baseline_load does with text[0..len) once read (path names it in messages). */
int lw_baseline_parse(struct lw_baseline *b, const char *path, const char *text, size_t len);

/* Whether fingerprint fp is in the baseline. */
bool lw_baseline_has(const struct lw_baseline *b, const char *fp);

void lw_baseline_free(struct lw_baseline *b);

#endif
