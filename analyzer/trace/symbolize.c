/* Offline symbolization with elfutils' libdwfl, one Dwfl per traced process. */
#include "trace/symbolize.h"
#include "trace/data_members.h"
#include "base/hashmap.h"
#include "trace/model.h"
#include "base/util.h"

#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An object symbol of a module, for naming data addresses. */
struct data_sym {
	uint64_t    addr, size;
	const char *name;            /* owned by libdwfl */
};

struct sym_module {
	struct lw_module  rec;       /* path and build-id owned by us */
	const char       *base_name;
	Dwfl_Module      *dwmod;     /* NULL if not loaded or not trusted */
	bool              data_loaded;
	struct data_sym  *data;
	size_t            n_data;
	struct lw_data_members *members; /* its variables' types, NULL until first needed */
};

struct lw_symbolizer {
	Dwfl              *dwfl;
	struct sym_module *mods;
	size_t             n_mods;
	LW_VEC(struct lw_sym_frame) frames;
	struct lw_map      cache;    /* (pc, return_address) -> index in frames */
	LW_VEC(char *)     strings;  /* owned strings the frames point to */
};

static char *debuginfo_path;

/* Issue 24: the largest separate debug file looked at. */
#define LW_DEBUGINFO_MAX (4ull << 30)

/* Opens path for a separate debug file: a regular file only (opened O_NONBLOCK: a FIFO
 * must not block the report), at most LW_DEBUGINFO_MAX bytes, whose build-id is the
 * module's when both have one.  Returns the descriptor or -1. */
static int open_debuginfo(Dwfl_Module *mod, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	const unsigned char *want;
	const void *got;
	GElf_Addr vaddr;
	struct stat st;
	Elf *elf;
	int nwant, ngot = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > LW_DEBUGINFO_MAX) {
		close(fd);
		return -1;
	}
	nwant = dwfl_module_build_id(mod, &want, &vaddr);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf)
		ngot = (int)dwelf_elf_gnu_build_id(elf, &got);
	bool ok = elf && elf_kind(elf) == ELF_K_ELF &&
		  (nwant <= 0 || ngot <= 0 || (nwant == ngot && !memcmp(want, got, (size_t)ngot)));
	if (elf)
		elf_end(elf);
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Issue 24: libdwfl's standard lookup opens the candidates with a plain open(2), which blocks
 * on a FIFO that a .gnu_debuglink names.  The same places are looked at here (the build-id
 * tree under /usr/lib/debug, then the debug link beside the file, in its .debug/, and under
 * /usr/lib/debug), through open_debuginfo; no debuginfod.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  GElf_Addr base, const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &id, &vaddr);
	char path[4096], dir[4096] = "";
	int fd;

	(void)userdata, (void)modname, (void)base, (void)debuglink_crc;
	*debuginfo_file_name = NULL;
	if (n > 1 && n <= 64) {
		int len = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", id[0]);

		for (int i = 1; i < n; i++)
			len += snprintf(path + len, sizeof(path) - (size_t)len, "%02x", id[i]);
		snprintf(path + len, sizeof(path) - (size_t)len, ".debug");
		fd = open_debuginfo(mod, path);
		if (fd >= 0) {
			*debuginfo_file_name = lw_xstrdup(path);
			return fd;
		}
	}
	if (!debuglink_file || !*debuglink_file || strchr(debuglink_file, '/'))
		return -1;
	if (file_name) {
		const char *slash = strrchr(file_name, '/');

		if (slash && (size_t)(slash - file_name) < sizeof(dir))
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file_name), file_name);
	}
	const char *const fmts[] = { "%s/%s", "%s/.debug/%s", "/usr/lib/debug%s/%s" };
	for (int i = 0; i < 3; i++) {
		if ((size_t)snprintf(path, sizeof(path), fmts[i], dir, debuglink_file) >= sizeof(path))
			continue;
		if (file_name && !strcmp(path, file_name))
			continue;       /* the module itself */
		fd = open_debuginfo(mod, path);
		if (fd >= 0) {
			*debuginfo_file_name = lw_xstrdup(path);
			return fd;
		}
	}
	return -1;
}

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* The C++ runtime's demangler (libstdc++, the Itanium C++ ABI's). */
char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

/* A C++ symbol's readable name ("make_account()" for "_ZL12make_accountv"), malloc'd; NULL
 * for a C name or one the demangler does not take. */
static char *demangle(const char *name)
{
	int status = -1;
	char *d;

	if (!name || strncmp(name, "_Z", 2) != 0)
		return NULL;
	d = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(d);
		return NULL;
	}
	return d;
}

static const char *own(struct lw_symbolizer *s, const char *str)
{
	char *p;

	if (!str)
		return NULL;
	p = lw_xstrdup(str);
	lw_vec_push(&s->strings, p);
	return p;
}

/* True if the file's build-id matches the one recorded in the trace (or either is unknown). */
static bool build_id_matches(Dwfl_Module *mod, const struct lw_module *rec)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);

	if (n <= 0 || rec->build_id_len == 0)
		return true;
	return (size_t)n == rec->build_id_len && memcmp(bits, rec->build_id, (size_t)n) == 0;
}

struct lw_symbolizer *lw_symbolizer_new(const struct lw_module *mods, size_t n)
{
	struct lw_symbolizer *s = lw_xcalloc(1, sizeof(*s));

	s->mods = lw_xcalloc(n, sizeof(*s->mods));
	s->n_mods = n;
	s->dwfl = dwfl_begin(&offline_callbacks);
	if (s->dwfl)
		dwfl_report_begin(s->dwfl);
	for (size_t i = 0; i < n; i++) {
		struct sym_module *m = &s->mods[i];
		const char *slash;
		struct stat st;

		m->rec = mods[i];
		m->rec.path = lw_xstrdup(mods[i].path);
		m->rec.build_id = lw_xmalloc(mods[i].build_id_len);
		if (mods[i].build_id_len)
			memcpy(m->rec.build_id, mods[i].build_id, mods[i].build_id_len);
		slash = strrchr(m->rec.path, '/');
		m->base_name = slash ? slash + 1 : m->rec.path;
		if (!*m->base_name)
			m->base_name = m->rec.path;
		/* Only regular files: a FIFO or device named in a hostile trace must not block us.
		 * Issue 24: checked on the descriptor libdwfl then reads (it takes it over). */
		if (!s->dwfl || m->rec.path[0] != '/')
			continue;
		int fd = open(m->rec.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		m->dwmod = dwfl_report_elf(s->dwfl, m->rec.path, m->rec.path, fd, m->rec.base, false);
		if (m->dwmod && !build_id_matches(m->dwmod, &m->rec))
			m->dwmod = NULL;        /* reported, but its symbols would lie */
	}
	if (s->dwfl && dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
		dwfl_end(s->dwfl);
		s->dwfl = NULL;
		for (size_t i = 0; i < n; i++)
			s->mods[i].dwmod = NULL;
	}
	return s;
}

void lw_symbolizer_free(struct lw_symbolizer *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	for (size_t i = 0; i < s->n_mods; i++) {
		free(s->mods[i].rec.path);
		free(s->mods[i].rec.build_id);
		free(s->mods[i].data);
		lw_data_members_free(s->mods[i].members);
	}
	free(s->mods);
	free(s->frames.v);
	lw_map_free(&s->cache);
	for (size_t i = 0; i < s->strings.n; i++)
		free(s->strings.v[i]);
	free(s->strings.v);
	free(s);
}

/* Returns the module record containing addr, or NULL. */
static struct sym_module *find_module(struct lw_symbolizer *s, uint64_t addr)
{
	/* The latest record wins: a module map written after a dlopen describes the present. */
	for (size_t i = s->n_mods; i-- > 0;)
		if (addr >= s->mods[i].rec.lo && addr < s->mods[i].rec.hi)
			return &s->mods[i];
	return NULL;
}

/* Whether addr lies in the module as libdwfl placed it: a damaged trace's module record may
 * claim a range around its file that the file does not cover, and libdwfl reads outside
 * its section headers for an address it does not hold. */
static bool in_dwmod(Dwfl_Module *mod, uint64_t addr)
{
	Dwarf_Addr start = 0, end = 0;

	return dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL) &&
	       addr >= start && addr < end;
}

void lw_symbolize_pc(struct lw_symbolizer *s, uint64_t pc, bool return_address,
		     struct lw_sym_frame *out)
{
	struct lw_sym_frame f = { .pc = pc };
	struct sym_module *m;
	uint64_t look = return_address && pc ? pc - 1 : pc;
	uint32_t idx;

	if (lw_map_get(&s->cache, pc, return_address, &idx)) {
		*out = s->frames.v[idx];
		return;
	}
	m = find_module(s, look);
	if (m) {
		f.module = m->base_name;
		f.module_offset = pc - m->rec.base;
	}
	if (m && m->dwmod && in_dwmod(m->dwmod, look)) {
		GElf_Off off;
		GElf_Sym sym;
		const char *name = dwfl_module_addrinfo(m->dwmod, look, &off, &sym, NULL, NULL, NULL);
		Dwfl_Line *line;

		char *readable = demangle(name);

		f.function = own(s, readable ? readable : name);
		free(readable);
		line = dwfl_module_getsrc(m->dwmod, look);
		if (line) {
			Dwarf_Addr a;
			int lineno = 0;
			const char *file = dwfl_lineinfo(line, &a, &lineno, NULL, NULL, NULL);

			if (file) {
				f.file = own(s, file);
				f.line = lineno;
			}
		}
	}
	lw_map_put(&s->cache, pc, return_address, (uint32_t)s->frames.n);
	lw_vec_push(&s->frames, f);
	*out = f;
}

static int data_sym_cmp(const void *a, const void *b)
{
	const struct data_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_data_symbols(struct sym_module *m)
{
	LW_VEC(struct data_sym) v = { 0 };
	int n;

	m->data_loaded = true;
	if (!m->dwmod)
		return;
	n = dwfl_module_getsymtab(m->dwmod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(m->dwmod, i, &sym, &addr, &shndx, NULL,
							   NULL);

		if (!name || !*name || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
		    sym.st_shndx == SHN_UNDEF || sym.st_size == 0)
			continue;
		lw_vec_push(&v, ((struct data_sym){ addr, sym.st_size, name }));
	}
	if (v.n)
		qsort(v.v, v.n, sizeof(v.v[0]), data_sym_cmp);
	m->data = v.v;
	m->n_data = v.n;
}

/* The object symbol of module m containing addr, or NULL. */
static const struct data_sym *data_sym_at(struct sym_module *m, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!m->data_loaded)
		load_data_symbols(m);
	/* The last symbol starting at or below addr, then back over overlapping ones. */
	hi = m->n_data;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->data[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		if (addr - m->data[i].addr < m->data[i].size)
			return &m->data[i];
		if (addr - m->data[i].addr > (1u << 24))
			break;
	}
	return NULL;
}

bool lw_symbolize_module_atomic(struct lw_symbolizer *s, uint64_t addr, char *name, size_t len)
{
	struct sym_module *m = find_module(s, addr);

	if (!m)
		return false;
	if (!m->members)
		m->members = lw_data_members_new(m->dwmod);
	return lw_data_any_atomic(m->members, name, len);
}

enum lw_data_atomicity lw_symbolize_data_atomic(struct lw_symbolizer *s, uint64_t addr)
{
	struct sym_module *m = find_module(s, addr);
	const struct data_sym *best = m ? data_sym_at(m, addr) : NULL;

	if (!best)
		return LW_DATA_ATOMIC_UNKNOWN;
	if (!m->members)
		m->members = lw_data_members_new(m->dwmod);
	return lw_data_atomic(m->members, best->addr, addr - best->addr);
}

bool lw_symbolize_data(struct lw_symbolizer *s, uint64_t addr, char *buf, size_t len,
		       const char **symbol, const char **module)
{
	return lw_symbolize_data_ex(s, addr, false, buf, len, symbol, module);
}

bool lw_symbolize_data_ex(struct lw_symbolizer *s, uint64_t addr, bool element0, char *buf,
			  size_t len, const char **symbol, const char **module)
{
	struct sym_module *m = find_module(s, addr);
	const struct data_sym *best = m ? data_sym_at(m, addr) : NULL;

	if (!best)
		return false;
	char *readable = demangle(best->name);
	const char *shown = readable ? readable : best->name;

	char member[256], scoped[512];

	if (!m->members)
		m->members = lw_data_members_new(m->dwmod);
	/* A C function's static is "func::name", not the symbol table's "name.0" (a C++ one
	 * demangles to that already). */
	if (!readable && lw_data_static_name(m->members, best->addr, scoped, sizeof(scoped)))
		shown = scoped;
	if (lw_data_member(m->members, best->addr, addr - best->addr, member, sizeof(member)) &&
	    (addr != best->addr || (element0 && member[0] == '[')))
		snprintf(buf, len, "%s%s", shown, member);
	else if (addr == best->addr)
		snprintf(buf, len, "%s", shown);
	else
		snprintf(buf, len, "%s+%" PRIu64, shown, addr - best->addr);
	free(readable);
	if (symbol)
		*symbol = best->name;
	if (module)
		*module = m->rec.path;
	return true;
}

bool lw_frame_is_libc_sync(const struct lw_sym_frame *f)
{
	static const char *const prefixes[] = { "pthread_", "__pthread_", "___pthread_", "sem_",
						 "__new_sem_", "__sem_", "__GI___pthread_" };

	if (!f->module || !f->function)
		return false;
	if (strncmp(f->module, "libc.so", 7) != 0 && strncmp(f->module, "libc-", 5) != 0 &&
	    strncmp(f->module, "libpthread", 10) != 0)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(f->function, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}
