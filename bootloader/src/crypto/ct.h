/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for secrets. Constant-time comparison for tags: memcmp may return at the first differing byte,
 * which leaks how much of a forged tag was right. And a wipe the compiler cannot elide. */
#ifndef SPB_CT_H
#define SPB_CT_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 if the n bytes at a and b are equal, 0 otherwise; time depends only on n. */
static inline int spb_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *pa = (const volatile uint8_t *)a;
    const volatile uint8_t *pb = (const volatile uint8_t *)b;
    uint32_t diff = 0;
    size_t i;

    /* volatile reads stop the compiler from turning the loop into an early-exit compare. */
    for (i = 0; i < n; i++)
        diff |= (uint32_t)(pa[i] ^ pb[i]);
    /* diff is 0..255: diff - 1 borrows into bit 8 only when diff == 0, with no branch. */
    return (int)(((diff - 1u) >> 8) & 1u);
}

/* Zero n bytes of key material or plaintext. memset on an object that is about to go out of scope is a
 * dead store the compiler may delete; stores through a volatile pointer are never deleted. Byte by byte:
 * it runs once per buffer and exit, not per block. */
static inline void spb_wipe(void *p, size_t n)
{
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n-- != 0u)
        *v++ = 0;
}

#endif
