/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 (FIPS 180-4), byte-oriented streaming interface; constants in tables.c. */
#include <string.h>

#include "meter.h"

static uint32_t ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32u - n));
}

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[16];
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (unsigned t = 0; t < 64u; t++) {
        uint32_t wt;
        if (t < 16u) {
            wt = w[t] = load_be32(block + 4u * t);
        } else {
            uint32_t w15 = w[(t - 15u) & 15u], w2 = w[(t - 2u) & 15u];
            uint32_t s0 = ror(w15, 7) ^ ror(w15, 18) ^ (w15 >> 3);
            uint32_t s1 = ror(w2, 17) ^ ror(w2, 19) ^ (w2 >> 10);
            wt = w[t & 15u] = w[t & 15u] + s0 + w[(t - 7u) & 15u] + s1;
        }
        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + table_sha256_k[t] + wt;
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void sha256_init(sha256_ctx_t *ctx)
{
    memcpy(ctx->state, table_sha256_h0, sizeof ctx->state);
    ctx->length = 0;
    ctx->used = 0;
}

void sha256_update(sha256_ctx_t *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    ctx->length += len;
    while (len > 0u) {
        size_t take = 64u - ctx->used;
        if (take > len) {
            take = len;
        }
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used = (uint8_t)(ctx->used + take);
        p += take;
        len -= take;
        if (ctx->used == 64u) {
            compress(ctx->state, ctx->block);
            ctx->used = 0;
        }
    }
}

void sha256_final(sha256_ctx_t *ctx, uint8_t digest[32])
{
    uint64_t bits = ctx->length * 8u;
    uint8_t pad = 0x80;
    sha256_update(ctx, &pad, 1);
    pad = 0;
    while (ctx->used != 56u) {
        sha256_update(ctx, &pad, 1);
    }
    uint8_t len_be[8];
    store_be32(len_be, (uint32_t)(bits >> 32));
    store_be32(len_be + 4, (uint32_t)bits);
    sha256_update(ctx, len_be, 8);
    for (unsigned i = 0; i < 8u; i++) {
        store_be32(digest + 4u * i, ctx->state[i]);
    }
}
