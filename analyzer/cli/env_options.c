/* LOCKWATCH_OPTIONS for the CLI: find a key, or drop the keys the shim has no use for. */
#include "cli/env_options.h"
#include "base/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_sep(char c)
{
	return c == ':' || c == ' ' || c == '\t' || c == '\n';
}

/* One pair: [start, end) is its raw text, key and value are unquoted copies. */
struct pair {
	const char *start, *end;
	char       *key, *value;
};

/* Parses the pair at *s (after separators) exactly as the shim does.  Returns false at the
 * end of the string. */
static bool next_pair(const char **s, struct pair *p)
{
	const char *q = *s, *k, *v;
	char quote = 0;

	while (is_sep(*q))
		q++;
	if (!*q)
		return false;
	p->start = k = q;
	while (*q && *q != '=' && !is_sep(*q))
		q++;
	p->key = lw_xstrndup(k, (size_t)(q - k));
	if (*q == '=') {
		q++;
		if (*q == '\'' || *q == '"')
			quote = *q++;
		v = q;
		while (*q && (quote ? *q != quote : !is_sep(*q)))
			q++;
		p->value = lw_xstrndup(v, (size_t)(q - v));
		if (quote && *q == quote)
			q++;
	} else {
		p->value = lw_xstrdup("");
	}
	p->end = *s = q;
	return true;
}

char *lw_env_option(const char *opts, const char *key)
{
	struct pair p;
	char *found = NULL;

	if (!opts)
		return NULL;
	while (next_pair(&opts, &p)) {
		if (!strcmp(p.key, key)) {
			free(found);
			found = p.value;
		} else {
			free(p.value);
		}
		free(p.key);
	}
	return found;
}

char *lw_env_options_without(const char *opts, const char *key)
{
	size_t len = 0;
	/* Issue 24: a ':' goes between two pairs that may have had none ("a='x'b"): the copy
	 * can be up to twice as long (each pair is at least one byte). */
	char *out = lw_xmalloc(2 * strlen(opts) + 1);
	struct pair p;

	while (next_pair(&opts, &p)) {
		if (strcmp(p.key, key) != 0) {
			if (len)
				out[len++] = ':';
			memcpy(out + len, p.start, (size_t)(p.end - p.start));
			len += (size_t)(p.end - p.start);
		}
		free(p.key);
		free(p.value);
	}
	out[len] = '\0';
	return out;
}
