/* Finds a global variable by name in the ELF symbol tables of the loaded objects, read from
 * their files through a read-only mapping (no libelf, no malloc). */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include "access/elf_file.h"
#include "access/watch.h"
#include "core/stacks.h"

/* Issue 21: a C++ variable with internal linkage is in the symbol table only mangled: a
 * file-static `static int x;` as _ZL1x, one in an anonymous namespace as
 * _ZN12_GLOBAL__N_11xE.  --watch x finds them by matching those forms of the plain name
 * here, in the host, without a demangler (which would allocate). */
#define LW_MANGLED_MAX 256
static const char anon_ns[] = "_ZN12_GLOBAL__N_1";

struct lookup {
	const char *name;
	char zl[LW_MANGLED_MAX];     /* "_ZL<len><name>", or "" */
	char anon[LW_MANGLED_MAX];   /* "_ZN12_GLOBAL__N_1<len><name>E", or "" */
	int rank;                    /* of the best definition so far: 0 none, 1 local, 2 global */
	bool tls;                    /* a thread-local definition was seen */
	bool first;                  /* the next object is the program itself */
	uintptr_t addr;
	uint64_t size;
	char *module;
	size_t module_len;
};

/* Whether the NUL-terminated want (not empty) is the string at nm, which has at most
 * room bytes before the end of its table. */
static bool name_is(const char *nm, size_t room, const char *want, size_t want_len)
{
	return want_len && room > want_len && memcmp(nm, want, want_len + 1) == 0;
}

/* Writes the mangled forms of lk->name that --watch accepts for it (see LW_MANGLED_MAX):
 * only for a plain identifier, which the forms can hold. */
static void mangled_forms(struct lookup *lk)
{
	size_t n = strlen(lk->name);
	lk->zl[0] = lk->anon[0] = '\0';
	if (n == 0 || n > 200 || (lk->name[0] >= '0' && lk->name[0] <= '9'))
		return;
	for (size_t i = 0; i < n; i++) {
		char c = lk->name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return;
	}
	/* The length in decimal, without snprintf (which may allocate). */
	char len[4];
	int k = 0;
	if (n >= 100)
		len[k++] = (char)('0' + n / 100);
	if (n >= 10)
		len[k++] = (char)('0' + n / 10 % 10);
	len[k++] = (char)('0' + n % 10);
	len[k] = '\0';
	char *p = lk->zl;
	memcpy(p, "_ZL", 3);
	memcpy(p + 3, len, (size_t)k);
	memcpy(p + 3 + k, lk->name, n + 1);
	p = lk->anon;
	memcpy(p, anon_ns, sizeof anon_ns - 1);
	p += sizeof anon_ns - 1;
	memcpy(p, len, (size_t)k);
	memcpy(p + k, lk->name, n);
	memcpy(p + k + n, "E", 2);
}

/* Looks name up in one symbol table.  strtab is [str, str + str_len). */
static void scan_symbols(struct lookup *lk, const ElfW(Sym) *sym, size_t n, const char *str,
			 size_t str_len, uintptr_t bias, const char *path)
{
	size_t name_len = strlen(lk->name), zl_len = strlen(lk->zl), anon_len = strlen(lk->anon);
	for (size_t i = 0; i < n; i++) {
		const ElfW(Sym) *s = &sym[i];
		if (s->st_shndx == SHN_UNDEF || s->st_name >= str_len)
			continue;
		const char *nm = str + s->st_name;
		size_t room = str_len - s->st_name;
		if (!name_is(nm, room, lk->name, name_len) && !name_is(nm, room, lk->zl, zl_len) &&
		    !name_is(nm, room, lk->anon, anon_len))
			continue;
		int type = ELF64_ST_TYPE(s->st_info);
		if (type == STT_TLS) {
			lk->tls = true;
			continue;
		}
		if (type != STT_OBJECT && type != STT_COMMON)
			continue;
		int bind = ELF64_ST_BIND(s->st_info);
		int rank = (bind == STB_GLOBAL || bind == STB_WEAK) ? 2 : 1;
		if (rank <= lk->rank)
			continue;
		lk->rank = rank;
		lk->addr = bias + s->st_value;
		lk->size = s->st_size;
		size_t pl = strlen(path);
		if (pl >= lk->module_len)
			pl = lk->module_len - 1;
		memcpy(lk->module, path, pl);
		lk->module[pl] = '\0';
	}
}

/* Scans the .symtab and .dynsym of the ELF file at path. */
static void scan_file(struct lookup *lk, const char *path, uintptr_t bias)
{
	const char *map;
	size_t size;
	if (!lw_elf_file_map(path, &map, &size))
		return;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)map;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(map + eh->e_shoff);
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
			scan_symbols(lk, (const ElfW(Sym) *)(map + sh[i].sh_offset),
				     sh[i].sh_size / sizeof(ElfW(Sym)), map + strs->sh_offset,
				     strs->sh_size, bias, path);
		}
	}
	lw_elf_file_unmap(map, size);
}

static int lookup_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
	struct lookup *lk = data;
	const char *path = info->dlpi_name;
	bool first = lk->first;
	lk->first = false;
	if (!path || !*path) {
		if (!first)
			return 0;     /* the vDSO, or an object without a file */
		path = "/proc/self/exe";
	}
	scan_file(lk, path, info->dlpi_addr);
	/* The program's own definition wins (it holds the copy of a copy-relocated variable);
	 * otherwise the first object that defines the name globally, in load order, as the
	 * dynamic linker would bind it. */
	return lk->rank == 2 ? 1 : 0;
}

int lw_symbol_lookup(const char *name, uintptr_t *addr, uint64_t *size, char *module,
		     size_t module_len)
{
	struct lookup lk = { .name = name, .first = true, .module = module,
			     .module_len = module_len };
	mangled_forms(&lk);
	int saved = errno;
	dl_iterate_phdr(lookup_cb, &lk);
	errno = saved;
	if (lk.rank == 0)
		return lk.tls ? -EINVAL : -ENOENT;
	*addr = lk.addr;
	*size = lk.size;
	return 0;
}

/* ---- annotations ---- */

/* Looks for any of keys (NULL-terminated) in the dynamic string tables. */
struct referenced {
	const char *const *keys;
	bool found;
};

static int annotated_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
	struct referenced *ref = data;
	uintptr_t lo, hi, self = (uintptr_t)&annotated_cb;
	const ElfW(Dyn) *dyn = NULL;
	lw_module_extent(info, &lo, &hi);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
	}
	if (!dyn || (self >= lo && self < hi))
		return 0;             /* no dynamic section, or the shim itself */
	uintptr_t str = 0;
	size_t str_len = 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_STRTAB)
			str = dyn->d_un.d_ptr;
		else if (dyn->d_tag == DT_STRSZ)
			str_len = dyn->d_un.d_val;
	}
	/* The dynamic linker relocates these entries in place on some targets only. */
	if (str && str < lo)
		str += info->dlpi_addr;
	if (!str || str < lo || str >= hi || str_len > hi - str)
		return 0;
	for (const char *const *k = ref->keys; *k; k++) {
		if (memmem((const void *)str, str_len, *k, strlen(*k))) {
			ref->found = true;
			return 1;
		}
	}
	return 0;
}

static bool referenced(const char *const *keys)
{
	struct referenced ref = { keys, false };
	int saved = errno;
	dl_iterate_phdr(annotated_cb, &ref);
	errno = saved;
	return ref.found;
}

bool lw_annotations_referenced(void)
{
	static const char *const keys[] = { "lockwatch_annotate_", NULL };
	return referenced(keys);
}

/* The stub library (liblockwatch-hooks.so) defines these names too: a program linked with
 * it uses the hooks.  An object compiled with -fsanitize=thread calls __tsan_init from its
 * constructor and __tsan_read*, __tsan_write* or __tsan_atomic* for its accesses (a library
 * that only refers to ThreadSanitizer's annotations, __tsan_acquire and the like, is not
 * instrumented). */
bool lw_hooks_referenced(void)
{
	static const char *const keys[] = { "__sanitizer_cov_load", "__sanitizer_cov_store",
					    "__lockwatch_cov_", "__tsan_init", "__tsan_read",
					    "__tsan_write", "__tsan_atomic", NULL };
	return referenced(keys);
}
