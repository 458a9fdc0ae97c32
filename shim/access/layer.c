/* The access sources' part in what only the core sees (core/layers.h): the watch= option,
 * start-up, a thread's end, fork. */
#include <string.h>

#include "core/layers.h"
#include "access/hooks.h"
#include "access/watch.h"

static bool option(const char *key, const char *val)
{
	if (strcmp(key, "watch") != 0)
		return false;
	lw_watch_set_spec(val);
	return true;
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
};
