/* x86-64 instruction decoding for the access sources, with Zydis: how a trapped instruction
 * touched watched memory (backwards from the address after it, for data breakpoints), the
 * memory operand of the instruction about to run (forwards, for execute breakpoints), and
 * which instructions of the program's code are worth sampling (collider.c).
 *
 * Async-signal-safe.  Zydis' decoder is (checked for libzydis 4.0.0 of Debian 12): its
 * shared object imports no allocator (only memcpy, memset, strlen, __stack_chk_fail and
 * __assert_fail, the last for its internal invariants, not for any input), its only
 * writable data are the 16 bytes of the C run-time's .data and .bss (readelf -S), and
 * ZydisDecoderDecodeFull, ZydisCalcAbsoluteAddressEx and the register queries work on the
 * caller's structures alone: a ZydisDecoder here is built on the stack for each call.  We
 * read code bytes only inside known executable segments (lw_decode_add_text), or inside
 * the page of the instruction, and registers from the trapped thread's ucontext. */
#include <errno.h>
#include <string.h>
#include <ucontext.h>
#include <Zydis/Zydis.h>
#include "access/watch.h"
#include "access/decode.h"

#define LW_TEXT_MAX 256

static struct { uintptr_t lo, hi; } text[LW_TEXT_MAX];
static int n_text;                   /* atomic */

void lw_decode_add_text(uintptr_t lo, uintptr_t hi)
{
	int n = __atomic_load_n(&n_text, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (text[i].lo == lo && text[i].hi == hi)
			return;              /* the collider and watch= both tell */
	if (n == LW_TEXT_MAX)
		return;
	text[n].lo = lo;
	text[n].hi = hi;
	__atomic_store_n(&n_text, n + 1, __ATOMIC_RELEASE);
}

/* The executable segment holding address a: *lo and *hi, or its page when none is known. */
static void code_bounds(uintptr_t a, uintptr_t *lo, uintptr_t *hi)
{
	int n = __atomic_load_n(&n_text, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (a >= text[i].lo && a < text[i].hi) {
			*lo = text[i].lo;
			*hi = text[i].hi;
			return;
		}
	*lo = a & ~(uintptr_t)4095;
	*hi = *lo + 4096;
}

/* greg index of each general register by its encoding number. */
static const int greg_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* Puts general register r's value (at its width) into ctx.  Returns false for a register
 * that is not a general-purpose one. */
static bool load_reg(ZydisRegisterContext *ctx, ZydisRegister r, const long long *gregs)
{
	if (r == ZYDIS_REGISTER_NONE)
		return true;
	ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	if (full < ZYDIS_REGISTER_RAX || full > ZYDIS_REGISTER_R15)
		return false;
	uint64_t v = (uint64_t)gregs[greg_of[full - ZYDIS_REGISTER_RAX]];
	unsigned width = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
	if (width < 64)
		v &= (1ull << width) - 1;
	ctx->values[r] = v;
	return true;
}

/* The effective address of memory operand op of in, which starts at ip.  Returns false when
 * it cannot be had from the registers (fs/gs, vector index, an unknown register). */
static bool operand_address(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op,
			    uintptr_t ip, const long long *gregs, uintptr_t *ea)
{
	if (op->mem.segment == ZYDIS_REGISTER_FS || op->mem.segment == ZYDIS_REGISTER_GS)
		return false;        /* thread-local: the base is not in the registers */
	if (op->mem.type != ZYDIS_MEMOP_TYPE_MEM)
		return false;        /* lea, bound tables, gathers: not one plain address */
	/* Only the base and index entries are read (Utils.c): the rest stays unset. */
	ZydisRegisterContext ctx;
	if (op->mem.base != ZYDIS_REGISTER_RIP && op->mem.base != ZYDIS_REGISTER_EIP &&
	    !load_reg(&ctx, op->mem.base, gregs))
		return false;
	if (!load_reg(&ctx, op->mem.index, gregs))
		return false;
	ZyanU64 a;
	if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(in, op, ip, &ctx, &a)))
		return false;
	*ea = (uintptr_t)a;
	return true;
}

/* LW_ACCESS_* of memory operand op of in. */
static unsigned operand_how(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op)
{
	unsigned how = 0;
	if (op->actions & ZYDIS_OPERAND_ACTION_MASK_READ)
		how |= LW_ACCESS_READ;
	if (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)
		how |= LW_ACCESS_WRITE;
	/* LOCK, and xchg with memory, which is always locked. */
	if ((in->attributes & ZYDIS_ATTRIB_HAS_LOCK) || in->mnemonic == ZYDIS_MNEMONIC_XCHG)
		how |= LW_ACCESS_ATOMIC;
	return how;
}

static bool decode_at(const uint8_t *p, size_t len, ZydisDecodedInstruction *in,
		      ZydisDecodedOperand *ops)
{
	ZydisDecoder d;
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return false;
	return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, p, len, in, ops));
}

/* A data breakpoint stops the thread just after the instruction, and x86 instructions have
 * no fixed length, so every start from pc-15 to pc-1 is tried: a candidate counts when it
 * decodes to an instruction that ends exactly at pc and whose memory operand, computed from
 * the registers, overlaps the watched bytes.  Of several, the longest wins (it carries the
 * prefixes, LOCK among them).  A register that the instruction itself overwrote makes the
 * address check fail: then the one candidate that overwrote its own address register and is
 * at least as wide as the watched bytes is taken; otherwise 0 lets the caller fall back on
 * comparing values. */
/* Whether in overwrote a register its memory operand op computes its address from (mov
 * (%rax),%eax): the registers after it no longer give the address. */
static bool address_clobbered(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
			      const ZydisDecodedOperand *op)
{
	ZydisRegister base = op->mem.base == ZYDIS_REGISTER_NONE ? ZYDIS_REGISTER_NONE
		: ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, op->mem.base);
	ZydisRegister index = op->mem.index == ZYDIS_REGISTER_NONE ? ZYDIS_REGISTER_NONE
		: ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, op->mem.index);
	for (int i = 0; i < in->operand_count; i++) {
		if (ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER ||
		    !(ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		ZydisRegister r = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64,
								   ops[i].reg.value);
		if (r != ZYDIS_REGISTER_NONE && (r == base || r == index))
			return true;
	}
	return false;
}

unsigned lw_decode_access(uintptr_t pc, const long long *gregs, uintptr_t lo, uintptr_t hi,
			  uintptr_t *at, unsigned *len)
{
	uintptr_t floor, ceil;
	code_bounds(pc - 1, &floor, &ceil);
	unsigned best = 0;
	/* Issue 20: the one candidate whose address its own result overwrote, as wide as the
	 * watched bytes at least: the hardware says it touched them, and no narrower access can
	 * be mistaken for one of a neighbour's bytes. */
	unsigned clobbered = 0;
	int n_clobbered = 0;
	for (int k = 1; k <= ZYDIS_MAX_INSTRUCTION_LENGTH; k++) {
		uintptr_t s = pc - (uintptr_t)k;
		if (s < floor)
			break;
		ZydisDecodedInstruction in;
		ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
		/* A buffer of exactly k bytes: an instruction longer than that fails. */
		if (!decode_at((const uint8_t *)s, (size_t)k, &in, ops) || in.length != k)
			continue;
		for (int i = 0; i < in.operand_count; i++) {
			const ZydisDecodedOperand *op = &ops[i];
			uintptr_t ea;
			if (op->type != ZYDIS_OPERAND_TYPE_MEMORY ||
			    !operand_address(&in, op, s, gregs, &ea))
				continue;
			uintptr_t size = op->size ? op->size / 8 : 1;
			if (!(ea < hi && ea + size > lo)) {
				unsigned how = operand_how(&in, op);
				if (size >= hi - lo && address_clobbered(&in, ops, op) &&
				    (how & (LW_ACCESS_READ | LW_ACCESS_WRITE))) {
					clobbered = how;
					n_clobbered++;
				}
				continue;
			}
			unsigned how = operand_how(&in, op);
			if (how & (LW_ACCESS_READ | LW_ACCESS_WRITE)) {
				best = how;  /* longer candidates come later and win */
				*at = ea > lo ? ea : lo;
				*len = (unsigned)((ea + size < hi ? ea + size : hi) - *at);
				break;
			}
		}
	}
	if (best || n_clobbered != 1)
		return best;
	*at = lo;                    /* it covers them all */
	*len = (unsigned)(hi - lo);
	return clobbered;
}

int lw_decode_operand(uintptr_t ip, const long long *gregs, struct lw_operand *out)
{
	uintptr_t lo, hi;
	code_bounds(ip, &lo, &hi);
	size_t avail = hi - ip < ZYDIS_MAX_INSTRUCTION_LENGTH ? hi - ip
							      : ZYDIS_MAX_INSTRUCTION_LENGTH;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	if (!decode_at((const uint8_t *)ip, avail, &in, ops))
		return -EINVAL;
	for (int i = 0; i < in.operand_count_visible; i++) {
		const ZydisDecodedOperand *op = &ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY ||
		    op->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
			continue;
		uintptr_t ea;
		if (!operand_address(&in, op, ip, gregs, &ea))
			return -ENOENT;
		out->addr = ea;
		out->size = op->size ? op->size / 8 : 1;
		out->how = operand_how(&in, op);
		out->len = in.length;
		return 0;
	}
	return -ENOENT;
}

/* Whether an instruction may have an explicit memory operand: a ModRM byte that names
 * memory, or mov's moffs forms (A0-A3), the only ones without.  The scan decodes the
 * operands of these alone (the rest, most of the code, costs a third as much). */
static bool may_touch_memory(const ZydisDecodedInstruction *in)
{
	if ((in->attributes & ZYDIS_ATTRIB_HAS_MODRM) && in->raw.modrm.mod != 3)
		return true;
	return in->mnemonic == ZYDIS_MNEMONIC_MOV && in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
	       in->opcode >= 0xa0 && in->opcode <= 0xa3;
}

size_t lw_decode_scan(const uint8_t *code, size_t avail, uintptr_t ip, struct lw_scan_insn *out)
{
	static ZydisDecoder d;       /* the scan runs in one thread, the sampler */
	static bool ready;
	ZydisDecoderContext ctx;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	memset(out, 0, sizeof *out);
	if (!ready) {
		if (!ZYAN_SUCCESS(ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64,
						   ZYDIS_STACK_WIDTH_64)))
			return 0;
		ready = true;
	}
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&d, &ctx, code, avail, &in)))
		return 0;
	size_t len = in.length;
	if (!may_touch_memory(&in))
		return len;
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeOperands(&d, &ctx, &in, ops, ZYDIS_MAX_OPERAND_COUNT)))
		return len;
	switch (in.meta.category) {
	case ZYDIS_CATEGORY_NOP:
	case ZYDIS_CATEGORY_WIDENOP:
		return len;
	default:
		break;
	}
	if ((in.attributes & ZYDIS_ATTRIB_HAS_LOCK) || in.mnemonic == ZYDIS_MNEMONIC_XCHG) {
		/* An atomic read-modify-write of a global: the caller learns that the global
		 * is used atomically (its plain moves are atomic loads and stores). */
		for (int i = 0; i < in.operand_count_visible; i++) {
			ZyanU64 a;
			if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
			    ops[i].mem.base == ZYDIS_REGISTER_RIP &&
			    ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &ops[i], ip, &a))) {
				out->atomic_target = (uintptr_t)a;
				out->atomic_size = ops[i].size / 8 ? ops[i].size / 8 : 1;
			}
		}
		return len;
	}
	if (in.mnemonic == ZYDIS_MNEMONIC_LEA || in.meta.category == ZYDIS_CATEGORY_PREFETCH)
		return len;
	/* An indirect jump or call reads a code pointer: the PLT's, whose GOT slot the
	 * dynamic loader fills in lazily while other threads jump through it. */
	if (in.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE)
		return len;
	for (int i = 0; i < in.operand_count_visible; i++) {
		const ZydisDecodedOperand *op = &ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY ||
		    op->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT ||
		    op->mem.type != ZYDIS_MEMOP_TYPE_MEM)
			continue;
		if (op->mem.segment == ZYDIS_REGISTER_FS || op->mem.segment == ZYDIS_REGISTER_GS)
			return len;  /* thread-local */
		ZydisRegister b = op->mem.base;
		if (b == ZYDIS_REGISTER_RSP || b == ZYDIS_REGISTER_ESP)
			return len;  /* the thread's own stack, mostly */
		/* rbp is the frame pointer, whose locals lie below it, or, in optimised code, a
		 * register like any other (0x0(%rbp): a heap block's first field). */
		if ((b == ZYDIS_REGISTER_RBP || b == ZYDIS_REGISTER_EBP) && op->mem.disp.value < 0)
			return len;
		if (!(op->actions & (ZYDIS_OPERAND_ACTION_MASK_READ | ZYDIS_OPERAND_ACTION_MASK_WRITE)))
			return len;
		if (b == ZYDIS_REGISTER_RIP) {
			ZyanU64 a;
			if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, op, ip, &a)))
				return len;
			out->target = (uintptr_t)a;
		}
		out->candidate = true;
		out->write = (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
		return len;
	}
	return len;
}
