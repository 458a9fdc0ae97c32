/* Terminal colour for the text report: --color=auto|never|always and NO_COLOR. */
#include "report/color.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lw_color_parse(const char *s, enum lw_color_mode *mode)
{
	if (!strcmp(s, "auto") || !strcmp(s, "tty") || !strcmp(s, "if-tty"))
		*mode = LW_COLOR_AUTO;
	else if (!strcmp(s, "never") || !strcmp(s, "no") || !strcmp(s, "none"))
		*mode = LW_COLOR_NEVER;
	else if (!strcmp(s, "always") || !strcmp(s, "yes") || !strcmp(s, "force"))
		*mode = LW_COLOR_ALWAYS;
	else
		return -1;
	return 0;
}

bool lw_color_wanted(enum lw_color_mode mode, FILE *out)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	if (mode != LW_COLOR_AUTO)
		return mode == LW_COLOR_ALWAYS;
	/* https://no-color.org: any non-empty value turns colour off. */
	if (no_color && *no_color)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(out)) == 1;
}
