/* Issue 24: trust nothing another user can write, change nothing the program can see.  The
 * tests run as root: "another user" is uid 65534 (nobody), by chown. */
#include <criterion/criterion.h>
#include <sys/resource.h>
#include "lw_test.h"
#include "lw_trace_format.h"
#include <stddef.h>

/* Runs a shell command in dir; its standard error goes to dir/err.  Returns its status. */
static int sh(const char *dir, const char *fmt, ...)
{
	char body[12000], cmd[16000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	char here[1024];
	cr_assert_not_null(getcwd(here, sizeof here));
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && L='%s/" LW_BIN "' S='%s/" LW_SHIM "' T='%s/build/tests/programs' "
		 "&& { %s ; } >out 2>err", dir, here, here, here, body);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The number of lines of dir/name, and whether one has want. */
static int lines(const char *dir, const char *name, const char *want, bool *has)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	char *s = lw_slurp(path);
	int n = 0;
	*has = s && want && strstr(s, want);
	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* The number of lines of dir/name that contain want. */
static int matching_lines(const char *dir, const char *name, const char *want)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	char *s = lw_slurp(path);
	int n = 0;
	for (char *p = s; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		n += memmem(p, len, want, strlen(want)) != NULL;
		p += len + (nl != NULL);
	}
	free(s);
	return n;
}

static int count_traces(const char *dir, const char *sub)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	DIR *d = opendir(path);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += strstr(e->d_name, ".trace") != NULL;
	if (d)
		closedir(d);
	return n;
}

/* The shim refuses a trace directory another user owns, one others can write, and a
 * symlink, each with one line; trust_dir=1 uses them. */
Test(trust, the_shim_refuses_a_directory_another_user_could_write, .timeout = 60)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, "mkdir -m 777 theirs && chown 65534 theirs && mkdir -m 777 open && "
			"mkdir -m 700 mine && ln -s mine link"), 0);
	static const char *const subs[] = { "theirs", "open", "link" };
	static const char *const why[] = { "belongs to uid 65534", "writable by others",
					   "symbolic link" };
	for (int i = 0; i < 3; i++) {
		bool has;
		cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS=trace_dir=%s $T/exit_code 3",
				subs[i]), 3, "the program's status changed");
		cr_assert_eq(lines(dir, "err", why[i], &has), 1, "%s: not one line", subs[i]);
		cr_assert(has, "%s: the line does not say why", subs[i]);
		cr_assert_eq(count_traces(dir, subs[i]), 0, "%s: a trace was written", subs[i]);
	}
	cr_assert_eq(count_traces(dir, "mine"), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=%s trust_dir=1' "
				"$T/exit_code 0", subs[i]), 0);
		cr_assert_eq(count_traces(dir, subs[i]), 1, "%s: trust_dir=1 wrote no trace",
			     subs[i]);
	}
	lw_rmtree(dir);
	free(dir);
}

/* The directories the shim and lockwatch run create are 0700, whatever the umask. */
Test(trust, trace_directories_are_created_0700, .timeout = 60)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, "umask 0 && LD_PRELOAD=$S LOCKWATCH_OPTIONS=trace_dir=a/b "
			"$T/exit_code 0 && $L run -d c/d -- $T/exit_code 0"), 0);
	static const char *const made[] = { "a", "a/b", "c", "c/d" };
	for (int i = 0; i < 4; i++) {
		char path[512];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, made[i]);
		cr_assert_eq(stat(path, &st), 0, "%s", made[i]);
		cr_assert_eq(st.st_mode & 0777, 0700, "%s: mode %o", made[i], st.st_mode & 0777);
	}
	lw_rmtree(dir);
	free(dir);
}

/* lockwatch run: nothing runs (exit 2, one line) in a directory another user owns or can
 * write, or through a symlink; --trust-dir runs. */
Test(trust, run_refuses_an_untrusted_trace_directory, .timeout = 60)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, "mkdir -m 777 theirs && chown 65534 theirs && mkdir -m 777 open && "
			"mkdir -m 700 mine && ln -s mine link"), 0);
	static const char *const subs[] = { "theirs", "open", "link" };
	for (int i = 0; i < 3; i++) {
		bool has;
		cr_assert_eq(sh(dir, "$L run -d %s -- sh -c 'echo ran' ", subs[i]), 2, "%s",
			     subs[i]);
		cr_assert_eq(lines(dir, "err", "nothing was run", &has), 1, "%s", subs[i]);
		cr_assert(has, "%s", subs[i]);
		cr_assert_eq(lines(dir, "out", "ran", &has), 0, "%s: the program ran", subs[i]);
		cr_assert_eq(sh(dir, "$L run --trust-dir -d %s -- $T/exit_code 0", subs[i]), 0,
			     "%s", subs[i]);
	}
	lw_rmtree(dir);
	free(dir);
}

/* lockwatch report: exit 2 and one line per refusal for a directory another user owns, a
 * trace others can write or another user owns, a symlinked trace (named, or in a directory);
 * --trust-dir and trust_dir=1 read them. */
Test(trust, report_refuses_untrusted_traces, .timeout = 60)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, "$L run -d good -- $T/exit_code 0"), 0);
	cr_assert_eq(sh(dir, "mkdir -m 755 theirs && cp good/*.trace theirs/ && "
			"chown -R 65534 theirs && mkdir -m 700 writable && cp good/*.trace writable/ "
			"&& chmod 666 writable/*.trace && mkdir -m 700 linked && "
			"ln -s ../good/$(ls good) linked/x.trace && ln -s good linkdir && "
			"mkdir -m 700 owned && cp good/*.trace owned/ && chown 65534 owned/*.trace"), 0);
	static const char *const args[] = { "theirs", "writable", "linked", "linkdir",
					    "linked/x.trace", "owned" };
	static const char *const why[] = { "belongs to uid 65534", "writable by others",
					   "symbolic link", "symbolic link", "symbolic link",
					   "belongs to uid 65534" };
	for (int i = 0; i < 6; i++) {
		bool has;
		cr_assert_eq(sh(dir, "$L report %s", args[i]), 2, "%s", args[i]);
		cr_assert_eq(lines(dir, "err", why[i], &has), 1, "%s", args[i]);
		cr_assert(has, "%s", args[i]);
		cr_assert_eq(sh(dir, "$L report --trust-dir %s", args[i]), 0, "%s", args[i]);
		cr_assert_eq(sh(dir, "LOCKWATCH_OPTIONS=trust_dir=1 $L report %s", args[i]), 0,
			     "%s", args[i]);
	}
	cr_assert_eq(sh(dir, "$L report good"), 0);
	lw_rmtree(dir);
	free(dir);
}

/* lockwatch run exits 2, with one line, rather than run a program the shim cannot record:
 * set-uid or set-gid to another user or group (the loader drops LD_PRELOAD), options whose
 * stray quote swallows the trace directory, or a run that left no trace at all. */
Test(trust, run_refuses_what_it_could_not_record, .timeout = 60)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, "cp $T/exit_code suid && chown 65534 suid && chmod 4755 suid && "
			"cp $T/exit_code sgid && chgrp 65534 sgid && chmod 2755 sgid && "
			"cp $T/exit_code rootsuid && chmod 4755 rootsuid"), 0);
	static const char *const cmds[] = {
		"$L run -d t -- ./suid 3",
		"$L run -d t -- ./sgid 3",
		"LOCKWATCH_OPTIONS=\"verbose='1\" $L run -d t -- $T/exit_code 3",
		"ulimit -f 100 && $L run -d t -- $T/exit_code 3",
	};
	static const char *const why[] = { "set-uid", "set-gid", "malformed",
					   "nothing was recorded" };
	for (int i = 0; i < 4; i++) {
		bool has;
		cr_assert_eq(sh(dir, "%s", cmds[i]), 2, "%s", cmds[i]);
		int n = lines(dir, "err", why[i], &has);
		cr_assert(has, "%s: does not say %s", cmds[i], why[i]);
		/* The last case: the shim's own line, then lockwatch's. */
		cr_assert_eq(n, i == 3 ? 2 : 1, "%s: %d lines", cmds[i], n);
	}
	/* Set-uid to ourselves (root) is no secure mode: it runs and is recorded. */
	cr_assert_eq(sh(dir, "$L run -d t -- ./rootsuid 3"), 3);
	cr_assert_eq(sh(dir, "LOCKWATCH_OPTIONS=enabled=0 $L run -d t -- $T/exit_code 3"), 3);
	lw_rmtree(dir);
	free(dir);
}

/* Numbers are digits within range, values are never truncated: the shim says so in one line
 * and keeps its default; lockwatch run refuses them (exit 2) before running anything. */
Test(trust, bad_numbers_and_overlong_values_are_refused, .timeout = 60)
{
	char *dir = lw_tmpdir();
	static const char *const bad[] = {
		"max_trace_mb=-18446744073709551615", "max_trace_mb=-1",
		"stack_depth=99999999999999999999999", "deadlock_ms=+50", "verbose=-1",
		"collider_budget=101",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bool has;
		cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=t %s' "
				"$T/exit_code 3", bad[i]), 3, "%s", bad[i]);
		cr_assert_eq(lines(dir, "err", "bad value", &has), 1, "%s", bad[i]);
		cr_assert(has, "%s: no message", bad[i]);
		cr_assert_eq(sh(dir, "LOCKWATCH_OPTIONS='%s' $L run -d t -- sh -c 'echo ran'",
				bad[i]), 2, "%s", bad[i]);
		cr_assert_eq(lines(dir, "out", "ran", &has), 0, "%s: the program ran", bad[i]);
	}
	/* A trace_dir of 5000 characters: refused, not cut to 4095, and the default used. */
	char longdir[5100] = "t";
	for (int i = 1; i < 5000; i++)
		longdir[i] = i % 200 == 0 ? '/' : 'x';
	longdir[5000] = '\0';
	bool has;
	cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=%s' $T/exit_code 0",
			longdir), 0);
	cr_assert_eq(lines(dir, "err", "longer than 4095", &has), 1);
	cr_assert(has);
	cr_assert_eq(count_traces(dir, "lockwatch-traces"), 1, "the default was not used");
	cr_assert_eq(sh(dir, "$L run -d %s -- $T/exit_code 0", longdir), 2);
	lw_rmtree(dir);
	free(dir);
}

/* lockwatch dump of an empty or all-zero trace: exit 0 and says it is empty, as report does. */
Test(trust, dump_of_an_empty_trace_says_so_and_exits_0, .timeout = 30)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, ": > e.trace && head -c 8192 /dev/zero > z.trace && chmod 600 *.trace"),
		     0);
	static const char *const names[] = { "e.trace", "z.trace" };
	for (int i = 0; i < 2; i++) {
		bool has;
		cr_assert_eq(sh(dir, "$L dump %s", names[i]), 0, "%s", names[i]);
		cr_assert_eq(lines(dir, "out", "empty trace", &has), 1, "%s", names[i]);
		cr_assert(has, "%s", names[i]);
	}
	lw_rmtree(dir);
	free(dir);
}

/* The text report prints source lines only of files the user or root owns (any with
 * --trust-dir), and a .gnu_debuglink naming a FIFO does not block it. */
Test(trust, source_lines_and_debug_links_are_read_with_care, .timeout = 120)
{
	char *dir = lw_tmpdir();
	char here[1024];
	cr_assert_not_null(getcwd(here, sizeof here));
	cr_assert_eq(sh(dir, "cp '%s/samples/transfer_a_to_b.c' t.c && "
			"cc -g -O0 -pthread t.c -o t", here), 0);
	bool has;
	cr_assert_eq(sh(dir, "$L run --color never -d a -- ./t"), 66);
	lines(dir, "err", "pthread_mutex_lock(&lock_a);", &has);
	cr_assert(has, "no source line in the report of the user's own file");
	cr_assert_eq(sh(dir, "chown 65534 t.c && $L report --color never a"), 66);
	lines(dir, "err", "pthread_mutex_lock(&lock_a);", &has);
	cr_assert(!has, "a source line of another user's file was printed");
	cr_assert_eq(sh(dir, "$L report --trust-dir --color never a"), 66);
	lines(dir, "err", "pthread_mutex_lock(&lock_a);", &has);
	cr_assert(has, "--trust-dir shows it");

	/* Debug information in a separate file named by .gnu_debuglink, which is a FIFO. */
	cr_assert_eq(sh(dir, "cp t t2 && objcopy --only-keep-debug t2 t2.debug && "
			"objcopy --strip-debug --add-gnu-debuglink=t2.debug t2 && rm t2.debug && "
			"mkfifo t2.debug"), 0);
	cr_assert_eq(sh(dir, "timeout 60 $L run --color never -d b -- ./t2"), 66,
		     "the report did not finish (blocked on the FIFO?)");
	lw_rmtree(dir);
	free(dir);
}

/* The shim maps its trace as it grows: a program that lowers RLIMIT_AS to 1.5 GB can
 * malloc 400 MiB with it as without (it mapped max_trace_mb, 1 GiB, up front). */
Test(trust, the_shim_leaves_the_address_space_limit_to_the_program, .timeout = 60)
{
	char *dir = lw_tmpdir();
	bool has;
	cr_assert_eq(sh(dir, "$T/footprint as"), 0, "without the shim");
	cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS=trace_dir=t $T/footprint as"), 0,
		     "with the shim");
	lines(dir, "out", "malloc ok", &has);
	cr_assert(has);
	cr_assert_eq(count_traces(dir, "t"), 1);
	lw_rmtree(dir);
	free(dir);
}

/* The output line "opened N" of dir/out, or -1. */
static int opened(const char *dir)
{
	char path[512];
	snprintf(path, sizeof path, "%s/out", dir);
	char *s = lw_slurp(path);
	int n = -1;
	if (s && sscanf(s, "opened %d", &n) != 1)
		n = -1;
	free(s);
	return n;
}

/* Under `ulimit -n 8` (soft and hard, or soft only) a program opens as many files with the
 * shim as without: the shim's trace descriptor sits above the soft limit, or is not kept. */
Test(trust, the_shim_takes_none_of_the_programs_descriptors, .timeout = 60)
{
	char *dir = lw_tmpdir();
	static const char *const limits[] = { "ulimit -n 8", "ulimit -S -n 8" };
	static const char *const levels[] = { "dependencies", "full" };
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(sh(dir, "%s && $T/footprint fds", limits[i]), 0);
		int alone = opened(dir);
		/* 5, less what the test runner leaves open. */
		cr_assert(alone >= 3, "%s: %d without the shim", limits[i], alone);
		for (int l = 0; l < 2; l++) {
			cr_assert_eq(sh(dir, "%s && LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=t "
					"level=%s' $T/footprint fds", limits[i], levels[l]), 0);
			cr_assert_eq(opened(dir), alone, "%s, %s: %d with the shim", limits[i],
				     levels[l], opened(dir));
		}
	}
	/* And the trace still grows and closes without a kept descriptor. */
	cr_assert_eq(sh(dir, "ulimit -n 8 && LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=g "
			"level=full max_trace_mb=8' '%s/build/bench/lockheavy' 200000 && "
			"$L report g", getcwd((char[1024]){0}, 1024)), 0);
	lw_rmtree(dir);
	free(dir);
}

/* With SIGTRAP ignored, an int3 kills the program (the kernel forces a trap it raised past
 * an ignored disposition): so under watching too, where the shim's SIGTRAP handler is in
 * place; a raise(SIGTRAP) stays ignored in both. */
Test(trust, an_ignored_sigtrap_behaves_as_without_the_shim, .timeout = 60)
{
	char *dir = lw_tmpdir();
	int native = sh(dir, "$T/footprint trap");
	cr_assert_eq(native, 128 + SIGTRAP, "natively: %d", native);
	cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=t watch=a' "
			"$T/footprint trap"), native, "under watch=");
	cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=t' $T/footprint trap"),
		     native);
	cr_assert_eq(sh(dir, "$T/footprint raise"), 0);
	cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS='trace_dir=t watch=a' "
			"$T/footprint raise"), 0);
	lw_rmtree(dir);
	free(dir);
}

/* The disk blocks of the files in dir/sub, in KiB (du). */
static long du_kib(const char *dir, const char *sub)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "du -sk '%s/%s'", dir, sub);
	FILE *p = popen(cmd, "r");
	long k = -1;
	if (p && fscanf(p, "%ld", &k) != 1)
		k = -1;
	if (p)
		pclose(p);
	return k;
}

/* 100 children that _exit, and 100 that are killed, each after one lock: their traces hold
 * little on disk (each was 1 MiB preallocated: 100 MB). */
Test(trust, exited_and_killed_children_leave_small_traces, .timeout = 120)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, "LD_PRELOAD=$S LOCKWATCH_OPTIONS=trace_dir=e $T/exit_children 100 && "
			"LD_PRELOAD=$S LOCKWATCH_OPTIONS=trace_dir=k $T/exit_children 100 kill"), 0);
	cr_assert_eq(count_traces(dir, "e"), 101);
	cr_assert_eq(count_traces(dir, "k"), 101);
	long e = du_kib(dir, "e"), k = du_kib(dir, "k");
	cr_assert(e > 0 && e < 100 * 40, "_exit: %ld KiB for 101 traces", e);
	cr_assert(k > 0 && k < 100 * 100, "killed: %ld KiB for 101 traces", k);
	/* An _exited child's trace is closed (no warning); a killed one's is read, with one. */
	bool has;
	cr_assert_eq(sh(dir, "$L report e"), 0);
	lines(dir, "err", "never closed", &has);
	cr_assert(!has, "an _exited child's trace was left open");
	cr_assert_eq(sh(dir, "$L report k"), 0);
	cr_assert_eq(matching_lines(dir, "err", "never closed"), 100, "one warning per killed child");
	lw_rmtree(dir);
	free(dir);
}

/* A trace never closed, grown to 10 GiB of holes: read up to its last record, quickly and in
 * little memory (the whole file was read: 35 s and 10 GB; then refused as over 2 GiB). */
Test(trust, an_unclosed_sparse_trace_is_read_to_its_last_record, .timeout = 120)
{
	char *dir = lw_tmpdir();
	cr_assert_eq(sh(dir, "$L run -d t -- $T/exit_code 0 && mv t/*.trace big.trace"), 0);
	char path[512];
	snprintf(path, sizeof path, "%s/big.trace", dir);
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	uint32_t flags;
	cr_assert_eq(pread(fd, &flags, sizeof flags, offsetof(struct lw_trace_header, flags)),
		     (ssize_t)sizeof flags);
	flags &= ~(uint32_t)LW_HDR_CLOSED;
	cr_assert_eq(pwrite(fd, &flags, sizeof flags, offsetof(struct lw_trace_header, flags)),
		     (ssize_t)sizeof flags);
	cr_assert_eq(ftruncate(fd, 10ll << 30), 0);
	close(fd);
	bool has;
	/* Memory by the peak resident size of this test's children (the report is the big
	 * one), not by `ulimit -v`: an AddressSanitizer build (make test-asan) reserves
	 * terabytes of address space for its shadow, whatever it uses. */
	cr_assert_eq(sh(dir, "timeout 60 $L report big.trace"), 0);
	struct rusage ru;
	cr_assert_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	cr_assert_lt(ru.ru_maxrss, 300 * 1024, "peak RSS %ld KiB", ru.ru_maxrss);
	lines(dir, "err", "never closed", &has);
	cr_assert(has);
	lw_rmtree(dir);
	free(dir);
}
