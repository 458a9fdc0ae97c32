/* The analysis pipeline (analyze.c): every detector over a model, in order. */
#ifndef LW_ANALYZE_H
#define LW_ANALYZE_H

#include "detect/findings.h"
#include "trace/model.h"

/* Runs every detector over a finished model: lw_name_locks, then the detectors in order.
 * Adds their findings to fs.  Cannot fail (out of memory ends the process, as everywhere). */
void lw_analyze(struct lw_model *m, struct lw_findings *fs);

#endif
