# SPDX-License-Identifier: Apache-2.0
"""Unit tests of p256.c's internals (field and scalar arithmetic, wNAF recoding, point formulas) against
Python integers, through the entry points it exports when built with SPB_P256_TESTING (host only).

The differential tests in test_crypto_differential.py check whole verifications; these reach the carry
and reduction corner cases that random signatures almost never hit (operands next to p, products next to
p 2^256, inverses of 1 and of m - 1, ...). Both builds run: the Cortex-M3/M4 one and the Cortex-M0+ one
(SPB_P256_MUL16: 16x16 limb products in 16-bit lanes, Karatsuba, 32-bit carry chains).
"""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import subprocess

import pytest

from support.cbuild import CACHE, REPO, build
from support.ec_ref import G, N, P, ec_add, ec_mul

SEED = 0x5B0072
CRYPTO = REPO / "bootloader" / "src" / "crypto"

R = 2**256
RINV = pow(R, -1, P)

U8 = ctypes.c_uint32 * 8
U16 = ctypes.c_uint32 * 16
U24 = ctypes.c_uint32 * 24


@pytest.fixture(scope="module", params=["umull", "mul16"])
def p256(request):
    defines = ["SPB_P256_TESTING"] + (["SPB_P256_MUL16"] if request.param == "mul16" else [])
    so = build(f"spb_p256_internals-{request.param}", [CRYPTO / "p256.c"], include_dirs=[CRYPTO], defines=defines)
    lib = ctypes.CDLL(str(so))
    lib.spb_p256_test_mod_inv.restype = ctypes.c_int
    lib.spb_p256_test_mod_inv.argtypes = [U8, U8, ctypes.c_int, ctypes.c_uint]
    lib.spb_p256_test_wnaf.restype = ctypes.c_int
    lib.spb_p256_test_wnaf.argtypes = [ctypes.POINTER(ctypes.c_int16), U8, ctypes.c_uint]
    lib.spb_p256_test_pt_madd.restype = ctypes.c_int
    return lib


def limbs(v: int, n: int = 8):
    return (ctypes.c_uint32 * n)(*[(v >> (32 * i)) & 0xFFFFFFFF for i in range(n)])


def value(a) -> int:
    return sum(a[i] << (32 * i) for i in range(len(a)))


def edge_values(m: int):
    """Operands that stress carries: 0, 1, 2, m - 1, m - 2, powers of two, words of all ones/zeros."""
    vals = {
        0,
        1,
        2,
        m - 1,
        m - 2,
        m // 2,
        (m + 1) // 2,
        2**255 % m,
        2**224,
        2**192 - 1,
        2**96,
        2**32 - 1,
        2**64 - 1,
        (2**256 - 1) % m,
        0xFFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000 % m,
    }
    vals |= {m - 2**k for k in (0, 31, 32, 33, 95, 96, 97, 191, 192, 223, 224)}
    return sorted(v for v in vals if 0 <= v < m)


def test_field_mul_sqr(p256):
    rng = random.Random(SEED)
    ops = [(a, b) for a in edge_values(P) for b in edge_values(P)]
    ops += [(rng.randrange(P), rng.randrange(P)) for _ in range(3000)]
    r = U8()
    for a, b in ops:
        p256.spb_p256_test_fe_mul(r, limbs(a), limbs(b))
        assert value(r) == a * b * RINV % P, (hex(a), hex(b))
        p256.spb_p256_test_fe_sqr(r, limbs(a))
        assert value(r) == a * a * RINV % P, hex(a)


def test_field_reduce_extremes(p256):
    """fe_reduce takes any c < p 2^256 (products of canonical values are below p^2)."""
    rng = random.Random(SEED + 1)
    cs = [
        0,
        1,
        P - 1,
        P,
        (P - 1) ** 2,
        P * R - 1,
        P * R - P,
        (P - 1) * R,
        R - 1,
        R,
        R * R // 2,
        (P - 1) * (R - 1) % (P * R),
    ]
    cs += [rng.randrange(P * R) for _ in range(3000)]
    cs += [rng.randrange(P * R - 2**200, P * R) for _ in range(500)]
    r = U8()
    for c in cs:
        p256.spb_p256_test_fe_reduce(r, limbs(c, 16))
        assert value(r) == c * RINV % P, hex(c)


def test_field_add_sub(p256):
    rng = random.Random(SEED + 2)
    ops = [(a, b) for a in edge_values(P) for b in edge_values(P)]
    ops += [(rng.randrange(P), rng.randrange(P)) for _ in range(3000)]
    r = U8()
    for a, b in ops:
        p256.spb_p256_test_fe_add(r, limbs(a), limbs(b))
        assert value(r) == (a + b) % P, (hex(a), hex(b))
        p256.spb_p256_test_fe_sub(r, limbs(a), limbs(b))
        assert value(r) == (a - b) % P, (hex(a), hex(b))


@pytest.mark.parametrize("modulus", ["p", "n"])
def test_mod_inv(p256, modulus):
    m = N if modulus == "n" else P
    rng = random.Random(SEED + 3)
    r = U8()
    for a in edge_values(m)[1:] + [rng.randrange(1, m) for _ in range(1500)]:
        for e in (0, 256):
            assert p256.spb_p256_test_mod_inv(r, limbs(a), modulus == "n", e) == 0
            assert value(r) == pow(a, -1, m) * 2**e % m, (modulus, hex(a), e)
    assert p256.spb_p256_test_mod_inv(r, limbs(0), modulus == "n", 0) != 0  # no inverse, no hang


def test_mont_mul_n(p256):
    rng = random.Random(SEED + 4)
    ops = [(a, b) for a in edge_values(N) for b in edge_values(N)]
    ops += [(rng.randrange(N), rng.randrange(N)) for _ in range(2000)]
    r = U8()
    ninv = pow(R, -1, N)
    for a, b in ops:
        p256.spb_p256_test_mont_mul_n(r, limbs(a), limbs(b))
        assert value(r) == a * b * ninv % N, (hex(a), hex(b))


@pytest.mark.parametrize("w", [3, 4, 5, 6, 7])
def test_wnaf(p256, w):
    rng = random.Random(SEED + 5 + w)
    out = (ctypes.c_int16 * 260)()
    for k in edge_values(N) + [rng.randrange(N) for _ in range(1000)]:
        count = p256.spb_p256_test_wnaf(out, limbs(k), w)
        total, last = 0, None
        for i in range(count):
            pos = out[i] & 511
            d = (out[i] - pos) // 512
            assert d % 2 == 1 and -(1 << (w - 1)) < d < (1 << (w - 1)), (hex(k), d)
            assert pos <= 256 and (last is None or pos >= last + w), (hex(k), pos, last)
            total += d << pos
            last = pos
        assert total == k, hex(k)
        assert count <= (257 + w - 1) // w


# ---- point formulas, against affine arithmetic


def jacobian(pt, z):
    """Montgomery-domain Jacobian coordinates of an affine point (None: infinity) with the given Z."""
    if pt is None:
        return limbs(0, 24)
    x, y = pt[0] * z * z % P, pt[1] * z * z * z % P
    return limbs((x * R % P) | ((y * R % P) << 256) | ((z * R % P) << 512), 24)


def affine(j):
    x, y, z = (value(j[8 * i : 8 * i + 8]) * RINV % P for i in range(3))
    if z == 0:
        return None
    zi = pow(z, -1, P)
    return x * zi * zi % P, y * zi * zi * zi % P


def test_point_double_and_add(p256):
    rng = random.Random(SEED + 6)
    pts = [ec_mul(rng.randrange(1, N), G) for _ in range(12)] + [G, ec_mul(N - 1, G)]
    out = U24()
    for a in pts:
        ja = jacobian(a, rng.randrange(1, P))
        p256.spb_p256_test_pt_dbl(out, ja)
        assert affine(out) == ec_add(a, a)
        for b in pts + [a, (a[0], P - a[1])]:
            bm = limbs((b[0] * R % P) | ((b[1] * R % P) << 256), 16)
            for neg in (0, 1):
                want = ec_add(a, (b[0], (P - b[1]) % P) if neg else b)
                ret = p256.spb_p256_test_pt_madd(out, ja, bm, neg)
                if want is not None and ec_add(a, a) == want and a == ((b[0], (P - b[1]) % P) if neg else b):
                    assert ret == 1  # a == +-b: the caller doubles instead
                else:
                    assert ret == 0 and affine(out) == want, (a, b, neg)
    # The point at infinity as the Jacobian input: madd gives +-b, doubling keeps infinity.
    b = pts[0]
    bm = limbs((b[0] * R % P) | ((b[1] * R % P) << 256), 16)
    for neg in (0, 1):
        assert p256.spb_p256_test_pt_madd(out, jacobian(None, 0), bm, neg) == 0
        assert affine(out) == ((b[0], (P - b[1]) % P) if neg else b)
    p256.spb_p256_test_pt_dbl(out, jacobian(None, 0))
    assert affine(out) is None


# ---- valgrind: no read of uninitialised memory anywhere in a verification

VALGRIND_MAIN = r"""
#include <stdio.h>
#include "p256.h"
#include "sha256.h"

static void hex(unsigned char *out, const char *s, int n)
{
    for (int i = 0; i < n; i++)
        sscanf(s + 2 * i, "%2hhx", &out[i]);
}

int main(int argc, char **argv)
{
    unsigned char pk[64], digest[32], sig[64], h[32];
    char a[200], b[100], c[200];
    int want, bad = 0, count = 0;
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    while (f && fscanf(f, "%199s %99s %199s %d", a, b, c, &want) == 4) {
        hex(pk, a, 64);
        hex(digest, b, 32);
        hex(sig, c, 64);
        spb_sha256(sig, sizeof sig, h);
        bad += (spb_p256_verify(pk, digest, sig) == 0) != want;
        count++;
    }
    printf("%d cases, %d wrong, %02x\n", count, bad, h[0]);
    return bad != 0 || count == 0;
}
"""


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
@pytest.mark.parametrize("variant", ["umull", "mul16"])
def test_valgrind_clean(variant, tmp_path):
    """Memcheck over valid, invalid and exceptional-path signatures (the old verify read its accumulator
    and point at infinity before writing all of them)."""
    import test_crypto_differential as diff

    lines = []
    for _, pk, digest, sig in diff._edge_cases()[:30]:
        lines.append(f"{pk.hex()} {digest.hex()} {sig.hex()} {int(diff.ref_verify(pk, digest, sig))}")
    for _name, d, u1, u2 in diff._forged_cases():
        forged = diff._forge(d, u1, u2)
        if forged:
            lines.append(" ".join(x.hex() for x in forged) + " 1")
    (tmp_path / "cases.txt").write_text("\n".join(lines) + "\n")
    CACHE.mkdir(parents=True, exist_ok=True)
    main = CACHE / "valgrind_main.c"  # a fixed path, so the build cache can reuse the executable
    if not main.exists() or main.read_text() != VALGRIND_MAIN:
        tmp = main.with_name(f"{main.name}.{os.getpid()}")
        tmp.write_text(VALGRIND_MAIN)
        os.replace(tmp, main)  # atomic: parallel workers never see half a file
    defines = ["SPB_P256_MUL16", "SPB_SHA256_SMALL"] if variant == "mul16" else []
    exe = build(
        f"spb_crypto_valgrind-{variant}",
        [main, CRYPTO / "p256.c", CRYPTO / "sha256.c"],
        include_dirs=[CRYPTO],
        defines=defines,
        shared=False,
    )
    res = subprocess.run(
        ["valgrind", "--error-exitcode=9", "-q", str(exe), str(tmp_path / "cases.txt")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert ", 0 wrong" in res.stdout
