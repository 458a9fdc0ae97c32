/*
 * Issue 24: the shim's descriptors must cost the program none of its own.  RLIMIT_NOFILE
 * bounds the numbers new descriptors get, not how many are open: one at or above the soft
 * limit is out of the program's way.  The shim puts its descriptors there (the trace, the
 * breakpoints of watching), raising the soft limit for the moment of the dup when the hard
 * limit allows (and the soft one is not huge: the kernel's table grows to the largest
 * number), else at 800 or more when the soft limit is large, or among the 64 highest
 * numbers when soft limit = hard limit >= 1024.  Otherwise (soft limit = hard limit, and
 * small, like `ulimit -n 8`) the caller decides: the trace writer keeps no descriptor between
 * uses, watching gives up its breakpoints.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "core/fds.h"

#define LW_FD_HIGH_MAX 65536u
/* Room above the soft limit for the shim's descriptors: the trace and four breakpoints. */
#define LW_FD_ROOM     16u
/* With soft = hard limit of at least LW_FD_TOP_MIN, the LW_FD_TOP highest numbers. */
#define LW_FD_TOP_MIN  1024u
#define LW_FD_TOP      64u

int lw_fd_place(int fd, bool *costly)
{
	struct rlimit rl;
	*costly = false;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > LW_FD_HIGH_MAX) {
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 800);
		if (hi >= 0) {
			close(fd);
			return hi;
		}
		return fd;
	}
	if ((uint64_t)fd >= rl.rlim_cur)
		return fd;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > rl.rlim_cur) {
		rlim_t top = rl.rlim_cur + LW_FD_ROOM;
		if (rl.rlim_max != RLIM_INFINITY && top > rl.rlim_max)
			top = rl.rlim_max;
		struct rlimit up = { top, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)rl.rlim_cur);
			setrlimit(RLIMIT_NOFILE, &rl);
			if (hi >= 0) {
				close(fd);
				return hi;
			}
		}
	}
	/* A large limit the shim cannot raise: the top numbers, which only a program that
	 * opens nearly all it may would reach. */
	if (rl.rlim_cur >= LW_FD_TOP_MIN) {
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)(rl.rlim_cur - LW_FD_TOP));
		if (hi >= 0) {
			close(fd);
			return hi;
		}
	}
	*costly = true;
	return fd;
}
