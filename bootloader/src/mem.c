/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few C library routines the bootloader uses, written for size: newlib's are tuned for speed and
 * cost about 1 KiB of flash on Cortex-M4 (memcpy 308 bytes, strlen 220, memmove 254). memcpy keeps a
 * word loop for aligned copies (flash reads of the image checks go through it). On Cortex-M0+ also the
 * unsigned division of the run-time ABI. Firmware only: the host builds use the system's C library.
 */
#ifndef SPB_HOST

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The loops below must stay loops: without this GCC turns them back into calls to themselves. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

typedef uint32_t __attribute__((may_alias)) word_t;

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0u) {
        for (; n >= 4u; n -= 4u, d += 4, s += 4) {
            *(word_t *)(void *)d = *(const word_t *)(const void *)s;
        }
    }
    while (n-- > 0u) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((uintptr_t)d - (uintptr_t)s >= n) {
        /* No overlap, or the destination starts below the source: forward is safe. */
        while (n-- > 0u) {
            *d++ = *s++;
        }
    } else {
        while (n-- > 0u) {
            d[n] = s[n];
        }
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    /* Word stores for aligned memory on every core: 0.7 M instructions per boot on Cortex-M3/M4/M7 and
     * 0.1 M on Cortex-M0+, where it more than pays for the smaller P-256 G table (p256.c, SPB_P256_G_WINDOW). */
    if (((uintptr_t)d & 3u) == 0u) { /* the P-256 squaring clears 64 bytes per call, thousands per boot */
        word_t w = (uint8_t)c * 0x01010101u;
        for (; n >= 4u; n -= 4u, d += 4) {
            *(word_t *)(void *)d = w;
        }
    }
    while (n-- > 0u) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n > 0u; n--, x++, y++) {
        if (*x != *y) {
            return (int)*x - (int)*y;
        }
    }
    return 0;
}

size_t strlen(const char *s)
{
    const char *e = s;
    while (*e != '\0') {
        e++;
    }
    return (size_t)(e - s);
}

#if defined(__ARM_ARCH_6M__)
/* Cortex-M0+ has no divide instruction: the run-time ABI's unsigned division, one bit per step. libgcc's
 * is 266 bytes of unrolled code; the bootloader divides only to print numbers and progress. Quotient in
 * r0, remainder in r1 (a 64-bit return value). Division by zero gives all ones. */
uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d);
uint32_t __aeabi_uidiv(uint32_t n, uint32_t d);

uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d)
{
    uint32_t q = 0, r = 0;
    for (uint32_t bit = 32u; bit-- > 0u;) {
        uint32_t carry = r >> 31;
        r = (r << 1) | ((n >> bit) & 1u);
        if (carry != 0u || r >= d) {
            r -= d;
            q |= 1u << bit;
        }
    }
    return ((uint64_t)r << 32) | q;
}

uint32_t __aeabi_uidiv(uint32_t n, uint32_t d)
{
    return (uint32_t)__aeabi_uidivmod(n, d);
}
#endif

#else
typedef int spb_mem_host; /* not an empty translation unit */
#endif
