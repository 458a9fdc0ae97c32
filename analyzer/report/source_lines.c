/* Source lines for the text report, read once per file and cached. */
#include "report/source_lines.h"
#include "base/util.h"
#include "trace/trace_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files larger than this are not shown: a report is not a pager. */
#define MAX_SOURCE_BYTES (8u << 20)

struct source_file {
	char  *path;
	char  *text;                 /* NULL if unreadable */
	LW_VEC(char *) lines;        /* pointers into text */
};

static LW_VEC(struct source_file) cache;

static void load(struct source_file *sf)
{
	size_t n;

	/* Issue 24: only a regular file, opened with O_NONBLOCK (a FIFO named by a trace's
	 * debug information must not block the report), and at most MAX_SOURCE_BYTES. */
	struct stat st;

	if (lw_read_regular_file_stat(sf->path, MAX_SOURCE_BYTES, &sf->text, &n, &st) != 0)
		return;
	/* Issue 24: only files of the user's or root's are shown (any with --trust-dir): a
	 * trace must not make the report print a file of another user's. */
	if (!lw_trace_trusted() && st.st_uid != geteuid() && st.st_uid != 0) {
		free(sf->text);
		sf->text = NULL;
		return;
	}
	if (memchr(sf->text, '\0', n)) {     /* not a text file */
		free(sf->text);
		sf->text = NULL;
		return;
	}
	for (char *p = sf->text; *p;) {
		char *nl = strchr(p, '\n');

		lw_vec_push(&sf->lines, p);
		if (!nl)
			break;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		p = nl + 1;
	}
}

const char *lw_source_line(const char *path, int line)
{
	struct source_file *sf = NULL;
	const char *s;

	if (!path || line <= 0)
		return NULL;
	for (size_t i = 0; i < cache.n; i++)
		if (!strcmp(cache.v[i].path, path)) {
			sf = &cache.v[i];
			break;
		}
	if (!sf) {
		lw_vec_push(&cache, ((struct source_file){ .path = lw_xstrdup(path) }));
		sf = &cache.v[cache.n - 1];
		load(sf);
	}
	if (!sf->text || (size_t)line > sf->lines.n)
		return NULL;
	s = sf->lines.v[line - 1];
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

void lw_source_lines_free(void)
{
	for (size_t i = 0; i < cache.n; i++) {
		free(cache.v[i].path);
		free(cache.v[i].text);
		free(cache.v[i].lines.v);
	}
	free(cache.v);
	memset(&cache, 0, sizeof(cache));
}
