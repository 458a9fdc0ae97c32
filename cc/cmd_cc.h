/* lockwatch cc: builds a program with the compiler's load/store hooks (hook mode). */
#ifndef LW_CMD_CC_H
#define LW_CMD_CC_H

#include "base/command.h"

extern const struct lw_cmd lw_cmd_cc;

#endif
