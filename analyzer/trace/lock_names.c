/* Lock names (ELF symbol or init site) and lock classes. */
#include "trace/lock_names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lw_frame_format(const struct lw_sym_frame *f, char *buf, size_t len)
{
	if (f->function && f->file)
		snprintf(buf, len, "%s (%s:%d)", f->function, f->file, f->line);
	else if (f->function && f->module)
		snprintf(buf, len, "%s (%s+0x%" PRIx64 ")", f->function, f->module, f->module_offset);
	else if (f->function)
		snprintf(buf, len, "%s", f->function);
	else if (f->module)
		snprintf(buf, len, "%s+0x%" PRIx64, f->module, f->module_offset);
	else
		snprintf(buf, len, "0x%" PRIx64, f->pc);
}

bool lw_stack_site(struct lw_model *m, uint32_t proc, uint32_t stack_id, struct lw_sym_frame *out)
{
	const struct lw_stack *st = lw_model_stack(m, proc, stack_id);
	struct lw_symbolizer *s;

	if (!st || st->depth == 0)
		return false;
	s = lw_model_symbolizer(m, proc);
	for (uint32_t i = 0; i < st->depth; i++) {
		lw_symbolize_pc(s, st->pc[i], true, out);
		if (!lw_frame_is_libc_sync(out))
			return true;
	}
	lw_symbolize_pc(s, st->pc[0], true, out);
	return true;
}

/* Returns the class index for key, adding it with name and lock if new. */
static uint32_t class_for(struct lw_model *m, const char *key, const char *name, uint32_t lock)
{
	uint64_t h = lw_fnv1a(LW_FNV_INIT, key, strlen(key));
	uint32_t i;

	for (uint64_t probe = 0;; probe++) {
		if (!lw_map_get(&m->class_ids, h, probe, &i))
			break;
		if (strcmp(m->classes.v[i].key, key) == 0)
			return i;
	}
	i = (uint32_t)m->classes.n;
	for (uint64_t probe = 0;; probe++) {
		uint32_t dummy;

		if (!lw_map_get(&m->class_ids, h, probe, &dummy)) {
			lw_map_put(&m->class_ids, h, probe, i);
			break;
		}
	}
	lw_vec_push(&m->classes, ((struct lw_class){ lw_xstrdup(key), lw_xstrdup(name), lock }));
	return i;
}

/* For a lock made by a library's wrapper (CRYPTO_THREAD_lock_new, PyThread_allocate_lock:
 * its init site f is in a shared object, not the program), into out: the first frame of the
 * init stack outside that object, the wrapper's caller.  False for the program's own init
 * sites, and when the stack never leaves the object. */
static bool wrapper_caller(struct lw_model *m, const struct lw_lock *l,
			   const struct lw_sym_frame *f, struct lw_sym_frame *out)
{
	const struct lw_stack *st = lw_model_stack(m, l->proc, l->init_stack);
	const char *exe = m->procs.v[l->proc].hdr.exe, *base = strrchr(exe, '/');
	struct lw_symbolizer *s = lw_model_symbolizer(m, l->proc);
	bool past = false;

	if (!st || !f->module || strcmp(f->module, base ? base + 1 : exe) == 0)
		return false;
	for (uint32_t i = 0; i < st->depth; i++) {
		if (!past) {
			past = st->pc[i] == f->pc;
			continue;
		}
		lw_symbolize_pc(s, st->pc[i], true, out);
		if (!out->module || strcmp(out->module, f->module) != 0)
			return true;
	}
	return false;
}

static void name_lock(struct lw_model *m, uint32_t li)
{
	struct lw_lock *l = &m->locks.v[li];
	struct lw_symbolizer *s = lw_model_symbolizer(m, l->proc);
	const char *kind = lw_lock_kind_name(l->kind);
	const char *sym, *mod;
	char buf[1024], where[400];
	struct lw_sym_frame f;
	char *key;

	if (l->has_init && (l->flags & LW_LOCKF_SHARED_MAP)) {
		/* A process-shared lock in shared memory: the mapped object and offset name it in
		 * every process, at whatever address each maps it (issue 18). */
		if (lw_stack_site(m, l->proc, l->init_stack, &f)) {
			lw_frame_format(&f, where, sizeof(where));
			snprintf(buf, sizeof(buf), "process-shared %s %s at %s", kind,
				 (l->flags & LW_LOCKF_STATIC) ? "first used" : "initialised", where);
		} else {
			snprintf(buf, sizeof(buf), "process-shared %s 0x%" PRIx64, kind, l->addr);
			l->name_has_addr = true;
		}
		l->name = lw_xstrdup(buf);
		key = lw_xasprintf("m\x1f%" PRIx64 "\x1f%" PRIu64 "\x1f%" PRIx64, l->shared.dev,
				   l->shared.ino, l->shared.offset);
		l->cls = class_for(m, key, buf, li);
		free(key);
		return;
	}
	if (lw_symbolize_data_ex(s, l->addr, true, buf, sizeof(buf), &sym, &mod)) {
		l->name = lw_xstrdup(buf);
		l->global = true;
		key = lw_xasprintf("g\x1f%s\x1f%s", mod, sym);
		l->cls = class_for(m, key, sym, li);
		free(key);
		return;
	}
	if (l->has_init && lw_stack_site(m, l->proc, l->init_stack, &f)) {
		struct lw_sym_frame caller;
		char from[400];

		lw_frame_format(&f, where, sizeof(where));
		if (f.module)
			key = lw_xasprintf("s\x1f%s\x1f%" PRIx64, f.module, f.module_offset);
		else
			key = lw_xasprintf("s\x1f%" PRIu32 "\x1f%" PRIx64, l->proc, f.pc);
		/* A library's lock wrapper is not one class for every lock made through it:
		 * its caller is part of the class. */
		if (wrapper_caller(m, l, &f, &caller)) {
			char *k = caller.module
					  ? lw_xasprintf("%s\x1f%s\x1f%" PRIx64, key, caller.module,
							 caller.module_offset)
					  : lw_xasprintf("%s\x1f\x1f%" PRIx64, key, caller.pc);
			free(key);
			key = k;
			lw_frame_format(&caller, from, sizeof(from));
			snprintf(buf, sizeof(buf), "%s %s at %s from %s", kind,
				 (l->flags & LW_LOCKF_STATIC) ? "first used" : "initialised", where,
				 from);
		} else {
			snprintf(buf, sizeof(buf), "%s %s at %s", kind,
				 (l->flags & LW_LOCKF_STATIC) ? "first used" : "initialised", where);
		}
		l->name = lw_xstrdup(buf);
		l->cls = class_for(m, key, buf, li);
		free(key);
		return;
	}
	snprintf(buf, sizeof(buf), "%s 0x%" PRIx64, kind, l->addr);
	l->name = lw_xstrdup(buf);
	l->name_has_addr = true;
	key = lw_xasprintf("i\x1f%" PRIu32 "\x1f%" PRIx64 "\x1f%" PRIu32, l->proc, l->addr, l->gen);
	l->cls = class_for(m, key, buf, li);
	free(key);
}

void lw_name_locks(struct lw_model *m)
{
	for (size_t i = 0; i < m->locks.n; i++)
		if (!m->locks.v[i].name)
			name_lock(m, (uint32_t)i);
}
