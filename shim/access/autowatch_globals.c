/* The candidates of automatic watching: the program's own global data objects, read from the
 * ELF symbol tables of its files through a read-only mapping (no libelf, no malloc). */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "access/autowatch.h"
#include "access/elf_file.h"
#include "core/stacks.h"

/*
 * Whose objects: the executable's, and those of the shared objects that are the program's
 * own.  A shared object is the system's, and left out, when its path is under a system
 * library directory (/lib/, /lib64/, /usr/lib/, /usr/lib64/, /usr/local/lib/,
 * /usr/libexec/), or when it is the C or C++ runtime, the loader or lockwatch's own
 * (libc.so, ld-linux, libstdc++, libgcc_s, libpthread, libm, liblockwatch*) wherever it
 * lives.  So is an executable installed in a system directory (those and /bin/, /sbin/,
 * /usr/bin/, /usr/sbin/): a system program or interpreter (python3, sh) is not the
 * program being debugged, and its globals are the interpreter's.  Their objects (a pthread object, a stdio buffer, malloc's arenas) are touched by
 * the runtime on the program's behalf: a watchpoint there would see the runtime, not the
 * program.
 */
static bool system_object(const char *path)
{
	static const char *const dirs[] = { "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/",
					    "/usr/local/lib/", "/usr/libexec/", "/bin/", "/sbin/",
					    "/usr/bin/", "/usr/sbin/", NULL };
	static const char *const names[] = { "libc.so", "ld-linux", "libstdc++", "libgcc_s",
					     "libpthread", "libm.so", "liblockwatch", NULL };
	for (const char *const *d = dirs; *d; d++)
		if (!strncmp(path, *d, strlen(*d)))
			return true;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (const char *const *n = names; *n; n++)
		if (!strncmp(base, *n, strlen(*n)))
			return true;
	return false;
}

/* Symbols of the compiler and the C runtime, never the program's variables: names the C
 * standard reserves (two underscores), crtstuff's completed.N, the dynamic section and the
 * GOT's own symbols. */
static bool runtime_symbol(const char *name)
{
	if (name[0] == '_' && name[1] == '_')
		return true;
	if (!strncmp(name, "completed.", 10) || !strcmp(name, "_DYNAMIC") ||
	    !strcmp(name, "_GLOBAL_OFFSET_TABLE_") || !strcmp(name, "_IO_stdin_used") ||
	    !strcmp(name, "_edata") || !strcmp(name, "_end") || !strcmp(name, "data_start"))
		return true;
	return false;
}

/* Whether a section holds the program's data: written, allocated, not code, not
 * thread-local, and none of the loader's tables (GOT, dynamic section, constructor arrays,
 * data that is read-only after relocation). */
static bool data_section(const ElfW(Shdr) *sh, const char *name)
{
	if ((sh->sh_flags & (SHF_WRITE | SHF_ALLOC)) != (SHF_WRITE | SHF_ALLOC) ||
	    (sh->sh_flags & (SHF_EXECINSTR | SHF_TLS)) ||
	    (sh->sh_type != SHT_PROGBITS && sh->sh_type != SHT_NOBITS))
		return false;
	static const char *const tables[] = { ".got", ".dynamic", ".init_array", ".fini_array",
					      ".preinit_array", ".data.rel.ro", ".tm_clone_table",
					      NULL };
	for (const char *const *t = tables; *t; t++)
		if (!strncmp(name, *t, strlen(*t)))
			return false;
	return true;
}

#define MAX_SECTIONS 512u
#define MAX_COPIES   256u

struct scan {
	struct lw_auto_globals *g;
	bool first;
	uintptr_t self;
};

static void add_object(struct lw_auto_globals *g, uintptr_t addr, uint64_t size)
{
	for (uint32_t i = 0; i < g->n_objects; i++)
		if (g->objects[i].addr == addr)
			return;      /* in .symtab and .dynsym */
	if (g->n_objects == LW_AUTO_MAX_OBJECTS)
		return;
	g->objects[g->n_objects].addr = addr;
	g->objects[g->n_objects].size = size;
	g->n_objects++;
}

static void scan_file(struct lw_auto_globals *g, const char *path, uintptr_t bias)
{
	const char *map;
	size_t size;
	if (!lw_elf_file_map(path, &map, &size))
		return;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)map;
	if (eh->e_shstrndx >= eh->e_shnum)
		goto out;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(map + eh->e_shoff);
	const ElfW(Shdr) *names = &sh[eh->e_shstrndx];
	if (names->sh_offset > size || names->sh_size > size - names->sh_offset)
		goto out;
	bool data[MAX_SECTIONS] = { false };
	uint64_t copies[MAX_COPIES];
	uint32_t n_copies = 0;
	for (unsigned i = 0; i < eh->e_shnum && i < MAX_SECTIONS; i++) {
		if (sh[i].sh_name < names->sh_size &&
		    memchr(map + names->sh_offset + sh[i].sh_name, 0, names->sh_size - sh[i].sh_name))
			data[i] = data_section(&sh[i], map + names->sh_offset + sh[i].sh_name);
		/* Copy relocations: library objects (stdout, environ) the executable holds the
		 * copy of.  Their owner is the library. */
		if (sh[i].sh_type == SHT_RELA && sh[i].sh_entsize == sizeof(ElfW(Rela)) &&
		    sh[i].sh_offset <= size && sh[i].sh_size <= size - sh[i].sh_offset) {
			const ElfW(Rela) *r = (const ElfW(Rela) *)(map + sh[i].sh_offset);
			for (size_t k = 0; k < sh[i].sh_size / sizeof *r && n_copies < MAX_COPIES; k++)
				if (ELF64_R_TYPE(r[k].r_info) == R_X86_64_COPY)
					copies[n_copies++] = r[k].r_offset;
		}
	}
	/* .symtab first: it has the static (file-local) variables too. */
	static const unsigned kinds[] = { SHT_SYMTAB, SHT_DYNSYM };
	for (int k = 0; k < 2; k++) {
		for (unsigned i = 0; i < eh->e_shnum; i++) {
			if (sh[i].sh_type != kinds[k] || sh[i].sh_link >= eh->e_shnum ||
			    sh[i].sh_entsize != sizeof(ElfW(Sym)))
				continue;
			const ElfW(Shdr) *strs = &sh[sh[i].sh_link];
			if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset ||
			    strs->sh_offset > size || strs->sh_size > size - strs->sh_offset)
				continue;
			const ElfW(Sym) *sym = (const ElfW(Sym) *)(map + sh[i].sh_offset);
			const char *str = map + strs->sh_offset;
			size_t n = sh[i].sh_size / sizeof *sym;
			for (size_t s = 0; s < n; s++) {
				const ElfW(Sym) *y = &sym[s];
				/* STT_TLS is another type: thread-local variables never come here. */
				if (ELF64_ST_TYPE(y->st_info) != STT_OBJECT || y->st_size == 0 ||
				    y->st_shndx == SHN_UNDEF || y->st_shndx >= MAX_SECTIONS ||
				    y->st_shndx >= eh->e_shnum || !data[y->st_shndx] ||
				    y->st_name >= strs->sh_size ||
				    !memchr(str + y->st_name, 0, strs->sh_size - y->st_name) ||
				    runtime_symbol(str + y->st_name))
					continue;
				bool copy = false;
				for (uint32_t c = 0; c < n_copies && !copy; c++)
					copy = copies[c] == y->st_value;
				if (!copy)
					add_object(g, bias + y->st_value, y->st_size);
			}
		}
	}
out:
	lw_elf_file_unmap(map, size);
}

static int module_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
	struct scan *sc = data;
	const char *path = info->dlpi_name;
	bool first = sc->first;
	sc->first = false;
	if (!path || !*path) {
		if (!first)
			return 0;     /* the vDSO */
		char exe[1024];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = '\0';
		if (n > 0 && system_object(exe))
			return 0;
		path = "/proc/self/exe";
	} else if (system_object(path)) {
		return 0;
	}
	uintptr_t lo, hi;
	lw_module_extent(info, &lo, &hi);
	if (sc->self >= lo && sc->self < hi)
		return 0;             /* the shim, wherever it was installed */
	struct lw_auto_globals *g = sc->g;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && g->n_text < LW_AUTO_MAX_TEXT) {
			g->text_lo[g->n_text] = info->dlpi_addr + ph->p_vaddr;
			g->text_hi[g->n_text] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
			g->n_text++;
		}
	}
	scan_file(g, path, info->dlpi_addr);
	return 0;
}

static int by_size(const void *a, const void *b)
{
	const struct lw_auto_object *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The largest length, 8, 4, 2 or 1, aligned at addr and inside [addr, end). */
static uint8_t granule_len(uintptr_t addr, uintptr_t end)
{
	uint8_t len = 8;
	while (len > 1 && ((addr & (len - 1)) || addr + len > end))
		len /= 2;
	return len;
}

void lw_auto_find_globals(struct lw_auto_globals *g)
{
	struct scan sc = { .g = g, .first = true, .self = (uintptr_t)&lw_auto_find_globals };
	int saved = errno;
	dl_iterate_phdr(module_cb, &sc);
	errno = saved;
	/* Small objects first: a shared counter or flag is a scalar more often than a table. */
	qsort(g->objects, g->n_objects, sizeof g->objects[0], by_size);
	for (uint32_t o = 0; o < g->n_objects; o++) {
		uintptr_t a = g->objects[o].addr, end = a + g->objects[o].size;
		for (uint32_t k = 0; k < LW_AUTO_OBJECT_GRANULES && a < end; k++) {
			if (g->n_granules == LW_AUTO_MAX_GRANULES)
				return;
			uint8_t len = granule_len(a, end);
			struct lw_auto_granule *gr = &g->granules[g->n_granules++];
			gr->addr = a;
			gr->len = len;
			gr->object = o;
			/* On to the next aligned piece: the rest of this 8-byte granule, if the
			 * object starts unaligned, is its next granule. */
			a += len;
		}
	}
}
