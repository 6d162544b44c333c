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

`trace` records every operation (kind, address, length) so a test can count the cut points of a
scenario in a clean run and then enumerate them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Optional

DO, TEAR, SKIP = "do", "tear", "skip"
MODES = ("before", "torn")


@dataclass
class Power:
    cut_at: Optional[int] = None   # 1-based operation number to cut at
    mode: str = "torn"
    seed: int = 0
    ops: int = 0
    dead: bool = False
    trace: list = field(default_factory=list)
    on_cut: Optional[Callable[[], None]] = None

    def arm(self, cut_at: Optional[int], mode: str = "torn", seed: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f"cut mode {mode!r} is not one of {MODES}")
        self.cut_at, self.mode, self.seed = cut_at, mode, seed
        self.ops = 0
        self.trace = []
        self.dead = False

    def disarm(self) -> None:
        self.cut_at = None

    def operation(self, kind: str, address: int, length: int) -> str:
        """Called by a flash model before it performs one operation. Returns DO, TEAR or SKIP."""
        if self.dead:
            return SKIP
        self.ops += 1
        self.trace.append((kind, address, length))
        if self.cut_at is not None and self.ops == self.cut_at:
            self.dead = True
            if self.on_cut is not None:
                self.on_cut()
            return TEAR if self.mode == "torn" else SKIP
        return DO

    def rng(self) -> random.Random:
        """Randomness for a torn operation, reproducible from the cut point and the seed."""
        return random.Random((self.seed << 32) ^ (self.ops * 0x9E3779B1))
