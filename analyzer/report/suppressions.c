/* Suppressions: ThreadSanitizer's file syntax, matched against a finding's names and stacks. */
#include "report/suppressions.h"
#include "base/msg.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char       *name;
	enum lw_supp_type type;
} types[] = {
	{ "deadlock", LW_SUPP_DEADLOCK },
	{ "race", LW_SUPP_RACE },
	{ "race_top", LW_SUPP_RACE_TOP },
	{ "mutex", LW_SUPP_MUTEX },
	{ "called_from_lib", LW_SUPP_CALLED_FROM_LIB },
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int lw_suppressions_load(struct lw_suppressions *s, const char *path)
{
	char *text;
	size_t len;
	int rc = lw_read_regular_file(path, LW_SUPP_MAX_BYTES, &text, &len);

	if (rc) {
		lw_msg_error("cannot read the suppressions file %s: %s", path, lw_read_error(rc));
		return -1;
	}
	rc = lw_suppressions_parse(s, path, text, len);
	free(text);
	return rc;
}

int lw_suppressions_parse(struct lw_suppressions *s, const char *path, char *text, size_t len)
{
	char *next = text, *end = text + len;
	int lineno = 0, rc = 0;

	if (!s->path)
		s->path = lw_xstrdup(path);
	/* Issue 24: a UTF-8 byte order mark (editors on Windows write one) is not text. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		next += 3;
	while (next < end) {
		char *buf = next, *nl = memchr(next, '\n', (size_t)(end - next));
		char *line, *colon, *pat;
		size_t t;

		if (nl) {
			*nl = '\0';
			next = nl + 1;
		} else {
			next = end;
		}
		lineno++;
		if (memchr(buf, '\0', (size_t)((nl ? nl : end) - buf))) {
			lw_msg_error("%s:%d: a NUL byte: not a text file", path, lineno);
			rc = -1;
			break;
		}
		line = trim(buf);
		if (!*line || *line == '#')
			continue;
		colon = strchr(line, ':');
		if (!colon) {
			lw_msg_error("%s:%d: expected TYPE:PATTERN, e.g. deadlock:my_function", path,
				     lineno);
			rc = -1;
			break;
		}
		*colon = '\0';
		pat = trim(colon + 1);
		if (!strcmp(line, "thread") || !strcmp(line, "signal")) {
			lw_msg_warning("%s:%d: '%s:' suppressions do not apply to lockwatch; ignored",
				       path, lineno, line);
			continue;
		}
		for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			if (!strcmp(line, types[t].name))
				break;
		if (t == sizeof(types) / sizeof(types[0])) {
			lw_msg_error("%s:%d: unknown suppression type '%s' (expected deadlock, race, "
				     "race_top, mutex or called_from_lib)", path, lineno, line);
			rc = -1;
			break;
		}
		if (!*pat) {
			lw_msg_error("%s:%d: empty pattern", path, lineno);
			rc = -1;
			break;
		}
		lw_vec_push(&s->v, ((struct lw_suppression){
			.type = types[t].type, .pattern = lw_xstrdup(pat),
			.text = lw_xasprintf("%s:%s", line, pat), .line = lineno }));
	}
	return rc;
}

/* Matches pattern (no anchors left to handle but a trailing '$') at the start of s.  Issue 24:
 * backtracks to the last '*' only, so "*a*a*a...b" costs O(len(p) * len(s)), not exponential
 * time (a suppressions file is input too). */
static bool match_here(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		if (!*p)
			return true;
		if (*p == '$' && p[1] == '\0') {
			if (!*s)
				return true;
		} else if (*s && *s == *p) {
			p++;
			s++;
			continue;
		}
		/* Mismatch: let the last '*' take one more character. */
		if (!star_p || !*star_s)
			return false;
		s = ++star_s;
		p = star_p;
	}
}

bool lw_supp_match(const char *pattern, const char *s)
{
	if (!s)
		return false;
	if (*pattern == '^')
		return match_here(pattern + 1, s);
	for (const char *q = s;; q++) {
		if (match_here(pattern, q))
			return true;
		if (!*q)
			return false;
	}
}

static bool match_frame(const char *pat, const struct lw_frame *fr)
{
	return lw_supp_match(pat, fr->function) || lw_supp_match(pat, fr->file) ||
	       lw_supp_match(pat, fr->module);
}

/* Any frame of st (only the first if top_only) matches. */
static bool match_stack(const char *pat, const struct lw_fstack *st, bool top_only)
{
	for (size_t i = 0; i < st->n && (!top_only || i == 0); i++)
		if (match_frame(pat, &st->frames[i]))
			return true;
	return false;
}

/* The stacks where the finding's own operations happened (not thread creation). */
static bool match_op_stacks(const char *pat, const struct lw_finding *f, bool top_only)
{
	for (size_t i = 0; i < f->edges.n; i++)
		if (match_stack(pat, &f->edges.v[i].to_stack, top_only) ||
		    match_stack(pat, &f->edges.v[i].from_stack, top_only))
			return true;
	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		if (match_stack(pat, &t->stack, top_only))
			return true;
		for (size_t k = 0; k < t->n_held; k++)
			if (match_stack(pat, &t->held[k].stack, top_only))
				return true;
	}
	for (size_t i = 0; i < f->accesses.n; i++)
		if (match_stack(pat, &f->accesses.v[i].stack, top_only))
			return true;
	return false;
}

static bool match_names(const char *pat, const struct lw_finding *f)
{
	for (size_t i = 0; i < f->locks.n; i++)
		if (lw_supp_match(pat, f->locks.v[i].name))
			return true;
	return lw_supp_match(pat, f->variable.name) || lw_supp_match(pat, f->path);
}

/* Whether suppression su applies to f. */
static bool suppresses(const struct lw_suppression *su, const struct lw_finding *f)
{
	const char *pat = su->pattern;

	switch (su->type) {
	case LW_SUPP_DEADLOCK:
		if (f->kind != LW_FIND_LOCK_ORDER_CYCLE && f->kind != LW_FIND_DEADLOCK)
			return false;
		break;
	case LW_SUPP_RACE:
	case LW_SUPP_RACE_TOP:
		if (f->kind != LW_FIND_DATA_RACE && f->kind != LW_FIND_ATOMICITY)
			return false;
		break;
	case LW_SUPP_MUTEX:
		if (f->kind != LW_FIND_MISUSE)
			return false;
		break;
	case LW_SUPP_CALLED_FROM_LIB:
		/* The library made the operation: the top frame of a stack is in it. */
		for (size_t i = 0; i < f->edges.n; i++)
			if ((f->edges.v[i].to_stack.n &&
			     lw_supp_match(pat, f->edges.v[i].to_stack.frames[0].module)) ||
			    (f->edges.v[i].from_stack.n &&
			     lw_supp_match(pat, f->edges.v[i].from_stack.frames[0].module)))
				return true;
		for (size_t i = 0; i < f->threads.n; i++)
			if (f->threads.v[i].stack.n &&
			    lw_supp_match(pat, f->threads.v[i].stack.frames[0].module))
				return true;
		for (size_t i = 0; i < f->accesses.n; i++)
			if (f->accesses.v[i].stack.n &&
			    lw_supp_match(pat, f->accesses.v[i].stack.frames[0].module))
				return true;
		return false;
	}
	if (su->type == LW_SUPP_RACE_TOP)
		return match_op_stacks(pat, f, true);
	return match_names(pat, f) || match_op_stacks(pat, f, false);
}

size_t lw_suppressions_apply(struct lw_suppressions *s, struct lw_findings *fs,
			     struct lw_findings *dropped)
{
	size_t kept = 0, n = 0;

	for (size_t i = 0; i < fs->v.n; i++) {
		struct lw_finding *f = fs->v.v[i];
		bool hit = false;

		/* Every matching suppression counts as used, not only the first. */
		for (size_t k = 0; k < s->v.n; k++)
			if (suppresses(&s->v.v[k], f)) {
				s->v.v[k].hits++;
				hit = true;
			}
		if (hit) {
			lw_vec_push(&dropped->v, f);
			n++;
		} else {
			fs->v.v[kept++] = f;
		}
	}
	fs->v.n = kept;
	return n;
}

void lw_suppressions_report_unused(const struct lw_suppressions *s)
{
	for (size_t i = 0; i < s->v.n; i++)
		if (!s->v.v[i].hits)
			lw_msg_warning("%s:%d: suppression '%s' matched nothing", s->path,
				       s->v.v[i].line, s->v.v[i].text);
}

void lw_suppressions_free(struct lw_suppressions *s)
{
	for (size_t i = 0; i < s->v.n; i++) {
		free(s->v.v[i].pattern);
		free(s->v.v[i].text);
	}
	free(s->v.v);
	free(s->path);
	memset(s, 0, sizeof(*s));
}
