/* SPDX-License-Identifier: Apache-2.0 */
/* Constant-time comparison for secrets such as MAC tags: memcmp may return at the first differing byte,
 * which leaks how much of a forged tag was right. */
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

#endif
