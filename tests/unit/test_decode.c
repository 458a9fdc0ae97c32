/* The shim's x86 decoder (shim/access/decode.c, Zydis) on hand-assembled instructions:
 * forwards from an execute breakpoint, backwards from a data breakpoint, and the code scan's
 * choice of candidates (issue 20). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>
#include "lw_trace_format.h"
#include "access/decode.h"

unsigned lw_decode_access(uintptr_t pc, const long long *gregs, uintptr_t lo, uintptr_t hi,
			  uintptr_t *at, unsigned *len);
static uintptr_t at_;
static unsigned len_;
#define decode(pc, g, lo, hi) lw_decode_access(pc, g, lo, hi, &at_, &len_)

/* Room before and after each instruction, so the backward decode has bytes to try. */
static uint8_t code[64];

/* Copies the instruction into code[] after 16 bytes of nops, returns its address. */
static uintptr_t place(const uint8_t *bytes, size_t n)
{
	memset(code, 0x90, sizeof code);
	memcpy(code + 16, bytes, n);
	return (uintptr_t)(code + 16);
}

Test(decode, a_store_through_a_register_is_a_write_at_its_address)
{
	static const uint8_t mov[] = { 0x89, 0x10 };          /* mov [rax], edx */
	long long g[NGREG] = { 0 };
	g[REG_RAX] = 0x1000;
	struct lw_operand op;
	uintptr_t ip = place(mov, sizeof mov);
	cr_assert_eq(lw_decode_operand(ip, g, &op), 0);
	cr_assert_eq(op.addr, 0x1000);
	cr_assert_eq(op.size, 4);
	cr_assert_eq(op.how, LW_ACCESS_WRITE);
	cr_assert_eq(op.len, 2);
	cr_assert_eq(decode(ip + 2, g, 0x1000, 0x1004), LW_ACCESS_WRITE);
}

Test(decode, a_load_with_base_index_scale_and_displacement)
{
	static const uint8_t mov[] = { 0x48, 0x8b, 0x44, 0xcb, 0x10 }; /* mov rax, [rbx+rcx*8+16] */
	long long g[NGREG] = { 0 };
	g[REG_RBX] = 0x2000;
	g[REG_RCX] = 3;
	struct lw_operand op;
	uintptr_t ip = place(mov, sizeof mov);
	cr_assert_eq(lw_decode_operand(ip, g, &op), 0);
	cr_assert_eq(op.addr, 0x2000 + 3 * 8 + 16);
	cr_assert_eq(op.size, 8);
	cr_assert_eq(op.how, LW_ACCESS_READ);
}

Test(decode, a_32_bit_address_is_truncated)
{
	static const uint8_t mov[] = { 0x67, 0x8b, 0x00 };     /* mov eax, [eax] */
	long long g[NGREG] = { 0 };
	g[REG_RAX] = 0x1234500003000ll;
	struct lw_operand op;
	cr_assert_eq(lw_decode_operand(place(mov, sizeof mov), g, &op), 0);
	cr_assert_eq(op.addr, 0x3000);
}

Test(decode, lock_prefix_and_xchg_are_atomic)
{
	static const uint8_t add[] = { 0xf0, 0x01, 0x07 };     /* lock add [rdi], eax */
	static const uint8_t xchg[] = { 0x48, 0x87, 0x06 };    /* xchg [rsi], rax */
	long long g[NGREG] = { 0 };
	g[REG_RDI] = 0x4000;
	g[REG_RSI] = 0x5000;
	struct lw_operand op;
	uintptr_t ip = place(add, sizeof add);
	cr_assert_eq(lw_decode_operand(ip, g, &op), 0);
	cr_assert_eq(op.how, LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC);
	/* Backwards, the LOCK prefix belongs to the longest decode ending at the pc. */
	cr_assert_eq(decode(ip + 3, g, 0x4000, 0x4004),
		     LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC);
	ip = place(xchg, sizeof xchg);
	cr_assert_eq(lw_decode_operand(ip, g, &op), 0);
	cr_assert_eq(op.addr, 0x5000);
	cr_assert(op.how & LW_ACCESS_ATOMIC);
}

Test(decode, rip_relative_is_from_the_next_instruction)
{
	static const uint8_t mov[] = { 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 }; /* mov eax, [rip+256] */
	long long g[NGREG] = { 0 };
	struct lw_operand op;
	uintptr_t ip = place(mov, sizeof mov);
	cr_assert_eq(lw_decode_operand(ip, g, &op), 0);
	cr_assert_eq(op.addr, ip + 6 + 256);
}

Test(decode, fs_relative_and_no_memory_operand_are_refused)
{
	static const uint8_t tls[] = { 0x64, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0 }; /* mov eax, fs:[16] */
	static const uint8_t reg[] = { 0x48, 0x89, 0xd8 };                     /* mov rax, rbx */
	long long g[NGREG] = { 0 };
	struct lw_operand op;
	cr_assert_eq(lw_decode_operand(place(tls, sizeof tls), g, &op), -ENOENT);
	cr_assert_eq(lw_decode_operand(place(reg, sizeof reg), g, &op), -ENOENT);
}

/* Issue 20: an instruction that overwrote its own address register (mov rax, [rax], the
 * commonest load of all at -O0) cannot be checked against the registers after it; the
 * hardware says it touched the watched bytes, so it is taken when it is the one such
 * candidate and covers all the watched bytes, never when it is narrower (it might be a
 * neighbour's bytes). */
Test(decode, a_load_that_overwrote_its_address_register_is_taken_when_it_covers_the_bytes)
{
	static const uint8_t mov[] = { 0x48, 0x8b, 0x00 };     /* mov rax, [rax] */
	static const uint8_t mov32[] = { 0x8b, 0x00 };         /* mov eax, [rax] */
	long long g[NGREG] = { 0 };
	g[REG_RAX] = 42;   /* after it ran: the loaded value, not the address */
	cr_assert_eq(decode(place(mov, sizeof mov) + 3, g, 0x6000, 0x6008),
		     LW_ACCESS_READ);
	cr_assert_eq(decode(place(mov32, sizeof mov32) + 2, g, 0x6000, 0x6004),
		     LW_ACCESS_READ);
	cr_assert_eq(decode(place(mov32, sizeof mov32) + 2, g, 0x6000, 0x6008), 0,
		     "narrower than the watched bytes: not guessed");
}

static bool candidate(const uint8_t *b, size_t n, size_t *len)
{
	struct lw_scan_insn in;
	uintptr_t ip = place(b, n);
	*len = lw_decode_scan((const uint8_t *)ip, n, ip, &in);
	return in.candidate;
}

Test(decode, the_scan_keeps_plain_accesses_and_skips_the_rest)
{
	static const uint8_t store[] = { 0x48, 0x89, 0x02 };          /* mov [rdx], rax */
	static const uint8_t stack[] = { 0x48, 0x8b, 0x44, 0x24, 0x08 }; /* mov rax, [rsp+8] */
	static const uint8_t frame[] = { 0x8b, 0x45, 0xfc };          /* mov eax, [rbp-4] */
	static const uint8_t rbp_gpr[] = { 0x48, 0x89, 0x45, 0x00 };  /* mov [rbp+0], rax */
	static const uint8_t lea[] = { 0x48, 0x8d, 0x04, 0x02 };      /* lea rax, [rdx+rax] */
	static const uint8_t locked[] = { 0xf0, 0x01, 0x07 };         /* lock add [rdi], eax */
	static const uint8_t nop[] = { 0x0f, 0x1f, 0x40, 0x00 };      /* nop [rax] */
	static const uint8_t pref[] = { 0x0f, 0x18, 0x08 };           /* prefetcht0 [rax] */
	static const uint8_t plt[] = { 0xff, 0x25, 0x10, 0, 0, 0 };   /* jmp [rip+16] */
	static const uint8_t call[] = { 0xff, 0x10 };                 /* call [rax] */
	size_t len;
	cr_assert(candidate(store, sizeof store, &len));
	cr_assert_eq(len, 3);
	cr_assert_not(candidate(stack, sizeof stack, &len));
	cr_assert_eq(len, 5);
	cr_assert_not(candidate(frame, sizeof frame, &len));
	cr_assert(candidate(rbp_gpr, sizeof rbp_gpr, &len), "rbp as a register (-O2)");
	cr_assert_not(candidate(lea, sizeof lea, &len));
	cr_assert_not(candidate(locked, sizeof locked, &len));
	cr_assert_not(candidate(nop, sizeof nop, &len));
	cr_assert_eq(len, 4);
	cr_assert_not(candidate(pref, sizeof pref, &len));
	cr_assert_not(candidate(plt, sizeof plt, &len));
	cr_assert_not(candidate(call, sizeof call, &len));
}
