/* Shared by the subcommands: finding trace files, loading them, writing the report. */
#include "cli/cli.h"
#include "detect/analyze.h"
#include "cli/env_options.h"
#include "report/fingerprint.h"
#include "base/msg.h"
#include "report/render.h"
#include "trace/trace_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef LW_VERSION
#define LW_VERSION "0.1.0"
#endif

void lw_print_version(void)
{
	printf("lockwatch %s\n", LW_VERSION);
}

void lw_strvec_free(struct lw_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int lw_parse_format(const char *s, enum lw_format *fmt)
{
	if (strcmp(s, "text") == 0)
		*fmt = LW_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*fmt = LW_FORMAT_JSON;
	else if (strcmp(s, "sarif") == 0)
		*fmt = LW_FORMAT_SARIF;
	else if (strcmp(s, "dot") == 0)
		*fmt = LW_FORMAT_DOT;
	else if (strcmp(s, "svg") == 0)
		*fmt = LW_FORMAT_SVG;
	else {
		lw_msg_usage("unknown format '%s' (expected text, json, sarif, dot or svg)", s);
		return -1;
	}
	return 0;
}

int lw_parse_report_options(int argc, char **argv, const char *optstring,
			    const struct option *longopts, struct lw_report_opts *o,
			    const char **trace_dir, void (*usage)(FILE *))
{
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (lw_parse_format(optarg, &o->fmt) < 0)
				return -1;
			break;
		case 'o':
			o->out_path = optarg;
			break;
		case 'd':
			*trace_dir = optarg;
			break;
		case LW_OPT_COLOR:
			if (lw_color_parse(optarg, &o->color) < 0) {
				lw_msg_usage("--color: expected auto, never or always, not '%s'",
					     optarg);
				return -1;
			}
			break;
		case LW_OPT_SUPPRESSIONS:
			o->suppressions = optarg;
			break;
		case LW_OPT_BASELINE:
			o->baseline = optarg;
			break;
		case LW_OPT_TRUST_DIR:
			o->trust_dir = true;
			break;
		case LW_OPT_GRAPH:
			if (strcmp(optarg, "all") == 0)
				o->graph_all = true;
			else if (strcmp(optarg, "cycles") == 0)
				o->graph_all = false;
			else {
				lw_msg_usage("--graph: expected cycles or all, not '%s'", optarg);
				return -1;
			}
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
			if (optopt > 0 && optopt < 256)
				lw_msg_usage("unknown option '-%c'", optopt);
			else
				lw_msg_usage("unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	return 1;
}

int lw_report_prepare(struct lw_report_opts *o)
{
	char *env_supp = NULL;
	const char *supp = o->suppressions;

	if (o->fmt == LW_FORMAT_SVG && !lw_dot_available()) {
		lw_msg_error("--format svg needs the 'dot' program from Graphviz, which is not in "
			     "PATH: install graphviz, or use --format dot");
		return LW_EXIT_FAILURE;
	}
	/* Issue 24: --trust-dir, or LOCKWATCH_OPTIONS' trust_dir=1 (the shim's option). */
	{
		char *t = lw_env_option(getenv("LOCKWATCH_OPTIONS"), "trust_dir");

		if (t && *t && strcmp(t, "0") != 0)
			o->trust_dir = true;
		free(t);
		lw_trace_set_trust(o->trust_dir);
	}
	/* LOCKWATCH_OPTIONS=suppressions=FILE, as TSAN_OPTIONS does; the option wins. */
	if (!supp) {
		env_supp = lw_env_option(getenv("LOCKWATCH_OPTIONS"), "suppressions");
		if (env_supp && *env_supp)
			supp = env_supp;
	}
	if (supp) {
		if (lw_suppressions_load(&o->supp, supp) < 0) {
			lw_suppressions_free(&o->supp);
			free(env_supp);
			return LW_EXIT_USAGE;
		}
		o->have_supp = true;
	}
	free(env_supp);
	if (o->baseline) {
		if (lw_baseline_load(&o->base, o->baseline) < 0) {
			lw_report_opts_free(o);
			return LW_EXIT_USAGE;
		}
		o->have_base = true;
	}
	return 0;
}

void lw_report_opts_free(struct lw_report_opts *o)
{
	if (o->have_supp)
		lw_suppressions_free(&o->supp);
	if (o->have_base)
		lw_baseline_free(&o->base);
	o->have_supp = o->have_base = false;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t lw_refused_traces;

/* Opens path (a trace or a directory of them) without following a symlink unless trusted,
 * and checks its owner and mode on the descriptor.  Returns the descriptor, or -1 after one
 * message (counted in lw_refused_traces when refused for trust). */
static int open_checked(const char *path, struct stat *st, const char *verdict)
{
	bool trust = lw_trace_trusted();
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (trust ? 0 : O_NOFOLLOW));
	char why[128];
	struct stat lst;

	if (fd < 0) {
		if (!trust && (errno == ELOOP || (errno == ENOTDIR && lstat(path, &lst) == 0 &&
						  S_ISLNK(lst.st_mode)))) {
			lw_msg_error("%s: is a symbolic link, not followed: %s (name its target, "
				     "or --trust-dir follows it)", path, verdict);
			lw_refused_traces++;
		} else {
			lw_msg_error("%s: %s", path, strerror(errno));
		}
		return -1;
	}
	if (fstat(fd, st) < 0) {
		lw_msg_error("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (lw_trace_untrusted(st, why, sizeof(why))) {
		lw_msg_error("%s: %s: %s (--trust-dir uses it)", path, why, verdict);
		lw_refused_traces++;
		close(fd);
		return -1;
	}
	return fd;
}

int lw_check_trace_dir(const char *dir)
{
	struct stat st;
	int fd = open_checked(dir, &st, "nothing was run");

	if (fd < 0)
		return -1;
	close(fd);
	if (!S_ISDIR(st.st_mode)) {
		lw_msg_error("%s: not a directory", dir);
		return -1;
	}
	return 0;
}

/*
 * Issue 24: a directory is read through its descriptor (checked as a trace is); a *.trace in
 * it that is a symlink is refused with a message, not followed, unless trusted.  Each file
 * is checked again, on its own descriptor, when it is read (trace_reader.c).
 */
int lw_collect_traces(const char *arg, struct lw_strvec *out)
{
	struct stat st;
	struct lw_strvec found = { 0 };
	struct dirent *de;
	DIR *d;
	int fd = open_checked(arg, &st, "not read");

	if (fd < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		lw_vec_push(out, lw_xstrdup(arg));
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		lw_msg_error("%s: %s", arg, strerror(errno));
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path;

		if (len <= 6 || strcmp(de->d_name + len - 6, ".trace") != 0)
			continue;
		path = lw_xasprintf("%s%s%s", arg, arg[strlen(arg) - 1] == '/' ? "" : "/",
				    de->d_name);
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
		    !lw_trace_trusted()) {
			lw_msg_error("%s: is a symbolic link: not followed (name its target, or "
				     "--trust-dir follows it)", path);
			lw_refused_traces++;
			free(path);
			continue;
		}
		if (fstatat(fd, de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
			lw_vec_push(&found, path);
		else
			free(path);
	}
	closedir(d);
	if (found.n)
		qsort(found.v, found.n, sizeof(found.v[0]), str_cmp);
	for (size_t i = 0; i < found.n; i++)
		lw_vec_push(out, found.v[i]);
	free(found.v);
	return 0;
}

size_t lw_load_traces(struct lw_model *m, const struct lw_strvec *paths)
{
	size_t bad = 0;

	for (size_t i = 0; i < paths->n; i++) {
		struct lw_trace t;
		struct lw_trace_error err;
		char line[1024];

		int rc = lw_trace_open(paths->v[i], &t, &err);

		if (rc == -ENODATA) {
			/* Issue 24: empty or never completed (all zero): nothing to analyze. */
			lw_trace_error_format(paths->v[i], &err, line, sizeof(line));
			lw_msg_warning("%s; left out", line);
			continue;
		}
		if (rc < 0) {
			lw_trace_error_format(paths->v[i], &err, line, sizeof(line));
			lw_msg_error("%s", line);
			lw_refused_traces += rc == -EPERM;   /* issue 24: not trusted */
			bad++;
			continue;
		}
		/* Issue 24: a process killed, or one that ended without the shim's exit path. */
		if (!(t.hdr.flags & LW_HDR_CLOSED))
			lw_msg_warning("%s: never closed (its process was killed, or the shim could "
				       "not close it): read up to its last record", paths->v[i]);
		uint32_t proc = lw_model_add_trace(m, &t);
		size_t cut = m->procs.v[proc].n_cut;
		char left_out[96] = "";
		if (cut)
			snprintf(left_out, sizeof(left_out), " (%zu records written after the first "
				 "dropped one are left out)", cut);
		/* Issue 21: cut where a thread still running after the program's exit began
		 * found no room (lockwatch-trace(5)): no record was dropped before it. */
		bool exit_cut = !(t.hdr.flags & LW_HDR_TRUNCATED) && t.hdr.cut_seq &&
				(t.hdr.flags & LW_HDR_CLOSED);
		if (exit_cut)
			lw_msg_warning("%s: threads still running after the program's exit began "
				       "wrote more than the shim had room for: what they did after seq "
				       "%llu is not in the report (%zu records written after it are "
				       "left out)", paths->v[i], (unsigned long long)t.hdr.cut_seq, cut);
		else if (!exit_cut && (cut || t.hdr.flags & LW_HDR_TRUNCATED || t.hdr.dropped))
			lw_msg_warning("%s: the shim dropped %llu records; the report may be "
				       "incomplete%s", paths->v[i], (unsigned long long)t.hdr.dropped,
				       left_out);
		/* Issue 18: lock operations the shim could not record (its lock table was full). */
		if (t.hdr.locks_unrecorded)
			lw_msg_warning("%s: the shim could not record %llu lock operations (its lock "
				       "table was full); lock orders may be missing, and an unlock or "
				       "wait it found no acquisition for is not reported as misuse",
				       paths->v[i], (unsigned long long)t.hdr.locks_unrecorded);
		lw_trace_close(&t);
	}
	lw_model_finish(m);
	return bad;
}

/*
 * Keeps one finding per fingerprint and severity: the same cycle in fifty processes of a test
 * suite is one finding seen fifty times more, not fifty findings.  The first stays, with the
 * others' counts added.
 */
static void merge_duplicates(struct lw_findings *fs)
{
	struct lw_findings dup = { 0 };
	char (*fps)[LW_FINGERPRINT_LEN] = lw_xcalloc(fs->v.n + 1, sizeof(*fps));
	size_t kept = 0;

	for (size_t i = 0; i < fs->v.n; i++) {
		struct lw_finding *f = fs->v.v[i];
		size_t k;

		lw_finding_fingerprint(f, fps[kept]);
		for (k = 0; k < kept; k++)
			if (fs->v.v[k]->severity == f->severity && !strcmp(fps[k], fps[kept]))
				break;
		if (k < kept) {
			fs->v.v[k]->count += f->count;
			lw_vec_push(&dup.v, f);
		} else {
			fs->v.v[kept++] = f;
		}
	}
	fs->v.n = kept;
	free(fps);
	lw_findings_free(&dup);
}

int lw_report(struct lw_model *m, struct lw_report_opts *o)
{
	struct lw_findings fs = { 0 }, dropped = { 0 };
	enum lw_format fmt = o->fmt;
	const char *out_path = o->out_path;
	FILE *out = fmt == LW_FORMAT_TEXT ? stderr : stdout;
	const char *out_name = fmt == LW_FORMAT_TEXT ? "standard error" : "standard output";
	size_t new_errors = 0;
	int rc, bad;

	lw_analyze(m, &fs);
	if (o->have_supp) {
		fs.n_suppressed = lw_suppressions_apply(&o->supp, &fs, &dropped);
		lw_findings_free(&dropped);
		lw_suppressions_report_unused(&o->supp);
	}
	merge_duplicates(&fs);
	for (size_t i = 0; i < fs.v.n; i++) {
		struct lw_finding *f = fs.v.v[i];

		if (o->have_base) {
			char fp[LW_FINGERPRINT_LEN];

			lw_finding_fingerprint(f, fp);
			f->baseline = lw_baseline_has(&o->base, fp);
		}
		new_errors += f->severity == LW_SEV_ERROR && !f->baseline;
	}
	if (fs.unlisted_warn_cycles) {
		/* Listed cycles through the same code were merged into one finding above. */
		size_t shown = 0;

		for (size_t i = 0; i < fs.v.n; i++)
			shown += fs.v.v[i]->kind == LW_FIND_LOCK_ORDER_CYCLE &&
				 fs.v.v[i]->severity == LW_SEV_WARNING &&
				 fs.v.v[i]->reason != LW_REASON_LOCK_CLASS;
		lw_msg_warning("%zu more lock-order cycle%s that cannot deadlock not listed (%zu "
			       "%s, as %zu finding%s)", fs.unlisted_warn_cycles,
			       fs.unlisted_warn_cycles == 1 ? "" : "s", fs.listed_warn_cycles,
			       fs.listed_warn_cycles == 1 ? "is" : "are", shown,
			       shown == 1 ? "" : "s");
	}
	if (fs.truncated_sccs && !fs.deadlock_search_stopped)
		lw_msg_warning("%zu group%s of locks or lock classes had more than 1000 cycles: "
			       "past the first 1000, only cycles that can deadlock were looked for, "
			       "and all of them are reported", fs.truncated_sccs,
			       fs.truncated_sccs == 1 ? "" : "s");
	else if (fs.truncated_sccs)
		lw_msg_warning("%zu group%s of locks or lock classes had more than 1000 cycles: "
			       "past the first 1000, cycles that can deadlock were looked for up to "
			       "%" PRIu32 " locks long, and longer ones may be missing",
			       fs.truncated_sccs,
			       fs.truncated_sccs == 1 ? "" : "s", fs.deadlock_search_len);
	if (out_path) {
		out = fopen(out_path, "w");
		out_name = out_path;
		if (!out) {
			lw_msg_error("cannot write %s: %s", out_path, strerror(errno));
			lw_findings_free(&fs);
			return LW_EXIT_FAILURE;
		}
	}
	bad = 0;
	switch (fmt) {
	case LW_FORMAT_JSON:
		lw_render_json(&fs, out);
		break;
	case LW_FORMAT_SARIF:
		lw_render_sarif(&fs, out, o->have_base);
		break;
	case LW_FORMAT_DOT:
		lw_render_dot(&fs, m, o->graph_all, out);
		break;
	case LW_FORMAT_SVG:
		if (lw_render_svg(&fs, m, o->graph_all, out) < 0) {
			if (out_path)
				fclose(out);
			lw_findings_free(&fs);
			return LW_EXIT_FAILURE;
		}
		break;
	case LW_FORMAT_TEXT: {
		struct lw_text_style st = { .color = lw_color_wanted(o->color, out),
					    .source = true };

		lw_render_text_styled(&fs, out, &st);
		break;
	}
	}
	bad = fflush(out) != 0 || ferror(out);
	if (out_path && fclose(out) != 0)
		bad = 1;
	rc = new_errors ? LW_EXIT_FOUND : LW_EXIT_OK;
	lw_findings_free(&fs);
	if (bad) {
		lw_msg_error("cannot write the report to %s: %s", out_name, strerror(errno));
		return LW_EXIT_FAILURE;
	}
	return rc;
}
