/* Data races and atomicity violations (detect_races.c). */
#ifndef LW_DETECT_RACES_H
#define LW_DETECT_RACES_H

#include "detect/findings.h"
#include "trace/model.h"

/* Data races and atomicity violations over the access records of full-level traces. */
void lw_detect_races(struct lw_model *m, struct lw_findings *fs);

#endif
