/* Hook mode's heap blocks: the ld --wrap targets `lockwatch cc` links the program's
 * allocation calls to, which name each block after the place that allocated it. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "access/hooks.h"
#include "access/watch.h"
#include "core/defs.h"
#include "core/threads.h"
#include "core/trace_writer.h"

/*
 * `lockwatch cc` links with -Wl,--wrap=malloc (and calloc, realloc, reallocarray,
 * aligned_alloc, posix_memalign, memalign, strdup, strndup), so the program's own calls, not
 * the C library's internal ones, come here; liblockwatch-hooks.so has plain forwarding
 * definitions of the same names for a run without the shim.  Each one calls the real
 * function and returns exactly what it returned, errno included.  With the hooks on, the
 * block's shadow cells then forget their owners (the allocator may hand out memory another
 * thread used, with no synchronisation the shim sees between them), and an ALLOC record
 * names the block: its size, thread and allocation stack.  free counts as a write to the
 * whole block (as in ThreadSanitizer), so a read another thread makes of a block without
 * ordering it before the free is a data race.
 */

void lw_hooks_allocated(void *p, size_t size, uint16_t fn, uintptr_t pc)
{
	if (!p || size == 0 || lw_guard)
		return;
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (!t)
		goto out;
	size_t usable = malloc_usable_size(p);
	uint32_t slack = usable > size ? (usable - size > UINT32_MAX ? UINT32_MAX
								     : (uint32_t)(usable - size)) : 0;
	lw_hooks_forget((uintptr_t)p, size + slack);
	struct lw_rec_alloc *r = lw_trace_reserve(sizeof *r);
	if (r) {
		r->tid = t->tid;
		r->fn = fn;
		r->pad = 0;
		r->addr = (uintptr_t)p;
		r->size = size;
		r->pc = pc;
		r->stack = lw_access_stack(t, pc);
		r->slack = slack;
		r->seq = lw_next_seq();
		lw_trace_commit(r, LW_REC_ALLOC, sizeof *r);
	}
	lw_leave();
out:
	errno = saved;
}

#define LW_PC() ((uintptr_t)__builtin_return_address(0))

LW_EXPORT void *__wrap_malloc(size_t n)
{
	void *p = malloc(n);
	lw_hooks_allocated(p, n, LW_ALLOC_MALLOC, LW_PC());
	return p;
}

LW_EXPORT void *__wrap_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	lw_hooks_allocated(p, n * size, LW_ALLOC_CALLOC, LW_PC());
	return p;
}

LW_EXPORT void *__wrap_realloc(void *old, size_t n)
{
	void *p = realloc(old, n);
	lw_hooks_allocated(p, n, LW_ALLOC_REALLOC, LW_PC());
	return p;
}

LW_EXPORT void *__wrap_reallocarray(void *old, size_t n, size_t size)
{
	void *p = reallocarray(old, n, size);
	lw_hooks_allocated(p, n * size, LW_ALLOC_REALLOC, LW_PC());
	return p;
}

LW_EXPORT void *__wrap_aligned_alloc(size_t align, size_t n)
{
	void *p = aligned_alloc(align, n);
	lw_hooks_allocated(p, n, LW_ALLOC_ALIGNED, LW_PC());
	return p;
}

LW_EXPORT void *__wrap_memalign(size_t align, size_t n)
{
	void *p = memalign(align, n);
	lw_hooks_allocated(p, n, LW_ALLOC_ALIGNED, LW_PC());
	return p;
}

LW_EXPORT int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
	int rc = posix_memalign(out, align, n);
	if (rc == 0)
		lw_hooks_allocated(*out, n, LW_ALLOC_ALIGNED, LW_PC());
	return rc;
}

LW_EXPORT void __wrap_free(void *p)
{
	if (p && !lw_guard)
		lw_hooks_free((uintptr_t)p, malloc_usable_size(p), LW_PC());
	free(p);
}

/* strdup and strndup also read the string they copy. */
LW_EXPORT char *__wrap_strdup(const char *s)
{
	lw_hook_read_range((uintptr_t)s, strlen(s) + 1, LW_PC());
	char *p = strdup(s);
	if (p)
		lw_hooks_allocated(p, strlen(p) + 1, LW_ALLOC_STRDUP, LW_PC());
	return p;
}

LW_EXPORT char *__wrap_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	lw_hook_read_range((uintptr_t)s, len < n ? len + 1 : n, LW_PC());
	char *p = strndup(s, n);
	if (p)
		lw_hooks_allocated(p, strlen(p) + 1, LW_ALLOC_STRDUP, LW_PC());
	return p;
}
