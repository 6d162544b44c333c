/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 (FIPS 180-4). Every boot hashes the whole application, so compress() is tuned on Cortex-M3/M4:
 * eight rounds unrolled (the working variables rotate by renaming, not by moves), the message schedule
 * expanded beforehand two words per turn, and Sigma0/Sigma1 written so that ARM's rotated operands absorb
 * one rotation each: 33.7 instructions per byte on Cortex-M4 at -Os (65.9 with the rolled loop), for
 * 0.4 KiB more flash and a 256-byte schedule on the stack. Cortex-M0+ keeps the rolled loop (see there). */
#include "sha256.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

/* Big-endian loads byte by byte: flash-resident input may be unaligned and Cortex-M0+ faults on unaligned
 * words. GCC turns this into one LDR + REV where unaligned loads are allowed (Cortex-M3/M4). */
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

#if defined(__ARM_ARCH_6M__) || defined(SPB_SHA256_SMALL)
/* Cortex-M0+ (SPB_SHA256_SMALL selects it elsewhere, for testing): flash over speed, as the unrolled
 * version below is 0.6 KiB larger there and these parts have the smallest flash. Rolled loops: the
 * message schedule expanded first (a pointer walking W with the small positive offsets Thumb-1 loads
 * take, no index arithmetic), then 64 rounds that rotate the working variables by moves. Thumb-1 has
 * two-operand instructions and rotates by a register only, so the rotations are nested to work on one
 * copy (same values as the FIPS 180-4 forms) and Ch/Maj use their three- and four-operation forms.
 * About 81 instructions per byte (114 with a 16-word circular schedule), same flash. */
static void compress(uint32_t state[8], const uint8_t *block)
{
    uint32_t w[64], *p;
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    unsigned i;

    for (i = 0; i < 16; i++)
        w[i] = load_be32(block + 4 * i);
    for (p = w; p != w + 48; p++) { /* p[16] = W[t] from W[t-16], W[t-15], W[t-7], W[t-2] */
        uint32_t x = p[1], y = p[14];
        p[16] = p[0] + p[9] + (ror(ror(x, 11) ^ x, 7) ^ (x >> 3)) + (ror(ror(y, 2) ^ y, 17) ^ (y >> 10));
    }

    for (i = 0; i < 64; i++) {
        uint32_t t1 = h + ror(ror(ror(e, 14) ^ e, 5) ^ e, 6) + (((f ^ g) & e) ^ g) + K[i] + w[i];
        uint32_t t2 = ror(ror(ror(a, 9) ^ a, 11) ^ a, 2) + ((a & b) | (c & (a | b)));
        /* Rotating the working variables costs a few moves per round but avoids an 8x unrolled body
         * (and, unlike shifting an array, cannot be turned into a memmove call by the compiler). */
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

#else
/* Sigma0 and Sigma1 as nested rotations: two EORs with a rotated operand, and the outer rotation comes
 * for free in the ADD that consumes the result (ARM's rotated second operand). Same values as
 * ror(x, 2) ^ ror(x, 13) ^ ror(x, 22) and ror(x, 6) ^ ror(x, 11) ^ ror(x, 25). */
#define S0(x) ror(ror(ror((x), 9) ^ (x), 11) ^ (x), 2)
#define S1(x) ror(ror(ror((x), 14) ^ (x), 5) ^ (x), 6)
#define s0(x) (ror((x), 7) ^ ror((x), 18) ^ ((x) >> 3))
#define s1(x) (ror((x), 17) ^ ror((x), 19) ^ ((x) >> 10))

/* One round; the caller rotates the names of the eight working variables instead of moving them. */
#define ROUND(a, b, c, d, e, f, g, h, k)                                                                     \
    do {                                                                                                     \
        uint32_t t1 = h + S1(e) + (((f ^ g) & e) ^ g) + kp[(k)] + wp[(k)];                                   \
        d += t1;                                                                                             \
        h = t1 + S0(a) + ((a & b) | (c & (a | b)));                                                          \
    } while (0)

static void compress(uint32_t state[8], const uint8_t *block)
{
    uint32_t w[64];
    uint32_t a, b, c, d, e, f, g, h, x, y;
    const uint32_t *kp = K, *wp = w;
    unsigned i;

    for (i = 0; i < 16; i++)
        w[i] = load_be32(block + 4 * i);
    /* Message schedule, two words per turn: W[t-2] and W[t-1] stay in registers (x, y). */
    x = w[14];
    y = w[15];
    for (i = 16; i < 64; i += 2) {
        x = s1(x) + w[i - 7] + s0(w[i - 15]) + w[i - 16];
        y = s1(y) + w[i - 6] + s0(w[i - 14]) + w[i - 15];
        w[i] = x;
        w[i + 1] = y;
    }

    a = state[0];
    b = state[1];
    c = state[2];
    d = state[3];
    e = state[4];
    f = state[5];
    g = state[6];
    h = state[7];
    for (i = 0; i < 64; i += 8, kp += 8, wp += 8) {
        ROUND(a, b, c, d, e, f, g, h, 0);
        ROUND(h, a, b, c, d, e, f, g, 1);
        ROUND(g, h, a, b, c, d, e, f, 2);
        ROUND(f, g, h, a, b, c, d, e, 3);
        ROUND(e, f, g, h, a, b, c, d, 4);
        ROUND(d, e, f, g, h, a, b, c, 5);
        ROUND(c, d, e, f, g, h, a, b, 6);
        ROUND(b, c, d, e, f, g, h, a, 7);
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

#endif

void spb_sha256_init(spb_sha256_ctx *ctx)
{
    static const uint32_t iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(ctx->state, iv, sizeof iv);
    ctx->length = 0;
    ctx->used = 0;
}

void spb_sha256_update(spb_sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;

    ctx->length += len;
    while (len > 0) {
        if (ctx->used == 0 && len >= 64) {
            /* Full blocks straight from the caller's buffer: no copy through ctx->block. */
            compress(ctx->state, p);
            p += 64;
            len -= 64;
        } else {
            size_t n = 64u - ctx->used;
            if (n > len)
                n = len;
            memcpy(ctx->block + ctx->used, p, n);
            ctx->used += (uint32_t)n;
            p += n;
            len -= n;
            if (ctx->used == 64) {
                compress(ctx->state, ctx->block);
                ctx->used = 0;
            }
        }
    }
}

void spb_sha256_final(spb_sha256_ctx *ctx, uint8_t digest[32])
{
    static const uint8_t pad = 0x80, zero = 0;
    uint64_t bits = ctx->length * 8u;
    uint8_t len[8];
    unsigned i;

    /* 0x80, zeros up to byte 56 of a block, the length in bits: through update(), which is smaller than
     * doing it by hand (a few thousand instructions per hash, once). */
    store_be32(len, (uint32_t)(bits >> 32));
    store_be32(len + 4, (uint32_t)bits);
    spb_sha256_update(ctx, &pad, 1);
    while (ctx->used != 56)
        spb_sha256_update(ctx, &zero, 1);
    spb_sha256_update(ctx, len, 8);
    for (i = 0; i < 8; i++)
        store_be32(digest + 4 * i, ctx->state[i]);
    /* Wipe so a context reused by mistake cannot silently extend an old hash. */
    memset(ctx, 0, sizeof *ctx);
}

void spb_sha256(const void *data, size_t len, uint8_t digest[32])
{
    spb_sha256_ctx ctx;
    spb_sha256_init(&ctx);
    spb_sha256_update(&ctx, data, len);
    spb_sha256_final(&ctx, digest);
}
