/* Baselines: a small validating JSON reader that collects fingerprints from a report. */
#include "report/baseline.h"
#include "base/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reports nest a few levels deep; this bounds the recursion on hostile input. */
#define MAX_DEPTH 64

struct scan {
	const char         *p, *end;
	const char         *err;     /* first syntax error */
	struct lw_baseline *b;
	bool                is_lockwatch;
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Parses a string at s->p; returns it malloc'd (escapes other than \" and \\ kept raw: the
 * strings we look for are plain), or NULL on error. */
static char *string(struct scan *s)
{
	const char *start;
	char *out;
	size_t n = 0;

	if (s->p >= s->end || *s->p != '"') {
		s->err = "expected a string";
		return NULL;
	}
	start = ++s->p;
	while (s->p < s->end && *s->p != '"') {
		if ((unsigned char)*s->p < 0x20) {
			s->err = "control character in a string";
			return NULL;
		}
		if (*s->p == '\\')
			s->p++;
		s->p++;
	}
	if (s->p >= s->end) {
		s->err = "unterminated string";
		return NULL;
	}
	out = lw_xmalloc((size_t)(s->p - start) + 1);
	for (const char *q = start; q < s->p; q++) {
		if (*q == '\\' && (q[1] == '"' || q[1] == '\\' || q[1] == '/'))
			q++;
		out[n++] = *q;
	}
	out[n] = '\0';
	s->p++;
	return out;
}

static bool value(struct scan *s, int depth, const char *key);

static bool object(struct scan *s, int depth)
{
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		char *key;
		bool ok;

		ws(s);
		key = string(s);
		if (!key)
			return false;
		ws(s);
		if (s->p >= s->end || *s->p != ':') {
			free(key);
			s->err = "expected ':'";
			return false;
		}
		s->p++;
		ws(s);
		ok = value(s, depth + 1, key);
		free(key);
		if (!ok)
			return false;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return true;
		}
		s->err = "expected ',' or '}'";
		return false;
	}
}

static bool array(struct scan *s, int depth)
{
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		ws(s);
		if (!value(s, depth + 1, NULL))
			return false;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return true;
		}
		s->err = "expected ',' or ']'";
		return false;
	}
}

static bool literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) {
		s->err = "unexpected character";
		return false;
	}
	s->p += n;
	return true;
}

/* Parses one value; key is the member name it belongs to (NULL in arrays). */
static bool value(struct scan *s, int depth, const char *key)
{
	if (depth > MAX_DEPTH) {
		s->err = "nested too deeply";
		return false;
	}
	if (s->p >= s->end) {
		s->err = "unexpected end of file";
		return false;
	}
	switch (*s->p) {
	case '{':
		return object(s, depth);
	case '[':
		return array(s, depth);
	case '"': {
		char *v = string(s);

		if (!v)
			return false;
		if (key && (!strcmp(key, "fingerprint") || !strcmp(key, "lockwatch/v1")))
			lw_vec_push(&s->b->fingerprints, v);
		else {
			if (key && !strcmp(key, "tool") && !strcmp(v, "lockwatch"))
				s->is_lockwatch = true;
			if (key && !strcmp(key, "name") && !strcmp(v, "lockwatch"))
				s->is_lockwatch = true;   /* SARIF: tool.driver.name */
			free(v);
		}
		return true;
	}
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) {
			while (s->p < s->end && strchr("+-0123456789.eE", *s->p))
				s->p++;
			return true;
		}
		s->err = "unexpected character";
		return false;
	}
}

static int fp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lw_baseline_load(struct lw_baseline *b, const char *path)
{
	char *text;
	size_t len;
	int rc = lw_read_regular_file(path, LW_BASELINE_MAX_BYTES, &text, &len);

	if (rc) {
		lw_msg_error("cannot read the baseline %s: %s", path, lw_read_error(rc));
		return -1;
	}
	rc = lw_baseline_parse(b, path, text, len);
	free(text);
	return rc;
}

int lw_baseline_parse(struct lw_baseline *b, const char *path, const char *text, size_t len)
{
	struct scan s = { .b = b };

	s.p = text;
	s.end = text + len;
	ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		s.err = "expected a JSON object";
	} else if (value(&s, 0, NULL)) {
		ws(&s);
		if (s.p != s.end)
			s.err = "trailing text after the JSON object";
	}
	if (s.err) {
		lw_msg_error("%s: not a lockwatch report: %s at byte %zu (make the baseline with "
			     "--format json)", path, s.err, (size_t)(s.p - text));
		lw_baseline_free(b);
		return -1;
	}
	if (!s.is_lockwatch) {
		lw_msg_error("%s: not a lockwatch report (make the baseline with --format json)",
			     path);
		lw_baseline_free(b);
		return -1;
	}
	if (b->fingerprints.n)
		qsort(b->fingerprints.v, b->fingerprints.n, sizeof(char *), fp_cmp);
	return 0;
}

bool lw_baseline_has(const struct lw_baseline *b, const char *fp)
{
	return b->fingerprints.n &&
	       bsearch(&fp, b->fingerprints.v, b->fingerprints.n, sizeof(char *), fp_cmp) != NULL;
}

void lw_baseline_free(struct lw_baseline *b)
{
	for (size_t i = 0; i < b->fingerprints.n; i++)
		free(b->fingerprints.v[i]);
	free(b->fingerprints.v);
	memset(b, 0, sizeof(*b));
}
