/* Checks on the JSON of data-race and atomicity-violation findings, shared by the hook-mode
 * integration tests. */
#ifndef LW_RACE_CHECKS_H
#define LW_RACE_CHECKS_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>
#include "lw_test.h"

/* The name of the finding's variable, or NULL. */
static inline const char *variable(json_t *finding)
{
	return json_string_value(json_object_get(json_object_get(finding, "variable"), "name"));
}

/* "kind severity variable; ..." of every finding, for an assertion's message (static buffer). */
static inline const char *finding_list(json_t *report)
{
	static char buf[4096];
	size_t i, n = 0;
	json_t *f;

	buf[0] = '\0';
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		const char *v = variable(f);
		int k = snprintf(buf + n, sizeof buf - n, "%s %s %s; ",
				 json_string_value(json_object_get(f, "kind")),
				 json_string_value(json_object_get(f, "severity")), v ? v : "-");
		if (k < 0 || (size_t)k >= sizeof buf - n)
			break;
		n += (size_t)k;
	}
	return buf;
}

/* Every finding is about a variable whose name starts with prefix. */
static inline void assert_all_on(json_t *report, const char *prefix)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		const char *v = variable(f);
		cr_assert(v && !strncmp(v, prefix, strlen(prefix)), "finding %zu is about %s, not %s",
			  i, v ? v : "(none)", prefix);
	}
}

/* Whether some access of the finding has its innermost frame in function fn (NULL: any) and
 * in file (basename, with a line; NULL: any). */
static inline bool some_access_at(json_t *finding, const char *fn, const char *file)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(finding, "accesses"), i, a) {
		json_t *fr = json_array_get(json_object_get(a, "stack"), 0);
		const char *f = json_string_value(json_object_get(fr, "function"));
		const char *p = json_string_value(json_object_get(fr, "file"));
		const char *base = p ? strrchr(p, '/') : NULL;
		if ((!fn || (f && !strcmp(f, fn))) &&
		    (!file || (p && !strcmp(base ? base + 1 : p, file) &&
			       json_integer_value(json_object_get(fr, "line")) > 0)))
			return true;
	}
	return false;
}

/* The run ended with status 66 for data races alone, every finding on the variable var.
 * Returns the first data race. */
static inline json_t *assert_races_only_on(const struct lw_result *r, const char *var)
{
	cr_assert_eq(r->status, 66, "exit status %d, stderr: %s", r->status, r->stderr_text);
	int races = lw_count(r->report, "data-race", "error");
	cr_assert_geq(races, 1);
	cr_assert_eq(lw_count(r->report, NULL, "error"), races, "findings: %s",
		     finding_list(r->report));
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(r->report, "findings"), i, g)
		cr_assert_str_eq(variable(g), var, "finding %zu", i);
	return lw_find(r->report, "data-race", "error");
}

#endif
