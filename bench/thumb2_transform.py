#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Experiment (issue 15): does a reversible Thumb-2 transform, applied to both images before diffing,
make compact patches smaller?

The idea (Courgette, Zucchini): after code is inserted, every call across the insertion and every
literal-pool pointer into moved code changes, although "the same" instruction is there. Rewriting
those fields so that they do not depend on where they sit could turn such changes into equal bytes.
Two transforms, each its own inverse given the same image positions (so a device could undo it on the
fly), are tried alone and together:

  bl    BL and B.W (T4) at every halfword: the low 21 bits of the branch offset (imm10:imm11; S, J1
        and J2 are left alone) become the low 21 bits of the target (position + 4 + offset, in
        halfwords). A call to a function that did not move then keeps its bytes when the caller
        moves. Which halfword pairs are branches is decided from bits the transform does not touch
        (11110 in the first halfword, 1?1?1 / 1?0?1 in the second, and the second is not itself a
        first halfword), so the inverse finds the same pairs.
  pool  32-bit words at 4-byte aligned positions that point into the 16 MiB of flash from the image's
        base (0x08000000 here) become position-relative: w - base - position + 0x6A000000, and the
        words in that relative range are swapped the other way, so the map stays a bijection. A
        pointer into code that moved with its literal pool then keeps its bytes.

For each pair of bench/patch_sizes.py (bench/fwpairs and the corpus, both must have been built), it
prints the compact patch of the plain images and of the transformed ones (the transform is applied
to old and new, the patch made between the transformed images; the device would undo the transform
on its output) and checks that every transform is reversed exactly.

    .venv/bin/python bench/thumb2_transform.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "site_scons"))

from spb import compact  # noqa: E402

FLASH_BASE = 0x08000000
WINDOW = 1 << 24
REL_BASE = 0x6A000000  # where relative pointers go: far from small ints, RAM, peripherals, flash
MASK21 = (1 << 21) - 1


def _hw(data: bytes | bytearray, i: int) -> int:
    return data[i] | data[i + 1] << 8


def _first(h: int) -> bool:
    return h & 0xF800 == 0xF000


def _second(h: int) -> bool:
    return h & 0xD000 in (0xD000, 0x9000)  # BL, B.W (T4)


def branches(data: bytes | bytearray) -> list[int]:
    """Positions of the halfword pairs taken for BL / B.W (from bits the transform leaves alone)."""
    out = []
    for i in range(0, len(data) - 3, 2):
        h1, h2 = _hw(data, i), _hw(data, i + 2)
        if _first(h1) and _second(h2) and not _first(h2):
            out.append(i)
    return out


def bl_transform(data: bytes, inverse: bool = False) -> bytes:
    out = bytearray(data)
    for i in branches(data):
        h1, h2 = _hw(out, i), _hw(out, i + 2)
        v = (h1 & 0x3FF) << 11 | (h2 & 0x7FF)
        v = (v + (-1 if inverse else 1) * (i // 2 + 2)) & MASK21
        h1 = (h1 & ~0x3FF) | v >> 11
        h2 = (h2 & ~0x7FF) | (v & 0x7FF)
        out[i : i + 4] = bytes([h1 & 0xFF, h1 >> 8, h2 & 0xFF, h2 >> 8])
    return bytes(out)


def pool_transform(data: bytes, inverse: bool = False) -> bytes:
    """An involution per position (inverse is the same map): swaps [base, base + W) with the
    position's relative window."""
    del inverse
    out = bytearray(data)
    for i in range(0, len(data) - 3, 4):
        w = int.from_bytes(data[i : i + 4], "little")
        rel = (REL_BASE - i) & 0xFFFFFFFF
        if FLASH_BASE <= w < FLASH_BASE + WINDOW:
            w = (w - FLASH_BASE + rel) & 0xFFFFFFFF
        elif 0 <= (w - rel) & 0xFFFFFFFF < WINDOW:
            w = (w - rel + FLASH_BASE) & 0xFFFFFFFF
        else:
            continue
        out[i : i + 4] = w.to_bytes(4, "little")
    return bytes(out)


TRANSFORMS = {
    "bl": [bl_transform],
    "pool": [pool_transform],
    "bl+pool": [bl_transform, pool_transform],
}


def forward(data: bytes, steps) -> bytes:
    for t in steps:
        data = t(data)
    return data


def backward(data: bytes, steps) -> bytes:
    for t in reversed(steps):
        data = t(data, inverse=True)
    return data


def load_pairs():
    pairs = []
    for board in ("NUCLEO-L452RE", "NUCLEO-L073RZ"):
        d = REPO / "build" / "bench" / "fwpairs" / board
        if not (d / "meter_base.bin").exists():
            print(f"{d}: not built (run bench/patch_sizes.py first)")
            continue
        old = (d / "meter_base.bin").read_bytes()
        for name in ("small", "func", "large", "opt"):
            pairs.append((board, name, old, (d / f"meter_{name}.bin").read_bytes()))
    corpus = REPO / "build" / "bench" / "corpus"
    chains = {
        "micropython": ["v1.24.0", "v1.25.0", "v1.26.0", "v1.27.0"],
        "littlefs": ["v2.9.3", "v2.10.2", "v2.11.2"],
        "mbedtls": ["v3.5.2", "v3.6.0", "v3.6.3", "v3.6.6"],
        "freertos": ["V10.6.2", "V11.0.1", "V11.1.0", "V11.2.0"],
    }
    for project, tags in chains.items():
        for a, b in zip(tags, tags[1:]):
            pa, pb = corpus / f"{project}-{a}.bin", corpus / f"{project}-{b}.bin"
            if pa.exists() and pb.exists():
                pairs.append((project, f"{a}->{b}", pa.read_bytes(), pb.read_bytes()))
            else:
                print(f"{pa.name} / {pb.name}: not built (bench/corpus/build.py)")
    return pairs


def main() -> int:
    pairs = load_pairs()
    names = list(TRANSFORMS)
    head = f"{'project/board':<14} {'pair':<17} {'BL':>5} {'ptrs':>5} {'plain':>6} "
    print(head + " ".join(f"{n:>13}" for n in names))
    logs: dict[str, list[float]] = {n: [] for n in names}
    ok = True
    for board, name, old, new in pairs:
        plain = len(compact.encode(old, new))
        cells = []
        for n in names:
            steps = TRANSFORMS[n]
            to, tn = forward(old, steps), forward(new, steps)
            ok &= backward(to, steps) == old and backward(tn, steps) == new
            size = len(compact.encode(to, tn))
            logs[n].append(math.log(size / plain))
            cells.append(f"{size:>6} {size / plain:>6.3f}")
        n_bl = len(branches(new))
        n_ptr = sum(
            1
            for i in range(0, len(new) - 3, 4)
            if FLASH_BASE <= int.from_bytes(new[i : i + 4], "little") < FLASH_BASE + WINDOW
        )
        print(f"{board:<14} {name:<17} {n_bl:>5} {n_ptr:>5} {plain:>6} " + " ".join(cells))
    means = [f"{n} {math.exp(sum(v) / len(v)):.3f}" for n, v in logs.items() if v]
    print("geo-mean transformed / plain: " + ", ".join(means))
    print("every transform reversed exactly" if ok else "A TRANSFORM DID NOT REVERSE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
