/* LOCKWATCH_OPTIONS: "key=value" pairs separated by ':' or white space; values may be quoted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lw_trace_format.h"
#include "core/options.h"
#include "core/layers.h"
#include "core/msg.h"

struct lw_options lw_opt;

/* Issue 24: digits only: strtoull would take "-1" (and "-18446744073709551615", which is 1)
 * and wrap it, and saturate an overflow to ULLONG_MAX; both are bad values. */
static uint64_t parse_u64(const char *s, int base, bool *ok)
{
	char *end;
	*ok = false;
	if (!*s || *s == '-' || *s == '+' || *s == ' ' || *s == '\t')
		return 0;
	int saved = errno;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	*ok = (*end == '\0') && errno != ERANGE;
	errno = saved;
	return v;
}

static void set_option(const char *key, const char *val, bool too_long)
{
	bool ok = true;
	if (too_long) {
		/* Issue 24: never a truncated value (a trace_dir cut at 4095 characters). */
		lw_msg("LOCKWATCH_OPTIONS: the value of %s is longer than %zu characters; "
		       "ignored", key, sizeof lw_opt.trace_dir - 1);
		return;
	}
	if (!strcmp(key, "trace_dir")) {
		if (strlen(val) >= sizeof lw_opt.trace_dir || !*val) {
			lw_msg("LOCKWATCH_OPTIONS: trace_dir is empty or too long; using %s",
			       lw_opt.trace_dir);
			return;
		}
		strcpy(lw_opt.trace_dir, val);
	} else if (!strcmp(key, "level")) {
		if (!strcmp(val, "dependencies"))
			lw_opt.level = LW_LEVEL_DEPENDENCIES;
		else if (!strcmp(val, "full"))
			lw_opt.level = LW_LEVEL_FULL;
		else
			ok = false;
	} else if (!strcmp(key, "stack_depth")) {
		uint64_t v = parse_u64(val, 10, &ok);
		if (ok && v >= 1 && v <= 64)
			lw_opt.stack_depth = (int)v;
		else
			ok = false;
	} else if (!strcmp(key, "max_trace_mb")) {
		uint64_t v = parse_u64(val, 10, &ok);
		if (ok && v >= 1 && v <= (1u << 20))
			lw_opt.max_trace_bytes = v << 20;
		else
			ok = false;
	} else if (!strcmp(key, "verbose")) {
		uint64_t v = parse_u64(val, 10, &ok);
		if (ok)
			lw_opt.verbose = v != 0;
	} else if (!strcmp(key, "on_deadlock")) {
		if (!strcmp(val, "exit"))
			lw_opt.on_deadlock = LW_ON_DEADLOCK_EXIT;
		else if (!strcmp(val, "abort"))
			lw_opt.on_deadlock = LW_ON_DEADLOCK_ABORT;
		else if (!strcmp(val, "continue"))
			lw_opt.on_deadlock = LW_ON_DEADLOCK_CONTINUE;
		else
			ok = false;
	} else if (!strcmp(key, "deadlock_ms") || !strcmp(key, "hang_ms")) {
		uint64_t v = parse_u64(val, 10, &ok);
		if (ok && v >= 10 && v <= 3600000)
			*(key[0] == 'd' ? &lw_opt.deadlock_ms : &lw_opt.hang_ms) = (int)v;
		else
			ok = false;
	} else if (!strcmp(key, "deadlock_exitcode")) {
		uint64_t v = parse_u64(val, 10, &ok);
		if (ok && v <= 255)
			lw_opt.deadlock_exitcode = (int)v;
		else
			ok = false;
	} else if (lw_layers_option(key, val)) {
		/* watch= (shim/access/layer.c) */
	} else if (!strcmp(key, "suppressions")) {
		/* Read by lockwatch report, not by the shim: one LOCKWATCH_OPTIONS serves both. */
	} else if (!strcmp(key, "trust_dir")) {
		/* Issue 24: a trace directory others own or can write, or a symlink, is used. */
		uint64_t v = parse_u64(val, 10, &ok);
		if (ok)
			lw_opt.trust_dir = v != 0;
	} else if (!strcmp(key, "enabled")) {
		uint64_t v = parse_u64(val, 10, &ok);
		if (ok)
			lw_opt.enabled = v != 0;
	} else {
		lw_msg("LOCKWATCH_OPTIONS: unknown option '%s' ignored", key);
		return;
	}
	if (!ok)
		lw_msg("LOCKWATCH_OPTIONS: bad value '%s' for %s ignored", val, key);
}

void lw_options_load(void)
{
	strcpy(lw_opt.trace_dir, "lockwatch-traces");
	lw_opt.level = LW_LEVEL_DEPENDENCIES;
	lw_opt.stack_depth = 24;
	lw_opt.max_trace_bytes = 1024ull << 20;
	lw_opt.verbose = 0;
	lw_opt.enabled = 1;
	lw_opt.session = 0;
	lw_opt.on_deadlock = LW_ON_DEADLOCK_EXIT;
	lw_opt.deadlock_ms = 1000;
	lw_opt.hang_ms = 3000;
	lw_opt.deadlock_exitcode = 66;
	lw_opt.trust_dir = 0;

	const char *sess = getenv("LOCKWATCH_SESSION");
	if (sess && *sess) {
		bool ok;
		uint64_t v = parse_u64(sess, 16, &ok);
		if (ok)
			lw_opt.session = v;
	}

	const char *s = getenv("LOCKWATCH_OPTIONS");
	if (!s)
		return;
	char key[64], val[4096];
	while (*s) {
		while (*s == ':' || *s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		size_t k = 0;
		while (*s && *s != '=' && *s != ':' && *s != ' ' && *s != '\t' && *s != '\n') {
			if (k < sizeof key - 1)
				key[k++] = *s;
			s++;
		}
		key[k] = '\0';
		size_t v = 0;
		bool too_long = false;
		if (*s == '=') {
			s++;
			char quote = (*s == '\'' || *s == '"') ? *s++ : 0;
			while (*s && (quote ? *s != quote
					   : (*s != ':' && *s != ' ' && *s != '\t' && *s != '\n'))) {
				if (v < sizeof val - 1)
					val[v++] = *s;
				else
					too_long = true;
				s++;
			}
			if (quote && *s == quote)
				s++;
		}
		val[v] = '\0';
		set_option(key, val, too_long);
	}
}
