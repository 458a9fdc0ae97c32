/* Unit tests for analyzer/trace/symbolize.c and lock naming, using this test program as the module. */
#include <criterion/criterion.h>
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/findings.h"
#include "trace/lock_names.h"
#include "trace/model.h"
#include "trace/symbolize.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

pthread_mutex_t test_lock_a = PTHREAD_MUTEX_INITIALIZER;
struct { long pad; pthread_mutex_t m[4]; } test_accounts;
struct test_inner { char tag; short code; long vals[3]; };
struct { int id; struct test_inner in[2]; double grid[2][3]; } test_outer;

__attribute__((noinline)) void test_marker_function(void)
{
	__asm__ volatile("");
}

TestSuite(symbolize, .timeout = 20);

struct self_map {
	uint64_t base, lo, hi;
	unsigned char build_id[64];
	size_t build_id_len;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self_map *s = arg;

	(void)size;
	/* The first object is the main program. */
	s->base = info->dlpi_addr;
	s->lo = UINT64_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];

		if (p->p_type == PT_LOAD) {
			if (info->dlpi_addr + p->p_vaddr < s->lo)
				s->lo = info->dlpi_addr + p->p_vaddr;
			if (info->dlpi_addr + p->p_vaddr + p->p_memsz > s->hi)
				s->hi = info->dlpi_addr + p->p_vaddr + p->p_memsz;
		}
		if (p->p_type == PT_NOTE) {
			const unsigned char *n = (const unsigned char *)(info->dlpi_addr + p->p_vaddr);
			const unsigned char *end = n + p->p_memsz;

			while (n + 12 <= end) {
				uint32_t namesz, descsz, type;

				memcpy(&namesz, n, 4);
				memcpy(&descsz, n + 4, 4);
				memcpy(&type, n + 8, 4);
				if (type == 3 && namesz == 4 && memcmp(n + 12, "GNU", 4) == 0 &&
				    descsz <= sizeof(s->build_id)) {
					memcpy(s->build_id, n + 16, descsz);
					s->build_id_len = descsz;
				}
				n += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
			}
		}
	}
	return 1;
}

static struct lw_module self_module(struct self_map *sm, char *path)
{
	ssize_t n = readlink("/proc/self/exe", path, 4095);

	cr_assert(n > 0);
	path[n] = '\0';
	memset(sm, 0, sizeof(*sm));
	dl_iterate_phdr(phdr_cb, sm);
	return (struct lw_module){ sm->base, sm->lo, sm->hi, path, sm->build_id,
				   (uint16_t)sm->build_id_len };
}

Test(symbolize, function_file_and_line)
{
	char path[4096];
	struct self_map sm;
	struct lw_module mod = self_module(&sm, path);
	struct lw_symbolizer *s = lw_symbolizer_new(&mod, 1);
	struct lw_sym_frame f, again;
	uint64_t pc = (uint64_t)(uintptr_t)&test_marker_function;

	lw_symbolize_pc(s, pc, false, &f);
	cr_assert_str_eq(f.function, "test_marker_function");
	cr_assert_not_null(f.file);
	cr_assert(strstr(f.file, "test_symbolize.c"), "%s", f.file);
	cr_assert_gt(f.line, 0);
	cr_assert_eq(f.pc, pc);
	cr_assert_eq(f.module_offset, pc - sm.base);
	/* A return address just past the function's first byte is looked up at pc - 1. */
	lw_symbolize_pc(s, pc + 1, true, &again);
	cr_assert_str_eq(again.function, "test_marker_function");
	cr_assert_eq(again.pc, pc + 1);
	lw_symbolizer_free(s);
}

Test(symbolize, data_symbols)
{
	char path[4096], buf[256];
	struct self_map sm;
	struct lw_module mod = self_module(&sm, path);
	struct lw_symbolizer *s = lw_symbolizer_new(&mod, 1);
	const char *sym = NULL;

	cr_assert(lw_symbolize_data(s, (uint64_t)(uintptr_t)&test_lock_a, buf, sizeof(buf), &sym,
				    NULL));
	cr_assert_str_eq(buf, "test_lock_a");
	cr_assert(lw_symbolize_data(s, (uint64_t)(uintptr_t)&test_accounts.m[1], buf, sizeof(buf),
				    &sym, NULL));
	/* Inside a variable, its member and elements from the DWARF types; a union (the
	 * mutex) at its start is named as a whole. */
	cr_assert_str_eq(buf, "test_accounts.m[1]");
	cr_assert_str_eq(sym, "test_accounts");
	static const struct {
		size_t off;
		const char *name;
	} inside[] = {
		{ offsetof(__typeof__(test_outer), in[1].vals[2]), "test_outer.in[1].vals[2]" },
		{ offsetof(__typeof__(test_outer), in[0].code), "test_outer.in[0].code" },
		{ offsetof(__typeof__(test_outer), in[1].vals[0]) + 3, "test_outer.in[1].vals[0]+3" },
		{ offsetof(__typeof__(test_outer), grid[1][2]), "test_outer.grid[1][2]" },
		/* The padding after in[0].tag: no member holds it. */
		{ offsetof(__typeof__(test_outer), in[0].tag) + 1, "test_outer.in[0]+1" },
	};
	for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
		cr_assert(lw_symbolize_data(s, (uint64_t)(uintptr_t)&test_outer + inside[i].off, buf,
					    sizeof(buf), &sym, NULL));
		cr_assert_str_eq(buf, inside[i].name);
		cr_assert_str_eq(sym, "test_outer");
	}
	/* A heap address is in no module. */
	{
		void *heap = malloc(16);

		cr_assert_not(lw_symbolize_data(s, (uint64_t)(uintptr_t)heap, buf, sizeof(buf), NULL,
						NULL));
		free(heap);
	}
	lw_symbolizer_free(s);
}

Test(symbolize, build_id_mismatch_is_not_trusted)
{
	char path[4096], buf[256];
	struct self_map sm;
	struct lw_module mod = self_module(&sm, path);
	struct lw_symbolizer *s;
	struct lw_sym_frame f;

	cr_assert_gt(sm.build_id_len, 0, "test binary has no build-id");
	sm.build_id[0] ^= 0xff;
	s = lw_symbolizer_new(&mod, 1);
	lw_symbolize_pc(s, (uint64_t)(uintptr_t)&test_marker_function, false, &f);
	cr_assert_null(f.function);
	cr_assert_null(f.file);
	cr_assert_not_null(f.module);
	cr_assert_not(lw_symbolize_data(s, (uint64_t)(uintptr_t)&test_lock_a, buf, sizeof(buf),
					NULL, NULL));
	lw_symbolizer_free(s);
}

/* A damaged trace's module record may claim addresses its file does not cover: libdwfl,
 * asked about them, read outside the file's section headers (found by the fuzzer). */
Test(symbolize, an_address_outside_the_file_in_its_claimed_range)
{
	char path[4096];
	struct self_map sm;
	struct lw_module mod = self_module(&sm, path);
	struct lw_symbolizer *s;
	struct lw_sym_frame f;

	mod.lo = sm.base - (UINT64_C(1) << 30);
	s = lw_symbolizer_new(&mod, 1);
	lw_symbolize_pc(s, sm.base - 0xec79, true, &f);
	cr_assert_null(f.function);
	cr_assert_null(f.file);
	cr_assert_not_null(f.module);
	lw_symbolize_pc(s, (uint64_t)(uintptr_t)&test_marker_function, false, &f);
	cr_assert_str_eq(f.function, "test_marker_function");
	lw_symbolizer_free(s);
}

Test(symbolize, missing_file_and_unknown_address)
{
	struct lw_module mod = { 0x1000, 0x1000, 0x2000, (char *)"/nonexistent/libx.so", NULL, 0 };
	struct lw_symbolizer *s = lw_symbolizer_new(&mod, 1);
	struct lw_sym_frame f;
	char buf[64];
	struct lw_frame fr = { 0 };

	lw_symbolize_pc(s, 0x1234, true, &f);
	cr_assert_null(f.function);
	cr_assert_str_eq(f.module, "libx.so");
	cr_assert_eq(f.module_offset, 0x234);
	lw_symbolize_pc(s, 0x999999, true, &f);
	cr_assert_null(f.module);
	fr.pc = 0x999999;
	lw_fframe_format(&fr, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0x999999");
	fr.module = (char *)"libx.so";
	fr.module_offset = 0x234;
	lw_fframe_format(&fr, buf, sizeof(buf));
	cr_assert_str_eq(buf, "libx.so+0x234");
	lw_symbolizer_free(s);
}

/* A trace whose module is this program: global locks get their symbol, heap locks their
 * init site. */
Test(symbolize, lock_names_in_a_model)
{
	char path[4096];
	struct self_map sm;
	struct lw_module mod = self_module(&sm, path);
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_model *m = lw_model_new();
	uint64_t pc = (uint64_t)(uintptr_t)&test_marker_function + 1;
	uint64_t a = (uint64_t)(uintptr_t)&test_lock_a, heap = 0x7f0000001000;
	struct lw_rec_module *rm;
	uint32_t la, lh;

	tb_init(&b, 5);
	tb_module(&b, mod.base, mod.lo, mod.hi, path);
	tb_stack(&b, 1, 1, &pc);
	tb_lock_init(&b, a, 0, LW_LOCK_MUTEX, LW_LOCKF_STATIC, 1);
	tb_lock_init(&b, heap, 0, LW_LOCK_MUTEX, 0, 1);
	tb_lock_init(&b, heap + 64, 0, LW_LOCK_RWLOCK, LW_LOCKF_STATIC, 1);
	rm = (struct lw_rec_module *)(b.buf + LW_TRACE_HEADER_SIZE);
	cr_assert_eq(rm->build_id_len, 0);
	cr_assert_eq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0, "%s", err.what);
	lw_model_add_trace(m, &t);
	lw_model_finish(m);
	lw_name_locks(m);
	la = lw_model_find_lock(m, 0, a, 0);
	lh = lw_model_find_lock(m, 0, heap, 0);
	cr_assert_str_eq(m->locks.v[la].name, "test_lock_a");
	cr_assert(m->locks.v[la].global);
	cr_assert(strncmp(m->locks.v[lh].name, "mutex initialised at test_marker_function (", 43) == 0,
		  "%s", m->locks.v[lh].name);
	cr_assert(strstr(m->locks.v[lh].name, "test_symbolize.c:"), "%s", m->locks.v[lh].name);
	cr_assert(strncmp(m->locks.v[lw_model_find_lock(m, 0, heap + 64, 0)].name,
			  "rwlock first used at test_marker_function", 41) == 0);
	/* Both heap locks come from one site: one class. */
	cr_assert_eq(m->locks.v[lh].cls, m->locks.v[lw_model_find_lock(m, 0, heap + 64, 0)].cls);
	cr_assert_neq(m->locks.v[lh].cls, m->locks.v[la].cls);
	lw_model_free(m);
	lw_trace_close(&t);
	tb_free(&b);
}
