/* What the subcommands share: the command table entry, exit statuses, loading traces,
 * writing the report. */
#ifndef LW_CLI_H
#define LW_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "findings.h"
#include "model.h"

/* Exit statuses (listed in lockwatch(1)). */
enum lw_exit {
	LW_EXIT_OK        = 0,   /* no error-level finding */
	LW_EXIT_FAILURE   = 1,   /* other failure, e.g. the report could not be written */
	LW_EXIT_USAGE     = 2,
	LW_EXIT_BAD_TRACE = 3,   /* unreadable or corrupt trace */
	LW_EXIT_FOUND     = 66,  /* error-level findings */
};

struct lw_cmd {
	const char *name;
	int       (*run)(int argc, char **argv);   /* argv[0] is the command name */
	void      (*usage)(FILE *out);
	const char *summary;
};

extern const struct lw_cmd lw_cmd_report, lw_cmd_run, lw_cmd_dump;

enum lw_format {
	LW_FORMAT_TEXT,
	LW_FORMAT_JSON,
};

struct lw_strvec {
	char  **v;
	size_t  n, cap;
};

void lw_strvec_free(struct lw_strvec *sv);

/* Parses "text" or "json".  Returns 0, or -1 after a usage message. */
int lw_parse_format(const char *s, enum lw_format *fmt);

/* Appends the trace files named by arg: the file itself, or every "*.trace" directly in a
 * directory (sorted).  Returns 0, or -1 after a message. */
int lw_collect_traces(const char *arg, struct lw_strvec *out);

/* Parses each path and adds it to m.  Returns the number of traces that could not be read
 * (each reported with one message). */
size_t lw_load_traces(struct lw_model *m, const struct lw_strvec *paths);

/* Analyzes m and writes the report: text to stderr, JSON to stdout, or either to the file
 * out_path.  Returns LW_EXIT_FOUND, LW_EXIT_OK, or LW_EXIT_FAILURE if writing failed (after a
 * message). */
int lw_report(struct lw_model *m, enum lw_format fmt, const char *out_path);

/* Prints "lockwatch VERSION". */
void lw_print_version(void);

#endif
