/* Stable finding fingerprints: names and functions only, hashed with FNV-1a. */
#include "report/fingerprint.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Drops what moves when unrelated code changes: "(file:line)" groups, "[0x...]" and other hex
 * numbers, and, when strip_digits, every digit (thread numbers in messages).
 * "mutex initialised at make_account (bank.c:12) [0x5581]" -> "mutex initialised at
 * make_account".  Returns a malloc'd string.
 */
static char *normalize(const char *s, bool strip_digits)
{
	char *out = lw_xmalloc(strlen(s) + 1);
	size_t n = 0;
	int depth = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '(' || *p == '[') {
			depth++;
			continue;
		}
		if ((*p == ')' || *p == ']') && depth > 0) {
			depth--;
			continue;
		}
		if (depth)
			continue;
		if (p[0] == '0' && p[1] == 'x' && isxdigit((unsigned char)p[2])) {
			p += 2;
			while (isxdigit((unsigned char)p[1]))
				p++;
			continue;
		}
		if (strip_digits && isdigit((unsigned char)*p))
			continue;
		out[n++] = *p;
	}
	while (n && (out[n - 1] == ' ' || out[n - 1] == '+'))
		n--;
	out[n] = '\0';
	return out;
}

/* The function at the top of a stack, or its module, or "?". */
static const char *top_function(const struct lw_fstack *st)
{
	for (size_t i = 0; i < st->n; i++) {
		if (st->frames[i].function)
			return st->frames[i].function;
		if (st->frames[i].module)
			return st->frames[i].module;
	}
	return "?";
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef LW_VEC(char *) strvec;

/* Hashes the sorted, deduplicated strings of v (and frees them), each followed by '\n'. */
static uint64_t hash_set(uint64_t h, strvec *v)
{
	if (v->n)
		qsort(v->v, v->n, sizeof(v->v[0]), str_cmp);
	for (size_t i = 0; i < v->n; i++) {
		if (i == 0 || strcmp(v->v[i], v->v[i - 1]) != 0) {
			h = lw_fnv1a(h, v->v[i], strlen(v->v[i]));
			h = lw_fnv1a(h, "\n", 1);
		}
	}
	/* Freed only now: each string is compared with the one before it. */
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
	return lw_fnv1a(h, "\x1e", 1);
}

void lw_finding_fingerprint(const struct lw_finding *f, char out[LW_FINGERPRINT_LEN])
{
	const char *kind = lw_finding_kind_name(f->kind);
	uint64_t h = lw_fnv1a(LW_FNV_INIT, "lockwatch-fp-1\n", 15);
	strvec set = { 0 };

	h = lw_fnv1a(h, kind, strlen(kind));
	h = lw_fnv1a(h, "\x1e", 1);
	for (size_t i = 0; i < f->locks.n; i++)
		lw_vec_push(&set, normalize(f->locks.v[i].name, false));
	h = hash_set(h, &set);
	/* A cycle is its edges, whatever edge the report starts from. */
	for (size_t i = 0; i < f->edges.n; i++) {
		const struct lw_fedge *e = &f->edges.v[i];
		char *from = normalize(f->locks.v[e->from].name, false);
		char *to = normalize(f->locks.v[e->to].name, false);

		lw_vec_push(&set, lw_xasprintf("%s>%s@%s<%s", from, to, top_function(&e->to_stack),
					       top_function(&e->from_stack)));
		free(from);
		free(to);
	}
	h = hash_set(h, &set);
	for (size_t i = 0; i < f->threads.n; i++) {
		const struct lw_fthread *t = &f->threads.v[i];

		if (t->stack.n)
			lw_vec_push(&set, lw_xasprintf("%s@%s", t->role ? t->role : "",
						       top_function(&t->stack)));
		for (size_t k = 0; k < t->n_held; k++)
			lw_vec_push(&set, lw_xasprintf("held@%s", top_function(&t->held[k].stack)));
		if (t->waiting_for)
			lw_vec_push(&set, normalize(t->waiting_for, false));
	}
	h = hash_set(h, &set);
	/* Races and atomicity violations: the variable (or file), and who accessed it where. */
	if (f->variable.name)
		lw_vec_push(&set, lw_xasprintf("var:%s", f->variable.name));
	if (f->path)
		lw_vec_push(&set, lw_xasprintf("path:%s", f->path));
	for (size_t i = 0; i < f->accesses.n; i++) {
		const struct lw_faccess *a = &f->accesses.v[i];

		lw_vec_push(&set, lw_xasprintf("%s:%s@%s", a->role ? a->role : "",
					       a->write ? "w" : "r", top_function(&a->stack)));
	}
	for (size_t i = 0; i < set.n; i++) {
		/* Paths and addresses carry pids and numbers that change from run to run. */
		char *norm = normalize(set.v[i], true);

		free(set.v[i]);
		set.v[i] = norm;
	}
	h = hash_set(h, &set);
	/* Issue 21: the digits of a variable's name tell variables apart (g1 and g2, a heap
	 * block's offset 8 and offset 16), where those of the rest are thread numbers and pids.
	 * Elements of one array stay one variable (normalize drops "[2]"), and a name without
	 * digits hashes as before, so that its fingerprint stays what a baseline holds. */
	if (f->variable.name) {
		char *var = normalize(f->variable.name, false);

		if (strpbrk(var, "0123456789")) {
			h = lw_fnv1a(h, "var#", 4);
			h = lw_fnv1a(h, var, strlen(var));
		}
		free(var);
	}
	/* A cycle's message is its chain of locks, already hashed; other kinds say in it what
	 * went wrong (which misuse, which access), with numbers dropped. */
	if (f->kind != LW_FIND_LOCK_ORDER_CYCLE && f->message) {
		char *msg = normalize(f->message, true);

		h = lw_fnv1a(h, msg, strlen(msg));
		free(msg);
	}
	snprintf(out, LW_FINGERPRINT_LEN, "%016" PRIx64, h);
}
