/* fork: the child writes its own trace and never touches the parent's. */
#include "core/defs.h"
#include "core/init.h"
#include "core/layers.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"
#include "locks/dedup.h"
#include "locks/locks.h"
#include "locks/watchdog.h"
#include "locks/wrap.h"

LW_EXPORT pid_t fork(void)
{
	struct lw_thread *t = lw_enter();
	if (!t)
		return REAL(fork)();
	lw_fork_prepare();
	pid_t pid = REAL(fork)();
	int saved = errno;
	if (pid == 0) {
		lw_trace_forget();
		lw_fork_child();
		lw_dedup_reset();
		lw_locks_reset_after_fork();
		lw_threads_reset_after_fork(t);
		lw_locks_fork_child_held(t);   /* issue 18: process-shared locks stay the parent's */
		lw_watchdog_after_fork();
		lw_layers_forked();
		if (lw_trace_open(true) == 0) {
			/* Issue 18: the parent's unrecorded locks may be held here too. */
			if (lw_locks_incomplete())
				lw_trace_note_locks_unrecorded();
			lw_modules_init();
			lw_layers_forked_traced();
			lw_thread_started(t, 0, 0, 0, 0);
		} else {
			__atomic_store_n(&lw_state, LW_OFF, __ATOMIC_RELEASE);
		}
	} else {
		lw_fork_parent();
		if (pid > 0)
			lw_record_child(t, LW_SYNC_FORK, pid); /* every level: process order */
	}
	lw_leave();
	errno = saved;
	return pid;
}
