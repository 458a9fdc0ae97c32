/* lockwatch run: run a program under the shim, then report on the traces of its process tree. */
#include "cli/cli.h"
#include "cli/env_options.h"
#include "base/msg.h"
#include "trace/trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid;
static char *watch_spec;             /* --watch: the shim's watch= value, or NULL */

static void run_usage(FILE *out)
{
	fputs("usage: lockwatch run [--format text|json|sarif|dot|svg] [-o FILE] [--trace-dir DIR]\n"
	      "                     [OPTIONS] -- PROG ARGS...\n\n"
	      "Runs PROG with liblockwatch.so preloaded, then reports on the traces that it and\n"
	      "its child processes wrote.  Exits with 66 on error-level findings, else with\n"
	      "PROG's own status (128+N if a signal N killed it).\n\n"
	      LW_REPORT_OPTIONS_HELP
	      "  -d, --trace-dir DIR     where the traces go (default ./lockwatch-traces)\n"
	      "  -w, --watch VAR,...     watch these variables (names, or 0xADDR:SIZE) with\n"
	      "                          hardware watchpoints, to find races on them (at most 4);\n"
	      "                          auto (the default) watches the program's own globals\n"
	      "                          by sampling, off watches nothing\n"
	      "  -h, --help              show this help\n"
	      "  -V, --version           show the version\n\n"
	      "Environment: LOCKWATCH_SHIM names the shim (default: ../lib/liblockwatch.so next to\n"
	      "this program); LOCKWATCH_OPTIONS is passed on to the shim with trace_dir added\n"
	      "(its suppressions=FILE is lockwatch's, not the shim's).\n", out);
}

static void forward_signal(int sig)
{
	pid_t pid = child_pid;

	if (pid > 0)
		kill(pid, sig);
}

/* Returns the shim's absolute path (malloc'd), or NULL after a message. */
static char *find_shim(void)
{
	const char *env = getenv("LOCKWATCH_SHIM");
	char self[PATH_MAX], *path, *real, *slash;
	ssize_t n;

	if (env && *env) {
		path = lw_xstrdup(env);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0) {
			lw_msg_error("cannot find myself (/proc/self/exe): %s", strerror(errno));
			return NULL;
		}
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		path = lw_xasprintf("%s/../lib/liblockwatch.so", self);
	}
	real = realpath(path, NULL);
	if (!real || access(real, R_OK) != 0) {
		lw_msg_error("cannot find the shim %s: %s (set LOCKWATCH_SHIM)", path,
			     strerror(errno));
		free(path);
		free(real);
		return NULL;
	}
	free(path);
	if (strpbrk(real, ": \t\n")) {
		lw_msg_error("the shim's path %s contains ':' or white space, which LD_PRELOAD "
			     "cannot carry", real);
		free(real);
		return NULL;
	}
	return real;
}

/* mkdir -p with mode 0700.  Returns 0 or -1 with errno set. */
static int mkdir_p(const char *dir)
{
	char *p = lw_xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	if (rc == 0) {
		struct stat st;

		if (stat(dir, &st) < 0)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
	}
	return rc;
}

/* Finds prog like execvp would.  Returns a malloc'd path, or NULL if not found. */
static char *resolve_prog(const char *prog)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/'))
		return lw_xstrdup(prog);
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		const char *e = strchrnul(p, ':');
		char *cand = e == p ? lw_xasprintf("./%s", prog)
				    : lw_xasprintf("%.*s/%s", (int)(e - p), p, prog);
		struct stat st;

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!*e)
			return NULL;
		p = e;
	}
}

/* True if path is an ELF executable without a program interpreter. */
static bool is_static_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool is_static = false;
	GElf_Ehdr eh;
	size_t n;
	Elf *e;

	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) && elf_getphdrnum(e, &n) == 0) {
		bool interp = false;

		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
				interp = true;
		}
		/* A shared library without an interpreter is not run directly; only flag
		 * executables (ET_EXEC, or ET_DYN with an entry point: static-pie). */
		is_static = !interp && (eh.e_type == ET_EXEC || eh.e_entry != 0);
	}
	if (e)
		elf_end(e);
	close(fd);
	return is_static;
}

/* Sets up the child's environment.  Returns 0 or -1 after a message. */
static int setup_env(const char *shim, const char *trace_dir, uint64_t session, bool trust)
{
	const char *pre = getenv("LD_PRELOAD"), *opts = getenv("LOCKWATCH_OPTIONS");
	char sess[17], *v;
	char q = strchr(trace_dir, '\'') ? '"' : '\'';

	if (strchr(trace_dir, '\'') && strchr(trace_dir, '"')) {
		lw_msg_error("the trace directory %s contains both kinds of quotes", trace_dir);
		return -1;
	}
	snprintf(sess, sizeof(sess), "%016" PRIx64, session);
	v = pre && *pre ? lw_xasprintf("%s:%s", shim, pre) : lw_xstrdup(shim);
	if (setenv("LOCKWATCH_SESSION", sess, 1) < 0 || setenv("LD_PRELOAD", v, 1) < 0) {
		free(v);
		lw_msg_error("cannot set the environment: %s", strerror(errno));
		return -1;
	}
	free(v);
	{
		/* suppressions= is for the analyzer; the shim would warn about it. */
		char *rest = opts ? lw_env_options_without(opts, "suppressions") : NULL;

		v = rest && *rest ? lw_xasprintf("%s:trace_dir=%c%s%c%s", rest, q, trace_dir, q,
						 trust ? ":trust_dir=1" : "")
				  : lw_xasprintf("trace_dir=%c%s%c%s", q, trace_dir, q,
						 trust ? ":trust_dir=1" : "");
		free(rest);
	}
	/* Issue 24: a stray quote in the user's options swallows the trace_dir added here (the
	 * shim would then record elsewhere, or nowhere): the shim's parser must find it. */
	{
		char *got = lw_env_option(v, "trace_dir");
		bool ok = got && strcmp(got, trace_dir) == 0;

		free(got);
		if (!ok) {
			lw_msg_error("LOCKWATCH_OPTIONS is malformed (an unclosed quote?): the shim "
				     "would not record into %s; nothing was run", trace_dir);
			free(v);
			return -2;
		}
	}
	if (setenv("LOCKWATCH_OPTIONS", v, 1) < 0) {
		free(v);
		lw_msg_error("cannot set the environment: %s", strerror(errno));
		return -1;
	}
	free(v);
	return 0;
}

/*
 * Issue 24: the shim's numeric options, checked before the program runs: the shim would
 * only warn about a bad one and use its default, and a CI run would pass having recorded
 * otherwise than asked.  The ranges are those of shim/core/options.c (keep them in step).
 * Returns 0, or -1 after one message.
 */
static int check_shim_options(const char *opts)
{
	static const struct { const char *key; unsigned long long lo, hi; } nums[] = {
		{ "stack_depth", 1, 64 },
		{ "max_trace_mb", 1, 1u << 20 },
		{ "deadlock_ms", 10, 3600000 },
		{ "hang_ms", 10, 3600000 },
		{ "deadlock_exitcode", 0, 255 },
		{ "verbose", 0, ULLONG_MAX },
		{ "enabled", 0, ULLONG_MAX },
		{ "trust_dir", 0, ULLONG_MAX },
		{ "collider_rate", 0, 100000 },      /* shim/access/collider.c */
		{ "collider_delay_us", 0, 100000 },
		{ "collider_budget", 0, 100 },
	};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char *v = lw_env_option(opts, nums[i].key), *end;
		unsigned long long n = 0;
		bool ok;

		if (!v)
			continue;
		errno = 0;
		ok = *v >= '0' && *v <= '9';
		if (ok)
			n = strtoull(v, &end, 10);
		ok = ok && !*end && errno != ERANGE && n >= nums[i].lo && n <= nums[i].hi;
		if (!ok) {
			if (nums[i].hi == ULLONG_MAX)
				lw_msg_usage("LOCKWATCH_OPTIONS: bad value '%s' for %s (expected a "
					     "number); nothing was run", v, nums[i].key);
			else
				lw_msg_usage("LOCKWATCH_OPTIONS: bad value '%s' for %s (expected "
					     "%llu to %llu); nothing was run", v, nums[i].key,
					     nums[i].lo, nums[i].hi);
			free(v);
			return -1;
		}
		free(v);
	}
	return 0;
}

/* Issue 24: true (after one message) when the loader would run path in secure mode, where
 * it ignores LD_PRELOAD: a set-uid program owned by another user than our real one, or a
 * set-gid one of another group, on a file system that honours those bits. */
static bool is_secure_exec(const char *path, const char *name)
{
	struct stat st;
	struct statvfs vfs;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
		return false;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid()) {
		lw_msg_error("%s is set-uid: the loader ignores LD_PRELOAD for it, so nothing "
			     "would be recorded; nothing was run", name);
		return true;
	}
	if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != getgid()) {
		lw_msg_error("%s is set-gid: the loader ignores LD_PRELOAD for it, so nothing "
			     "would be recorded; nothing was run", name);
		return true;
	}
	return false;
}

/* Adds watch=SPEC to the shim's options.  Returns 0 or -1 after a message. */
static int add_watch_env(const char *spec)
{
	const char *opts = getenv("LOCKWATCH_OPTIONS");
	char *v = opts && *opts ? lw_xasprintf("%s:watch='%s'", opts, spec)
				: lw_xasprintf("watch='%s'", spec);
	int rc = setenv("LOCKWATCH_OPTIONS", v, 1);

	free(v);
	if (rc < 0) {
		lw_msg_error("cannot set the environment: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Takes every -w/--watch out of the options before PROG (the shared option parser does
 * not know them), collecting their values, comma-separated, in watch_spec.  Returns 0, or
 * -1 after a usage message. */
static int take_watch_options(int *argc, char **argv, const char *optstring,
			      const struct option *longopts)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *val = NULL;
		int skip = 0;

		if (strcmp(a, "--") == 0 || a[0] != '-' || a[1] == '\0') {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--watch") == 0 || strcmp(a, "-w") == 0) {
			if (i + 1 >= *argc) {
				lw_msg_usage("option '%s' needs an argument", a);
				return -1;
			}
			val = argv[++i];
		} else if (strncmp(a, "--watch=", 8) == 0) {
			val = a + 8;
		} else if (strncmp(a, "-w", 2) == 0) {
			val = a + 2;
		} else if (a[1] == '-') {
			/* Another long option: keep it, and its separate argument if it has one. */
			size_t n = strcspn(a + 2, "=");

			for (const struct option *lo = longopts; lo->name; lo++)
				if (strlen(lo->name) == n && strncmp(lo->name, a + 2, n) == 0 &&
				    lo->has_arg == required_argument && a[2 + n] != '=')
					skip = 1;
		} else {
			/* Short options, perhaps clustered: the first one that takes an argument
			 * ends the cluster, and takes the next word when nothing follows it. */
			for (const char *c = a + 1; *c; c++) {
				const char *p = strchr(optstring, *c);

				if (p && p[1] == ':') {
					skip = c[1] == '\0';
					break;
				}
			}
		}
		if (val) {
			if (!*val || strpbrk(val, "'\"")) {
				lw_msg_usage("--watch: expected names or 0xADDR:SIZE separated by "
					     "commas, not '%s'", val);
				return -1;
			}
			char *s = watch_spec ? lw_xasprintf("%s,%s", watch_spec, val)
					     : lw_xstrdup(val);
			free(watch_spec);
			watch_spec = s;
			continue;
		}
		argv[out++] = argv[i];
		if (skip && i + 1 < *argc)
			argv[out++] = argv[++i];
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

/* Runs argv with signals forwarded.  Returns its exit status in the shell's convention, or
 * 126/127 when it could not be executed (after a message). */
static int run_child(char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = forward_signal }, old[4];
	int pfd[2], status, err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		lw_msg_error("pipe: %s", strerror(errno));
		return 127;
	}
	sigemptyset(&sa.sa_mask);
	/* A signal ignored by whoever started us (nohup, a background job) stays ignored, for
	 * us and for the program. */
	for (int i = 0; i < 4; i++)
		if (sigaction(sigs[i], NULL, &old[i]) == 0 && old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		lw_msg_error("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return 127;
	}
	if (pid == 0) {
		for (int i = 0; i < 4; i++)
			sigaction(sigs[i], &old[i], NULL);
		close(pfd[0]);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(pfd[1], &err, sizeof(err));
		_exit(127);
	}
	child_pid = pid;
	close(pfd[1]);
	do
		n = read(pfd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			lw_msg_error("waitpid: %s", strerror(errno));
			status = 127 << 8;
			break;
		}
	}
	child_pid = 0;
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (n == (ssize_t)sizeof(err)) {
		lw_msg_error("%s: %s", argv[0], strerror(err));
		return err == ENOENT ? 127 : 126;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Adds every trace in dir whose header carries session. */
static void session_traces(const char *dir, uint64_t session, struct lw_strvec *out)
{
	struct lw_strvec all = { 0 };

	if (lw_collect_traces(dir, &all) < 0)
		return;
	for (size_t i = 0; i < all.n; i++) {
		struct lw_trace_header h;
		struct lw_trace_error err;

		if (lw_trace_read_header(all.v[i], &h, &err) == 0 && h.session == session) {
			lw_vec_push(out, all.v[i]);
			all.v[i] = NULL;
		}
	}
	lw_strvec_free(&all);
}

/* Runs argv[optind...] under the shim and reports, with o prepared.  Returns the exit status. */
static int run_prepared(char **argv, struct lw_report_opts *o, const char *dir_arg)
{
	char *shim = NULL, *dir = NULL;
	struct lw_strvec traces = { 0 };
	struct lw_model *m = NULL;
	uint64_t session = 0;
	size_t bad;
	int rc, status;

	shim = find_shim();
	if (!shim)
		return LW_EXIT_FAILURE;
	if (mkdir_p(dir_arg) < 0) {
		lw_msg_error("cannot create the trace directory %s: %s", dir_arg, strerror(errno));
		free(shim);
		return LW_EXIT_FAILURE;
	}
	/* Issue 24: nothing runs when the traces would land where another user can reach. */
	if (lw_check_trace_dir(dir_arg) < 0) {
		free(shim);
		return LW_EXIT_USAGE;
	}
	if (!(dir = realpath(dir_arg, NULL))) {
		lw_msg_error("cannot create the trace directory %s: %s", dir_arg, strerror(errno));
		free(shim);
		return LW_EXIT_FAILURE;
	}
	if (strlen(dir) > PATH_MAX - 1) {
		lw_msg_usage("the trace directory %s is longer than %d characters", dir,
			     PATH_MAX - 1);
		free(shim);
		free(dir);
		return LW_EXIT_USAGE;
	}
	while (session == 0)
		if (getrandom(&session, sizeof(session), 0) != (ssize_t)sizeof(session)) {
			lw_msg_error("getrandom: %s", strerror(errno));
			free(shim);
			free(dir);
			return LW_EXIT_FAILURE;
		}
	rc = setup_env(shim, dir, session, o->trust_dir);
	if (rc < 0 || (watch_spec && add_watch_env(watch_spec) < 0)) {
		free(shim);
		free(dir);
		return rc == -2 ? LW_EXIT_USAGE : LW_EXIT_FAILURE;
	}
	status = run_child(argv);
	if (status == 126 || status == 127) {
		/* Could it run at all?  Only then are there traces to read. */
		session_traces(dir, session, &traces);
		if (!traces.n) {
			free(shim);
			free(dir);
			return status;
		}
	} else {
		session_traces(dir, session, &traces);
	}
	if (!traces.n) {
		/* Issue 24: a run that recorded nothing must not pass a CI gate, unless the
		 * user turned recording off (enabled=0). */
		char *en = lw_env_option(getenv("LOCKWATCH_OPTIONS"), "enabled");
		bool off = en && strcmp(en, "0") == 0;

		free(en);
		if (off) {
			lw_msg_warning("no trace from this run in %s (enabled=0)", dir);
		} else {
			lw_msg_error("nothing was recorded: no trace from this run in %s (the shim "
				     "did not load, or could not write; its own line above says "
				     "why)", dir);
			status = LW_EXIT_USAGE;
		}
		free(shim);
		free(dir);
		return status;
	}
	m = lw_model_new();
	bad = lw_load_traces(m, &traces);
	/* Unlike report, run still reports on the traces it could read: they are this run's. */
	rc = lw_report(m, o);
	lw_model_free(m);
	lw_strvec_free(&traces);
	free(shim);
	free(dir);
	if (rc == LW_EXIT_FOUND || rc == LW_EXIT_FAILURE)
		return rc;
	return bad ? LW_EXIT_BAD_TRACE : status;
}

static int run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		LW_REPORT_LONGOPTS,
		{ "trace-dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct lw_report_opts o = LW_REPORT_OPTS_INIT;
	const char *dir_arg = "lockwatch-traces";
	char *prog = NULL;
	int rc;

	if (take_watch_options(&argc, argv, "+:f:o:d:hV", longopts) < 0)
		return LW_EXIT_USAGE;
	rc = lw_parse_report_options(argc, argv, "+:f:o:d:hV", longopts, &o, &dir_arg, run_usage);
	if (rc <= 0)
		return rc < 0 ? LW_EXIT_USAGE : LW_EXIT_OK;
	if (optind >= argc) {
		lw_msg_usage("run: no program given (lockwatch run -- PROG ARGS...)");
		return LW_EXIT_USAGE;
	}
	if (check_shim_options(getenv("LOCKWATCH_OPTIONS")) < 0)
		return LW_EXIT_USAGE;
	/* Issue 24: the shim takes a trace_dir of at most PATH_MAX - 1 characters. */
	if (strlen(dir_arg) > PATH_MAX - 1) {
		lw_msg_usage("--trace-dir: longer than %d characters", PATH_MAX - 1);
		return LW_EXIT_USAGE;
	}
	prog = resolve_prog(argv[optind]);
	if (!prog) {
		lw_msg_error("%s: command not found", argv[optind]);
		return 127;
	}
	if (is_secure_exec(prog, argv[optind])) {
		free(prog);
		return LW_EXIT_USAGE;
	}
	if (is_static_elf(prog)) {
		lw_msg_error("%s is statically linked: LD_PRELOAD cannot interpose its pthread "
			     "calls; link it dynamically", argv[optind]);
		free(prog);
		return LW_EXIT_USAGE;
	}
	free(prog);
	/* A bad suppressions file or baseline, or svg without Graphviz, is found out before
	 * the program runs, not after. */
	rc = lw_report_prepare(&o);
	if (rc)
		return rc;
	rc = run_prepared(argv + optind, &o, dir_arg);
	lw_report_opts_free(&o);
	return rc;
}

const struct lw_cmd lw_cmd_run = {
	.name = "run",
	.run = run_main,
	.usage = run_usage,
	.summary = "run a program under the shim and report what it did",
};
