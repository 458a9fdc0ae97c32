/* An ELF file mapped read-only, its file header and section headers checked (elf_file.c):
 * what the symbol readers (watch_symbols.c, autowatch_globals.c) start from. */
#ifndef LW_ACCESS_ELF_FILE_H
#define LW_ACCESS_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/defs.h"

/* Maps the regular file at path read-only and checks that it is a 64-bit ELF file whose
 * section headers (e_shnum of them, each of the native size) lie inside it.  Returns true
 * with *map and *size set, to be given back to lw_elf_file_unmap; false, with nothing left
 * open or mapped, when the file cannot be opened or mapped or is not such a file.  No stdio,
 * no malloc; errno may change. */
LW_HIDDEN bool lw_elf_file_map(const char *path, const char **map, size_t *size);
/* Unmaps what lw_elf_file_map mapped.  Cannot fail. */
LW_HIDDEN void lw_elf_file_unmap(const char *map, size_t size);

#endif
