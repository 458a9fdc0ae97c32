/* Terminal colour for the text report: when to use it and the escape sequences. */
#ifndef LW_COLOR_H
#define LW_COLOR_H

#include <stdbool.h>
#include <stdio.h>

enum lw_color_mode {
	LW_COLOR_AUTO,               /* colour when out is a terminal and NO_COLOR is unset */
	LW_COLOR_NEVER,
	LW_COLOR_ALWAYS,
};

/* Parses "auto", "never" or "always" (also "no"/"yes"...).  Returns 0, or -1 if s is none. */
int lw_color_parse(const char *s, enum lw_color_mode *mode);

/* Whether a report written to out should be coloured: ALWAYS yes, NEVER no, AUTO when out is
 * a terminal, NO_COLOR is unset or empty and TERM is not "dumb".  Cannot fail. */
bool lw_color_wanted(enum lw_color_mode mode, FILE *out);

/* SGR sequences (ECMA-48); LW_SGR_RESET ends any of them. */
#define LW_SGR_RESET   "\033[0m"
#define LW_SGR_ERROR   "\033[1;31m"  /* bold red */
#define LW_SGR_WARNING "\033[1;33m"  /* bold yellow */
#define LW_SGR_BOLD    "\033[1m"
#define LW_SGR_FUNC    "\033[1;36m"  /* bold cyan */
#define LW_SGR_DIM     "\033[2m"
#define LW_SGR_NOTE    "\033[32m"    /* green */

#endif
