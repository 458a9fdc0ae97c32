/* Maps an ELF file read-only and checks its file header and section headers (no libelf, no
 * malloc): the start of the symbol readers' scans. */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "access/elf_file.h"

bool lw_elf_file_map(const char *path, const char **map, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size < sizeof(ElfW(Ehdr))) {
		close(fd);
		return false;
	}
	size_t len = (size_t)st.st_size;
	const char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return false;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(ElfW(Shdr)) || eh->e_shoff >= len ||
	    (len - eh->e_shoff) / sizeof(ElfW(Shdr)) < eh->e_shnum) {
		munmap((void *)m, len);
		return false;
	}
	*map = m;
	*size = len;
	return true;
}

void lw_elf_file_unmap(const char *map, size_t size)
{
	munmap((void *)map, size);
}
