/* lockwatch report: analyze trace files and directories of them. */
#include "cli.h"
#include "msg.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void report_usage(FILE *out)
{
	fputs("usage: lockwatch report [--format text|json] [-o FILE] TRACE|DIR...\n\n"
	      "Analyzes traces written by liblockwatch.so (a DIR means every *.trace file in it)\n"
	      "and reports lock-order cycles, deadlocks and misuse.  Traces of several processes\n"
	      "are analyzed together.\n\n"
	      "  -f, --format FMT   text (default, on standard error) or json (on standard output)\n"
	      "  -o, --output FILE  write the report to FILE\n"
	      "  -h, --help         show this help\n"
	      "  -V, --version      show the version\n", out);
}

/* Parses the options shared by report and run.  Returns 1 to go on, 0 for --help/--version
 * (already handled), -1 after a usage error. */
int lw_parse_report_options(int argc, char **argv, const char *optstring,
			    const struct option *longopts, enum lw_format *fmt,
			    const char **out_path, const char **trace_dir, void (*usage)(FILE *));

int lw_parse_report_options(int argc, char **argv, const char *optstring,
			    const struct option *longopts, enum lw_format *fmt,
			    const char **out_path, const char **trace_dir, void (*usage)(FILE *))
{
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (lw_parse_format(optarg, fmt) < 0)
				return -1;
			break;
		case 'o':
			*out_path = optarg;
			break;
		case 'd':
			*trace_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			lw_print_version();
			return 0;
		case ':':
			lw_msg_usage("option '%s' needs an argument", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				lw_msg_usage("unknown option '-%c'", optopt);
			else
				lw_msg_usage("unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	return 1;
}

static int report_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum lw_format fmt = LW_FORMAT_TEXT;
	const char *out_path = NULL, *unused = NULL;
	struct lw_strvec paths = { 0 };
	struct lw_model *m;
	size_t bad = 0;
	int rc;

	rc = lw_parse_report_options(argc, argv, ":f:o:hV", longopts, &fmt, &out_path, &unused,
				     report_usage);
	if (rc <= 0)
		return rc < 0 ? LW_EXIT_USAGE : LW_EXIT_OK;
	if (optind >= argc) {
		lw_msg_usage("report: no trace file or directory given");
		return LW_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		size_t before = paths.n;

		if (lw_collect_traces(argv[i], &paths) < 0)
			bad++;
		else if (paths.n == before) {
			lw_msg_error("%s: no *.trace files in this directory", argv[i]);
			bad++;
		}
	}
	m = lw_model_new();
	bad += lw_load_traces(m, &paths);
	/* A report that silently left out a trace would mislead: bad input means no report. */
	if (bad)
		rc = LW_EXIT_BAD_TRACE;
	else
		rc = lw_report(m, fmt, out_path);
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
