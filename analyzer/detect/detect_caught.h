/* Races the collider caught in the act (detect_caught.c; issue 20). */
#ifndef LW_DETECT_CAUGHT_H
#define LW_DETECT_CAUGHT_H

#include "detect/findings.h"
#include "trace/model.h"

/* Turns the RACE_CAUGHT records of every process into data-race findings marked as caught
 * in the act (one per pair of sites, joined with a happens-before data race on the same
 * sites when there is one), and sums the collider's counts into fs->collider.  Runs after
 * lw_detect_races. */
void lw_detect_caught(struct lw_model *m, struct lw_findings *fs);

#endif
