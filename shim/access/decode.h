/* The instruction decoder (decode.c, Zydis) for the collider: forwards from an execute
 * breakpoint, and the scan of the program's code for sampling candidates.  (The backward
 * decode after a data breakpoint, lw_decode_access, is declared in watch.h.) */
#ifndef LW_ACCESS_DECODE_H
#define LW_ACCESS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/defs.h"

/* The explicit memory operand of one instruction. */
struct lw_operand {
	uintptr_t addr;              /* its effective address */
	uint32_t size;               /* bytes */
	unsigned how;                /* LW_ACCESS_READ | LW_ACCESS_WRITE | LW_ACCESS_ATOMIC */
	uint32_t len;                /* the instruction's length */
};

/* Decodes the instruction at ip (an execute breakpoint stops before it runs) with the
 * thread's registers gregs (ucontext_t's), as it is about to run.  Returns 0 and fills
 * *out; -ENOENT when it has no explicit memory operand, or one whose address the registers
 * do not give (fs/gs-relative, vector index); -EINVAL when it does not decode.
 * Async-signal-safe. */
LW_HIDDEN int lw_decode_operand(uintptr_t ip, const long long *gregs, struct lw_operand *out);

/* One instruction of the code scan. */
struct lw_scan_insn {
	bool candidate;              /* a plain access to memory worth sampling */
	bool write;
	uintptr_t target;            /* rip-relative: the address it accesses; else 0 */
	uintptr_t atomic_target;     /* a LOCK-prefixed instruction or xchg on a rip-relative
				      * address: that address (a global used atomically); else 0 */
	uint32_t atomic_size;        /* its operand's bytes */
};

/* Decodes the instruction at code (avail bytes readable), which runs at ip.  Returns its
 * length, or 0 when the bytes do not decode; *out says whether it is a candidate: an
 * explicit memory operand that is neither rsp-based nor below rbp (the thread's stack; rbp
 * with a displacement of 0 or more is a general register of optimised code), nor fs/gs
 * (thread-local), nor of a lock-prefixed instruction or xchg (atomic), nor of lea, a nop,
 * a prefetch or an indirect jump or call (a code pointer: the PLT's GOT slots).  (Whether a rip-relative target is writable is the caller's check.) */
LW_HIDDEN size_t lw_decode_scan(const uint8_t *code, size_t avail, uintptr_t ip,
				struct lw_scan_insn *out);

#endif
