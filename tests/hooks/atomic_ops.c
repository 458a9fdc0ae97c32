/* Hook mode: every kind of atomic operation (C11 atomics, the __atomic and __sync builtins,
 * fences), at 1, 2, 4, 8 and 16 bytes, from several threads at once, each result checked.
 * Built for the TSan ABI, the program's atomics are performed by lockwatch's libraries
 * (liblockwatch-hooks.so without lockwatch, the shim under it): a wrong count means an
 * operation was not performed, or not atomically.  Shared plain data is handed over only
 * through atomics (release/acquire, relaxed with fences, spin locks), create and join: no
 * data race, no atomicity violation.
 * Usage: atomic_ops [ROUNDS] (default 100001).  Prints "atomic_ops: ok", or each wrong value
 * and exits with 1. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __clang__
/* 16-byte atomics without -mcx16 are libatomic calls: slow, and still atomic. */
#pragma clang diagnostic ignored "-Watomic-alignment"
#endif

#define THREADS 4
#define MASK    ((1u << THREADS) - 1)

typedef unsigned __int128 u128;

static long rounds = 100001;
static pthread_barrier_t start;        /* the threads start their rounds together */
static volatile int runtime_order = __ATOMIC_SEQ_CST;   /* an order known at run time only */

static _Atomic uint8_t add8;            /* C11 fetch_add, modulo 256 */
static atomic_ushort add16;             /* C11 fetch_add, modulo 65536 */
static atomic_uint sub32;               /* C11 fetch_sub from THREADS * rounds to 0 */
static atomic_ulong add64;              /* C11 fetch_add */
static u128 add128;                     /* __atomic_fetch_add, both halves */
static u128 cas128;                     /* compare-exchange loop, both halves */
static uint32_t cas_strong32;           /* __atomic_compare_exchange_n, strong */
static uint16_t cas_weak16;             /* weak, acq_rel/acquire */
static uint64_t sync_val64;             /* __sync_val_compare_and_swap loop */
static uint8_t sync_bool8;              /* __sync_bool_compare_and_swap loop */
static uint64_t sync_add64;             /* __sync_fetch_and_add */
static uint32_t add_fetch32;            /* __atomic_add_fetch, order known at run time */
static atomic_uint or_bits;             /* each thread ors its bit in */
static atomic_uint and_bits = ~0u;      /* each thread clears its bit */
static atomic_uint xor_bits;            /* each thread flips its bit rounds times */
static uint64_t nand_slot[THREADS];     /* ~(x & ~0): flipped rounds times, one per thread */

static atomic_flag flag_lock = ATOMIC_FLAG_INIT;   /* test_and_set / clear */
static long flag_locked;                /* plain, under flag_lock */
static uint32_t xchg_lock;              /* __atomic_exchange_n / __atomic_store_n */
static long xchg_locked;                /* plain, under xchg_lock */

static long mailbox[THREADS];           /* plain, published with a release store */
static atomic_int posted[THREADS];
static long fenced[THREADS];            /* plain, published with fences and relaxed atomics */
static atomic_int fence_posted[THREADS];
static long received[THREADS], fence_received[THREADS];

struct blob {
	long v[6];
};
static struct blob blobs[THREADS], copies[THREADS];   /* struct copy and memcpy, own slots */
static volatile long own_volatile[THREADS];

static void relax(void)
{
	sched_yield();
}

static void *worker(void *arg)
{
	int me = (int)(long)arg, from = (me + THREADS - 1) % THREADS;
	struct blob b;

	pthread_barrier_wait(&start);
	mailbox[me] = 100 + me;
	atomic_store_explicit(&posted[me], 1, memory_order_release);
	fenced[me] = 200 + me;
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&fence_posted[me], 1, memory_order_relaxed);

	for (long i = 0; i < rounds; i++) {
		atomic_fetch_add(&add8, 1);
		atomic_fetch_add_explicit(&add16, 1, memory_order_relaxed);
		atomic_fetch_sub_explicit(&sub32, 1, memory_order_acq_rel);
		atomic_fetch_add_explicit(&add64, 1, memory_order_release);
		__atomic_fetch_add(&add128, ((u128)1 << 64) | 1, __ATOMIC_SEQ_CST);

		u128 o128 = __atomic_load_n(&cas128, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&cas128, &o128, o128 + (((u128)1 << 64) | 1), 0,
						    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			;
		uint32_t o32 = __atomic_load_n(&cas_strong32, __ATOMIC_ACQUIRE);
		while (!__atomic_compare_exchange_n(&cas_strong32, &o32, o32 + 1, 0, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
		uint16_t o16 = __atomic_load_n(&cas_weak16, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&cas_weak16, &o16, (uint16_t)(o16 + 1), 1,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			;
		uint64_t o64 = __atomic_load_n(&sync_val64, __ATOMIC_RELAXED), seen;
		while ((seen = __sync_val_compare_and_swap(&sync_val64, o64, o64 + 1)) != o64)
			o64 = seen;
		uint8_t o8;
		do
			o8 = __atomic_load_n(&sync_bool8, __ATOMIC_RELAXED);
		while (!__sync_bool_compare_and_swap(&sync_bool8, o8, (uint8_t)(o8 + 1)));
		__sync_fetch_and_add(&sync_add64, 1);
		__atomic_add_fetch(&add_fetch32, 1, runtime_order);

		atomic_fetch_or(&or_bits, 1u << me);
		atomic_fetch_and(&and_bits, ~(1u << me));
		atomic_fetch_xor(&xor_bits, 1u << me);
		__atomic_fetch_nand(&nand_slot[me], ~(uint64_t)0, __ATOMIC_RELAXED);

		while (atomic_flag_test_and_set_explicit(&flag_lock, memory_order_acquire))
			relax();
		flag_locked++;
		atomic_flag_clear_explicit(&flag_lock, memory_order_release);
		while (__atomic_exchange_n(&xchg_lock, 1, __ATOMIC_ACQUIRE))
			relax();
		xchg_locked++;
		__atomic_store_n(&xchg_lock, 0, __ATOMIC_RELEASE);
		atomic_signal_fence(memory_order_seq_cst);
	}

	while (!atomic_load_explicit(&posted[from], memory_order_acquire))
		relax();
	received[me] = mailbox[from];
	while (!atomic_load_explicit(&fence_posted[from], memory_order_relaxed))
		relax();
	atomic_thread_fence(memory_order_acquire);
	fence_received[me] = fenced[from];

	for (int k = 0; k < 6; k++)
		b.v[k] = me * 10 + k;
	blobs[me] = b;
	memcpy(&copies[me], &blobs[me], sizeof b);
	own_volatile[me] = own_volatile[me] + 1;
	return NULL;
}

static int bad;

static void check(const char *what, u128 got, u128 want)
{
	if (got != want) {
		printf("atomic_ops: %s is %llu:%llu, not %llu:%llu\n", what,
		       (unsigned long long)(got >> 64), (unsigned long long)got,
		       (unsigned long long)(want >> 64), (unsigned long long)want);
		bad = 1;
	}
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];

	if (argc > 1)
		rounds = atol(argv[1]);
	u128 n = (u128)THREADS * (u128)rounds, both = ((u128)1 << 64) | 1;
	atomic_init(&sub32, (unsigned)n);
	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		nand_slot[i] = 0x0123456789abcdefull;
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	check("add8", atomic_load(&add8), n & 0xff);
	check("add16", atomic_load(&add16), n & 0xffff);
	check("sub32", atomic_load(&sub32), 0);
	check("add64", atomic_load(&add64), n);
	check("add128", add128, n * both);
	check("cas128", cas128, n * both);
	check("cas_strong32", cas_strong32, n);
	check("cas_weak16", cas_weak16, n & 0xffff);
	check("sync_val64", sync_val64, n);
	check("sync_bool8", sync_bool8, n & 0xff);
	check("sync_add64", sync_add64, n);
	check("add_fetch32", add_fetch32, n);
	check("or_bits", atomic_load(&or_bits), MASK);
	check("and_bits", atomic_load(&and_bits), ~MASK);
	check("xor_bits", atomic_load(&xor_bits), (rounds & 1) ? MASK : 0);
	check("flag_locked", (u128)flag_locked, n);
	check("xchg_locked", (u128)xchg_locked, n);
	for (int i = 0; i < THREADS; i++) {
		int from = (i + THREADS - 1) % THREADS;
		check("nand", nand_slot[i], (rounds & 1) ? ~0x0123456789abcdefull
							 : 0x0123456789abcdefull);
		check("received", (u128)received[i], (u128)(100 + from));
		check("fence_received", (u128)fence_received[i], (u128)(200 + from));
		check("copies", (u128)copies[i].v[5], (u128)(i * 10 + 5));
		check("own_volatile", (u128)own_volatile[i], 1);
	}
	if (bad)
		return 1;
	printf("atomic_ops: ok\n");
	return 0;
}
