/* The shim's descriptors, out of the program's way (issue 24). */
#ifndef LW_FDS_H
#define LW_FDS_H

#include <stdbool.h>
#include "core/defs.h"

/* Moves fd (close-on-exec) to a number the program will not get: at or above the soft
 * RLIMIT_NOFILE (raising it for the moment of the dup when the hard limit allows), at 800
 * and above when the soft limit is huge, among the 64 highest below a limit of 1024 or more
 * it cannot raise.  Returns the descriptor to use, fd itself or its
 * new number; *costly is set when it still takes one of the program's numbers (soft limit
 * = hard limit, like `ulimit -n 8`). */
LW_HIDDEN int lw_fd_place(int fd, bool *costly);

#endif
