/* Source lines for the text report: the line a frame points at, when its file is readable. */
#ifndef LW_SOURCE_LINES_H
#define LW_SOURCE_LINES_H

/* Returns line `line` (1-based) of file `path` without its newline and leading white space,
 * or NULL when the file cannot be read, is not text, or is shorter.  Files are read once and
 * kept until lw_source_lines_free; the string belongs to the cache. */
const char *lw_source_line(const char *path, int line);
/* Forgets every file read. */
void lw_source_lines_free(void);

#endif
