/* Renderers: findings to text (lockdep style) or JSON (the machine contract). */
#ifndef LW_RENDER_H
#define LW_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "detect/findings.h"

/* Writes findings as text to out, with a one-line summary at the end. */
void lw_render_text(const struct lw_findings *fs, FILE *out);
/* Writes {"tool":"lockwatch","version":...,"findings":[...]} and a newline to out. */
void lw_render_json(const struct lw_findings *fs, FILE *out);

/* How the text report looks (render_text.c). */
struct lw_text_style {
	bool color;                  /* ANSI colour */
	bool source;                 /* the source line under each frame whose file is readable */
};
/* lw_render_text with a style; lw_render_text is this with neither colour nor source. */
void lw_render_text_styled(const struct lw_findings *fs, FILE *out,
			   const struct lw_text_style *style);
/* Writes a SARIF 2.1.0 log with one run (render_sarif.c).  baseline_given adds each result's
 * baselineState. */
void lw_render_sarif(const struct lw_findings *fs, FILE *out, bool baseline_given);
/* Writes the lock-order graph in Graphviz's DOT language (render_dot.c): every lock-order
 * edge of m when all, else only the strongly connected components holding a reported cycle
 * and their direct neighbours; cycles of fs highlighted. */
void lw_render_dot(const struct lw_findings *fs, struct lw_model *m, bool all, FILE *out);
/* Whether Graphviz's dot program is in PATH (render_svg.c). */
bool lw_dot_available(void);
/* Writes the lock-order graph as SVG to out through `dot -Tsvg`.  Returns 0, or -1 after a
 * message when dot cannot be run or fails. */
int lw_render_svg(const struct lw_findings *fs, struct lw_model *m, bool all, FILE *out);

#endif
