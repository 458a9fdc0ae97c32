/* The shim's one voice (msg.c): "lockwatch: ..." on stderr. */
#ifndef LW_CORE_MSG_H
#define LW_CORE_MSG_H

#include "core/defs.h"

LW_HIDDEN void lw_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
