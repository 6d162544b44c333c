/* ECDSA P-256 verification (FIPS 186-4 section 6.4, curve parameters from D.1.2.3).
 *
 * Design choices, all aimed at small flash on Cortex-M0+/M4:
 * - 8 x 32-bit little-endian limbs; 32x32->64 products are one UMULL on M3/M4 and four MULS on M0+
 *   (see mul32). 64-bit sums are plain add-with-carry; nothing calls into libgcc.
 * - One generic Montgomery multiplier (CIOS) serves both the field (mod p) and the scalar ring (mod n),
 *   so there is no separate Solinas reduction or modular-inverse algorithm: inversion mod n is Fermat
 *   exponentiation through the same multiplier.
 * - Jacobian coordinates and Shamir's trick for u1*G + u2*Q. The final x-coordinate check is done as
 *   r*Z^2 == X (mod p) to avoid a field inversion.
 * - Nothing here is constant-time: key, digest and signature are all public. */
#include "p256.h"

#include <string.h>

#define NLIMBS 8

typedef uint32_t fe[NLIMBS];

typedef struct {
    fe x, y, z; /* Jacobian, Montgomery domain mod p; z == 0 is the point at infinity */
} jac_point;

typedef struct {
    uint32_t m[NLIMBS];  /* modulus */
    uint32_t r2[NLIMBS]; /* 2^512 mod m, to enter the Montgomery domain */
    uint32_t m0inv;      /* -m^-1 mod 2^32 */
} modulus;

static const modulus P = {
    {0xffffffffu, 0xffffffffu, 0xffffffffu, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0xffffffffu},
    {0x00000003u, 0x00000000u, 0xffffffffu, 0xfffffffbu, 0xfffffffeu, 0xffffffffu, 0xfffffffdu, 0x00000004u},
    0x00000001u,
};

static const modulus N = {
    {0xfc632551u, 0xf3b9cac2u, 0xa7179e84u, 0xbce6faadu, 0xffffffffu, 0xffffffffu, 0x00000000u, 0xffffffffu},
    {0xbe79eea2u, 0x83244c95u, 0x49bd6fa6u, 0x4699799cu, 0x2b6bec59u, 0x2845b239u, 0xf3d95620u, 0x66e12d94u},
    0xee00bc4fu,
};

static const fe CURVE_B = {0x27d2604bu, 0x3bce3c3eu, 0xcc53b0f6u, 0x651d06b0u,
                           0x769886bcu, 0xb3ebbd55u, 0xaa3a93e7u, 0x5ac635d8u};
static const fe GX = {0xd898c296u, 0xf4a13945u, 0x2deb33a0u, 0x77037d81u,
                      0x63a440f2u, 0xf8bce6e5u, 0xe12c4247u, 0x6b17d1f2u};
static const fe GY = {0x37bf51f5u, 0xcbb64068u, 0x6b315eceu, 0x2bce3357u,
                      0x7c0f9e16u, 0x8ee7eb4au, 0xfe1a7f9bu, 0x4fe342e2u};

/* ---- multi-precision helpers (variable time: inputs are public) ---- */

static int is_zero(const fe a)
{
    uint32_t acc = 0;
    unsigned i;
    for (i = 0; i < NLIMBS; i++)
        acc |= a[i];
    return acc == 0;
}

static int cmp(const fe a, const fe b)
{
    unsigned i = NLIMBS;
    while (i-- > 0) {
        if (a[i] != b[i])
            return a[i] > b[i] ? 1 : -1;
    }
    return 0;
}

static uint32_t add(fe r, const fe a, const fe b)
{
    uint64_t c = 0;
    unsigned i;
    for (i = 0; i < NLIMBS; i++) {
        c += (uint64_t)a[i] + b[i];
        r[i] = (uint32_t)c;
        c >>= 32;
    }
    return (uint32_t)c;
}

static uint32_t sub(fe r, const fe a, const fe b)
{
    uint32_t borrow = 0;
    unsigned i;
    for (i = 0; i < NLIMBS; i++) {
        uint32_t ai = a[i], bi = b[i];
        r[i] = ai - bi - borrow;
        borrow = (ai < bi) | ((ai == bi) & borrow);
    }
    return borrow;
}

static void load_be(fe r, const uint8_t *b)
{
    unsigned i;
    for (i = 0; i < NLIMBS; i++) {
        const uint8_t *q = b + 4 * (NLIMBS - 1 - i);
        r[i] = ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
    }
}

/* 32x32->64 product. Cortex-M0+ has only MULS (32x32->32), and GCC calls libgcc's generic 64x64
 * __aeabi_lmul for this; four 16x16 products inline are about twice as fast there. Elsewhere (M3/M4
 * UMULL, host) the plain expression is best. SPB_P256_MUL16 forces the M0+ path for host testing. */
static inline uint64_t mul32(uint32_t a, uint32_t b)
{
#if defined(__ARM_ARCH_6M__) || defined(SPB_P256_MUL16)
    uint32_t al = a & 0xffffu, ah = a >> 16, bl = b & 0xffffu, bh = b >> 16;
    uint32_t lo = al * bl, mid = al * bh, mid2 = ah * bl, hi = ah * bh;
    mid += mid2;
    hi += (uint32_t)(mid < mid2) << 16; /* carry out of the middle sum is worth 2^48 */
    lo += mid << 16;
    hi += (mid >> 16) + (lo < (mid << 16));
    return ((uint64_t)hi << 32) | lo;
#else
    return (uint64_t)a * b;
#endif
}

/* ---- modular arithmetic; operands must be < m, results are fully reduced (canonical) ---- */

static void mod_add(fe r, const fe a, const fe b, const modulus *m)
{
    if (add(r, a, b) || cmp(r, m->m) >= 0)
        sub(r, r, m->m);
}

static void mod_sub(fe r, const fe a, const fe b, const modulus *m)
{
    if (sub(r, a, b))
        add(r, r, m->m);
}

/* r = a * b / 2^256 mod m (CIOS). Requires a < 2^256 and b < m, which keeps the running value below
 * 2m so one conditional subtraction yields a canonical result. r may alias a or b. */
static void mont_mul(fe r, const fe a, const fe b, const modulus *m)
{
    uint32_t t[NLIMBS + 2];
    unsigned i, j;

    memset(t, 0, sizeof t);
    for (i = 0; i < NLIMBS; i++) {
        uint64_t c = 0;
        uint32_t q;
        for (j = 0; j < NLIMBS; j++) {
            c += mul32(a[j], b[i]) + t[j];
            t[j] = (uint32_t)c;
            c >>= 32;
        }
        c += t[NLIMBS];
        t[NLIMBS] = (uint32_t)c;
        t[NLIMBS + 1] = (uint32_t)(c >> 32);

        /* Add q*m so the low word becomes zero, then drop it (divide by 2^32). */
        q = t[0] * m->m0inv;
        c = (mul32(q, m->m[0]) + t[0]) >> 32;
        for (j = 1; j < NLIMBS; j++) {
            c += mul32(q, m->m[j]) + t[j];
            t[j - 1] = (uint32_t)c;
            c >>= 32;
        }
        c += t[NLIMBS];
        t[NLIMBS - 1] = (uint32_t)c;
        t[NLIMBS] = t[NLIMBS + 1] + (uint32_t)(c >> 32);
    }
    if (t[NLIMBS] || cmp(t, m->m) >= 0)
        sub(t, t, m->m);
    memcpy(r, t, sizeof(fe));
}

static void to_mont(fe r, const fe a, const modulus *m)
{
    mont_mul(r, a, m->r2, m);
}

/* r = a^(m-2) in the Montgomery domain, i.e. the inverse of a (m prime, a != 0). Square-and-multiply
 * over public values; the ~400 multiplications are a small share of a verify. */
static void mont_inv(fe r, const fe a, const modulus *m)
{
    fe e, acc;
    static const fe one = {1};
    int bit;

    memcpy(e, m->m, sizeof e);
    e[0] -= 2; /* both moduli are odd with a low limb >= 2, so no borrow */
    to_mont(acc, one, m);
    for (bit = 255; bit >= 0; bit--) {
        mont_mul(acc, acc, acc, m);
        if ((e[bit >> 5] >> (bit & 31)) & 1)
            mont_mul(acc, acc, a, m);
    }
    memcpy(r, acc, sizeof acc);
}

#define fmul(r, a, b) mont_mul((r), (a), (b), &P)
#define fadd(r, a, b) mod_add((r), (a), (b), &P)
#define fsub(r, a, b) mod_sub((r), (a), (b), &P)

/* ---- curve arithmetic (a = -3) ---- */

/* dbl-2001-b. r may alias a. Infinity (z == 0) maps to z == 0 on its own, as does a point with y == 0
 * (which P-256, having prime order, does not have). */
static void pt_double(jac_point *r, const jac_point *a)
{
    fe delta, gamma, beta, alpha, t;

    fmul(delta, a->z, a->z);
    fmul(gamma, a->y, a->y);
    fmul(beta, a->x, gamma);
    fsub(t, a->x, delta);
    fadd(alpha, a->x, delta);
    fmul(alpha, alpha, t);
    fadd(t, alpha, alpha);
    fadd(alpha, alpha, t); /* 3(x - z^2)(x + z^2) */

    fmul(r->z, a->y, a->z);
    fadd(r->z, r->z, r->z);

    fadd(beta, beta, beta);
    fadd(beta, beta, beta); /* 4 beta */
    fmul(r->x, alpha, alpha);
    fsub(r->x, r->x, beta);
    fsub(r->x, r->x, beta);

    fsub(t, beta, r->x);
    fmul(t, alpha, t);
    fmul(gamma, gamma, gamma);
    fadd(gamma, gamma, gamma);
    fadd(gamma, gamma, gamma);
    fadd(gamma, gamma, gamma); /* 8 gamma^2 */
    fsub(r->y, t, gamma);
}

/* add-1998-cmo-2 with the exceptional cases handled, since Shamir's trick can add a point to itself
 * or to its negation (e.g. Q == G or Q == -G). r may alias a or b. */
static void pt_add(jac_point *r, const jac_point *a, const jac_point *b)
{
    fe z1z1, z2z2, u1, u2, s1, s2, h, rr;

    if (is_zero(a->z)) {
        *r = *b;
        return;
    }
    if (is_zero(b->z)) {
        *r = *a;
        return;
    }
    fmul(z1z1, a->z, a->z);
    fmul(z2z2, b->z, b->z);
    fmul(u1, a->x, z2z2);
    fmul(u2, b->x, z1z1);
    fmul(s1, a->y, b->z);
    fmul(s1, s1, z2z2);
    fmul(s2, b->y, a->z);
    fmul(s2, s2, z1z1);
    fsub(h, u2, u1);
    fsub(rr, s2, s1);
    if (is_zero(h)) {
        if (is_zero(rr))
            pt_double(r, a);
        else
            memset(r->z, 0, sizeof(fe)); /* a == -b */
        return;
    }
    fmul(r->z, a->z, b->z);
    fmul(r->z, r->z, h);
    fmul(z1z1, h, h);     /* HH */
    fmul(z2z2, h, z1z1);  /* HHH */
    fmul(u1, u1, z1z1);   /* V */
    fmul(r->x, rr, rr);
    fsub(r->x, r->x, z2z2);
    fsub(r->x, r->x, u1);
    fsub(r->x, r->x, u1);
    fsub(h, u1, r->x);
    fmul(h, rr, h);
    fmul(s1, s1, z2z2);
    fsub(r->y, h, s1);
}

static unsigned bit_of(const fe k, unsigned i)
{
    return (k[i >> 5] >> (i & 31)) & 1u;
}

/* x(pt) == r, tested as r * Z^2 == X so that no field inversion is needed; r must be < p. */
static int x_matches(const fe r, const jac_point *pt)
{
    fe t, zz;
    to_mont(t, r, &P);
    fmul(zz, pt->z, pt->z);
    fmul(t, t, zz);
    return cmp(t, pt->x) == 0;
}

int spb_p256_verify(const uint8_t public_key[64], const uint8_t digest[32], const uint8_t signature[64])
{
    fe r, s, e, w, u1, u2, lhs, rhs;
    jac_point table[3]; /* G, Q, G + Q */
    jac_point acc;
    static const fe one = {1};
    int i;

    load_be(r, signature);
    load_be(s, signature + 32);
    if (is_zero(r) || is_zero(s) || cmp(r, N.m) >= 0 || cmp(s, N.m) >= 0)
        return 1;

    /* Public key: coordinates must be canonical and satisfy y^2 = x^3 - 3x + b. The all-zero encoding
     * some libraries use for infinity fails the curve equation (b != 0), so needs no special case. */
    load_be(table[1].x, public_key);
    load_be(table[1].y, public_key + 32);
    if (cmp(table[1].x, P.m) >= 0 || cmp(table[1].y, P.m) >= 0)
        return 2;
    to_mont(table[1].x, table[1].x, &P);
    to_mont(table[1].y, table[1].y, &P);
    to_mont(table[1].z, one, &P);
    fmul(lhs, table[1].y, table[1].y);
    fmul(rhs, table[1].x, table[1].x);
    fmul(rhs, rhs, table[1].x);
    fsub(rhs, rhs, table[1].x);
    fsub(rhs, rhs, table[1].x);
    fsub(rhs, rhs, table[1].x);
    to_mont(w, CURVE_B, &P);
    fadd(rhs, rhs, w);
    if (cmp(lhs, rhs) != 0)
        return 3;

    to_mont(table[0].x, GX, &P);
    to_mont(table[0].y, GY, &P);
    memcpy(table[0].z, table[1].z, sizeof(fe));
    pt_add(&table[2], &table[0], &table[1]);

    /* w = s^-1 * 2^256 (mod n); multiplying a plain value by it leaves the Montgomery domain, so u1
     * and u2 come out as ordinary integers. The digest needs no reduction: mont_mul accepts a < 2^256. */
    to_mont(w, s, &N);
    mont_inv(w, w, &N);
    load_be(e, digest);
    mont_mul(u1, e, w, &N);
    mont_mul(u2, r, w, &N);

    memset(acc.z, 0, sizeof(fe));
    for (i = 255; i >= 0; i--) {
        unsigned idx = bit_of(u1, (unsigned)i) | (bit_of(u2, (unsigned)i) << 1);
        pt_double(&acc, &acc);
        if (idx)
            pt_add(&acc, &acc, &table[idx - 1]);
    }
    if (is_zero(acc.z))
        return 4;

    /* Accept iff x(acc) mod n == r. As n < x < p is possible, also try r + n when it is below p. */
    if (x_matches(r, &acc))
        return 0;
    if (!add(r, r, N.m) && cmp(r, P.m) < 0 && x_matches(r, &acc))
        return 0;
    return 5;
}
