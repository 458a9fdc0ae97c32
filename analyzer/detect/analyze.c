/* The analysis pipeline: names the locks, then runs the detectors in order. */
#include "detect/analyze.h"
#include "detect/detect_cycles.h"
#include "detect/detect_path_races.h"
#include "detect/detect_races.h"
#include "detect/detect_caught.h"
#include "detect/detect_records.h"
#include "trace/lock_names.h"

void lw_analyze(struct lw_model *m, struct lw_findings *fs)
{
	lw_name_locks(m);
	fs->n_processes = m->procs.n;
	lw_detect_deadlocks(m, fs);
	lw_detect_cycles(m, fs);
	lw_detect_misuse(m, fs);
	lw_detect_path_races(m, fs);
	lw_detect_races(m, fs);
	lw_detect_caught(m, fs);   /* issue 20: after the races it may join */
}
