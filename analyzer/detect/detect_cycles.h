/* Lock-order cycles (detect_cycles.c). */
#ifndef LW_DETECT_CYCLES_H
#define LW_DETECT_CYCLES_H

#include "detect/findings.h"
#include "trace/model.h"

/* Lock-order cycles over lock instances and lock classes. */
void lw_detect_cycles(struct lw_model *m, struct lw_findings *fs);

#endif
