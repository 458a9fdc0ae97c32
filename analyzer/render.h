/* Renderers: findings to text (lockdep style) or JSON (the machine contract). */
#ifndef LW_RENDER_H
#define LW_RENDER_H

#include <stdio.h>

#include "findings.h"

/* Writes findings as text to out, with a one-line summary at the end. */
void lw_render_text(const struct lw_findings *fs, FILE *out);
/* Writes {"tool":"lockwatch","version":...,"findings":[...]} and a newline to out. */
void lw_render_json(const struct lw_findings *fs, FILE *out);

#endif
