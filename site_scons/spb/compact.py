# SPDX-License-Identifier: Apache-2.0
"""The "compact" patch encoding (protocol 0x0012): bsdiff-style blocks with sparse byte differences,
coded by an adaptive binary range coder. Mirrors bootloader/src/patch_compact.c; docs/formats.md
("Compact patches") is the normative description.

Stream (all symbols range coded, see below):

    new_size                                  uint
    repeat until new_size bytes are produced (each block produces at least one):
        seek                                  sign bit + uint   added to src (starts at 0)
        copy_len                              uint   bytes produced as old[src + i] + diff[i] (mod 256)
        if copy_len:
            ndiff                             uint   how many diff[i] are non-zero
            ndiff x ( gap uint, value diff )         zeros before the next non-zero diff, its value
                                                     (gap model: after a zero gap or not; diff: see
                                                     _put_diff, per output address parity)
        extra_len                             uint   literal bytes that follow
        extra_len x byte                             (literal model chosen by output address parity)

Why this shape: release-to-release firmware differs mostly by changed branch offsets and literal-pool
addresses inside otherwise equal code, so a copy with a few non-zero differences is far cheaper than
cutting the copy at every change; the differences cluster on particular byte lanes of 32-bit words,
so their values are modelled per address parity (the two bytes of a Thumb halfword), and so are
literals.

Range coder: LZMA-style, 32-bit range, 11-bit probabilities adapting by 1/32. Each binary decision
consumes at most one input byte, so a device that holds 40 bytes of input can always decode one whole
symbol: that is how it applies a patch pushed one byte at a time. Probability tables:
2 x 256 (diff values) + 6 (repeat flags) + 2 x 256 (literals) + 6 x 128 (uints) = 1798 u16 = 3596 bytes
of device RAM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from operator import sub

from .diffmatch import COMPACT, Match, find_matches
from .errors import PatchFormatError

PROB_BITS = 11
PROB_INIT = 1 << (PROB_BITS - 1)
MOVE = 5
TOP = 1 << 24
UINT_PROBS = 128  # 32 for the bit count + 32 x 3 for the two bits below the top bit
DIFF_CONTEXTS = 2
LITERAL_CONTEXTS = 2
MAX_PAST_END = 8  # zero bytes the decoder may read after the stored end
SEEK_SIGN = 127  # the one slot of the seek table the uint coder does not use


class _Models:
    def __init__(self) -> None:
        self.diff = [[PROB_INIT] * 256 for _ in range(DIFF_CONTEXTS)]
        self.literal = [[PROB_INIT] * 256 for _ in range(LITERAL_CONTEXTS)]
        self.copy_len = [PROB_INIT] * UINT_PROBS
        self.ndiff = [PROB_INIT] * UINT_PROBS
        self.gap = [PROB_INIT] * UINT_PROBS
        self.gap_adjacent = [PROB_INIT] * UINT_PROBS  # the gap after a zero gap (multi-byte changes)
        self.prev_gap_zero = False
        self.extra_len = [PROB_INIT] * UINT_PROBS
        self.seek = [PROB_INIT] * UINT_PROBS  # seek[127] (unused by the uint coder) is the sign
        # Difference values repeat (a moved call target changes every call to it by the same amount):
        # per lane, a flag "same as the lane's last value" (by whether the last was a repeat too), then
        # "same as the one before", then the value itself.
        self.repeat = [PROB_INIT] * 4
        self.repeat2 = [PROB_INIT] * 2
        self.last = [0, 0]
        self.last2 = [0, 0]
        self.last_rep = [0, 0]
        self.tables: _DiffTables | None = None  # the encoder's (_put_diffs)

    def gap_model(self) -> list[int]:
        return self.gap_adjacent if self.prev_gap_zero else self.gap


#: A probability after coding a 0 (_UP) or a 1 (_DOWN), as bit() computes it.
_UP = [p + (((1 << PROB_BITS) - p) >> MOVE) for p in range(1 << PROB_BITS)]
_DOWN = [p - (p >> MOVE) for p in range(1 << PROB_BITS)]
#: One binary decision for RangeEncoder.flat: (probabilities, index, bit).
Decision = tuple[list[int], int, int]


class RangeEncoder:
    def __init__(self) -> None:
        self.low = 0
        self.range = 0xFFFFFFFF
        self.cache = 0
        self.pending = 0  # 0xFF bytes waiting for a possible carry
        self.started = False
        self.out = bytearray()

    def _shift_low(self) -> None:
        if self.low < 0xFF000000 or self.low > 0xFFFFFFFF:
            carry = self.low >> 32
            if self.started:
                self.out.append((self.cache + carry) & 0xFF)
            self.started = True  # the first (always zero) byte of an LZMA-style coder is not stored
            self.out += bytes([(0xFF + carry) & 0xFF]) * self.pending
            self.pending = 0
            self.cache = (self.low >> 24) & 0xFF
        else:
            self.pending += 1
        self.low = (self.low << 8) & 0xFFFFFFFF

    def bit(self, probs: list[int], i: int, bit: int) -> None:
        p = probs[i]
        bound = (self.range >> PROB_BITS) * p
        if bit:
            self.low += bound
            self.range -= bound
            probs[i] = p - (p >> MOVE)
        else:
            self.range = bound
            probs[i] = p + (((1 << PROB_BITS) - p) >> MOVE)
        if self.range < TOP:
            self.range = (self.range << 8) & 0xFFFFFFFF
            self._shift_low()

    def code(self, segments: Iterable[tuple[list[int] | None, tuple[tuple[int, int], ...]]]) -> None:
        """Several decisions in one call (what bit() and direct() do, with the coder's state in locals):
        segments of (probs, ((i, bit), ...)), probs None for direct bits (i unused)."""
        low, rng = self.low, self.range
        for probs, path in segments:
            if probs is None:
                for _, bit in path:
                    rng >>= 1
                    if bit:
                        low += rng
                    if rng < TOP:
                        rng <<= 8
                        self.low = low
                        self._shift_low()
                        low = self.low
                continue
            for i, bit in path:
                p = probs[i]
                bound = (rng >> PROB_BITS) * p
                if bit:
                    low += bound
                    rng -= bound
                    probs[i] = p - (p >> MOVE)
                else:
                    rng = bound
                    probs[i] = p + (((1 << PROB_BITS) - p) >> MOVE)
                if rng < TOP:
                    rng <<= 8  # rng < 2**24: stays below 2**32
                    self.low = low
                    self._shift_low()
                    low = self.low
        self.low, self.range = low, rng

    def flat(self, decisions: Iterable[Decision]) -> None:
        """bit() for each (probs, i, bit), with the coder's state in locals."""
        low, rng, cache, pending, started, out = self.low, self.range, self.cache, self.pending, self.started, self.out
        shift, top, up, down = PROB_BITS, TOP, _UP, _DOWN
        for probs, i, bit in decisions:
            p = probs[i]
            bound = (rng >> shift) * p
            if bit:
                low += bound
                rng -= bound
                probs[i] = down[p]
            else:
                rng = bound
                probs[i] = up[p]
            if rng < top:
                rng <<= 8  # rng < 2**24: stays below 2**32
                # _shift_low
                if low < 0xFF000000 or low > 0xFFFFFFFF:
                    carry = low >> 32
                    if started:
                        out.append((cache + carry) & 0xFF)
                    started = True
                    if pending:
                        out += bytes([(0xFF + carry) & 0xFF]) * pending
                        pending = 0
                    cache = (low >> 24) & 0xFF
                else:
                    pending += 1
                low = (low << 8) & 0xFFFFFFFF
        self.low, self.range, self.cache, self.pending, self.started = low, rng, cache, pending, started

    def direct(self, value: int, count: int) -> None:
        for k in range(count - 1, -1, -1):
            self.range >>= 1
            if (value >> k) & 1:
                self.low += self.range
            if self.range < TOP:
                self.range = (self.range << 8) & 0xFFFFFFFF
                self._shift_low()

    def finish(self) -> bytes:
        for _ in range(5):
            self._shift_low()
        out = bytes(self.out)
        return out.rstrip(b"\x00")  # the decoder reads zeros past the end


class RangeDecoder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.range = 0xFFFFFFFF
        self.code = 0
        for _ in range(4):
            self.code = (self.code << 8) | self._next()

    def _next(self) -> int:
        if self.pos < len(self.data):
            b = self.data[self.pos]
        elif self.pos < len(self.data) + MAX_PAST_END:
            b = 0  # the encoder drops trailing zeros; a few more than that means truncation
        else:
            raise PatchFormatError("patch ends before the image is complete")
        self.pos += 1
        return b

    def bit(self, probs: list[int], i: int) -> int:
        p = probs[i]
        bound = (self.range >> PROB_BITS) * p
        if self.code < bound:
            self.range = bound
            probs[i] = p + (((1 << PROB_BITS) - p) >> MOVE)
            bit = 0
        else:
            self.code -= bound
            self.range -= bound
            probs[i] = p - (p >> MOVE)
            bit = 1
        if self.range < TOP:
            self.range = (self.range << 8) & 0xFFFFFFFF
            self.code = ((self.code << 8) | self._next()) & 0xFFFFFFFF
        return bit

    def direct(self, count: int) -> int:
        value = 0
        for _ in range(count):
            self.range >>= 1
            bit = 1 if self.code >= self.range else 0
            if bit:
                self.code -= self.range
            value = (value << 1) | bit
            if self.range < TOP:
                self.range = (self.range << 8) & 0xFFFFFFFF
                self.code = ((self.code << 8) | self._next()) & 0xFFFFFFFF
        return value


# Symbols. A uint v is coded as nbits = v.bit_length() (0..31, 5-bit tree), then the two bits below
# the top bit with probabilities per nbits, then the rest as direct bits.


Path = tuple[tuple[int, int], ...]
#: The (node, bit) decisions of a byte in the 8-level tree of _put_byte.
_BYTE_PATHS: list[Path] = [
    tuple(((value | 256) >> (k + 1), (value >> k) & 1) for k in range(7, -1, -1)) for value in range(256)
]


@lru_cache(maxsize=4096)
def _uint_paths(v: int) -> tuple[Path, Path]:
    """The modelled (probs index, bit) decisions of _put_uint(v), and its direct bits (index 0)."""
    if v < 0 or v >= 1 << 31:
        raise ValueError(f"value {v} out of range")
    nbits = v.bit_length()
    head = [((nbits | 32) >> (k + 1), (nbits >> k) & 1) for k in range(4, -1, -1)]
    direct: Path = ()
    if nbits >= 2:
        base = 32 + (nbits - 1) * 3
        b1 = (v >> (nbits - 2)) & 1
        head.append((base, b1))
        if nbits >= 3:
            head.append((base + 1 + b1, (v >> (nbits - 3)) & 1))
            direct = tuple((0, (v >> k) & 1) for k in range(nbits - 4, -1, -1))
    return tuple(head), direct


def _put_uint(rc: RangeEncoder, probs: list[int], v: int) -> None:
    head, direct = _uint_paths(v)
    rc.code(((probs, head), (None, direct)))


def _get_uint(rc: RangeDecoder, probs: list[int]) -> int:
    node = 1
    for _ in range(5):
        node = node * 2 + rc.bit(probs, node)
    nbits = node - 32
    if nbits <= 1:
        return nbits
    base = 32 + (nbits - 1) * 3
    b1 = rc.bit(probs, base)
    v = 2 | b1
    if nbits >= 3:
        v = (v << 1) | rc.bit(probs, base + 1 + b1)
        v = (v << (nbits - 3)) | rc.direct(nbits - 3)
    return v


def _put_byte(rc: RangeEncoder, probs: list[int], value: int) -> None:
    rc.code(((probs, _BYTE_PATHS[value]),))


def _get_byte(rc: RangeDecoder, probs: list[int]) -> int:
    node = 1
    while node < 256:
        node = node * 2 + rc.bit(probs, node)
    return node - 256


class _DiffTables:
    """The decisions of _put_diffs, made once per patch. Indexed by lane * 2 + the lane's last repeat
    flag: "same as the lane's last value"; "same as the one before"; a new value (the two flags and the
    value's byte tree). heads: the gap's modelled decisions, by whether the previous gap was zero."""

    def __init__(self, m: _Models) -> None:
        repeat, repeat2 = m.repeat, m.repeat2
        self.heads: tuple[dict[int, list[Decision]], dict[int, list[Decision]]] = ({}, {})
        self.same = [((repeat, i, 1),) for i in range(4)]
        self.before = [((repeat, i, 0), (repeat2, i >> 1, 1)) for i in range(4)]
        self.fresh = [
            [
                ((repeat, i, 0), (repeat2, i >> 1, 0), *((m.diff[i >> 1], node, bit) for node, bit in path))
                for path in _BYTE_PATHS
            ]
            for i in range(4)
        ]


def _put_diffs(rc: RangeEncoder, m: _Models, base: int, diffs: Iterable[tuple[int, int, int]]) -> None:
    """The differences of a copy ((gap, k: offset in the copy, value), increasing), coded as _put_uint for
    the gap and _put_diff for the value would: dense changes make this the encoder's hot loop, so the
    decisions are gathered as (probs, i, bit) and coded in batches by rc.flat."""
    last, last2, last_rep = m.last, m.last2, m.last_rep
    gap_models = (m.gap, m.gap_adjacent)
    if m.tables is None:
        m.tables = _DiffTables(m)
    heads, same, before, fresh = m.tables.heads, m.tables.same, m.tables.before, m.tables.fresh
    prev_gap_zero = m.prev_gap_zero
    out: list[Decision] = []
    for gap, k, value in diffs:
        head = heads[prev_gap_zero].get(gap)
        if head is None:
            path, direct = _uint_paths(gap)
            if direct:  # gaps of 8 or more: code what is gathered, then the gap on its own
                rc.flat(out)
                out.clear()
                _put_uint(rc, gap_models[prev_gap_zero], gap)
                head = []
            else:
                probs = gap_models[prev_gap_zero]
                head = heads[prev_gap_zero][gap] = [(probs, i, bit) for i, bit in path]
        out += head
        prev_gap_zero = gap == 0
        lane = (base + k) & 1
        if value == last[lane]:
            out += same[lane * 2 + last_rep[lane]]
            last_rep[lane] = 1
        else:
            out += (
                before[lane * 2 + last_rep[lane]] if value == last2[lane] else fresh[lane * 2 + last_rep[lane]][value]
            )
            last2[lane] = last[lane]
            last[lane], last_rep[lane] = value, 0
        if len(out) > 4096:
            rc.flat(out)
            out.clear()
    rc.flat(out)
    m.prev_gap_zero = prev_gap_zero


def _differences(a: bytes, b: bytes) -> tuple[list[int], list[int]]:
    """Where a and b (equally long) differ, and (a[k] - b[k]) mod 256 there. The differences of all bytes
    at once come from a subtraction of the two as integers that cannot borrow across bytes (each byte of
    a with its top bit set, minus the low seven bits of b's, the top bits fixed up by XOR), so equal
    stretches cost no Python-level work."""
    if a == b:
        return [], []
    n = len(a)
    high = int.from_bytes(b"\x80" * n, "little")
    x, y = int.from_bytes(a, "little"), int.from_bytes(b, "little")
    diff = (((x | high) - (y & (high >> 7) * 0x7F)) ^ ((x ^ y ^ high) & high)).to_bytes(n, "little")
    positions = list(map(_START, _NONZERO.finditer(diff)))
    return positions, list(map(diff.__getitem__, positions))


_NONZERO = re.compile(b"[^\\x00]")
_START = re.Match.start


def _get_diff(rc: RangeDecoder, m: _Models, lane: int) -> int:
    rep = rc.bit(m.repeat, lane * 2 + m.last_rep[lane])
    if rep:
        value = m.last[lane]
    else:
        value = m.last2[lane] if rc.bit(m.repeat2, lane) else _get_byte(rc, m.diff[lane])
        m.last2[lane] = m.last[lane]
    m.last[lane], m.last_rep[lane] = value, rep
    return value


# --------------------------------------------------------------------------------------------------
# Blocks from matches


def _extend(old: bytes, new: bytes, new_pos: int, old_pos: int, limit: int, step: int) -> int:
    """How far to extend a copy (forward step=1 or backward step=-1): bsdiff's approximate extension
    with this coder's weights, maximising 2 * equal - differing. A differing byte inside a copy (gap +
    value, often a repeat) costs this coder little more than a literal, while an equal byte in a copy is
    nearly free: weighing a difference as half an equal byte (bsdiff weighs them the same) made the 19
    benchmark pairs 0.9 % smaller."""
    best = score = 0
    best_len = 0
    for k in range(limit):
        if step > 0:
            a, b = new_pos + k, old_pos + k
        else:
            a, b = new_pos - 1 - k, old_pos - 1 - k
        if b < 0 or b >= len(old):
            break
        score += 2 if new[a] == old[b] else -1
        if score > best:
            best, best_len = score, k + 1
    return best_len


MERGE_ALWAYS = 8  # bytes between two matches at one displacement that are always merged
MERGE_DENSITY = 0.8  # longer stretches are merged when at most this share of their bytes differ


def _sparse(old: bytes, new: bytes, new_pos: int, old_pos: int, length: int) -> bool:
    if length <= MERGE_ALWAYS:
        return True
    a, b = new[new_pos : new_pos + length], old[old_pos : old_pos + length]
    return sum(1 for x, y in zip(a, b) if x != y) <= MERGE_DENSITY * length


def blocks_from_matches(old: bytes, new: bytes, matches: Iterable[Match]) -> list[tuple[int, int, int, int]]:
    """[(new_start, old_start, copy_len, extra_len)] covering new exactly, in order."""
    # Merge matches with the same displacement: the bytes between become sparse differences, unless
    # nearly all of them differ (then literals, cut where _extend finds it best, are cheaper).
    merged: list[Match] = []
    ps = po = pl = -1  # the merged match being built (none while ps < 0)
    for start, old_start, length in matches:
        if ps >= 0:
            gap = start - ps - pl
            if (
                old_start - start == po - ps
                and gap >= 0
                and (gap <= MERGE_ALWAYS or _sparse(old, new, ps + pl, po + pl, gap))
            ):
                pl = start + length - ps
                continue
            merged.append((ps, po, pl))
        ps, po, pl = start, old_start, length
    if ps >= 0:
        merged.append((ps, po, pl))
    blocks: list[tuple[int, int, int, int]] = []
    prev: Match | None = None  # (new_start, old_start, length) of the copy being built
    for start, old_start, length in merged:
        if prev is None:
            # Leading bytes before the first match: extend the first copy backwards if it pays.
            back = _extend(old, new, start, old_start, start, -1)
            start, old_start, length = start - back, old_start - back, length + back
            if start > 0:
                blocks.append((0, 0, 0, start))
            prev = (start, old_start, length)
            continue
        ps, po, pl = prev
        gap_start = ps + pl
        gap = start - gap_start
        fwd = _extend(old, new, gap_start, po + pl, gap, 1) if gap else 0
        back = _extend(old, new, start, old_start, gap - fwd, -1) if gap - fwd else 0
        blocks.append((ps, po, pl + fwd, gap - fwd - back))
        prev = (start - back, old_start - back, length + back)
    if prev is None:
        if new:
            blocks.append((0, 0, 0, len(new)))
    else:
        ps, po, pl = prev
        tail = len(new) - (ps + pl)
        fwd = _extend(old, new, ps + pl, po + pl, tail, 1) if tail else 0
        blocks.append((ps, po, pl + fwd, tail - fwd))
    return blocks


def encode(old: bytes, new: bytes, matches: Iterable[Match] | None = None) -> bytes:
    if matches is None:
        matches = find_matches(old, new, COMPACT)
    blocks = blocks_from_matches(old, new, matches)
    rc = RangeEncoder()
    m = _Models()
    _put_uint(rc, m.copy_len, len(new))
    src = 0
    for new_start, old_start, copy_len, extra_len in blocks:
        seek = old_start - src if copy_len else 0
        rc.bit(m.seek, SEEK_SIGN, 1 if seek < 0 else 0)
        _put_uint(rc, m.seek, abs(seek))
        src += seek
        _put_uint(rc, m.copy_len, copy_len)
        if copy_len:
            a = new[new_start : new_start + copy_len]
            b = old[old_start : old_start + copy_len]
            positions, values = _differences(a, b)
            _put_uint(rc, m.ndiff, len(positions))
            gaps = map(sub, positions, [0, *map((1).__add__, positions)])  # zeros before each difference
            _put_diffs(rc, m, new_start, zip(gaps, positions, values))
            src += copy_len
        _put_uint(rc, m.extra_len, extra_len)
        lit = m.literal
        rc.code(
            [
                (lit[k & (LITERAL_CONTEXTS - 1)], _BYTE_PATHS[new[k]])
                for k in range(new_start + copy_len, new_start + copy_len + extra_len)
            ]
        )
    return rc.finish()


def apply(old: bytes, patch: bytes) -> bytes:
    """Reference decoder: raises PatchFormatError on a stream that does not describe a valid image."""
    rc = RangeDecoder(patch)
    m = _Models()
    size = _get_uint(rc, m.copy_len)
    out = bytearray()
    src = 0
    while len(out) < size:
        negative = rc.bit(m.seek, SEEK_SIGN)
        seek = _get_uint(rc, m.seek)
        src += -seek if negative else seek
        if not 0 <= src <= len(old):
            raise PatchFormatError(f"seek to {src}, outside the old image")
        copy_len = _get_uint(rc, m.copy_len)
        if copy_len:
            if src < 0 or src + copy_len > len(old) or len(out) + copy_len > size:
                raise PatchFormatError(f"copy of {copy_len} bytes from old offset {src} is out of range")
            base = len(out)
            chunk = bytearray(old[src : src + copy_len])
            ndiff = _get_uint(rc, m.ndiff)
            if ndiff > copy_len:
                raise PatchFormatError(f"{ndiff} differences in a copy of {copy_len} bytes")
            k = 0
            for _ in range(ndiff):
                gap = _get_uint(rc, m.gap_model())
                m.prev_gap_zero = gap == 0
                k += gap
                if k >= copy_len:
                    raise PatchFormatError("difference outside its copy")
                chunk[k] = (chunk[k] + _get_diff(rc, m, (base + k) & 1)) & 0xFF
                k += 1
            out += chunk
            src += copy_len
        extra_len = _get_uint(rc, m.extra_len)
        if len(out) + extra_len > size:
            raise PatchFormatError(f"{extra_len} literal bytes overrun the image size {size}")
        if copy_len == 0 and extra_len == 0:
            raise PatchFormatError("empty block")
        for _ in range(extra_len):
            out.append(_get_byte(rc, m.literal[len(out) & (LITERAL_CONTEXTS - 1)]))
    return bytes(out)
