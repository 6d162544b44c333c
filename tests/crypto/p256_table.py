#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates the precomputed table of p256.c: the odd multiples G, 3G, 5G, ..., (2^(w-1) - 1)G of the
P-256 base point in affine coordinates, in the Montgomery domain of p256.c's field arithmetic (each
coordinate times 2^256 mod p), as little-endian 32-bit limbs, for wNAF widths w up to MAX_W; the entries
a narrower window does not use are behind `#if G_W >= w`. test_crypto_differential.py checks
that the table in p256.c is exactly this output, so edit the script, not the table, and paste:

    python3 tests/crypto/p256_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.ec_ref import G, P, ec_add


def odd_multiples(count: int):
    two_g = ec_add(G, G)
    pt, out = G, []
    for _ in range(count):
        out.append(pt)
        pt = ec_add(pt, two_g)
    return out


def limbs(v: int) -> str:
    v = v * 2**256 % P  # Montgomery form
    return ", ".join(f"0x{(v >> (32 * i)) & 0xFFFFFFFF:08x}u" for i in range(8))


MAX_W = 7


def table_c(max_w: int = MAX_W) -> str:
    lines = []
    for k, (x, y) in enumerate(odd_multiples(1 << (max_w - 2))):
        if k >= 2 and k & (k - 1) == 0:  # entries 2^(w-3) .. 2^(w-2) - 1 belong to width w
            if k > 2:
                lines.append("#endif")
            lines.append(f"#if G_W >= {k.bit_length() + 2}")
        lines.append(f"    {{{{{limbs(x)}}},  /* {2 * k + 1}G */\n     {{{limbs(y)}}}}},")
    if len(lines) > 2 * 2:
        lines.append("#endif")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table_c())
