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

Encoder: every operation costs its ESC + opcode, so a change of k bytes inside copied code costs at
least k + 5 bytes (ESC MOD, the literals, ESC EQL, a length). Given the exact matches of
spb/diffmatch.py, a dynamic program picks the ones worth an EQL (a short one between literals is cheaper
as literals; a match that overlaps the previous one is kept from where that one ends), with the exact
costs of lengths, of MOD vs INS vs DEL/BKT for each gap, and of escapes. A literal A7 is doubled only
when the byte after it would be misread (an opcode or A7, or an operation follows).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from functools import partial
from operator import itemgetter, lt

from .diffmatch import COMPAT, Match, find_matches
from .errors import PatchFormatError

ESC, MOD, INS, DEL, EQL, BKT = 0xA7, 0xA6, 0xA5, 0xA4, 0xA3, 0xA2
OPCODES = (MOD, INS, DEL, EQL, BKT)
#: After a literal ESC these bytes would be read as an opcode or as the second half of "A7 A7".
_SPECIAL = frozenset((ESC, *OPCODES))
WINDOW = 8  # earlier matches weighed as the one kept before each match (4 already finds the same on bench/)


def _length(n: int) -> bytes:
    if n <= 252:
        return bytes([n - 1])
    if n <= 508:
        return bytes([252, n - 253])
    if n <= 0xFFFF:
        return bytes([253]) + n.to_bytes(2, "big")
    return bytes([254]) + n.to_bytes(4, "big")


#: ESC EQL and the length, for the short lengths.
_EQL = [b""] + [bytes([ESC, EQL]) + _length(n) for n in range(1, 509)]


def _op_cost(n: int) -> int:
    """Bytes of ESC + opcode + length for a run of n."""
    return 3 if n <= 252 else 4 if n <= 508 else 5 if n <= 0xFFFF else 7


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()
        self.mode: int | None = None  # MOD or INS while literals are open

    def literals(self, op: int, data: bytes) -> None:
        """One run of literals; an operation or the end of the patch follows it."""
        if not data:
            return
        if self.mode != op:
            self.out += bytes([ESC, op])
            self.mode = op
        if ESC not in data:
            self.out += data
            return
        last = len(data) - 1
        for i, b in enumerate(data):
            self.out.append(b)
            # A7 + a byte that is neither an opcode nor A7 stands for both bytes: no doubling needed.
            if b == ESC and (i == last or data[i + 1] in _SPECIAL):
                self.out.append(ESC)

    def op(self, op: int, n: int) -> None:
        if n <= 0:
            return
        self.out += bytes([ESC, op]) + _length(n)
        self.mode = None


class _Escapes:
    """Literal bytes that cost two: new positions of an A7 followed by an opcode byte or A7 (an A7 at
    the end of a literal run costs two as well; the search ignores that, the writer does not)."""

    def __init__(self, new: bytes) -> None:
        self.positions: list[int] = []
        i = new.find(ESC)
        while i >= 0:
            if i + 1 >= len(new) or new[i + 1] in _SPECIAL:
                self.positions.append(i)
            i = new.find(ESC, i + 1)

    def before(self, stops: list[int]) -> list[int]:
        """count(0, stop) for each stop."""
        if not self.positions:
            return [0] * len(stops)
        return list(map(partial(bisect_left, self.positions), stops))

    def count(self, start: int, stop: int) -> int:
        if not self.positions or start >= stop:
            return 0
        return bisect_left(self.positions, stop) - bisect_left(self.positions, start)


def _gap_cost(g: int, d: int, literal: int) -> int:
    """Bytes for g new bytes written as literals (literal = their cost with escapes) while the source
    moves by d: MOD keeps the source in step, INS does not, DEL/BKT move it."""
    if g == 0:
        return 0 if d == 0 else _op_cost(abs(d))
    if 0 <= d <= g:
        return literal + (2 if d else 0) + (2 if d < g else 0)
    return literal + 2 + _op_cost(d - g if d > 0 else -d)


def _choose(new: bytes, matches: list[Match]) -> list[Match]:
    """The matches to write as EQL that give the shortest stream, by dynamic programming over the
    candidates (sorted by new start; they may overlap). A dropped candidate becomes literals of the gap
    around it; a candidate that overlaps the one kept before it is kept from where that one ends."""
    esc = _Escapes(new)
    m = len(matches)
    best = [0] * m
    back = [-1] * m
    ends = [s + n for s, _, n in matches]
    src_ends = [o + n for _, o, n in matches]
    # Escaped literals before each match's start and end: those of a gap are a difference of two.
    esc_start = esc.before([s for s, _, _ in matches])
    esc_end = esc.before(ends)
    # Bounds for skipping the window (below): the largest end and the least best[k] - ends[k] of the
    # matches before i - 1.
    reach, low_key = -1, 0
    for i, (start, old_start, length) in enumerate(matches):
        end = ends[i]
        if i >= 2:
            k = i - 2
            if ends[k] > reach:
                reach = ends[k]
            if best[k] - ends[k] < low_key or k == 0:
                low_key = best[k] - ends[k]
            if ends[i - 1] <= start and reach < start:
                # Dense matches: match k ending before start costs at least best[k] + the gap's
                # literals + ESC and an opcode, best[k] - ends[k] + start + 2 >= low_key + start + 2, and
                # the start of the images at least start. When i - 1 costs less than both, it is the
                # (first) cheapest: the window is not searched.
                g = start - ends[i - 1]
                c = best[i - 1] + _gap_cost(g, old_start - src_ends[i - 1], g + esc_start[i] - esc_end[i - 1])
                if c < start and c < low_key + start + 2:
                    best[i] = c + (3 if length <= 252 else _op_cost(length))
                    back[i] = i - 1
                    continue
        # From the start of the images (dst = src = 0).
        cost = _gap_cost(start, old_start, start + esc_start[i])
        choice = -1
        for k in range(max(0, i - WINDOW), i):
            dst = ends[k]
            if dst >= end:
                continue
            d = old_start - src_ends[k]
            if dst > start:  # overlap: the rest of match i, right after match k
                d += dst - start
                c = best[k] + (_op_cost(abs(d)) if d else -_op_cost(matches[k][2]))  # d == 0: one longer EQL
            else:
                g = start - dst
                c = best[k] + _gap_cost(g, d, g + esc_start[i] - esc_end[k])
            if c < cost:
                cost, choice = c, k
        best[i] = cost + _op_cost(length)
        back[i] = choice
    # The tail after the last kept match: one literal run.
    n = len(new)
    end_cost, last = n + esc.count(0, n) + (2 if n else 0), -1
    for k in range(max(0, m - WINDOW), m):
        dst = matches[k][0] + matches[k][2]
        c = best[k] + (n - dst + esc.count(dst, n) + 2 if dst < n else 0)
        if c < end_cost:
            end_cost, last = c, k
    chain: list[int] = []
    while last >= 0:
        chain.append(last)
        last = back[last]
    kept: list[Match] = []
    for i in reversed(chain):
        start, old_start, length = matches[i]
        if kept:
            s_k, o_k, l_k = kept[-1]
            cut = s_k + l_k - start
            if cut > 0:
                start, old_start, length = start + cut, old_start + cut, length - cut
            if s_k + l_k == start and o_k + l_k == old_start:  # same displacement: one EQL
                kept[-1] = (s_k, o_k, l_k + length)
                continue
        kept.append((start, old_start, length))
    return kept


def encode(old: bytes, new: bytes, matches: Iterable[Match] | None = None) -> bytes:
    """The compat patch. matches: exact matches to choose from (spb.patch.make_patch passes those of
    diffmatch.COMPAT; they may overlap), else they are searched here."""
    if matches is None:
        matches = find_matches(old, new, COMPAT)
    return write(old, new, choose(new, matches))


def write(old: bytes, new: bytes, kept: Iterable[Match]) -> bytes:
    """The opcode stream for exact matches written as EQL (increasing, non-overlapping in new), every
    other new byte a literal. encode() decides which matches; the benchmark also writes others'."""
    w = _Writer()
    literals, out = w.literals, w.out
    src = dst = 0
    for start, old_start, length in kept:
        gap = new[dst:start]
        distance = old_start - src  # how far the source must move while the gap is written
        if distance == len(gap):  # the common case (a change in place): one MOD run
            literals(MOD, gap)
        elif 0 <= distance < len(gap):
            literals(MOD, gap[:distance])
            literals(INS, gap[distance:])
        elif distance > len(gap):
            literals(MOD, gap)
            w.op(DEL, distance - len(gap))
        else:
            literals(INS, gap)
            w.op(BKT, -distance)
        if 0 < length < len(_EQL):
            out += _EQL[length]
            w.mode = None
        else:
            w.op(EQL, length)
        src, dst = old_start + length, start + length
    tail = new[dst:]
    # One literal run: MOD while the old image lasts (the source position no longer matters).
    w.literals(MOD if len(tail) <= len(old) - src else INS, tail)
    return bytes(w.out)


def choose(new: bytes, matches: Iterable[Match]) -> list[Match]:
    """The subset of (possibly overlapping) matches encode() would write as EQL."""
    matches = list(matches)
    starts = list(map(itemgetter(0), matches))
    if all(map(lt, starts, starts[1:])) and all(map(itemgetter(2), matches)):
        # Already in order, no duplicates (all starts differ) and no empty match: as find_matches gives them.
        return _choose(new, matches)
    return _choose(new, sorted({m for m in matches if m[2] > 0}, key=lambda m: (m[0], -m[2])))


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
