/* The shim's files: never through a symlink, never over an existing file, never outside the
 * chosen directory, and nothing at all in a set-uid program. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pwd.h>
#include "lw_test.h"

/* Runs prog under the shim with LOCKWATCH_OPTIONS=opts, but first, in the child (whose pid
 * the program will have), calls prepare(dir, pid).  Returns the program's status. */
static int run_prepared(const char *prog, const char *opts, const char *dir,
			void (*prepare)(const char *dir, pid_t pid))
{
	char here[4096], shim[4200], opt[4400];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(shim, sizeof shim, "LD_PRELOAD=%s/" LW_SHIM, here);
	snprintf(opt, sizeof opt, "LOCKWATCH_OPTIONS=%s", opts);
	pid_t pid = fork();
	if (pid == 0) {
		prepare(dir, getpid());
		putenv(shim);
		putenv(opt);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(prog, prog, "0", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char victim[256];

/* The names the shim tries, in order, are lockwatch.PID.trace, then lockwatch.PID.N.trace:
 * make the first three a symlink to a victim file, a symlink to a file that does not exist
 * yet, and an existing regular file. */
static void plant(const char *dir, pid_t pid)
{
	char path[512], dangling[512];
	snprintf(path, sizeof path, "%s/lockwatch.%d.trace", dir, (int)pid);
	if (symlink(victim, path) != 0)
		_exit(120);
	snprintf(path, sizeof path, "%s/lockwatch.%d.1.trace", dir, (int)pid);
	snprintf(dangling, sizeof dangling, "%s.created", victim);
	if (symlink(dangling, path) != 0)
		_exit(121);
	snprintf(path, sizeof path, "%s/lockwatch.%d.2.trace", dir, (int)pid);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, "mine\n", 5) != 5)
		_exit(122);
	close(fd);
}

Test(security, trace_files_never_follow_symlinks_nor_overwrite_files, .timeout = 30)
{
	char *dir = lw_tmpdir();
	char traces[128], opts[256];
	snprintf(traces, sizeof traces, "%s/traces", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	mkdir(traces, 0700);
	FILE *f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	snprintf(opts, sizeof opts, "trace_dir=%s", traces);
	cr_assert_eq(run_prepared("build/tests/programs/exit_code", opts, traces, plant), 0);

	char *text = lw_slurp(victim);
	cr_assert_str_eq(text, "precious\n", "the symlinked victim was written");
	free(text);
	char created[300];
	snprintf(created, sizeof created, "%s.created", victim);
	cr_assert_neq(access(created, F_OK), 0, "a dangling symlink's target was created");
	/* The regular file is untouched, and the trace went to the next free name. */
	DIR *d = opendir(traces);
	int mine = 0, traces_ok = 0;
	for (struct dirent *e; (e = readdir(d));) {
		char path[512];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", traces, e->d_name);
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		char *body = lw_slurp(path);
		if (!strcmp(body, "mine\n"))
			mine++;
		else if (!memcmp(body, "LWTRACE", 8)) {
			traces_ok++;
			cr_assert_eq(st.st_mode & 0777, 0600, "trace mode %o", st.st_mode & 0777);
			cr_assert(strstr(e->d_name, ".3.trace") != NULL, "trace named %s", e->d_name);
		}
		free(body);
	}
	closedir(d);
	cr_assert_eq(mine, 1, "the existing file was overwritten");
	cr_assert_eq(traces_ok, 1, "want exactly one trace");
	lw_rmtree(dir);
	free(dir);
}

static void nothing(const char *dir, pid_t pid)
{
	(void)dir;
	(void)pid;
}

/* trace_dir may say "..": the trace lands in the directory it names, and its file name is
 * lockwatch.PID.trace whatever the environment holds (the program's name, LOCKWATCH_SESSION
 * or other options never become part of a path). */
Test(security, the_trace_lands_only_in_the_directory_named, .timeout = 30)
{
	char *dir = lw_tmpdir();
	char opts[512], target[256];
	snprintf(target, sizeof target, "%s/b", dir);
	snprintf(opts, sizeof opts, "trace_dir=%s/a/../b:verbose=0", dir);
	setenv("LOCKWATCH_SESSION", "../../x", 1);
	int st = run_prepared("build/tests/programs/exit_code", opts, dir, nothing);
	unsetenv("LOCKWATCH_SESSION");
	cr_assert_eq(st, 0);
	DIR *d = opendir(target);
	cr_assert_not_null(d, "no directory %s", target);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int pid;
		char tail[64];
		cr_assert_eq(sscanf(e->d_name, "lockwatch.%d.%63s", &pid, tail), 2, "%s", e->d_name);
		cr_assert_str_eq(tail, "trace", "file named %s", e->d_name);
		n++;
	}
	closedir(d);
	cr_assert_eq(n, 1);
	/* Nothing else anywhere under the temporary directory: a/ is empty, and no file at
	 * the top. */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "test $(find '%s' -type f | wc -l) -eq 1", dir);
	cr_assert_eq(system(cmd), 0, "files outside %s", target);
	lw_rmtree(dir);
	free(dir);
}

/*
 * A set-uid program: the loader drops LD_PRELOAD entries with a slash for it, and loads a
 * bare name only from the trusted directories, and only when the library file is itself
 * set-uid.  So the shim is installed that way under a temporary name, and a set-uid-root
 * copy of a test program runs as `nobody` with LD_PRELOAD naming it: the loader does load
 * the shim, and the shim (AT_SECURE) must write nothing.  Needs root; skipped otherwise.
 */
Test(security, the_shim_does_nothing_in_a_setuid_program, .timeout = 30)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to make a set-uid program");
	struct passwd *nobody = getpwnam("nobody");
	if (!nobody)
		cr_skip_test("no user nobody");
	static const char *const libdirs[] = { "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib" };
	char lib[256] = "";
	for (int i = 0; i < 3 && !lib[0]; i++)
		if (access(libdirs[i], W_OK) == 0)
			snprintf(lib, sizeof lib, "%s/liblockwatch-setuid-test-%d.so", libdirs[i],
				 (int)getpid());
	if (!lib[0])
		cr_skip_test("no writable trusted library directory");
	char *dir = lw_tmpdir();
	char prog[256], traces[256], cmd[2048];
	snprintf(prog, sizeof prog, "%s/prog", dir);
	snprintf(traces, sizeof traces, "%s/traces", dir);
	snprintf(cmd, sizeof cmd,
		 "cp " LW_SHIM " '%s' && chmod 4755 '%s' && cp build/tests/programs/setuid_probe '%s' "
		 "&& chown root:root '%s' && chmod 4755 '%s' && chmod 755 '%s' && mkdir -m 700 '%s' "
		 "&& chown %d '%s'", lib, lib, prog, prog, prog, dir, traces, (int)nobody->pw_uid,
		 traces);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	const char *base = strrchr(lib, '/') + 1;
	/* Control: the same program, not set-uid, run by nobody, does write a trace (so the
	 * preload itself works and a missing trace below means the shim stood aside). */
	char plain[256];
	snprintf(plain, sizeof plain, "%s/plain", dir);
	snprintf(cmd, sizeof cmd,
		 "cp '%s' '%s' && chmod 755 '%s' && setpriv --reuid=%d --regid=%d --clear-groups "
		 "env LD_PRELOAD='%s' LOCKWATCH_OPTIONS='trace_dir=%s' '%s' >/dev/null 2>&1",
		 prog, plain, plain, (int)nobody->pw_uid, (int)nobody->pw_gid, lib, traces, plain);
	int control = system(cmd);
	snprintf(cmd, sizeof cmd, "ls '%s' | grep -c trace >/dev/null", traces);
	int control_traces = system(cmd) == 0;
	snprintf(cmd, sizeof cmd, "rm -f '%s'/*", traces);
	cr_assert_eq(system(cmd), 0);

	/* The set-uid run, with the shim loaded by bare name from the trusted directory. */
	snprintf(cmd, sizeof cmd,
		 "setpriv --reuid=%d --regid=%d --clear-groups env LD_PRELOAD='%s' "
		 "LOCKWATCH_OPTIONS='trace_dir=%s:verbose=1' '%s' >'%s/out' 2>'%s/err'",
		 (int)nobody->pw_uid, (int)nobody->pw_gid, base, traces, prog, dir, dir);
	int st = system(cmd);
	snprintf(cmd, sizeof cmd, "ls -A '%s'", traces);
	FILE *p = popen(cmd, "r");
	char line[256];
	int files = 0;
	while (fgets(line, sizeof line, p))
		files++;
	pclose(p);
	char errpath[300];
	snprintf(errpath, sizeof errpath, "%s/err", dir);
	char *err = lw_slurp(errpath);
	snprintf(errpath, sizeof errpath, "%s/out", dir);
	char *out = lw_slurp(errpath);
	unlink(lib);
	cr_assert_eq(control, 0, "control run failed");
	cr_assert(control_traces, "control run wrote no trace: the preload does not work here");
	cr_assert_eq(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "set-uid run failed");
	/* The loader did put the shim into the set-uid process... */
	cr_assert(out && strstr(out, "shim loaded"), "the loader did not preload it: %s", out);
	/* ...and the shim stood aside. */
	cr_assert_eq(files, 0, "a set-uid program wrote %d files into %s", files, traces);
	free(out);
	cr_assert(!err || !strstr(err, "lockwatch:"), "the shim spoke: %s", err);
	free(err);
	lw_rmtree(dir);
	free(dir);
}
