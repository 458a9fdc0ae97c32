/* Tells how a trapped x86-64 instruction touched watched memory (read, write, both, atomic)
 * by decoding it backwards from the address after it.  Async-signal-safe: it only reads
 * code bytes inside known executable segments and the trapped thread's registers.
 *
 * A data breakpoint stops the thread just after the instruction, and x86 instructions have
 * no fixed length, so every start from pc-15 to pc-1 is tried: a candidate counts when it
 * decodes to an instruction that ends exactly at pc and whose memory operand, computed from
 * the registers, overlaps the watched bytes.  Of several, the longest wins (it carries the
 * prefixes, LOCK among them).  Only the common general-purpose and SSE forms are known;
 * anything else returns 0 and the caller falls back on comparing values.  A register that
 * the instruction itself overwrote makes the address check fail, and so the fallback too. */
#include <string.h>
#include <ucontext.h>
#include "access/watch.h"

#define LW_TEXT_MAX 256

static struct { uintptr_t lo, hi; } text[LW_TEXT_MAX];
static int n_text;                   /* atomic */

void lw_decode_add_text(uintptr_t lo, uintptr_t hi)
{
	int n = __atomic_load_n(&n_text, __ATOMIC_ACQUIRE);
	if (n == LW_TEXT_MAX)
		return;
	text[n].lo = lo;
	text[n].hi = hi;
	__atomic_store_n(&n_text, n + 1, __ATOMIC_RELEASE);
}

/* The lowest address from which code before pc may be read. */
static uintptr_t code_floor(uintptr_t pc)
{
	int n = __atomic_load_n(&n_text, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (pc - 1 >= text[i].lo && pc - 1 < text[i].hi)
			return text[i].lo;
	return (pc - 1) & ~(uintptr_t)4095;  /* unknown code: its own page only */
}

/* greg index of each general register number (ModRM/SIB encoding order). */
static const int greg_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

struct insn {
	bool lock, opsize, addr32, seg;
	uint8_t rep;                 /* 0, 0xf2 or 0xf3 */
	uint8_t rex;
	int map;                     /* 1: one byte, 2: 0f, 3: 0f38, 4: 0f3a */
	uint8_t op;
	uint8_t mod, reg, rm;
	bool sib;
	uint8_t scale, index, base;  /* base 0xff: none; index 0xff: none */
	bool riprel;
	int32_t disp;
	uint64_t moffs;              /* A0-A3 */
	bool has_moffs;
};

enum { IMM_NONE, IMM_B, IMM_Z, IMM_W };  /* imm8, imm16/32, imm16 */

/* Immediate after ModRM for the one-byte opcodes that have a memory form. */
static int imm_one(uint8_t op, uint8_t reg)
{
	switch (op) {
	case 0x69: case 0x81: case 0xc7: return IMM_Z;
	case 0x6b: case 0x80: case 0x83: case 0xc0: case 0xc1: case 0xc6: return IMM_B;
	case 0xf6: return reg < 2 ? IMM_B : IMM_NONE;
	case 0xf7: return reg < 2 ? IMM_Z : IMM_NONE;
	default: return IMM_NONE;
	}
}

static bool has_modrm_one(uint8_t op)
{
	if (op < 0x40)
		return (op & 7) < 4 && op != 0x26 && op != 0x2e && op != 0x36 && op != 0x3e;
	switch (op) {
	case 0x63: case 0x69: case 0x6b:
	case 0x80: case 0x81: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
	case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8c: case 0x8e: case 0x8f:
	case 0xc0: case 0xc1: case 0xc6: case 0xc7:
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
	case 0xf6: case 0xf7: case 0xfe: case 0xff:
		return true;
	default:
		return false;
	}
}

static bool has_modrm_0f(uint8_t op)
{
	if ((op >= 0x80 && op <= 0x8f) || (op >= 0xc8 && op <= 0xcf))
		return false;       /* jcc rel32, bswap */
	switch (op) {
	case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0b: case 0x0e:
	case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x37:
	case 0x77: case 0xa0: case 0xa1: case 0xa2: case 0xa8: case 0xa9: case 0xaa:
		return false;
	default:
		return true;
	}
}

static int imm_0f(uint8_t op)
{
	switch (op) {
	case 0x70: case 0x71: case 0x72: case 0x73: case 0xa4: case 0xac: case 0xba:
	case 0xc2: case 0xc4: case 0xc5: case 0xc6:
		return IMM_B;
	default:
		return IMM_NONE;
	}
}

/* Decodes the instruction at p, reading no further than end.  Returns its length, or 0
 * when it is not a known instruction with a memory operand. */
static int decode(const uint8_t *p, const uint8_t *end, struct insn *in)
{
	const uint8_t *s = p;
	memset(in, 0, sizeof *in);
	for (; p < end; p++) {
		uint8_t b = *p;
		if (b == 0xf0)
			in->lock = true;
		else if (b == 0xf2 || b == 0xf3)
			in->rep = b;
		else if (b == 0x66)
			in->opsize = true;
		else if (b == 0x67)
			in->addr32 = true;
		else if (b == 0x64 || b == 0x65)
			in->seg = true;      /* fs/gs: an address we cannot compute */
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e)
			;
		else
			break;
		if (p - s >= 14)
			return 0;
	}
	if (p < end && (*p & 0xf0) == 0x40)
		in->rex = *p++;
	if (p >= end)
		return 0;
	int imm = IMM_NONE;
	in->map = 1;
	in->op = *p++;
	if (in->op == 0x0f) {
		if (p >= end)
			return 0;
		in->op = *p++;
		in->map = 2;
		if (in->op == 0x38 || in->op == 0x3a) {
			in->map = in->op == 0x38 ? 3 : 4;
			if (p >= end)
				return 0;
			in->op = *p++;
		} else if (!has_modrm_0f(in->op)) {
			return 0;
		}
	} else if (in->op >= 0xa0 && in->op <= 0xa3) {
		int n = in->addr32 ? 4 : 8;
		if (end - p < n)
			return 0;
		memcpy(&in->moffs, p, (size_t)n);
		in->has_moffs = true;
		return (int)(p + n - s);
	} else if (!has_modrm_one(in->op) || (in->op & 0xf0) == 0x40) {
		return 0;
	}
	if (p >= end)
		return 0;
	uint8_t modrm = *p++;
	in->mod = modrm >> 6;
	in->reg = (modrm >> 3) & 7;
	in->rm = modrm & 7;
	if (in->mod == 3)
		return 0;                    /* register operand: no memory access */
	in->base = (uint8_t)(in->rm | ((in->rex & 1) << 3));
	in->index = 0xff;
	int disp = in->mod == 1 ? 1 : in->mod == 2 ? 4 : 0;
	if (in->rm == 4) {
		if (p >= end)
			return 0;
		uint8_t sib = *p++;
		in->sib = true;
		in->scale = (uint8_t)(1u << (sib >> 6));
		uint8_t idx = (uint8_t)(((sib >> 3) & 7) | ((in->rex & 2) << 2));
		in->index = idx == 4 ? 0xff : idx;
		in->base = (uint8_t)((sib & 7) | ((in->rex & 1) << 3));
		if ((sib & 7) == 5 && in->mod == 0) {
			in->base = 0xff;
			disp = 4;
		}
	} else if (in->rm == 5 && in->mod == 0) {
		in->riprel = true;
		in->base = 0xff;
		disp = 4;
	}
	if (end - p < disp)
		return 0;
	if (disp == 1)
		in->disp = (int8_t)*p;
	else if (disp == 4)
		memcpy(&in->disp, p, 4);
	p += disp;
	if (in->map == 1)
		imm = imm_one(in->op, in->reg);
	else if (in->map == 2)
		imm = imm_0f(in->op);
	else if (in->map == 4)
		imm = IMM_B;
	int n = imm == IMM_B ? 1 : imm == IMM_W ? 2 : imm == IMM_Z ? (in->opsize ? 2 : 4) : 0;
	if (end - p < n)
		return 0;
	return (int)(p + n - s);
}

/* Whether LOCK is allowed on this instruction (the CPU faults otherwise). */
static bool lockable(const struct insn *in)
{
	if (in->map == 1) {
		if (in->op < 0x40)
			return (in->op & 7) < 2 && in->op < 0x38;
		switch (in->op) {
		case 0x80: case 0x81: case 0x83: return in->reg != 7;
		case 0x86: case 0x87: return true;
		case 0xf6: case 0xf7: return in->reg == 2 || in->reg == 3;
		case 0xfe: case 0xff: return in->reg < 2;
		default: return false;
		}
	}
	if (in->map == 2) {
		switch (in->op) {
		case 0xb0: case 0xb1: case 0xc0: case 0xc1: case 0xab: case 0xb3: case 0xbb:
			return true;
		case 0xc7: return in->reg == 1;
		case 0xba: return in->reg >= 5;
		default: return false;
		}
	}
	return false;
}

#define RD  LW_ACCESS_READ
#define WR  LW_ACCESS_WRITE
#define RMW (LW_ACCESS_READ | LW_ACCESS_WRITE)

/* LW_ACCESS_* for the memory operand, with its size in *size; 0 when unknown. */
static unsigned classify(const struct insn *in, unsigned *size)
{
	unsigned osz = (in->rex & 8) ? 8 : in->opsize ? 2 : 4;
	uint8_t op = in->op;
	*size = osz;
	if (in->map == 1) {
		bool byte = !(op & 1);
		if (op >= 0xa0 && op <= 0xa3) {
			*size = byte ? 1 : osz;
			return op < 0xa2 ? RD : WR;
		}
		if (op < 0x40) {
			*size = byte ? 1 : osz;
			if (op >= 0x38 || (op & 7) >= 2)
				return RD;           /* cmp, or a register destination */
			return RMW;
		}
		switch (op) {
		case 0x63: *size = 4; return RD;
		case 0x69: case 0x6b: return RD;
		case 0x80: case 0x81: case 0x83:
			*size = op == 0x80 ? 1 : osz;
			return in->reg == 7 ? RD : RMW;
		case 0x84: case 0x85: *size = byte ? 1 : osz; return RD;
		case 0x86: case 0x87:
			*size = byte ? 1 : osz;
			return RMW | LW_ACCESS_ATOMIC;  /* xchg with memory is always locked */
		case 0x88: case 0x89: *size = byte ? 1 : osz; return WR;
		case 0x8a: case 0x8b: *size = byte ? 1 : osz; return RD;
		case 0x8c: *size = 2; return WR;
		case 0x8e: *size = 2; return RD;
		case 0x8f: *size = 8; return WR;
		case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
			*size = byte ? 1 : osz;
			return RMW;
		case 0xc6: case 0xc7: *size = byte ? 1 : osz; return in->reg == 0 ? WR : 0;
		case 0xf6: case 0xf7:
			*size = byte ? 1 : osz;
			return (in->reg == 2 || in->reg == 3) ? RMW : in->reg == 1 ? 0 : RD;
		case 0xfe: *size = 1; return in->reg < 2 ? RMW : 0;
		case 0xff:
			if (in->reg < 2)
				return RMW;
			*size = 8;
			return in->reg <= 6 && in->reg != 3 && in->reg != 5 ? RD : 0;
		default: return 0;
		}
	}
	if (in->map == 2) {
		if (op >= 0x40 && op <= 0x4f)
			return RD;                   /* cmovcc */
		if (op >= 0x90 && op <= 0x9f) {
			*size = 1;
			return WR;                   /* setcc */
		}
		switch (op) {
		case 0xb0: case 0xb1: case 0xc0: case 0xc1:
			*size = (op & 1) ? osz : 1;
			return RMW;
		case 0xc7:
			*size = (in->rex & 8) ? 16 : 8;
			return in->reg == 1 ? RMW : 0;
		case 0xa3: return RD;
		case 0xab: case 0xb3: case 0xbb: return RMW;
		case 0xba: return in->reg == 4 ? RD : in->reg > 4 ? RMW : 0;
		case 0xa4: case 0xa5: case 0xac: case 0xad: return RMW;
		case 0xaf: case 0xb8: case 0xbc: case 0xbd: return RD;
		case 0xb6: case 0xbe: *size = 1; return RD;
		case 0xb7: case 0xbf: *size = 2; return RD;
		case 0xc3: return WR;                /* movnti */
		}
		*size = 16;
		switch (op) {
		case 0x10: case 0x12: case 0x16: case 0x28: case 0x6f:
		case 0x2a: case 0x2c: case 0x2d: case 0x2e: case 0x2f:
			return RD;
		case 0x11: case 0x13: case 0x17: case 0x29: case 0x2b: case 0x7f: case 0xe7:
			return WR;
		case 0x6e: *size = 8; return RD;
		case 0x7e: *size = 8; return in->rep == 0xf3 ? RD : WR;
		case 0xd6: *size = 8; return WR;
		}
		if ((op >= 0x51 && op <= 0x6d) || (op >= 0x74 && op <= 0x76) || op >= 0xd0)
			return RD;
		return 0;
	}
	if (in->map == 3) {
		if (op == 0xf0 || op == 0xf1) {
			if (in->rep == 0xf2)
				return RD;           /* crc32 */
			return op == 0xf0 ? RD : WR; /* movbe */
		}
		*size = 16;
		return 0;
	}
	*size = 16;
	return (op >= 0x14 && op <= 0x17) ? WR : 0;   /* pextr*, extractps */
}

/* The operand's effective address, or false when it cannot be computed. */
static bool effective_address(const struct insn *in, uintptr_t pc, const long long *gregs,
			      uintptr_t *ea)
{
	if (in->seg)
		return false;
	if (in->has_moffs) {
		*ea = (uintptr_t)in->moffs;
		return true;
	}
	uint64_t a = (uint64_t)(int64_t)in->disp;
	if (in->riprel)
		a += pc;
	if (in->base != 0xff)
		a += (uint64_t)gregs[greg_of[in->base]];
	if (in->index != 0xff)
		a += (uint64_t)gregs[greg_of[in->index]] * in->scale;
	if (in->addr32)
		a &= 0xffffffffu;
	*ea = (uintptr_t)a;
	return true;
}

unsigned lw_decode_access(uintptr_t pc, const long long *gregs, uintptr_t lo, uintptr_t hi,
			  uintptr_t *at, unsigned *len)
{
	uintptr_t floor = code_floor(pc);
	unsigned best = 0;
	for (int k = 1; k <= 15; k++) {
		uintptr_t s = pc - (uintptr_t)k;
		if (s < floor)
			break;
		struct insn in;
		if (decode((const uint8_t *)s, (const uint8_t *)pc, &in) != k)
			continue;
		if (in.lock && !lockable(&in))
			continue;
		unsigned size;
		unsigned how = classify(&in, &size);
		uintptr_t ea;
		if (!how || !effective_address(&in, pc, gregs, &ea))
			continue;
		if (!(ea < hi && ea + size > lo))
			continue;
		if (in.lock)
			how |= LW_ACCESS_ATOMIC;
		best = how;          /* longer candidates come later and win */
		*at = ea > lo ? ea : lo;
		*len = (unsigned)((ea + size < hi ? ea + size : hi) - *at);
	}
	return best;
}
