/* The access sources' part in what only the core sees (core/layers.h): the watch= option,
 * start-up, a thread's end, fork. */
#include <stdlib.h>
#include <string.h>

#include "core/layers.h"
#include "access/hooks.h"
#include "access/watch.h"
#include "access/autowatch.h"
#include "core/msg.h"

/* Issue 20: watch_budget=PERCENT (1-100) and watch_trace_kb=N (automatic watching). */
static bool auto_option(const char *key, const char *val)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);
	bool ok = *val && !*end;
	if (!strcmp(key, "watch_budget")) {
		if (ok && v >= 1 && v <= 100)
			lw_auto_budget = (unsigned)v;
		else
			lw_msg("LOCKWATCH_OPTIONS: bad value '%s' for watch_budget ignored", val);
		return true;
	}
	if (!strcmp(key, "watch_trace_kb")) {
		if (ok && v >= 1 && v <= (1ul << 22))
			lw_auto_trace_kb = (unsigned)v;
		else
			lw_msg("LOCKWATCH_OPTIONS: bad value '%s' for watch_trace_kb ignored", val);
		return true;
	}
	return false;
}

static bool option(const char *key, const char *val)
{
	if (strcmp(key, "watch") != 0)
		return auto_option(key, val);
	lw_watch_set_spec(val);
	return true;
}

static void process_exiting(struct lw_thread *t)
{
	(void)t;
	lw_auto_exiting();
}

LW_LAYER(access) = {
	.name = "access",
	.rank = 2,                   /* after locks: a thread's held locks end before its hooks */
	.option = option,
	.configure = lw_access_configure,
	.started = lw_watch_arm,
	.thread_ended = lw_hooks_thread_ended,
	.forked = lw_hooks_after_fork,
	.forked_traced = lw_watch_after_fork,
	.process_exiting = process_exiting,   /* issue 20: the coverage record */
};
