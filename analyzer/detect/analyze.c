/* The analysis pipeline: names the locks, then runs the detectors in order. */
#include "detect/analyze.h"
#include "detect/detect_cycles.h"
#include "detect/detect_path_races.h"
#include "detect/detect_races.h"
#include "detect/detect_caught.h"
#include "detect/detect_records.h"
#include "trace/lock_names.h"

/* Issue 20: sums the processes' coverage records. */
static void sum_coverage(const struct lw_model *m, struct lw_coverage_sum *c)
{
	for (size_t i = 0; i < m->procs.n; i++) {
		const struct lw_process *p = &m->procs.v[i];
		const struct lw_rec_coverage *r = &p->coverage;

		/* A fork child stopped watching at the fork: its parent's record says it all. */
		if (!p->has_coverage || r->status == LW_COVERAGE_FORKED)
			continue;
		c->processes++;
		if (r->status == LW_COVERAGE_REFUSED) {
			if (!c->refused++)
				c->err = r->err;
			continue;
		}
		c->whole_run += (r->flags & LW_COVF_WHOLE_RUN) != 0;
		c->globals += r->globals;
		c->globals_watched += r->globals_watched;
		c->granules += r->granules;
		c->granules_watched += r->granules_watched;
		c->granules_dropped += r->granules_dropped;
		c->windows += r->windows;
		c->run_ns += r->run_ns;
		c->window_ns += r->window_ns;
		c->traps += r->traps;
	}
}

void lw_analyze(struct lw_model *m, struct lw_findings *fs)
{
	lw_name_locks(m);
	fs->n_processes = m->procs.n;
	sum_coverage(m, &fs->coverage);
	lw_detect_deadlocks(m, fs);
	lw_detect_cycles(m, fs);
	lw_detect_misuse(m, fs);
	lw_detect_path_races(m, fs);
	lw_detect_races(m, fs);
	lw_detect_caught(m, fs);   /* issue 20: after the races it may join */
}
