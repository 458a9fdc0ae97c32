/* Check-then-act on file paths (detect_path_races.c). */
#ifndef LW_DETECT_PATH_RACES_H
#define LW_DETECT_PATH_RACES_H

#include "detect/findings.h"
#include "trace/model.h"

/* Atomicity violations over PATH records. */
void lw_detect_path_races(struct lw_model *m, struct lw_findings *fs);

#endif
