/* What the shim itself judged (detect_records.c): deadlocks and misuse. */
#ifndef LW_DETECT_RECORDS_H
#define LW_DETECT_RECORDS_H

#include "detect/findings.h"
#include "trace/model.h"

/* Deadlocks the shim saw happen. */
void lw_detect_deadlocks(struct lw_model *m, struct lw_findings *fs);
/* API misuse the shim saw. */
void lw_detect_misuse(struct lw_model *m, struct lw_findings *fs);

#endif
