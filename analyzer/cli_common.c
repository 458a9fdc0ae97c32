/* Shared by the subcommands: finding trace files, loading them, writing the report. */
#include "cli.h"
#include "msg.h"
#include "render.h"
#include "trace_reader.h"

#include <dirent.h>
#include <errno.h>
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
	else {
		lw_msg_usage("unknown format '%s' (expected text or json)", s);
		return -1;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lw_collect_traces(const char *arg, struct lw_strvec *out)
{
	struct stat st;
	struct lw_strvec found = { 0 };
	struct dirent *de;
	DIR *d;

	if (stat(arg, &st) < 0) {
		lw_msg_error("%s: %s", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		lw_vec_push(out, lw_xstrdup(arg));
		return 0;
	}
	d = opendir(arg);
	if (!d) {
		lw_msg_error("%s: %s", arg, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path;

		if (len <= 6 || strcmp(de->d_name + len - 6, ".trace") != 0)
			continue;
		path = lw_xasprintf("%s%s%s", arg, arg[strlen(arg) - 1] == '/' ? "" : "/",
				    de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
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

		if (lw_trace_open(paths->v[i], &t, &err) < 0) {
			lw_trace_error_format(paths->v[i], &err, line, sizeof(line));
			lw_msg_error("%s", line);
			bad++;
			continue;
		}
		if (t.hdr.flags & LW_HDR_TRUNCATED || t.hdr.dropped)
			lw_msg_warning("%s: the shim dropped %llu records; the report may be "
				       "incomplete", paths->v[i], (unsigned long long)t.hdr.dropped);
		lw_model_add_trace(m, &t);
		lw_trace_close(&t);
	}
	lw_model_finish(m);
	return bad;
}

int lw_report(struct lw_model *m, enum lw_format fmt, const char *out_path)
{
	struct lw_findings fs = { 0 };
	FILE *out = fmt == LW_FORMAT_JSON ? stdout : stderr;
	const char *out_name = fmt == LW_FORMAT_JSON ? "standard output" : "standard error";
	int rc, bad;

	lw_analyze(m, &fs);
	if (fs.truncated_sccs)
		lw_msg_warning("%zu group%s of locks had too many cycles to list: only the first "
			       "1000 per group are reported", fs.truncated_sccs,
			       fs.truncated_sccs == 1 ? "" : "s");
	if (out_path) {
		out = fopen(out_path, "w");
		out_name = out_path;
		if (!out) {
			lw_msg_error("cannot write %s: %s", out_path, strerror(errno));
			lw_findings_free(&fs);
			return LW_EXIT_FAILURE;
		}
	}
	if (fmt == LW_FORMAT_JSON)
		lw_render_json(&fs, out);
	else
		lw_render_text(&fs, out);
	bad = fflush(out) != 0 || ferror(out);
	if (out_path && fclose(out) != 0)
		bad = 1;
	rc = lw_findings_count(&fs, LW_SEV_ERROR) ? LW_EXIT_FOUND : LW_EXIT_OK;
	lw_findings_free(&fs);
	if (bad) {
		lw_msg_error("cannot write the report to %s: %s", out_name, strerror(errno));
		return LW_EXIT_FAILURE;
	}
	return rc;
}
