/* lockwatch cc: compile and link a program with clang's load/store hooks, or for
 * ThreadSanitizer's interface without its runtime (hook mode). */
#include "cc/cmd_cc.h"
#include "base/msg.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Each C or C++ source is compiled in two steps:
 *
 *   clang ARGS -S -emit-llvm -g -fsanitize-coverage=func,trace-loads,trace-stores SRC
 *   clang ARGS FILE.ll ... -L LIBDIR -llockwatch-hooks -Wl,-rpath,LIBDIR
 *
 * and the LLVM IR between them is edited, because clang's hooks cannot tell an atomic access
 * from a plain one: `load atomic` and `store atomic` get the same __sanitizer_cov_load8 /
 * __sanitizer_cov_store8 as plain ones, and atomicrmw and cmpxchg get nothing.  Left so, a
 * program that synchronises with C11 atomics would show false races.  So:
 *   - the hook before a `store atomic` becomes __lockwatch_cov_atomic_storeN (a release,
 *     recorded before the store can be seen);
 *   - the hook before a `load atomic` becomes __lockwatch_cov_atomic_loadN and moves after
 *     the load (an acquire, recorded after the value was read);
 *   - an atomicrmw or cmpxchg gets __lockwatch_cov_atomic_rmw(ptr, size) just before (its
 *     release) and just after (its acquire).
 * Fences are not seen: an atomic access counts as both acquire and release on its address
 * (sequentially consistent), which can hide a race, never invent one.
 *
 * The TSan ABI (--tsan-abi, and whenever the compiler is not clang: gcc has no load/store
 * hooks) compiles each source with -fsanitize=thread, which makes the compiler call
 * __tsan_read4, __tsan_atomic32_fetch_add... for every access, and links the objects in a
 * second step without it, so that the driver does not add ThreadSanitizer's runtime:
 *
 *   CC ARGS -c -fsanitize=thread -g ... SRC -o DIR/SRC.o      (tsan_*_flags below)
 *   CC ARGS DIR/SRC.o ... -L LIBDIR -llockwatch-hooks -Wl,-rpath,LIBDIR
 *
 * liblockwatch-hooks.so and the shim define that interface (hooks/lw_tsan_atomic.h,
 * shim/access/hooks_tsan.c).  Nothing is edited: the compiler already tells atomics apart.
 */

/* The allocation functions whose calls in the program the link routes to liblockwatch's
 * __wrap_* (shim/access/hooks_heap.c and hooks_new.c; forwarding stubs in
 * hooks/lw_hooks_heap_stub.c and lw_hooks_new_stub.c): C's, and C++'s operator new and delete
 * (a C program does not refer to those, and the link ignores a --wrap of a name nobody uses). */
#define LW_CC_WRAP_ALLOC                                                                      \
	"-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=reallocarray,"                 \
	"--wrap=aligned_alloc,--wrap=memalign,--wrap=posix_memalign,--wrap=strdup,"           \
	"--wrap=strndup,--wrap=free,"                                                         \
	"--wrap=_Znwm,--wrap=_Znam,--wrap=_ZnwmRKSt9nothrow_t,--wrap=_ZnamRKSt9nothrow_t,"     \
	"--wrap=_ZdlPv,--wrap=_ZdaPv,--wrap=_ZdlPvm,--wrap=_ZdaPvm,"                          \
	"--wrap=_ZdlPvRKSt9nothrow_t,--wrap=_ZdaPvRKSt9nothrow_t,"                            \
	"--wrap=_ZnwmSt11align_val_t,--wrap=_ZnamSt11align_val_t,"                            \
	"--wrap=_ZnwmSt11align_val_tRKSt9nothrow_t,--wrap=_ZnamSt11align_val_tRKSt9nothrow_t," \
	"--wrap=_ZdlPvSt11align_val_t,--wrap=_ZdaPvSt11align_val_t,"                          \
	"--wrap=_ZdlPvmSt11align_val_t,--wrap=_ZdaPvmSt11align_val_t,"                        \
	"--wrap=_ZdlPvSt11align_val_tRKSt9nothrow_t,--wrap=_ZdaPvSt11align_val_tRKSt9nothrow_t"

/* The memory and string functions whose calls in the program, the compiler's own memcpy and
 * memset for struct copies and clears among them, the link routes to liblockwatch's __wrap_*
 * (shim/access/hooks_mem.c; forwarding stubs in hooks/lw_hooks_mem_stub.c), which record the bytes
 * each reads and writes: the C library's built-ins, then their fortified forms. */
static const char *const mem_fns[] = {
	"memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen", "strnlen", "memchr", "strchr",
	"strrchr", "strcpy", "strncpy", "strcat", "strcmp", "strncmp", NULL };
static const char *const mem_chk_fns[] = { "__memcpy_chk", "__memmove_chk", "__memset_chk",
					   NULL };

static void cc_usage(FILE *out)
{
	fputs("usage: lockwatch cc [--tsan-abi] [COMPILER ARGS...]\n\n"
	      "Runs clang with the load/store hooks lockwatch's hook mode needs\n"
	      "(-fsanitize-coverage=func,trace-loads,trace-stores -g), marks the atomic accesses\n"
	      "in the generated code, and links the program with liblockwatch-hooks.so (no-op\n"
	      "hooks, so the program runs without lockwatch).  Under 'lockwatch run' every\n"
	      "load and store to memory shared between threads is seen, not only --watch'ed\n"
	      "variables.  The program's malloc, calloc, realloc, ..., free calls (and C++'s\n"
	      "operator new and delete) are linked through lockwatch too (ld --wrap), so that\n"
	      "a race in a heap block names the place that allocated it; so are its memcpy,\n"
	      "memset, strcpy, ... calls, whose bytes are recorded.  Exits with the\n"
	      "compiler's status, 1 if lockwatch itself failed, 2 on a usage error.\n\n"
	      "--tsan-abi, the default when the compiler is not clang (gcc): compile with\n"
	      "-fsanitize=thread -g and link without ThreadSanitizer's runtime, against\n"
	      "liblockwatch-hooks.so, which defines its interface (atomics performed).\n\n"
	      "Environment: LOCKWATCH_CC names the compiler (default clang; clang++ for C++;\n"
	      "gcc or g++ for the TSan ABI).\n",
	      out);
}

/* Runs argv, waits.  Returns its exit status, 128+signal, or 127 if it could not run. */
static int run_argv(char **argv)
{
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		lw_msg_error("cannot fork: %s", strerror(errno));
		return LW_EXIT_FAILURE;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "lockwatch: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return LW_EXIT_FAILURE;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The directory of liblockwatch-hooks.so (malloc'd), or NULL after a message. */
static char *find_libdir(void)
{
	char self[PATH_MAX], *dir, *real, *lib;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0) {
		lw_msg_error("cannot find myself (/proc/self/exe): %s", strerror(errno));
		return NULL;
	}
	self[n] = '\0';
	if (strrchr(self, '/'))
		*strrchr(self, '/') = '\0';
	dir = lw_xasprintf("%s/../lib", self);
	real = realpath(dir, NULL);
	lib = lw_xasprintf("%s/liblockwatch-hooks.so", real ? real : dir);
	if (!real || access(lib, R_OK) != 0) {
		lw_msg_error("cannot find %s: %s", lib, strerror(errno));
		free(real);
		real = NULL;
	}
	free(dir);
	free(lib);
	return real;
}

static bool is_source(const char *a)
{
	static const char *const exts[] = { ".c", ".cc", ".cpp", ".cxx", ".c++", ".C", NULL };
	const char *dot = strrchr(a, '.');

	if (a[0] == '-' || !dot)
		return false;
	for (int i = 0; exts[i]; i++)
		if (strcmp(dot, exts[i]) == 0)
			return true;
	return false;
}

/* Options whose value is the next argument. */
static bool takes_value(const char *a)
{
	static const char *const opts[] = { "-o", "-I", "-D", "-U", "-include", "-imacros",
		"-isystem", "-iquote", "-idirafter", "-x", "-MF", "-MT", "-MQ", "-L", "-Xlinker",
		"-Xclang", "-Xassembler", "-Xpreprocessor", "-T", "-target", "-arch", "-u", "-z",
		"-isysroot", "--sysroot", NULL };

	for (int i = 0; opts[i]; i++)
		if (strcmp(a, opts[i]) == 0)
			return true;
	return false;
}

/* Whether the compiler is clang, the only one with load/store hooks: by its name, else (cc,
 * c++) by what `CC --version` says.  Anything it cannot run is not clang. */
static bool is_clang(const char *cc)
{
	const char *base = strrchr(cc, '/') ? strrchr(cc, '/') + 1 : cc;
	char buf[512];
	size_t got = 0;
	ssize_t n;
	int fd[2], st;
	pid_t pid;

	if (strstr(base, "clang"))
		return true;
	if (strstr(base, "gcc") || strstr(base, "g++") || pipe(fd) < 0)
		return false;
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)cc, "--version", NULL };
		int null = open("/dev/null", O_WRONLY);

		dup2(fd[1], 1);
		if (null >= 0)
			dup2(null, 2);
		close(fd[0]);
		close(fd[1]);
		execvp(cc, argv);
		_exit(127);
	}
	close(fd[1]);
	while (pid > 0 && got < sizeof(buf) - 1 &&
	       ((n = read(fd[0], buf + got, sizeof(buf) - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	close(fd[0]);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	buf[got] = '\0';
	return strstr(buf, "clang") != NULL;
}

/*
 * The TSan ABI's compile flags.  Neither compiler is asked for __tsan_func_entry/exit
 * (lockwatch takes stacks from libunwind).  clang is asked to keep the read of a
 * read-then-write of one location in one basic block, which it leaves out by default (for
 * ThreadSanitizer the write covers it); lockwatch's atomicity analysis needs it, or the
 * check of a check-then-act looks like the load of a read-modify-write.  clang also gets the
 * address ranges table, which elfutils needs to find a clang object's lines.  gcc is told
 * that the memory and string functions are not built-ins: it would expand some calls inline
 * (a memset of a known size) without instrumenting them; as calls, they reach lockwatch's
 * wrappers (mem_fns, add_tsan_flags).  clang turns the built-ins into calls of its own
 * accord.
 */
static const char *const tsan_gcc_flags[] = {
	"-fsanitize=thread", "-g", "--param=tsan-instrument-func-entry-exit=0", NULL };
static const char *const tsan_clang_flags[] = {
	"-fsanitize=thread", "-g", "-mllvm", "-tsan-instrument-read-before-write", "-mllvm",
	"-tsan-instrument-func-entry-exit=0", "-gdwarf-aranges",
	"-Wno-unused-command-line-argument", NULL };

/* Dependency-file options: they would describe the temporary IR files. */
static bool is_dep_option(const char *a)
{
	return !strcmp(a, "-MD") || !strcmp(a, "-MMD") || !strcmp(a, "-MP") ||
	       !strcmp(a, "-MF") || !strcmp(a, "-MT") || !strcmp(a, "-MQ");
}

/* ---- the IR edit ---- */

struct ir_out {
	LW_VEC(char) text;
	bool used_load[17], used_store[17], used_rmw, opaque;
	bool used_mem[3];            /* __wrap_memcpy, __wrap_memmove, __wrap_memset */
	unsigned next_value;
};

static void put(struct ir_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lw_vec_push(&o->text, s[i]);
}

static void puts_ir(struct ir_out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* The size in bytes of an IR type name (i8, i32, double, a pointer...); 8 if unknown. */
static unsigned type_size(const char *t, size_t n)
{
	if (n >= 2 && t[0] == 'i' && t[1] >= '0' && t[1] <= '9') {
		unsigned bits = (unsigned)strtoul(t + 1, NULL, 10);
		return bits >= 8 ? bits / 8 : 1;
	}
	if (n == 5 && !strncmp(t, "float", 5))
		return 4;
	if (n == 4 && !strncmp(t, "half", 4))
		return 2;
	return 8;
}

/* The ", !dbg !N" of an instruction line, or "". */
static size_t dbg_of(const char *line, size_t n, const char **at)
{
	const char *d = memmem(line, n, ", !dbg !", 8);
	size_t k;

	if (!d) {
		*at = "";
		return 0;
	}
	for (k = 8; d + k < line + n && d[k] >= '0' && d[k] <= '9'; k++)
		;
	*at = d;
	return k;
}

/* The text of an operand list entry ("i64* @a", "i8* getelementptr (...)") starting at s:
 * up to the first comma outside brackets.  Returns its length. */
static size_t operand_len(const char *s, const char *end)
{
	int depth = 0;
	const char *p;

	for (p = s; p < end; p++) {
		if (*p == '(' || *p == '[' || *p == '{' || *p == '<')
			depth++;
		else if (*p == ')' || *p == ']' || *p == '}' || *p == '>')
			depth--;
		else if (*p == ',' && depth == 0)
			break;
	}
	return (size_t)(p - s);
}

/* An atomicrmw or cmpxchg line: the rmw hook before and after it. */
static bool rmw_line(struct ir_out *o, const char *line, size_t n)
{
	const char *end = line + n, *p, *kw;
	size_t plen, tlen, dlen;
	const char *dbg, *type;
	char buf[64];

	if ((kw = memmem(line, n, "= atomicrmw ", 12)))
		p = kw + 12;
	else if ((kw = memmem(line, n, "= cmpxchg ", 10)))
		p = kw + 10;
	else
		return false;
	for (;;) {
		if (end - p > 5 && !strncmp(p, "weak ", 5))
			p += 5;
		else if (end - p > 9 && !strncmp(p, "volatile ", 9))
			p += 9;
		else
			break;
	}
	if (kw[2] == 'a') {          /* atomicrmw OP PTR, VAL */
		while (p < end && *p != ' ')
			p++;
		p++;
	}
	if (p >= end)
		return false;
	plen = operand_len(p, end);
	if (p + plen >= end || memmem(p, plen, "addrspace(", 10))
		return false;
	type = p + plen + 1;
	while (type < end && *type == ' ')
		type++;
	for (tlen = 0; type + tlen < end && type[tlen] != ' '; tlen++)
		;
	dlen = dbg_of(line, n, &dbg);
	bool opaque = plen > 4 && !strncmp(p, "ptr ", 4);
	unsigned v = o->next_value++;
	if (!opaque) {
		snprintf(buf, sizeof(buf), "  %%lw.rmw.%u = bitcast ", v);
		puts_ir(o, buf);
		put(o, p, plen);
		puts_ir(o, " to i8*\n");
	}
	o->opaque |= opaque;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			put(o, line, n);
			puts_ir(o, "\n");
		}
		if (opaque) {
			puts_ir(o, "  call void @__lockwatch_cov_atomic_rmw(");
			put(o, p, plen);
			snprintf(buf, sizeof(buf), ", i64 %u)", type_size(type, tlen));
		} else {
			snprintf(buf, sizeof(buf), "  call void @__lockwatch_cov_atomic_rmw(i8* "
				 "%%lw.rmw.%u, i64 %u)", v, type_size(type, tlen));
		}
		puts_ir(o, buf);
		put(o, dbg, dlen);
		puts_ir(o, "\n");
	}
	o->used_rmw = true;
	return true;
}

/* A call of llvm.memcpy, llvm.memmove or llvm.memset (a struct copy or clear, or a call of
 * memcpy, memset, strcpy... the compiler turned into one), which the code generator would
 * expand into loads and stores that no hook sees, or lower to a call of the C library's:
 * becomes a call of lockwatch's __wrap_memcpy, __wrap_memmove or __wrap_memset (the same
 * the link routes the program's own calls to), with the intrinsic's operands (attributes
 * included, which a call's arguments may carry; memset's i8 value widened to an int).  So
 * each copy is recorded once, by the shim, and a program without it copies through the
 * forwarding stubs.  A length that is not an i64, an address space other than the
 * default, or the .inline forms (which must not become calls) are left alone. */
static bool memop_line(struct ir_out *o, const char *line, size_t n)
{
	const char *end = line + n, *c = memmem(line, n, "call void @llvm.mem", 19), *p;
	static const char *const fns[] = { "memcpy", "memmove", "memset" };
	const char *op[3], *dbg;
	size_t len[3], dlen;
	char buf[96];
	bool set, opaque;
	int k;

	if (!c)
		return false;
	c += 19;
	if (end - c > 4 && !strncmp(c, "cpy.", 4))
		k = 0;
	else if (end - c > 4 && !strncmp(c, "ove.", 4))
		k = 1;
	else if (end - c > 4 && !strncmp(c, "set.", 4))
		k = 2;
	else
		return false;
	set = k == 2;
	if (!(p = memchr(c, '(', (size_t)(end - c))) || memmem(c, (size_t)(p - c), ".inline", 7))
		return false;
	p++;
	for (int i = 0; i < 3; i++) {
		while (p < end && *p == ' ')
			p++;
		op[i] = p;
		len[i] = operand_len(p, end);
		if (p + len[i] >= end || memmem(op[i], len[i], "addrspace(", 10))
			return false;
		p += len[i] + 1;
	}
	if (len[2] < 5 || strncmp(op[2], "i64 ", 4) ||
	    (set && (len[1] < 4 || strncmp(op[1], "i8 ", 3))))
		return false;
	opaque = !strncmp(op[0], "ptr ", 4);
	o->opaque |= opaque;
	dlen = dbg_of(line, n, &dbg);
	unsigned v = o->next_value++;
	if (set) {
		/* memset takes its byte as an int. */
		snprintf(buf, sizeof(buf), "  %%lw.set.%u = zext ", v);
		puts_ir(o, buf);
		put(o, op[1], len[1]);
		puts_ir(o, " to i32\n");
	}
	snprintf(buf, sizeof(buf), "  %%lw.mem.%u = call %s @__wrap_%s(", v, opaque ? "ptr" : "i8*",
		 fns[k]);
	puts_ir(o, buf);
	put(o, op[0], len[0]);
	puts_ir(o, ", ");
	if (set) {
		snprintf(buf, sizeof(buf), "i32 %%lw.set.%u", v);
		puts_ir(o, buf);
	} else {
		put(o, op[1], len[1]);
	}
	puts_ir(o, ", ");
	put(o, op[2], len[2]);
	puts_ir(o, ")");
	put(o, dbg, dlen);
	puts_ir(o, "\n");
	o->used_mem[k] = true;
	return true;
}

/* Parses "call void @__sanitizer_cov_loadN(" or storeN: *is_load and *size. */
static bool sancov_call(const char *line, size_t n, bool *is_load, unsigned *size)
{
	const char *c = memmem(line, n, "call void @__sanitizer_cov_", 27);

	if (!c)
		return false;
	c += 27;
	if (!strncmp(c, "load", 4))
		*is_load = true, c += 4;
	else if (!strncmp(c, "store", 5))
		*is_load = false, c += 5;
	else
		return false;
	*size = (unsigned)strtoul(c, NULL, 10);
	return *size == 1 || *size == 2 || *size == 4 || *size == 8 || *size == 16;
}

/* Writes the held sancov call line, renamed to the atomic hook when atomic. */
static void put_call(struct ir_out *o, const char *line, size_t n, bool atomic, bool is_load,
		     unsigned size)
{
	const char *c = memmem(line, n, "@__sanitizer_cov_", 17);

	if (!atomic || !c) {
		put(o, line, n);
		puts_ir(o, "\n");
		return;
	}
	put(o, line, (size_t)(c - line));
	puts_ir(o, "@__lockwatch_cov_atomic_");
	c += 17;
	put(o, c, n - (size_t)(c - line));
	puts_ir(o, "\n");
	if (is_load)
		o->used_load[size] = true;
	else
		o->used_store[size] = true;
}

/* Rewrites the IR text in; returns the new text (NUL-terminated, malloc'd). */
static char *rewrite_ir(const char *in, size_t len)
{
	struct ir_out o = { 0 };
	const char *held = NULL;
	size_t held_n = 0;
	bool held_load = false;
	unsigned held_size = 0;
	char buf[128];

	for (const char *line = in; line < in + len;) {
		const char *nl = memchr(line, '\n', (size_t)(in + len - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(in + len - line);
		bool is_load;
		unsigned size;
		const char *next = nl ? nl + 1 : in + len;

		if (held) {
			bool atomic_load = held_load && memmem(line, n, "= load atomic ", 14);
			bool atomic_store = !held_load && memmem(line, n, "store atomic ", 13);

			if (atomic_load) {
				put(&o, line, n);
				puts_ir(&o, "\n");
				put_call(&o, held, held_n, true, true, held_size);
				held = NULL;
				line = next;
				continue;
			}
			put_call(&o, held, held_n, atomic_store, false, held_size);
			held = NULL;
		}
		if (sancov_call(line, n, &is_load, &size) && memmem(line, n, "declare", 7) == NULL) {
			held = line;
			held_n = n;
			held_load = is_load;
			held_size = size;
		} else if (!rmw_line(&o, line, n) && !memop_line(&o, line, n)) {
			put(&o, line, n);
			puts_ir(&o, "\n");
		}
		line = next;
	}
	if (held)
		put_call(&o, held, held_n, false, false, 0);
	for (unsigned s = 1; s <= 16; s *= 2) {
		const char *ptr = o.opaque ? "ptr" : NULL;
		char ty[16];

		snprintf(ty, sizeof(ty), "i%u*", s * 8);
		if (o.used_load[s]) {
			snprintf(buf, sizeof(buf), "declare void @__lockwatch_cov_atomic_load%u(%s)\n",
				 s, ptr ? ptr : ty);
			puts_ir(&o, buf);
		}
		if (o.used_store[s]) {
			snprintf(buf, sizeof(buf), "declare void @__lockwatch_cov_atomic_store%u(%s)\n",
				 s, ptr ? ptr : ty);
			puts_ir(&o, buf);
		}
	}
	if (o.used_rmw)
		puts_ir(&o, o.opaque ? "declare void @__lockwatch_cov_atomic_rmw(ptr, i64)\n"
				     : "declare void @__lockwatch_cov_atomic_rmw(i8*, i64)\n");
	/* memcpy, memmove, memset */
	static const char *const mem_decl[2][3] = {
		{ "declare i8* @__wrap_memcpy(i8*, i8*, i64)\n",
		  "declare i8* @__wrap_memmove(i8*, i8*, i64)\n",
		  "declare i8* @__wrap_memset(i8*, i32, i64)\n" },
		{ "declare ptr @__wrap_memcpy(ptr, ptr, i64)\n",
		  "declare ptr @__wrap_memmove(ptr, ptr, i64)\n",
		  "declare ptr @__wrap_memset(ptr, i32, i64)\n" },
	};
	for (int k = 0; k < 3; k++)
		if (o.used_mem[k])
			puts_ir(&o, mem_decl[o.opaque][k]);
	lw_vec_push(&o.text, '\0');
	return o.text.v;
}

/* Rewrites the IR file at path in place.  Returns 0, or -1 after a message. */
static int rewrite_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	LW_VEC(char) in = { 0 };
	char buf[65536];
	size_t n;
	char *out;
	int rc = 0;

	if (!f) {
		lw_msg_error("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < n; i++)
			lw_vec_push(&in, buf[i]);
	fclose(f);
	out = rewrite_ir(in.v ? in.v : "", in.n);
	free(in.v);
	f = fopen(path, "wb");
	if (!f || fputs(out, f) == EOF || fclose(f) != 0) {
		lw_msg_error("cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(out);
	return rc;
}

/* ---- the driver ---- */

struct argv_vec {
	char **v;
	size_t n, cap;
};

static void add(struct argv_vec *a, const char *s)
{
	lw_vec_push(a, s ? lw_xstrdup(s) : NULL);
}

/* The TSan ABI's compile flags for clang or gcc (see tsan_gcc_flags). */
static void add_tsan_flags(struct argv_vec *a, bool clang)
{
	for (const char *const *f = clang ? tsan_clang_flags : tsan_gcc_flags; *f; f++)
		add(a, *f);
	for (const char *const *f = mem_fns; !clang && *f; f++) {
		char *flag = lw_xasprintf("-fno-builtin-%s", *f);
		add(a, flag);
		free(flag);
	}
}

/* -Wl,--wrap=memcpy,... for every function of mem_fns and mem_chk_fns. */
static void add_mem_wraps(struct argv_vec *a)
{
	static const char *const *const lists[] = { mem_fns, mem_chk_fns };
	char *w = lw_xstrdup("-Wl");

	for (size_t l = 0; l < 2; l++)
		for (const char *const *f = lists[l]; *f; f++) {
			char *longer = lw_xasprintf("%s,--wrap=%s", w, *f);
			free(w);
			w = longer;
		}
	add(a, w);
	free(w);
}

static void argv_free(struct argv_vec *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* At the TSan-ABI link, an option of the user's that would make the driver link
 * ThreadSanitizer's runtime: -static-libtsan goes, a -fsanitize= list loses "thread" (and
 * goes when nothing is left).  Returns true when it dealt with a (added to fin or not). */
static bool tsan_link_option(struct argv_vec *fin, const char *a)
{
	const char *p;
	char *out;
	bool any = false;

	if (!strcmp(a, "-static-libtsan"))
		return true;
	if (strncmp(a, "-fsanitize=", 11) != 0)
		return false;
	out = lw_xmalloc(strlen(a) + 1);
	strcpy(out, "-fsanitize=");
	for (p = a + 11; *p;) {
		size_t len = strcspn(p, ",");

		if (len && !(len == 6 && !strncmp(p, "thread", 6))) {
			if (any)
				strcat(out, ",");
			strncat(out, p, len);
			any = true;
		}
		p += len + (p[len] == ',');
	}
	if (any)
		add(fin, out);
	free(out);
	return true;
}

/* Compiles source argv[i] for the TSan ABI into an object in tmp/i/, which it adds to fin:
 * the user's options without -o, -c, the dependency options and every input file, plus
 * -c and the TSan ABI's flags.  Returns the compiler's status, or 1 after a message. */
static int compile_tsan(const char *cc, bool clang, int argc, char **argv, int i,
			const char *tmp, struct argv_vec *fin)
{
	const char *src = argv[i];
	struct argv_vec c = { 0 };
	char *dir = lw_xasprintf("%s/%d", tmp, i), *base, *obj;
	int rc;

	if (mkdir(dir, 0700) < 0) {
		lw_msg_error("cannot make %s: %s", dir, strerror(errno));
		free(dir);
		return LW_EXIT_FAILURE;
	}
	base = lw_xstrdup(strrchr(src, '/') ? strrchr(src, '/') + 1 : src);
	*strrchr(base, '.') = '\0';
	obj = lw_xasprintf("%s/%s.o", dir, base);
	add(&c, cc);
	for (int k = 1; k < argc; k++) {
		if (takes_value(argv[k]) && k + 1 < argc) {
			if (strcmp(argv[k], "-o") && !is_dep_option(argv[k])) {
				add(&c, argv[k]);
				add(&c, argv[k + 1]);
			}
			k++;
		} else if (argv[k][0] == '-' && strcmp(argv[k], "-c") && !is_dep_option(argv[k])) {
			add(&c, argv[k]);
		}
	}
	add(&c, "-c");
	add_tsan_flags(&c, clang);
	add(&c, "-o");
	add(&c, obj);
	add(&c, src);
	add(&c, NULL);
	rc = run_argv(c.v);
	add(fin, obj);
	argv_free(&c);
	free(obj);
	free(base);
	free(dir);
	return rc;
}

static int cc_run(int argc, char **argv)
{
	const char *cc = getenv("LOCKWATCH_CC");
	static const char *const hook_flags[] = {
		"-fsanitize-coverage=func,trace-loads,trace-stores", "-g",
		"-Wno-unused-command-line-argument", NULL };
	bool link = true, passthrough = false, tsan = false, clang;
	struct argv_vec fin = { 0 };
	char *libdir, tmp[] = "/tmp/lockwatch-cc-XXXXXX";
	int rc = LW_EXIT_OK, n_src = 0;

	if (!cc || !*cc)
		cc = "clang";
	/* lockwatch's own option comes first; the compiler's follow. */
	if (argc >= 2 && !strcmp(argv[1], "--tsan-abi")) {
		tsan = true;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	clang = is_clang(cc);
	if (!clang)
		tsan = true;
	if (argc < 2) {
		lw_msg_usage("cc: no arguments for the compiler");
		return LW_EXIT_USAGE;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		cc_usage(stdout);
		return LW_EXIT_OK;
	}
	libdir = find_libdir();
	if (!libdir)
		return LW_EXIT_FAILURE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") || !strcmp(a, "-S") || !strcmp(a, "-E") || !strcmp(a, "-M") ||
		    !strcmp(a, "-MM") || !strcmp(a, "-fsyntax-only"))
			link = false;
		if (!strcmp(a, "-S") || !strcmp(a, "-E") || !strcmp(a, "-M") || !strcmp(a, "-MM") ||
		    !strcmp(a, "-emit-llvm") || !strcmp(a, "-x") || !strncmp(a, "-x", 2) ||
		    !strcmp(a, "-") || !strncmp(a, "-flto", 5) || !strcmp(a, "-fsyntax-only"))
			passthrough = true;
		if (tsan && (!strcmp(a, "-flto") || !strncmp(a, "-flto=", 6))) {
			/* gcc instruments at the link then, which must not have -fsanitize=thread. */
			lw_msg_usage("cc: -flto is not supported with ThreadSanitizer's interface "
				     "(--tsan-abi, gcc)");
			free(libdir);
			return LW_EXIT_USAGE;
		}
		if (takes_value(a))
			i++;
		else if (is_source(a))
			n_src++;
	}
	/* The TSan ABI needs no edit: compiling alone is one call with the flags added, and
	 * compiling and linking are two, the link without -fsanitize=thread. */
	if (tsan && !link)
		passthrough = true;
	if (tsan && passthrough && link) {
		lw_msg_usage("cc: with ThreadSanitizer's interface (--tsan-abi, gcc) and -x, "
			     "-emit-llvm or a source on standard input, compile (-c) and link in "
			     "two steps");
		free(libdir);
		return LW_EXIT_USAGE;
	}
	if (n_src && !passthrough && !mkdtemp(tmp)) {
		lw_msg_error("cannot make a temporary directory: %s", strerror(errno));
		free(libdir);
		return LW_EXIT_FAILURE;
	}
	add(&fin, cc);
	for (int i = 1; i < argc && rc == LW_EXIT_OK; i++) {
		const char *a = argv[i];
		struct argv_vec ir = { 0 };
		char *dir, *ll, *base, *dot;

		if (takes_value(a) && i + 1 < argc) {
			if (passthrough || !is_dep_option(a)) {
				add(&fin, a);
				add(&fin, argv[i + 1]);
			}
			i++;
			continue;
		}
		if (passthrough || !is_source(a)) {
			if (tsan && link && tsan_link_option(&fin, a))
				continue;
			if (passthrough || !is_dep_option(a))
				add(&fin, a);
			continue;
		}
		if (tsan) {
			rc = compile_tsan(cc, clang, argc, argv, i, tmp, &fin);
			continue;
		}
		/* A source: to IR, edited, then given to the final command in its place. */
		dir = lw_xasprintf("%s/%d", tmp, i);
		if (mkdir(dir, 0700) < 0) {
			lw_msg_error("cannot make %s: %s", dir, strerror(errno));
			free(dir);
			rc = LW_EXIT_FAILURE;
			break;
		}
		base = lw_xstrdup(strrchr(a, '/') ? strrchr(a, '/') + 1 : a);
		dot = strrchr(base, '.');
		*dot = '\0';
		ll = lw_xasprintf("%s/%s.ll", dir, base);
		add(&ir, cc);
		for (int k = 1; k < argc; k++) {
			if (takes_value(argv[k]) && k + 1 < argc) {
				if (strcmp(argv[k], "-o") && !is_dep_option(argv[k])) {
					add(&ir, argv[k]);
					add(&ir, argv[k + 1]);
				}
				k++;
			} else if (!is_source(argv[k]) && strcmp(argv[k], "-c") &&
				   !is_dep_option(argv[k])) {
				add(&ir, argv[k]);
			}
		}
		add(&ir, "-S");
		add(&ir, "-emit-llvm");
		for (int k = 0; hook_flags[k]; k++)
			add(&ir, hook_flags[k]);
		add(&ir, "-o");
		add(&ir, ll);
		add(&ir, a);
		add(&ir, NULL);
		rc = run_argv(ir.v);
		if (rc == LW_EXIT_OK && rewrite_file(ll) < 0)
			rc = LW_EXIT_FAILURE;
		add(&fin, ll);
		argv_free(&ir);
		free(ll);
		free(base);
		free(dir);
	}
	if (rc == LW_EXIT_OK) {
		if (passthrough && tsan) {
			add_tsan_flags(&fin, clang);
		} else if (passthrough) {
			add(&fin, hook_flags[0]);
			add(&fin, "-g");
		}
		add(&fin, "-g");
		if (clang) {
			/* The address ranges table, which elfutils needs to find a clang object's
			 * lines. */
			add(&fin, "-gdwarf-aranges");
			add(&fin, "-Wno-unused-command-line-argument");
		}
		if (link) {
			char *l = lw_xasprintf("-L%s", libdir), *r = lw_xasprintf("-Wl,-rpath,%s", libdir);

			add(&fin, l);
			add(&fin, "-llockwatch-hooks");
			add(&fin, r);
			/* The program's own allocation calls go through lockwatch, which names
			 * each heap block after the place that allocated it. */
			add(&fin, LW_CC_WRAP_ALLOC);
			/* And its memory and string functions', whose bytes the hooks do not
			 * see. */
			add_mem_wraps(&fin);
			free(l);
			free(r);
		}
		add(&fin, NULL);
		rc = run_argv(fin.v);
	}
	if (n_src && !passthrough) {
		char *rm[] = { "rm", "-rf", tmp, NULL };

		if (run_argv(rm) != 0)
			lw_msg_warning("could not remove %s", tmp);
	}
	argv_free(&fin);
	free(libdir);
	return rc;
}

const struct lw_cmd lw_cmd_cc = {
	.name = "cc",
	.run = cc_run,
	.usage = cc_usage,
	.summary = "compile and link a program with load/store hooks (hook mode)",
};
