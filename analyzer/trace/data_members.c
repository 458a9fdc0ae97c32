/* Names a byte inside a global variable after its DWARF type: the member and the array
 * elements that hold it ("config" + 72 -> ".values[5]", "accounts" + 48 -> "[1].lock"). */
#include "trace/data_members.h"
#include "base/util.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A variable with a static address: where it is (the module's addresses) and its type. */
struct var_ent {
	uint64_t  addr;
	Dwarf_Off type;              /* the type DIE's offset in its file's .debug_info */
	const char *name;            /* its DW_AT_name, NULL if none (the Dwarf's strings) */
	const char *func;            /* the function it is a static of, or NULL */
};

typedef LW_VEC(struct var_ent) var_vec;

struct lw_data_members {
	Dwarf            *dw;
	Dwarf_Addr        bias;
	var_vec           vars;      /* sorted by address */
};

/* How deep the walk goes: scopes holding variables (namespaces, functions, blocks), and
 * types inside types.  A damaged file's loops end there. */
#define LW_SCOPE_DEPTH 16
#define LW_TYPE_DEPTH  32

/* The variable DIE's address (from a location of one DW_OP_addr, or DWARF 5's DW_OP_addrx,
 * an index into .debug_addr, which clang emits), or false. */
static bool var_addr(Dwarf_Die *die, Dwarf_Addr *addr)
{
	Dwarf_Attribute a, indexed;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr(die, DW_AT_location, &a) || dwarf_getlocation(&a, &ops, &n) != 0 || n != 1)
		return false;
	if (ops[0].atom == DW_OP_addr) {
		*addr = ops[0].number;
		return true;
	}
	return (ops[0].atom == DW_OP_addrx || ops[0].atom == DW_OP_GNU_addr_index) &&
	       dwarf_getlocation_attr(&a, &ops[0], &indexed) == 0 &&
	       dwarf_formaddr(&indexed, addr) == 0;
}

/* The DIE that die's DW_AT_type names (through its declaration, for a C++ static member's
 * definition), or false. */
static bool type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, type);
}

/* func: the function whose body scope is in, or NULL. */
static void collect(struct lw_data_members *dm, Dwarf_Die *scope, int depth, const char *func,
		    var_vec *out)
{
	Dwarf_Die d;

	if (depth > LW_SCOPE_DEPTH || dwarf_child(scope, &d) != 0)
		return;
	do {
		Dwarf_Addr addr;
		Dwarf_Die type;

		switch (dwarf_tag(&d)) {
		case DW_TAG_variable:
			if (var_addr(&d, &addr) && type_of(&d, &type))
				lw_vec_push(out, ((struct var_ent){ addr + dm->bias,
								    dwarf_dieoffset(&type),
								    dwarf_diename(&d), func }));
			break;
		case DW_TAG_subprogram:
			collect(dm, &d, depth + 1, dwarf_diename(&d), out);
			break;
		case DW_TAG_lexical_block:
			collect(dm, &d, depth + 1, func, out);
			break;
		case DW_TAG_namespace:
			collect(dm, &d, depth + 1, NULL, out);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&d, &d) == 0);
}

static int var_cmp(const void *a, const void *b)
{
	const struct var_ent *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct lw_data_members *lw_data_members_new(Dwfl_Module *mod)
{
	struct lw_data_members *dm = lw_xcalloc(1, sizeof(*dm));
	Dwarf_Off off = 0, next;
	size_t hsize;

	dm->dw = mod ? dwfl_module_getdwarf(mod, &dm->bias) : NULL;
	if (!dm->dw)
		return dm;
	while (dwarf_nextcu(dm->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;

		if (dwarf_offdie(dm->dw, off + hsize, &cu))
			collect(dm, &cu, 0, NULL, &dm->vars);
		off = next;
	}
	if (dm->vars.n)
		qsort(dm->vars.v, dm->vars.n, sizeof(dm->vars.v[0]), var_cmp);
	return dm;
}

void lw_data_members_free(struct lw_data_members *dm)
{
	if (!dm)
		return;
	free(dm->vars.v);
	free(dm);
}

/* Appends the formatted text to buf (of len bytes, NUL-terminated at *used); false once it
 * does not fit. */
static bool append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return false;
	*used += (size_t)n;
	return true;
}

/* The member of a struct, class or union type that holds the byte off bytes into it: its
 * DIE, name (NULL for an anonymous one) and offset.  False when none does. */
static bool member_at(Dwarf_Die *type, uint64_t off, Dwarf_Die *member, Dwarf_Die *mtype,
		      uint64_t *moff)
{
	Dwarf_Die d;

	if (dwarf_child(type, &d) != 0)
		return false;
	do {
		Dwarf_Attribute a;
		Dwarf_Word at = 0, size;

		/* A bit field shares its bytes with its neighbours: not named. */
		if ((dwarf_tag(&d) != DW_TAG_member && dwarf_tag(&d) != DW_TAG_inheritance) ||
		    dwarf_hasattr(&d, DW_AT_bit_size))
			continue;
		/* A union's members have no location: they all start at 0. */
		if (dwarf_attr(&d, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &at) != 0)
			continue;
		if (!type_of(&d, mtype) || dwarf_aggregate_size(mtype, &size) != 0)
			continue;
		if (off >= at && off - at < size) {
			*member = d;
			*moff = at;
			return true;
		}
	} while (dwarf_siblingof(&d, &d) == 0);
	return false;
}

/* The element type and dimensions of an array type (n_dims at most max; 0 for an unknown
 * bound, which only the first may have).  False for an array it cannot lay out. */
static bool array_layout(Dwarf_Die *type, Dwarf_Die *elem, uint64_t *dims, int *n_dims,
			 int max)
{
	Dwarf_Die d;

	*n_dims = 0;
	if (!type_of(type, elem) || dwarf_child(type, &d) != 0)
		return false;
	do {
		Dwarf_Attribute a;
		Dwarf_Word count = 0, upper;

		if (dwarf_tag(&d) != DW_TAG_subrange_type)
			continue;
		if (*n_dims == max)
			return false;
		if (!dwarf_attr(&d, DW_AT_count, &a) || dwarf_formudata(&a, &count) != 0)
			count = dwarf_attr(&d, DW_AT_upper_bound, &a) &&
						dwarf_formudata(&a, &upper) == 0 &&
						upper != (Dwarf_Word)-1
					? upper + 1
					: 0;
		if (count == 0 && *n_dims > 0)
			return false;
		dims[(*n_dims)++] = count;
	} while (dwarf_siblingof(&d, &d) == 0);
	return *n_dims > 0;
}

/* The variable at var_addr, or NULL. */
static const struct var_ent *var_at(const struct lw_data_members *dm, uint64_t var_addr)
{
	size_t lo = 0, hi;

	if (!dm || !dm->vars.n)
		return NULL;
	hi = dm->vars.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dm->vars.v[mid].addr < var_addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < dm->vars.n && dm->vars.v[lo].addr == var_addr ? &dm->vars.v[lo] : NULL;
}

bool lw_data_static_name(struct lw_data_members *dm, uint64_t var_addr, char *buf, size_t len)
{
	const struct var_ent *v = var_at(dm, var_addr);

	if (!v || !v->func || !v->name || len == 0)
		return false;
	int n = snprintf(buf, len, "%s::%s", v->func, v->name);
	return n > 0 && (size_t)n < len;
}

/* Whether a class is C++'s std::atomic (or its base): its accesses are atomic operations. */
static bool atomic_class(Dwarf_Die *type)
{
	const char *name = dwarf_diename(type);

	return name && (strncmp(name, "atomic<", 7) == 0 || strncmp(name, "__atomic_base<", 14) == 0 ||
			strncmp(name, "__atomic_float<", 15) == 0 || strcmp(name, "atomic_flag") == 0 ||
			strcmp(name, "__atomic_flag_base") == 0);
}

/* Walks the type of the variable at var_addr down to the byte off bytes into it: appends the
 * path to buf (when buf is not NULL) and sets *atomic (when not NULL) to whether an atomic
 * type holds that byte.  Returns false when the module has no type for a variable there, or
 * buf is too small. */
static bool walk(struct lw_data_members *dm, uint64_t var_addr, uint64_t off, char *buf,
		 size_t len, enum lw_data_atomicity *atomic)
{
	size_t used = 0;
	Dwarf_Die type;
	const struct var_ent *v = var_at(dm, var_addr);
	enum lw_data_atomicity scratch;

	if (!atomic)
		atomic = &scratch;
	*atomic = LW_DATA_ATOMIC_UNKNOWN;
	if (!v || (buf && len == 0) || !dwarf_offdie(dm->dw, v->type, &type))
		return false;
	if (buf)
		buf[0] = '\0';
	for (int depth = 0; depth < LW_TYPE_DEPTH; depth++) {
		Dwarf_Die next, member;
		uint64_t at;

		switch (dwarf_tag(&type)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (dwarf_tag(&type) == DW_TAG_atomic_type) {
				*atomic = LW_DATA_ATOMIC;
				goto done;
			}
			if (!type_of(&type, &next))
				goto done;
			type = next;
			continue;
		case DW_TAG_union_type:
			/* At the start of a union (a pthread_mutex_t), every member is there:
			 * the union it is. */
			if (off == 0)
				goto done;
			/* fall through */
		case DW_TAG_structure_type:
		case DW_TAG_class_type: {
			if (atomic_class(&type)) {
				*atomic = LW_DATA_ATOMIC;
				goto done;
			}
			if (!member_at(&type, off, &member, &next, &at))
				goto done;
			const char *name = dwarf_diename(&member);
			/* A base class or an anonymous struct or union adds no name. */
			if (buf && dwarf_tag(&member) == DW_TAG_member && name &&
			    !append(buf, len, &used, ".%s", name))
				return false;
			off -= at;
			type = next;
			continue;
		}
		case DW_TAG_array_type: {
			uint64_t dims[8], stride;
			Dwarf_Word esize;
			int n_dims;

			if (!array_layout(&type, &next, dims, &n_dims, 8) ||
			    dwarf_aggregate_size(&next, &esize) != 0 || esize == 0)
				goto done;
			for (int k = 0; k < n_dims; k++) {
				stride = esize;
				/* A damaged file's bounds may overflow the stride. */
				for (int j = k + 1; j < n_dims; j++)
					if (__builtin_mul_overflow(stride, dims[j], &stride))
						goto done;
				if (buf && !append(buf, len, &used, "[%" PRIu64 "]", off / stride))
					return false;
				off %= stride;
			}
			type = next;
			continue;
		}
		case DW_TAG_base_type:
		case DW_TAG_pointer_type:
		case DW_TAG_enumeration_type:
			*atomic = LW_DATA_NOT_ATOMIC;
			goto done;
		default:
			goto done;
		}
	}
done:
	if (!buf)
		return true;
	if (off && !append(buf, len, &used, "+%" PRIu64, off))
		return false;
	return used > 0;
}

bool lw_data_member(struct lw_data_members *dm, uint64_t var_addr, uint64_t off, char *buf,
		    size_t len)
{
	return walk(dm, var_addr, off, buf, len, NULL);
}

enum lw_data_atomicity lw_data_atomic(struct lw_data_members *dm, uint64_t var_addr,
				      uint64_t off)
{
	enum lw_data_atomicity a;

	walk(dm, var_addr, off, NULL, 0, &a);
	return a;
}

/* Whether type holds an atomic object anywhere (itself, a member, an element), depth
 * bounded. */
static bool type_has_atomic(Dwarf_Die *type, int depth)
{
	Dwarf_Die next, d;

	if (depth > LW_TYPE_DEPTH)
		return false;
	switch (dwarf_tag(type)) {
	case DW_TAG_atomic_type:
		return true;
	case DW_TAG_typedef:
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_array_type:
		return type_of(type, &next) && type_has_atomic(&next, depth + 1);
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
		if (atomic_class(type))
			return true;
		if (dwarf_child(type, &d) != 0)
			return false;
		do {
			if ((dwarf_tag(&d) == DW_TAG_member || dwarf_tag(&d) == DW_TAG_inheritance) &&
			    type_of(&d, &next) && type_has_atomic(&next, depth + 1))
				return true;
		} while (dwarf_siblingof(&d, &d) == 0);
		return false;
	default:
		return false;
	}
}

bool lw_data_any_atomic(struct lw_data_members *dm, char *name, size_t len)
{
	if (!dm)
		return false;
	for (size_t i = 0; i < dm->vars.n; i++) {
		Dwarf_Die type;

		if (!dwarf_offdie(dm->dw, dm->vars.v[i].type, &type) || !type_has_atomic(&type, 0))
			continue;
		snprintf(name, len, "%s", dm->vars.v[i].name ? dm->vars.v[i].name : "?");
		return true;
	}
	return false;
}
