/* lockwatch report: analyze trace files and directories of them. */
#include "cli/cli.h"
#include "base/msg.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void report_usage(FILE *out)
{
	fputs("usage: lockwatch report [--format text|json|sarif|dot|svg] [-o FILE] [OPTIONS]\n"
	      "                        TRACE|DIR...\n\n"
	      "Analyzes traces written by liblockwatch.so (a DIR means every *.trace file in it)\n"
	      "and reports lock-order cycles, deadlocks and misuse.  Traces of several processes\n"
	      "and several runs are merged: a cycle whose halves were seen in different runs is\n"
	      "still found.\n\n"
	      LW_REPORT_OPTIONS_HELP
	      "  -h, --help              show this help\n"
	      "  -V, --version           show the version\n", out);
}

static int report_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		LW_REPORT_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct lw_report_opts o = LW_REPORT_OPTS_INIT;
	const char *unused = NULL;
	struct lw_strvec paths = { 0 };
	struct lw_model *m;
	size_t bad = 0;
	int rc;

	rc = lw_parse_report_options(argc, argv, ":f:o:hV", longopts, &o, &unused, report_usage);
	if (rc <= 0)
		return rc < 0 ? LW_EXIT_USAGE : LW_EXIT_OK;
	if (optind >= argc) {
		lw_msg_usage("report: no trace file or directory given");
		return LW_EXIT_USAGE;
	}
	rc = lw_report_prepare(&o);
	if (rc)
		return rc;
	for (int i = optind; i < argc; i++) {
		size_t before = paths.n;

		if (lw_collect_traces(argv[i], &paths) < 0)
			bad++;
		else if (lw_refused_traces)
			bad++;              /* issue 24: a symlink in the directory was refused */
		else if (paths.n == before) {
			lw_msg_error("%s: no *.trace files in this directory", argv[i]);
			bad++;
		}
	}
	m = lw_model_new();
	bad += lw_load_traces(m, &paths);
	/* A report that silently left out a trace would mislead: bad input means no report. */
	if (bad)
		rc = lw_refused_traces ? LW_EXIT_USAGE : LW_EXIT_BAD_TRACE;  /* issue 24 */
	else
		rc = lw_report(m, &o);
	lw_report_opts_free(&o);
	lw_model_free(m);
	lw_strvec_free(&paths);
	return rc;
}

const struct lw_cmd lw_cmd_report = {
	.name = "report",
	.run = report_main,
	.usage = report_usage,
	.summary = "analyze trace files (or directories of them) and report",
};
