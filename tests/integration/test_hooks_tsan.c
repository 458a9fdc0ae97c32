/* Hook mode through ThreadSanitizer's compiler interface without its runtime (`lockwatch cc
 * --tsan-abi`, the default with gcc): the race samples and tests/hooks programs built so with
 * gcc (build/hooks-tsan/) and with clang (build/hooks-tsan-clang/) give the verdicts of the
 * clang load/store-hook builds (test_hooks.c); their atomics are performed, with and without
 * lockwatch; the shim and liblockwatch-hooks.so define the whole interface; and the link
 * never pulls in ThreadSanitizer's runtime. */
#include <criterion/criterion.h>
#include "hook_verdicts.h"

#define GCC_DIR    "build/hooks-tsan"
#define CLANG_DIR  "build/hooks-tsan-clang"

/* The C++ program and the atomics test, built only this way. */
static void more_clean_programs(const char *dir)
{
	static const char *const few_rounds[] = { "300", NULL };

	assert_clean(dir, "atomic_ops", few_rounds);
	/* C++: std::thread, std::mutex, std::atomic, shared_ptr, virtual calls and exceptions. */
	assert_clean(dir, "cxx_objects", NULL);
}

/* The shim performs the atomics too: every count right with lockwatch recording them. */
static void atomic_ops_under_lockwatch(const char *dir)
{
	static const char *const rounds[] = { "3001", NULL };
	struct lw_result r = run_prog(dir, "atomic_ops", rounds);
	cr_assert_eq(r.status, 0, "exit status %d, stderr: %s", r.status, r.stderr_text);
	cr_assert_eq(lw_count(r.report, NULL, "error"), 0);
	lw_result_free(&r);
}

/* liblockwatch-hooks.so alone performs them: every count right, with the threads at it
 * together for 100001 rounds (a fetch_add done as a load and a store loses some). */
static void atomic_ops_without_lockwatch(const char *dir)
{
	char *d = lw_tmpdir(), out[256], prog[256];
	snprintf(out, sizeof out, "%s/out", d);
	snprintf(prog, sizeof prog, "%s/atomic_ops", dir);
	const char *argv[] = { prog, NULL };
	const char *env[] = { "LD_PRELOAD=", NULL };
	int st = lw_spawn(argv, env, out, out, HOOK_TIMEOUT_MS);
	char *text = lw_slurp(out);
	cr_assert_eq(st, 0, "exit status %d, output: %s", st, text ? text : "(none)");
	cr_assert(text && strstr(text, "atomic_ops: ok"), "output: %s", text ? text : "(none)");
	free(text);
	lw_rmtree(d);
	free(d);
}

/* A C++ program's races are all on one block from operator new, named after the function
 * that called it, of `size` bytes. */
static void assert_cxx_block_race(const char *dir, const char *prog, const char *variable,
				  json_int_t size)
{
	struct lw_result r = run_prog(dir, prog, NULL);
	json_t *f = assert_races_only_on(&r, variable);
	json_t *blk = json_object_get(json_object_get(f, "variable"), "heap_block");
	cr_assert_eq(json_integer_value(json_object_get(blk, "size")), size);
	lw_result_free(&r);
}

/* C++: neither delete[] in the thread nor delete after the joins is a race. */
static void cxx_heap_race(const char *dir)
{
	assert_cxx_block_race(dir, "cxx_heap_race",
			      "heap block of 24 bytes from make_account(), offset 8", 24);
}

/* C++17: a block from the aligned operator new (an over-aligned type) is named the same way,
 * and the aligned new[], nothrow new and deletes in the threads are not races. */
static void cxx_aligned_race(const char *dir)
{
	assert_cxx_block_race(dir, "cxx_aligned_race",
			      "heap block of 64 bytes from make_counter(), offset 8", 64);
}

#define BOTH(name, fn)                                                                        \
	Test(hooks_tsan_gcc, name, .timeout = 60) { fn(GCC_DIR); }                             \
	Test(hooks_tsan_clang, name, .timeout = 60) { fn(CLANG_DIR); }

BOTH(bank_withdraw_is_a_data_race_and_an_atomicity_violation, bank_withdraw)
BOTH(bank_withdraw_split_is_an_atomicity_violation_not_a_race, bank_withdraw_split)
BOTH(race_counter_is_a_data_race, race_counter)
BOTH(a_race_on_a_heap_object_field_is_found_and_its_neighbour_is_not, heap_race)
BOTH(a_race_on_array_elements_is_found, array_race)
BOTH(locked_atomic_and_otherwise_synchronised_programs_are_clean, clean_programs)
BOTH(a_race_on_an_object_from_operator_new_names_its_block, cxx_heap_race)
BOTH(a_race_on_an_object_from_aligned_operator_new_names_its_block, cxx_aligned_race)
BOTH(atomics_and_cxx_programs_are_clean, more_clean_programs)
BOTH(races_through_memcpy_memset_and_string_functions_are_found, mem_race)
BOTH(a_block_reused_by_the_allocator_is_not_a_race, heap_reuse)
BOTH(a_lock_one_thread_used_is_left_out_until_handed_over, lock_handover)
BOTH(a_read_of_data_nobody_writes_races_with_the_write_that_follows, kept_read)
BOTH(a_free_races_with_an_unordered_read_of_the_block, free_race)
BOTH(a_read_modify_write_is_one_record, rmw_records)
BOTH(a_location_taken_from_its_stamping_owner_is_shared, taken_cells)
BOTH(atomics_are_performed_under_lockwatch, atomic_ops_under_lockwatch)
BOTH(atomics_are_performed_by_liblockwatch_hooks_without_lockwatch, atomic_ops_without_lockwatch)

/* ---- the interface ---- */

/* The __tsan_* names an ELF file defines (undefined: refers to), one per line, sorted. */
static char *tsan_names(const char *file, bool undefined)
{
	char cmd[512];
	/* Defined: exported (the dynamic table); undefined: in the symbol table, which an
	 * object file has too. */
	snprintf(cmd, sizeof cmd, "nm %s '%s' | awk '{print $NF}' | grep '^__tsan_' | sort",
		 undefined ? "--undefined-only" : "-D --defined-only", file);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), line[256];
	buf[0] = '\0';
	while (fgets(line, sizeof line, p)) {
		size_t l = strlen(line);
		if (n + l + 1 > cap)
			buf = realloc(buf, cap *= 2);
		memcpy(buf + n, line, l + 1);
		n += l;
	}
	pclose(p);
	return buf;
}

static bool has_name(const char *names, const char *name)
{
	size_t l = strlen(name);
	for (const char *p = names; (p = strstr(p, name)); p += l)
		if ((p == names || p[-1] == '\n') && p[l] == '\n')
			return true;
	return false;
}

Test(hooks_tsan, the_shim_and_the_stub_library_define_the_same_names, .timeout = 30)
{
	char *shim = tsan_names(LW_SHIM, false);
	char *stub = tsan_names("build/lib/liblockwatch-hooks.so", false);
	cr_assert_gt(strlen(shim), 0);
	cr_assert_str_eq(shim, stub);
	free(shim);
	free(stub);
}

Test(hooks_tsan, the_shim_defines_every_entry_point_gcc_and_clang_call, .timeout = 30)
{
	static const char *const ops[] = { "load", "store", "exchange", "fetch_add", "fetch_sub",
		"fetch_and", "fetch_or", "fetch_xor", "fetch_nand", "compare_exchange_strong",
		"compare_exchange_weak", "compare_exchange_val", NULL };
	static const char *const others[] = { "__tsan_init", "__tsan_func_entry",
		"__tsan_func_exit", "__tsan_read_range", "__tsan_write_range", "__tsan_vptr_read",
		"__tsan_vptr_update", "__tsan_atomic_thread_fence", "__tsan_atomic_signal_fence",
		"__tsan_ignore_thread_begin", "__tsan_ignore_thread_end", "__tsan_memcpy",
		"__tsan_memset", "__tsan_memmove", NULL };
	static const char *const plain[] = { "read", "write", "volatile_read", "volatile_write",
		"read_write", NULL };
	static const char *const unaligned[] = { "unaligned_read", "unaligned_write",
		"unaligned_volatile_read", "unaligned_volatile_write", "unaligned_read_write", NULL };
	char *shim = tsan_names(LW_SHIM, false), name[96];

	for (int bits = 8; bits <= 128; bits *= 2)
		for (int i = 0; ops[i]; i++) {
			snprintf(name, sizeof name, "__tsan_atomic%d_%s", bits, ops[i]);
			cr_assert(has_name(shim, name), "%s is missing", name);
		}
	for (int bytes = 1; bytes <= 16; bytes *= 2) {
		for (int i = 0; plain[i]; i++) {
			snprintf(name, sizeof name, "__tsan_%s%d", plain[i], bytes);
			cr_assert(has_name(shim, name), "%s is missing", name);
		}
		for (int i = 0; bytes > 1 && unaligned[i]; i++) {
			snprintf(name, sizeof name, "__tsan_%s%d", unaligned[i], bytes);
			cr_assert(has_name(shim, name), "%s is missing", name);
		}
	}
	for (int i = 0; others[i]; i++)
		cr_assert(has_name(shim, others[i]), "%s is missing", others[i]);
	/* And every name the test programs call (gcc's __int128 atomics, clang's _val...). */
	static const char *const progs[] = { "atomic_ops", "race_free", "heap_race",
		"bank_withdraw_split", "cxx_objects", NULL };
	for (int d = 0; d < 2; d++)
		for (int i = 0; progs[i]; i++) {
			char prog[256];
			snprintf(prog, sizeof prog, "%s/%s", d ? CLANG_DIR : GCC_DIR, progs[i]);
			char *used = tsan_names(prog, true), *save = NULL;
			cr_assert_gt(strlen(used), 0, "%s calls no __tsan_ function", prog);
			for (char *n = strtok_r(used, "\n", &save); n; n = strtok_r(NULL, "\n", &save))
				cr_assert(has_name(shim, n), "%s calls %s, which the shim lacks", prog, n);
			free(used);
		}
	free(shim);
}

/* ---- lockwatch cc ---- */

/* Runs lockwatch cc with LOCKWATCH_CC=cc and the arguments; returns its status. */
static int cc(const char *compiler, const char *dir, const char *const args[])
{
	const char *argv[32] = { LW_BIN, "cc" };
	int n = 2;
	char env_cc[64], out[256];
	snprintf(env_cc, sizeof env_cc, "LOCKWATCH_CC=%s", compiler);
	snprintf(out, sizeof out, "%s/cc.out", dir);
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	const char *env[] = { env_cc, NULL };
	return lw_spawn(argv, env, out, out, 60000);
}

/* Whether the ELF file needs a library whose name contains what. */
static bool needs(const char *file, const char *what)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "readelf -d '%s' | grep NEEDED | grep -q '%s'", file, what);
	return system(cmd) == 0;
}

Test(hooks_tsan, gcc_compiles_and_links_in_two_steps_without_thread_sanitizers_runtime,
     .timeout = 120)
{
	char *d = lw_tmpdir(), obj[256], prog[256], out[256];
	snprintf(obj, sizeof obj, "%s/race_counter.o", d);
	snprintf(prog, sizeof prog, "%s/race_counter", d);
	snprintf(out, sizeof out, "%s/out", d);

	/* Compiling alone: one call, -fsanitize=thread added; gcc -c links nothing. */
	const char *compile[] = { "-O1", "-c", "-o", obj, "samples/race_counter.c", NULL };
	cr_assert_eq(cc("gcc", d, compile), 0);
	char *used = tsan_names(obj, true);
	cr_assert(has_name(used, "__tsan_write8"), "the object calls: %s", used);
	free(used);
	/* Linking, with the user's own -fsanitize=thread: it is left out of the link. */
	const char *link[] = { "--tsan-abi", "-fsanitize=thread", "-pthread", "-o", prog, obj,
			       NULL };
	cr_assert_eq(cc("gcc", d, link), 0);
	cr_assert(!needs(prog, "tsan"), "the program needs libtsan");
	cr_assert(needs(prog, "liblockwatch-hooks"));
	const char *argv[] = { prog, NULL };
	const char *env[] = { "LD_PRELOAD=", NULL };
	cr_assert_eq(lw_spawn(argv, env, out, NULL, HOOK_TIMEOUT_MS), 0);
	char *text = lw_slurp(out);
	cr_assert(text && strstr(text, "counter: "), "output: %s", text ? text : "(none)");
	free(text);
	/* And under lockwatch its race is found. */
	struct lw_result r = lw_run_json_opts(prog, NULL, NULL, NULL, HOOK_TIMEOUT_MS);
	cr_assert_eq(r.status, 66, "exit status %d, stderr: %s", r.status, r.stderr_text);
	assert_all_on(r.report, "counter");
	lw_result_free(&r);
	lw_rmtree(d);
	free(d);
}

Test(hooks_tsan, a_combined_sanitizer_list_keeps_the_others_at_the_link, .timeout = 120)
{
	char *d = lw_tmpdir(), prog[256];
	snprintf(prog, sizeof prog, "%s/locked_counter", d);
	const char *args[] = { "-O1", "-pthread", "-fsanitize=thread,undefined", "-o", prog,
			       "samples/locked_counter.c", NULL };
	cr_assert_eq(cc("gcc", d, args), 0);
	cr_assert(!needs(prog, "tsan"), "the program needs libtsan");
	cr_assert(needs(prog, "ubsan"), "-fsanitize=undefined was lost");
	lw_rmtree(d);
	free(d);
}

Test(hooks_tsan, lto_is_a_usage_error, .timeout = 30)
{
	char *d = lw_tmpdir(), prog[256];
	snprintf(prog, sizeof prog, "%s/p", d);
	const char *args[] = { "-flto", "-o", prog, "samples/race_counter.c", NULL };
	cr_assert_eq(cc("gcc", d, args), 2);
	lw_rmtree(d);
	free(d);
}
