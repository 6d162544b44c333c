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

from collections.abc import Callable
from dataclasses import dataclass

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


def _forward(a: bytes, i: int, b: bytes, j: int) -> int:
    """Length of the common run a[i:] / b[j:]."""
    limit = min(len(a) - i, len(b) - j)
    n, step = 0, 32
    while n < limit:
        s = min(step, limit - n)
        if a[i + n : i + n + s] == b[j + n : j + n + s]:
            n += s
            step = min(step * 2, 1 << 16)
        elif s == 1:
            break
        else:
            step = max(1, s // 2)
    return n


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
