/* Start-up and shut-down of the shim: lazy, because other libraries' constructors may lock
 * before ours runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/init.h"
#include "core/defs.h"
#include "core/layers.h"
#include "core/options.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"

int lw_state = LW_UNINIT;

LW_EXPORT const char *lockwatch_shim_version(void)
{
	return LW_VERSION;
}

static void init(void);

void lw_init(void)
{
	int saved = errno;
	init();
	errno = saved;
}

static void init(void)
{
	int expected = LW_UNINIT;
	if (!__atomic_compare_exchange_n(&lw_state, &expected, LW_INITIALIZING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	/* Set-uid and set-gid programs: the loader ignores LD_PRELOAD for them, but never
	 * write files on behalf of a more privileged process in any case. */
	if (getauxval(AT_SECURE)) {
		__atomic_store_n(&lw_state, LW_OFF, __ATOMIC_RELEASE);
		return;
	}
	lw_real_resolve();
	lw_options_load();
	lw_layers_configure();
	if (!lw_opt.enabled || lw_trace_open(false) < 0) {
		__atomic_store_n(&lw_state, LW_OFF, __ATOMIC_RELEASE);
		return;
	}
	lw_modules_init();
	lw_layers_started();
	__atomic_store_n(&lw_state, LW_READY, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void lw_constructor(void)
{
	/* Numbers the main thread 1 when nothing else came first. */
	if (lw_enter())
		lw_leave();
}

/* Returns true when the process has exactly one thread left. */
static bool only_thread(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* Field 20 (num_threads) counts from after the command name's closing parenthesis. */
	char *p = strrchr(buf, ')');
	if (!p)
		return false;
	int field = 2;
	for (; *p && field < 20; p++)
		if (*p == ' ')
			field++;
	return atoi(p) == 1;
}

__attribute__((destructor)) static void lw_destructor(void)
{
	if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) != LW_READY)
		return;
	int saved = lw_guard;
	lw_guard = 1;
	lw_layers_process_exiting(lw_self);   /* issue 22: locks the exiting thread holds */
	lw_thread_classes_flush();            /* issue 23 (perf): counted threads */
	lw_trace_close(only_thread());
	lw_guard = saved;
}

/*
 * Issue 24: _exit and _Exit end the process without destructors, which left its trace
 * unclosed and its preallocated tail on disk: the trace is closed first (its unused tail
 * trimmed, or freed when other threads may still write).  Not in a vfork child (the trace
 * is its parent's), nor when this thread is inside the shim (a signal handler's _exit while
 * the shim held its own locks).  glibc's exit() reaches its _exit internally, not through
 * these.  The end is the system call glibc's _exit makes.
 */
LW_EXPORT void _exit(int status)
{
	if (__atomic_load_n(&lw_state, __ATOMIC_ACQUIRE) == LW_READY && !lw_guard &&
	    lw_trace_owned_here()) {
		lw_guard = 1;
		lw_trace_close(only_thread());
	}
	for (;;)
		syscall(SYS_exit_group, status);
}

LW_EXPORT void _Exit(int status) __attribute__((noreturn, alias("_exit")));
