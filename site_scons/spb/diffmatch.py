# SPDX-License-Identifier: Apache-2.0
"""Finding the parts of a new image that already exist in the old one: the shared front end of both
patch encodings (jojo.py, compact.py).

The result is a list of exact matches (new_start, old_start, length), increasing and non-overlapping in
the new image. Firmware changes are mostly local: a few bytes change in place (a constant, a branch
offset) or code moves by a fixed distance after an insertion. So the search first tries to continue
at the current displacement (old - new) and only then asks an index of the old image.

Speed: the index holds one key per `step` old bytes (a longer match always contains an indexed key,
the bytes before it are recovered by extending backwards), and equal runs are measured
with slice comparisons that double in length, so time grows with the number of changes, not with the
image size (a 1 MiB image with typical changes takes a fraction of a second).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, compress
from operator import itemgetter, sub

RESYNC = 6  # bytes that must agree to resume at the current displacement
KEEP_SCAN = 64  # shorter jumps are weighed against staying at the current displacement

#: An exact match: (new_start, old_start, length).
Match = tuple[int, int, int]
#: progress(done, total): called while the new image is scanned.
Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class Tuning:
    """How eagerly to jump to a new displacement. Each encoding has its own (measured with
    bench/patch_sizes.py): a jump costs the compact coder a few bits, a JojoDiff stream several bytes.
    COMPAT indexes every third position (6-byte keys, so matches >= 8 bytes are still always found; a
    jump needs about that many to pay for its operations in a JojoDiff stream): the index dominates
    creation time and memory, and for 16 MiB this gives ~0.3 s/MiB and ~37 bytes per image byte against
    ~0.45 s/MiB and ~60 bytes with 8-byte keys at every second position, for patches 0.05 % larger.
    COMPACT indexes every third position too, with 4-byte keys (matches >= 6 bytes are always found, as
    min_jump asks): 6-byte keys at every position made the index ~120 bytes per image byte and 0.4-0.75
    s/MiB (over the budgets of 64 bytes and 0.5 s/MiB); these keys give ~37 bytes and ~0.2 s/MiB, and
    on the 19 pairs of bench/patch_sizes.py, with compact.py's block rules, patches 0.35 % smaller in
    sum (5-byte keys at every second position: 0.3 % smaller still, but ~60 bytes per image byte)."""

    seed: int  # bytes of an index key
    step: int  # one key per `step` old bytes (matches >= seed + step - 1 are always found)
    min_jump: int  # a match at a new displacement must be this long
    stay_margin: int  # a jump shorter than KEEP_SCAN must gain this many equal bytes over staying


COMPACT = Tuning(seed=4, step=3, min_jump=6, stay_margin=4)
COMPAT = Tuning(seed=6, step=3, min_jump=8, stay_margin=4)


def _first_difference(a: bytes, b: bytes) -> int:
    """Index of the first differing byte of two equally long, different byte strings: the lowest set
    bit of their XOR read as little-endian integers (a handful of C-level operations for any length)."""
    x = int.from_bytes(a, "little") ^ int.from_bytes(b, "little")
    return ((x & -x).bit_length() - 1) >> 3


def _forward(a: bytes, i: int, b: bytes, j: int) -> int:
    """Length of the common run a[i:] / b[j:]."""
    limit = min(len(a) - i, len(b) - j)
    # Most runs end within a few dozen bytes (dense changes): one comparison of 64 bytes finds the end.
    s = min(64, limit)
    x, y = a[i : i + s], b[j : j + s]
    if x != y:
        return _first_difference(x, y)
    n, step = s, 128
    while n < limit:
        s = min(step, limit - n)
        x, y = a[i + n : i + n + s], b[j + n : j + n + s]
        if x == y:
            n += s
            step = min(step * 2, 1 << 16)
        elif s <= 256:
            return n + _first_difference(x, y)
        else:
            step = s // 2
    return n


DENSE = 64  # after a match shorter than this, look for the next ones with _dense
_RESYNC_RUN = re.compile(b"\\x00{%d,}" % RESYNC)
_SPAN, _FIRST, _SECOND = re.Match.span, itemgetter(0), itemgetter(1)


def _dense(
    old: bytes, new: bytes, j: int, delta: int, index: dict[bytes, int], seed: int, matches: list[Match], covered: int
) -> tuple[int, int]:
    """What find_matches' loop does from new[j] on while it stays at displacement delta, done a window at a
    time: where new and old differ densely (a change every few bytes) the loop would otherwise spend a
    resync comparison, an index look-up and a _forward call on every short match. The XOR of a window at
    the displacement shows where RESYNC equal bytes start (runs of zeros); every position before such a
    run fails the resync test, so only its index key is looked up. Returns (j, covered) where the loop
    resumes: at the first position whose key is in the index (the loop then handles it, exactly as it
    would have), or at the end of the checked windows. The matches are the loop's own, byte for byte."""
    n_new, n_old = len(new), len(old)
    width = 256
    while True:
        end = min(j + width, n_new, n_old - delta)
        size = end - j
        if size < 2 * RESYNC or j + delta < 0:
            return j, covered
        xor = (int.from_bytes(new[j:end], "little") ^ int.from_bytes(old[j + delta : end + delta], "little")).to_bytes(
            size, "little"
        )
        decided = size - RESYNC + 1  # positions whose RESYNC bytes all lie in the window
        # The equal runs long enough to resync (absolute [start, stop)), those starting in decided positions.
        spans = list(map(_SPAN, _RESYNC_RUN.finditer(xor)))
        while spans and spans[-1][0] >= decided:
            spans.pop()
        starts = list(map(j.__add__, map(_FIRST, spans)))
        stops = list(map(j.__add__, map(_SECOND, spans)))
        # Every position between the runs fails the resync test: the loop would look its key up.
        gap_starts, gap_ends = [j, *stops], starts[:]
        if spans and spans[-1][1] == size:  # the run may go on after the window: measured below
            stops[-1] = starts[-1] + _forward(new, starts[-1], old, starts[-1] + delta)
            resume, more = stops[-1], stops[-1] - starts[-1] < DENSE
        elif spans and spans[-1][1] > decided:
            resume, more = stops[-1], True
        else:
            gap_ends.append(j + decided)
            resume, more = j + decided, True
        # Positions, keys and look-ups as C-level iterators: no Python-level step per position.
        lengths = list(map(sub, gap_ends, gap_starts))
        if lengths.count(1) == len(lengths):  # one byte each (the densest case)
            positions = gap_starts[: len(gap_ends)]
        else:
            positions = list(chain.from_iterable(map(range, gap_starts, gap_ends)))
        keys = map(new.__getitem__, map(slice, positions, map(seed.__add__, positions)))
        hit = next(compress(positions, map(index.__contains__, keys)), None)
        if hit is not None:
            count = bisect_left(starts, hit)
            del starts[count:], stops[count:]
        if starts:
            matches.extend(zip(starts, map(delta.__add__, starts), map(sub, stops, starts)))
            covered = stops[-1]
        if hit is not None:
            return hit, covered
        if not more or resume >= n_new:
            return resume, covered
        j = resume
        width = min(width * 2, 16384)


def _backward(a: bytes, i: int, b: bytes, j: int, limit: int) -> int:
    """Length of the common run ending just before a[i] / b[j], at most limit."""
    n = 0
    limit = min(limit, i, j)
    while n < limit and a[i - n - 1] == b[j - n - 1]:
        n += 1
    return n


def build_index(old: bytes, tuning: Tuning = COMPACT) -> dict[bytes, int]:
    seed = tuning.seed
    stop = len(old) - seed + 1
    # Later positions overwrite earlier ones for repeated keys (fill patterns): any is a correct match.
    return {old[p : p + seed]: p for p in range(0, max(stop, 0), tuning.step)}


def find_matches(
    old: bytes,
    new: bytes,
    tuning: Tuning = COMPACT,
    index: dict[bytes, int] | None = None,
    progress: Progress | None = None,
) -> list[Match]:
    if index is None:
        index = build_index(old, tuning)
    SEED, MIN_JUMP, STAY_MARGIN = tuning.seed, tuning.min_jump, tuning.stay_margin
    report_every = max(len(new) // 100, 1 << 16)
    next_report = report_every
    matches: list[Match] = []
    n_new, n_old = len(new), len(old)
    j = 0
    delta = 0  # old position - new position of the last match
    covered = 0  # new bytes before this are taken by earlier matches
    while j < n_new:
        if progress is not None and j >= next_report:
            progress(j, n_new)
            next_report = j + report_every
        p = j + delta
        if 0 <= p < n_old and new[j : j + RESYNC] == old[p : p + RESYNC]:
            length = _forward(new, j, old, p)
            matches.append((j, p, length))
            j += length
            covered = j
            if length < DENSE and j < n_new:
                j, covered = _dense(old, new, j, delta, index, SEED, matches, covered)
            continue
        q = index.get(new[j : j + SEED]) if j + SEED <= n_new else None
        if q is not None:
            back = _backward(new, j, old, q, j - covered)
            start, p = j - back, q - back
            length = back + _forward(new, j, old, q)
            if p - start != delta and length < KEEP_SCAN:
                # A short jump must beat staying at the current displacement, where equal bytes are
                # nearly free (bsdiff's criterion, on the bytes the jump would cover).
                stay = old[start + delta : start + delta + length] if start + delta >= 0 else b""
                same = sum(1 for a, b in zip(new[start : start + length], stay) if a == b)
                if length < MIN_JUMP or length - same < STAY_MARGIN:
                    j += 1
                    continue
            if matches and matches[-1][0] + matches[-1][2] == start and matches[-1][1] + matches[-1][2] == p:
                prev = matches.pop()  # a continuation of the previous match (same displacement)
                start, p, length = prev[0], prev[1], prev[2] + length
            matches.append((start, p, length))
            delta = p - start
            j = start + length
            covered = j
            continue
        j += 1
    if progress is not None:
        progress(n_new, n_new)
    return matches
