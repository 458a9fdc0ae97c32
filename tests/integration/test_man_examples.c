/* The EXAMPLES of lockwatch(1) run as documented (jq runs its manual's examples the same way). */
/*
 * In the EXAMPLES section, every no-fill block (.nf/.fi or .EX/.EE) is a shell session: a
 * line starting with "$ " is a command (a trailing "\e" continues it on the next line).  A
 * command ending in "; echo $?" must exit with the status on the line after it; any other
 * must exit with 0 or 66 (no error-level finding, or some), not with a usage error, a bad
 * trace or a crash.  Each block runs in one shell, so that an export carries over, and the
 * blocks run in order in one scratch directory where build/ and samples/ point into the
 * source tree, with build/bin first in PATH: the paths of the page work as written and the
 * files they create do not land in the tree.
 */
#include <criterion/criterion.h>
#include <limits.h>

#include "lw_test.h"

#define MAX_CMDS 64

struct example {
	char *cmd;
	int   status;                /* expected; -1: 0 or 66 */
	int   line;                  /* in the page */
};

static struct example ex[MAX_CMDS];
static int block_of[MAX_CMDS];
static int n_ex, n_blocks;

/* Turns the roff escapes the page uses into plain text: \- \e \(aq \(dq \& \(ti. */
static char *unroff(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '\\' && s[1] == '-') { *o++ = '-'; s += 2; }
		else if (s[0] == '\\' && s[1] == 'e') { *o++ = '\\'; s += 2; }
		else if (s[0] == '\\' && s[1] == '&') { s += 2; }
		else if (!strncmp(s, "\\(aq", 4)) { *o++ = '\''; s += 4; }
		else if (!strncmp(s, "\\(dq", 4)) { *o++ = '"'; s += 4; }
		else if (!strncmp(s, "\\(ti", 4)) { *o++ = '~'; s += 4; }
		else *o++ = *s++;
	}
	*o = '\0';
	return out;
}

static void parse_page(const char *path)
{
	char *text = lw_slurp(path), *save = NULL, *line;
	int in_examples = 0, in_block = 0, lineno = 0, pending = -1;

	cr_assert_not_null(text, "%s is missing (run from the repository root)", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (!strncmp(line, ".SH", 3)) {
			in_examples = strstr(line, "EXAMPLES") != NULL;
			continue;
		}
		if (!in_examples)
			continue;
		if (!strcmp(line, ".nf") || !strcmp(line, ".EX")) {
			in_block = 1;
			n_blocks++;
			pending = -1;
			continue;
		}
		if (!strcmp(line, ".fi") || !strcmp(line, ".EE")) {
			in_block = 0;
			continue;
		}
		if (!in_block)
			continue;
		if (!strncmp(line, "$ ", 2)) {
			char *cmd = unroff(line + 2);
			size_t len;

			cr_assert_lt(n_ex, MAX_CMDS);
			/* Continuation lines: "\" at the end (written \e). */
			while ((len = strlen(cmd)) && cmd[len - 1] == '\\') {
				char *next = strtok_r(NULL, "\n", &save), *more;

				cr_assert_not_null(next, "%s:%d: continued past the end", path, lineno);
				lineno++;
				more = unroff(next);
				cmd = realloc(cmd, len + strlen(more) + 2);
				cmd[len - 1] = ' ';
				strcpy(cmd + len, more);
				free(more);
			}
			len = strlen(cmd);
			ex[n_ex] = (struct example){ cmd, -1, lineno };
			if (len > 9 && !strcmp(cmd + len - 9, "; echo $?")) {
				cmd[len - 9] = '\0';
				pending = n_ex;
			} else {
				pending = -1;
			}
			block_of[n_ex++] = n_blocks;
		} else if (pending >= 0) {
			char *end;
			long st = strtol(line, &end, 10);

			cr_assert(end != line && *end == '\0', "%s:%d: expected the exit status of "
				  "'%s', not '%s'", path, lineno, ex[pending].cmd, line);
			ex[pending].status = (int)st;
			pending = -1;
		}
	}
	free(text);
}

Test(man_examples, lockwatch_1, .timeout = 300)
{
	char root[PATH_MAX], *dir = lw_tmpdir(), script[PATH_MAX + 64], log[PATH_MAX + 64];
	char path_env[PATH_MAX + 4096];
	FILE *f;

	cr_assert_not_null(getcwd(root, sizeof root));
	parse_page("man/lockwatch.1");
	cr_assert_gt(n_ex, 5, "too few examples found: %d", n_ex);
	snprintf(script, sizeof script, "%s/examples.sh", dir);
	snprintf(log, sizeof log, "%s/statuses", dir);
	f = fopen(script, "w");
	cr_assert_not_null(f);
	/* One subshell per block, in order; each command's status goes to fd 3, in order. */
	fprintf(f, "cd '%s' || exit 99\nln -s '%s/build' build && ln -s '%s/samples' samples || "
		"exit 99\nexec 3>'%s'\n", dir, root, root, log);
	for (int i = 0; i < n_ex; i++) {
		if (i == 0 || block_of[i] != block_of[i - 1])
			fputs("(\n", f);
		/* The command on its own lines, so that its quoting stays its own. */
		fprintf(f, "%s\necho $? >&3\n", ex[i].cmd);
		if (i + 1 == n_ex || block_of[i + 1] != block_of[i])
			fputs(") </dev/null\n", f);
	}
	fclose(f);
	snprintf(path_env, sizeof path_env, "PATH=%s/build/bin:%s", root,
		 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	{
		const char *argv[] = { "/bin/sh", script, NULL };
		const char *env[] = { path_env, "LOCKWATCH_OPTIONS=", NULL };
		char out[PATH_MAX + 64];
		int st;

		snprintf(out, sizeof out, "%s/output", dir);
		st = lw_spawn(argv, env, out, out, 280000);
		cr_assert_neq(st, -1, "the examples timed out");
		cr_assert_neq(st, 99, "cannot set up %s", dir);
		{
			char *statuses = lw_slurp(log), *p = statuses;

			cr_assert_not_null(statuses);
			for (int i = 0; i < n_ex; i++) {
				char *end;
				long got = strtol(p, &end, 10);

				cr_assert(end != p, "man/lockwatch.1:%d: '%s' did not finish:\n%s",
					  ex[i].line, ex[i].cmd, lw_slurp(out));
				p = end;
				if (ex[i].status >= 0)
					cr_expect_eq(got, ex[i].status, "man/lockwatch.1:%d: '%s' "
						     "exited with %ld, the page says %d", ex[i].line,
						     ex[i].cmd, got, ex[i].status);
				else
					cr_expect(got == 0 || got == 66, "man/lockwatch.1:%d: '%s' "
						  "exited with %ld", ex[i].line, ex[i].cmd, got);
			}
			free(statuses);
		}
	}
	for (int i = 0; i < n_ex; i++)
		free(ex[i].cmd);
	lw_rmtree(dir);
	free(dir);
}
