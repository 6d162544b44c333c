/* SPDX-License-Identifier: Apache-2.0 */
/* Bare-metal instruction-count harness for the bootloader's crypto (bench/crypto_icount.py builds and runs it).
 *
 * Runs under qemu-system-arm with -icount shift=0, where the virtual clock advances 1 ns per guest
 * instruction and SysTick (on the processor clock) decrements once every 1e9/f_cpu instructions. The
 * instructions-per-tick factor is calibrated with a loop of known length, so no board clock is assumed.
 * Results go out through semihosting (SYS_WRITE0), and SYS_EXIT ends QEMU. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "p256.h"
#include "sha256.h"
#include "vectors.h" /* generated: PK, DIGEST, SIG (NVEC each); msg, SHA_MSG_LEN, SHA_DIGEST(_U) */

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void puts_(const char *s) { semihost(0x04, s); }

static void put_u32(const char *label, uint32_t v)
{
    char buf[64];
    char num[12];
    int n = 0;
    size_t l = strlen(label);
    memcpy(buf, label, l);
    do {
        num[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        buf[l++] = num[--n];
    buf[l++] = '\n';
    buf[l] = 0;
    puts_(buf);
}

/* Ticks elapsed; SysTick counts down with 24 bits (reload 0xFFFFFF), so one interval must stay below
 * 2^24 ticks: 671 M instructions at 40 instructions per tick (25 MHz MPS2), 1 G at 62.5 (16 MHz nRF51). */
static uint32_t now(void) { return SYST_CVR; }
static uint32_t span(uint32_t t0, uint32_t t1) { return (t0 - t1) & 0xFFFFFFu; }

__attribute__((noinline)) static void spin(uint32_t n)
{
    __asm__ volatile(".syntax unified\n1:\tsubs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
}

void bench_main(void)
{
    uint32_t t0, t1, base, cal, k;
    uint8_t d[32];
    int ok;

    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5; /* enable, processor clock, no interrupt */

    /* Calibration: spin(n) executes 2n + c instructions. Two lengths cancel c and the call overhead. */
    t0 = now(); spin(100000); t1 = now(); cal = span(t0, t1);
    t0 = now(); spin(1100000); t1 = now(); cal = span(t0, t1) - cal; /* ticks for 2,000,000 instructions */
    put_u32("ticks_per_2M ", cal);
    t0 = now(); t1 = now(); base = span(t0, t1);
    put_u32("base_ticks ", base);

    t0 = now(); spb_sha256(msg, 0, d); t1 = now();
    put_u32("sha_0_ticks ", span(t0, t1) - base);
    t0 = now(); spb_sha256(msg, SHA_MSG_LEN, d); t1 = now();
    put_u32("sha_n_ticks ", span(t0, t1) - base);
    put_u32("sha_ok ", memcmp(d, SHA_DIGEST, 32) == 0);
    t0 = now(); spb_sha256(msg + 1, SHA_MSG_LEN - 1, d); t1 = now(); /* unaligned input */
    put_u32("sha_u_ticks ", span(t0, t1) - base);
    put_u32("sha_u_ok ", memcmp(d, SHA_DIGEST_U, 32) == 0);

    for (k = 0; k < NVEC; k++) {
        t0 = now(); ok = spb_p256_verify(PK[k], DIGEST[k], SIG[k]); t1 = now();
        put_u32("verify_ticks ", span(t0, t1) - base);
        put_u32("verify_ok ", ok == 0);
    }
    {
        uint8_t bad[64];
        memcpy(bad, SIG[0], 64);
        bad[63] ^= 1;
        put_u32("reject_ok ", spb_p256_verify(PK[0], DIGEST[0], bad) != 0);
    }
#ifdef SPB_P256_TESTING
    {
        /* Per-operation counts (test entry points of p256.c; each includes a call of about 10). */
        extern void spb_p256_test_fe_mul(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]);
        extern void spb_p256_test_fe_sqr(uint32_t r[8], const uint32_t a[8]);
        extern void spb_p256_test_fe_reduce(uint32_t r[8], const uint32_t c[16]);
        extern int spb_p256_test_mod_inv(uint32_t r[8], const uint32_t a[8], int mod_n, unsigned e);
        extern void spb_p256_test_mont_mul_n(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]);
        extern int spb_p256_test_wnaf(int16_t *out, const uint32_t k[8], unsigned w);
        extern void spb_p256_test_fe_add(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]);
        extern void spb_p256_test_fe_sub(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]);
        extern void spb_p256_test_pt_dbl(uint32_t r[24], const uint32_t a[24]);
        extern int spb_p256_test_pt_madd(uint32_t r[24], const uint32_t a[24], const uint32_t b[16], int neg);
        uint32_t a[8], b[8], r8[8], c16[16], j24[24], r24[24];
        int16_t naf[70];
        memcpy(a, SIG[0], 32);
        memcpy(b, SIG[0] + 32, 32);
        a[7] &= 0x7fffffffu;
        b[7] &= 0x7fffffffu;
        memcpy(c16, SIG[1], 64);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_fe_mul(r8, a, b); t1 = now();
        put_u32("op_fe_mul_x100 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_fe_sqr(r8, a); t1 = now();
        put_u32("op_fe_sqr_x100 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_fe_reduce(r8, c16); t1 = now();
        put_u32("op_fe_reduce_x100 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_mont_mul_n(r8, a, b); t1 = now();
        put_u32("op_mont_mul_n_x100 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_fe_add(r8, a, b); t1 = now();
        put_u32("op_fe_add_x100 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_fe_sub(r8, a, b); t1 = now();
        put_u32("op_fe_sub_borrow_x100 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_fe_sub(r8, b, a); t1 = now();
        put_u32("op_fe_sub_noborrow_x100 ", span(t0, t1) - base);
        memcpy(j24, a, 32); memcpy(j24 + 8, b, 32); memcpy(j24 + 16, a, 32);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_pt_dbl(r24, j24); t1 = now();
        put_u32("op_pt_dbl_x100 ", span(t0, t1) - base);
        memcpy(c16, b, 32); memcpy(c16 + 8, a, 32);
        t0 = now(); for (k = 0; k < 100; k++) spb_p256_test_pt_madd(r24, j24, c16, 0); t1 = now();
        put_u32("op_pt_madd_x100 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 10; k++) spb_p256_test_mod_inv(r8, a, 1, 256); t1 = now();
        put_u32("op_mod_inv_n_x10 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 10; k++) spb_p256_test_mod_inv(r8, a, 0, 0); t1 = now();
        put_u32("op_mod_inv_p_x10 ", span(t0, t1) - base);
        t0 = now(); for (k = 0; k < 10; k++) spb_p256_test_wnaf(naf, a, 6); t1 = now();
        put_u32("op_wnaf_x10 ", span(t0, t1) - base);
    }
#endif
    puts_("done\n");
    semihost(0x18, (const void *)0x20026u); /* ADP_Stopped_ApplicationExit: QEMU exits with status 0 */
    for (;;)
        ;
}

/* ---- start-up ---- */
extern uint32_t _estack, _sbss, _ebss;

__attribute__((noreturn)) void reset_handler(void)
{
    uint32_t *p;
    for (p = &_sbss; p < &_ebss; p++)
        *p = 0;
    bench_main();
    for (;;)
        ;
}

__attribute__((noreturn)) static void fault_handler(void)
{
    puts_("FAULT\n");
    semihost(0x18, (const void *)0x20023u); /* ADP_Stopped_RunTimeErrorUnknown: nonzero exit status */
    for (;;)
        ;
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_estack, reset_handler, fault_handler, fault_handler, fault_handler, fault_handler,
    fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler, fault_handler,
};
