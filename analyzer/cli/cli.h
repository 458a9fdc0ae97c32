/* What the subcommands share: the command table entry, exit statuses, loading traces,
 * writing the report. */
#ifndef LW_CLI_H
#define LW_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/command.h"
#include "report/baseline.h"
#include "report/color.h"
#include "detect/findings.h"
#include "trace/model.h"
#include "report/suppressions.h"

extern const struct lw_cmd lw_cmd_report, lw_cmd_run, lw_cmd_dump;

enum lw_format {
	LW_FORMAT_TEXT,
	LW_FORMAT_JSON,
	LW_FORMAT_SARIF,
	LW_FORMAT_DOT,
	LW_FORMAT_SVG,
};

/* What report and run share: how to report, and what to leave out or count as known. */
struct lw_report_opts {
	enum lw_format         fmt;
	const char            *out_path;      /* NULL: standard error (text) or output */
	enum lw_color_mode     color;         /* text only */
	bool                   graph_all;     /* dot and svg: every lock, not only cycles */
	const char            *suppressions;  /* --suppressions FILE, NULL if not given */
	const char            *baseline;      /* --baseline FILE, NULL if not given */
	bool                   trust_dir;     /* issue 24: --trust-dir (or trust_dir=1) */
	/* Set by lw_report_prepare. */
	struct lw_suppressions supp;
	bool                   have_supp;
	struct lw_baseline     base;
	bool                   have_base;
};

#define LW_REPORT_OPTS_INIT { .fmt = LW_FORMAT_TEXT, .color = LW_COLOR_AUTO }

/* Codes of the long report options that have no short form. */
enum {
	LW_OPT_COLOR = 256,
	LW_OPT_SUPPRESSIONS,
	LW_OPT_BASELINE,
	LW_OPT_GRAPH,
	LW_OPT_TRUST_DIR,             /* issue 24 */
};

/* The getopt_long entries of the options lw_parse_report_options understands. */
#define LW_REPORT_LONGOPTS \
	{ "format", required_argument, NULL, 'f' }, \
	{ "output", required_argument, NULL, 'o' }, \
	{ "color", required_argument, NULL, LW_OPT_COLOR }, \
	{ "colour", required_argument, NULL, LW_OPT_COLOR }, \
	{ "suppressions", required_argument, NULL, LW_OPT_SUPPRESSIONS }, \
	{ "baseline", required_argument, NULL, LW_OPT_BASELINE }, \
	{ "graph", required_argument, NULL, LW_OPT_GRAPH }, \
	{ "trust-dir", no_argument, NULL, LW_OPT_TRUST_DIR }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

/* The option lines both commands' --help print. */
#define LW_REPORT_OPTIONS_HELP \
	"  -f, --format FMT        text (default, on standard error), or on standard output:\n" \
	"                          json, sarif (SARIF 2.1.0), dot or svg (the lock graph)\n" \
	"  -o, --output FILE       write the report to FILE\n" \
	"      --color WHEN        colour the text report: auto (default), never, always\n" \
	"      --suppressions FILE drop the findings FILE names (ThreadSanitizer's syntax)\n" \
	"      --baseline OLD.json findings already in OLD.json do not fail the run\n" \
	"      --graph WHAT        dot/svg: cycles (default: their components and neighbours)\n" \
	"                          or all (every lock)\n" \
	"      --trust-dir         use trace directories and traces that are symlinks, or\n" \
	"                          that another user owns or can write (refused otherwise)\n"

struct option;

/* Parses the options shared by report and run (and -d DIR into *trace_dir).  Returns 1 to go
 * on, 0 for --help/--version (already handled), -1 after a usage error. */
int lw_parse_report_options(int argc, char **argv, const char *optstring,
			    const struct option *longopts, struct lw_report_opts *o,
			    const char **trace_dir, void (*usage)(FILE *));

/* Gets ready to report, before any analysis (or any program run): loads the suppressions
 * (o->suppressions, else LOCKWATCH_OPTIONS' suppressions=FILE) and the baseline, and checks
 * that svg can find Graphviz's dot.  Returns 0, or an exit status after a message. */
int lw_report_prepare(struct lw_report_opts *o);
/* Frees what lw_report_prepare loaded. */
void lw_report_opts_free(struct lw_report_opts *o);

struct lw_strvec {
	char  **v;
	size_t  n, cap;
};

void lw_strvec_free(struct lw_strvec *sv);

/* Parses "text", "json", "sarif", "dot" or "svg".  Returns 0, or -1 after a usage message. */
int lw_parse_format(const char *s, enum lw_format *fmt);

/* Issue 24: how many traces or directories lw_collect_traces and lw_load_traces refused
 * because they were symlinks or not the user's (each with a message): exit 2, not 3. */
extern size_t lw_refused_traces;

/* Checks the trace directory dir for run: not a symlink, the user's or root's, writable by
 * nobody else (unless lw_trace_trusted()).  Returns 0, or -1 after one message. */
int lw_check_trace_dir(const char *dir);

/* Appends the trace files named by arg: the file itself, or every "*.trace" directly in a
 * directory (sorted).  Returns 0, or -1 after a message. */
int lw_collect_traces(const char *arg, struct lw_strvec *out);

/* Parses each path and adds it to m.  Returns the number of traces that could not be read
 * (each reported with one message). */
size_t lw_load_traces(struct lw_model *m, const struct lw_strvec *paths);

/* Analyzes m, drops suppressed findings, marks those in the baseline, and writes the report:
 * text to stderr, the other formats to stdout, or any to the file o->out_path.  Returns
 * LW_EXIT_FOUND when an error-level finding is not in the baseline, else LW_EXIT_OK, or
 * LW_EXIT_FAILURE if writing failed (after a message).  o was prepared by lw_report_prepare. */
int lw_report(struct lw_model *m, struct lw_report_opts *o);

/* Prints "lockwatch VERSION". */
void lw_print_version(void);

#endif
