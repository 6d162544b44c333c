/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 (FIPS 180-4). Small, portable, streaming. */
#ifndef SPB_SHA256_H
#define SPB_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;      /* bytes hashed so far */
    uint8_t block[64];
    uint32_t used;        /* bytes pending in block */
} spb_sha256_ctx;

void spb_sha256_init(spb_sha256_ctx *ctx);
void spb_sha256_update(spb_sha256_ctx *ctx, const void *data, size_t len);
void spb_sha256_final(spb_sha256_ctx *ctx, uint8_t digest[32]);
void spb_sha256(const void *data, size_t len, uint8_t digest[32]);

#endif
