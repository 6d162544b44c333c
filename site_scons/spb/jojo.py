# SPDX-License-Identifier: Apache-2.0
"""The "compat" patch encoding: a JojoDiff opcode stream, the format devices running the original v1.x
bootloader apply (docs/formats.md, "Compat patches"). Written from the format facts only.

    ESC (0xA7) + opcode starts an operation:
      MOD 0xA6  literals follow; each replaces one source byte (the source position advances)
      INS 0xA5  literals follow; inserted (the source position stays)
      DEL 0xA4  length follows; skip that many source bytes
      EQL 0xA3  length follows; copy that many source bytes
      BKT 0xA2  length follows; move the source position back
    Literal 0xA7 inside MOD/INS is written A7 A7; A7 followed by a byte that is not an opcode stands for
    both bytes. Lengths: b <= 251 -> b + 1; 252 -> 253 + next byte; 253 -> next 2 bytes; 254 -> next 4
    bytes (big-endian).

Mirrors bootloader/src/patch_jojo.c.
"""

from __future__ import annotations

from collections.abc import Iterable

from .diffmatch import COMPAT, Match, find_matches
from .errors import PatchFormatError

ESC, MOD, INS, DEL, EQL, BKT = 0xA7, 0xA6, 0xA5, 0xA4, 0xA3, 0xA2
OPCODES = (MOD, INS, DEL, EQL, BKT)
MIN_EQL = 4  # an EQL between literals costs about 4 bytes of opcodes: shorter runs stay literal


def _length(n: int) -> bytes:
    if n <= 252:
        return bytes([n - 1])
    if n <= 508:
        return bytes([252, n - 253])
    if n <= 0xFFFF:
        return bytes([253]) + n.to_bytes(2, "big")
    return bytes([254]) + n.to_bytes(4, "big")


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()
        self.mode: int | None = None  # MOD or INS while literals are open

    def literals(self, op: int, data: bytes) -> None:
        if not data:
            return
        if self.mode != op:
            self.out += bytes([ESC, op])
            self.mode = op
        if ESC not in data:
            self.out += data
            return
        for b in data:
            self.out.append(b)
            if b == ESC:
                self.out.append(ESC)  # always doubled: the next byte may be an opcode of what follows

    def op(self, op: int, n: int) -> None:
        if n <= 0:
            return
        self.out += bytes([ESC, op]) + _length(n)
        self.mode = None


def encode(old: bytes, new: bytes, matches: Iterable[Match] | None = None) -> bytes:
    if matches is None:
        matches = find_matches(old, new, COMPAT)
    w = _Writer()
    src = dst = 0
    # A match shorter than MIN_EQL costs more in opcodes than it saves: its bytes stay literals.
    for start, old_start, length in matches:
        if length < MIN_EQL:
            continue
        gap = new[dst:start]
        distance = old_start - src  # how far the source must move while the gap is written
        if 0 <= distance <= len(gap):
            w.literals(MOD, gap[:distance])
            w.literals(INS, gap[distance:])
        elif distance > len(gap):
            w.literals(MOD, gap)
            w.op(DEL, distance - len(gap))
        else:
            w.literals(INS, gap)
            w.op(BKT, -distance)
        w.op(EQL, length)
        src, dst = old_start + length, start + length
    tail = new[dst:]
    room = max(0, len(old) - src)
    w.literals(MOD, tail[:room])
    w.literals(INS, tail[room:])
    return bytes(w.out)


def apply(old: bytes, patch: bytes) -> bytes:
    """Reference decoder, byte by byte like the device's: raises PatchFormatError on a bad stream."""
    out = bytearray()
    src = 0
    i, n = 0, len(patch)
    mode: int | None = None

    def take_length(i: int) -> tuple[int, int]:
        if i >= n:
            raise PatchFormatError("truncated length")
        b = patch[i]
        if b <= 251:
            return b + 1, i + 1
        if b == 252 and i + 1 < n:
            return 253 + patch[i + 1], i + 2
        if b == 253 and i + 2 < n:
            return int.from_bytes(patch[i + 1 : i + 3], "big"), i + 3
        if b == 254 and i + 4 < n:
            return int.from_bytes(patch[i + 1 : i + 5], "big"), i + 5
        raise PatchFormatError(f"bad length byte {b:#04x} at {i}")

    while i < n:
        b = patch[i]
        if b != ESC:
            if mode is None:
                raise PatchFormatError(f"Expected ESC but got {b:02x} at offset {i}")
            out.append(b)
            if mode == MOD:
                src += 1
            i += 1
            continue
        if i + 1 >= n:
            raise PatchFormatError("patch ends inside an escape")
        op = patch[i + 1]
        if op in (MOD, INS):
            mode = op
            i += 2
        elif op in (DEL, EQL, BKT):
            length, i = take_length(i + 2)
            if op == EQL:
                if src + length > len(old):
                    raise PatchFormatError(f"EQL {length} at source {src} runs past the old image ({len(old)})")
                out += old[src : src + length]
                src += length
            elif op == DEL:
                src += length
            else:
                if length > src:
                    raise PatchFormatError(f"BKT {length} before the start of the old image (at {src})")
                src -= length
            mode = None
        elif mode is not None:
            # ESC ESC is one literal ESC; ESC + other byte are two literals.
            out.append(ESC)
            if op != ESC:
                out.append(op)
            count = 1 if op == ESC else 2
            if mode == MOD:
                src += count
            i += 2
        else:
            raise PatchFormatError(f"Unsupported operator {op:02x} at offset {i + 1}")
    return bytes(out)
