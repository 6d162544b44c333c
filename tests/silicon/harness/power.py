# SPDX-License-Identifier: Apache-2.0
"""Power cuts inside the flash models.

Every flash operation the silicon performs as one indivisible step of its own state machine counts as
one operation: an erase of one page or sector, the programming of one programming unit (a double word
on L4, a word on F4 and L0, a page program on a NOR chip). The flash models ask `Power.operation()`
before each one. When the count reaches the armed cut point the operation is either not performed
("before": the cut landed just before it) or performed partially ("torn": the models leave the cells
in between their old and new state, and on ECC flash the unit reads back with a double ECC error), and
the power is gone: the machine stops at once and ignores every later bus write (the rest of the
current translation block still executes in Unicorn, but nothing it does reaches a peripheral or the
flash). The next `Machine.power_on()` boots the same binary with the flash as the cut left it.

`trace` records every operation (kind, address, length, data) so a test can count the cut points of a
scenario in a clean run and enumerate them. Because a run is deterministic up to its cut, the flash
state a cut at operation k leaves equals the state obtained by replaying operations 1..k-1 of the clean
run's trace and tearing (or skipping) operation k with the same randomness (`replay()`); the silicon
tests check this equivalence on live cuts and then use the replay to reach each cut point without
re-executing everything before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

DO, TEAR, SKIP = "do", "tear", "skip"
MODES = ("before", "torn")


@dataclass
class Power:
    cut_at: int | None = None  # 1-based operation number to cut at
    mode: str = "torn"
    seed: int = 0
    ops: int = 0
    dead: bool = False
    trace: list = field(default_factory=list)
    on_cut: Callable[[], None] | None = None

    def arm(self, cut_at: int | None, mode: str = "torn", seed: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f"cut mode {mode!r} is not one of {MODES}")
        self.cut_at, self.mode, self.seed = cut_at, mode, seed
        self.ops = 0
        self.trace = []
        self.dead = False

    def disarm(self) -> None:
        self.cut_at = None

    def operation(self, kind: str, address: int, length: int, data: bytes | None = None) -> str:
        """Called by a flash model before it performs one operation (`data`: what a program writes).
        Returns DO, TEAR or SKIP."""
        if self.dead:
            return SKIP
        self.ops += 1
        self.trace.append((kind, address, length, data))
        if self.cut_at is not None and self.ops == self.cut_at:
            self.dead = True
            if self.on_cut is not None:
                self.on_cut()
            return TEAR if self.mode == "torn" else SKIP
        return DO

    def rng(self) -> random.Random:
        """Randomness for a torn operation, reproducible from the cut point and the seed."""
        return cut_rng(self.seed, self.ops)


def cut_rng(seed: int, op: int) -> random.Random:
    return random.Random((seed << 32) ^ (op * 0x9E3779B1))


def replay(memories, trace, cut_at: int, mode: str, seed: int = 0) -> None:
    """Apply operations 1..cut_at-1 of `trace` to `memories` (objects with contains() and apply()) and
    cut at operation `cut_at` ("before": not performed, "torn": performed partially)."""
    for index, (kind, address, length, data) in enumerate(trace[:cut_at], start=1):
        memory = next(m for m in memories if m.contains(address, length))
        if index < cut_at:
            memory.apply(kind, address, length, data, DO, None)
        elif mode == "torn":
            memory.apply(kind, address, length, data, TEAR, cut_rng(seed, index))
