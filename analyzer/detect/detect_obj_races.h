/* Races on the pthread objects themselves (detect_obj_races.c, issue 21). */
#ifndef LW_DETECT_OBJ_RACES_H
#define LW_DETECT_OBJ_RACES_H

#include "detect/findings.h"
#include "trace/model.h"

/* data-race findings on locks, condvars, barriers and semaphores of full-level traces: an
 * init, destroy or free of the object not ordered with another thread's use of it. */
void lw_detect_obj_races(struct lw_model *m, struct lw_findings *fs);

#endif
