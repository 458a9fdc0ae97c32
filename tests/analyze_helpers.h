/* Unit-test helpers: analyze a hand-built trace and look at the findings. */
#ifndef LW_ANALYZE_HELPERS_H
#define LW_ANALYZE_HELPERS_H

#include <criterion/criterion.h>
#include "detect/findings.h"
#include "detect/analyze.h"
#include "trace/model.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

/* Parses b (which must be valid), runs every detector into fs, and frees b. */
static inline void tb_analyze(struct tb *b, struct lw_findings *fs)
{
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_model *m = lw_model_new();

	cr_assert_eq(lw_trace_parse(b->buf, b->len, "t", &t, &err), 0, "%s", err.what);
	lw_model_add_trace(m, &t);
	lw_trace_close(&t);
	lw_model_finish(m);
	lw_analyze(m, fs);
	lw_model_free(m);
	tb_free(b);
}

/* Findings of kind k. */
static inline size_t tb_count(const struct lw_findings *fs, enum lw_finding_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < fs->v.n; i++)
		n += fs->v.v[i]->kind == k;
	return n;
}

/* The first finding of kind k, or NULL. */
static inline struct lw_finding *tb_first(const struct lw_findings *fs, enum lw_finding_kind k)
{
	for (size_t i = 0; i < fs->v.n; i++)
		if (fs->v.v[i]->kind == k)
			return fs->v.v[i];
	return NULL;
}

#endif
