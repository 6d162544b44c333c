# SPDX-License-Identifier: Apache-2.0
"""ICACHE of the STM32L552 / L562 (RM0438 rev 7 section 7 "Instruction cache (ICACHE)"), non-secure alias
0x4003_0400: the cache between the Cortex-M33's C-bus and the internal flash (code and the data the CPU
reads there go through it when enabled).

Registers: CR 0x00 (EN b0, CACHEINV b1, WAYSEL b2 - reset 1: 2-way, HITMEN b16, MISSMEN b17, HITMRST b18,
MISSMRST b19), SR 0x04 (BUSYF b0, BSYENDF b1, ERRF b2), IER 0x08, FCR 0x0C (CBSYENDF b1, CERRF b2, write
1 to clear), HMONR 0x10, MMONR 0x14, CRR0..3 0x20..0x2C (region remapping, unused here). CACHEINV starts
a full invalidation: BUSYF while it runs, then BSYENDF, and CACHEINV reads 0 again.

The cache does not watch the flash controller: after a page erase or a double-word program, lines it
filled before still hold the old bytes (ST community reports on the L552 and U5: reads right after an
erase or program return the previous content while ICACHE is on, correct after disabling it or
invalidating). The model does not hold lines (reads always see the array); it reports what would make
software read stale flash on the chip, as violations:
- a flash operation while EN is set (the driver's own verify read could hit a stale line);
- EN set again, after a flash operation, without an invalidation since (CACHEINV) while the cache held
  lines from before (it had been enabled since the last invalidation or reset).
The invalidation the hardware performs after reset is taken as done at once (**unconfirmed**: BUSYF may
read 1 for a while after reset).
"""

from __future__ import annotations

from .bus import Peripheral

EN, CACHEINV = 1 << 0, 1 << 1
BUSYF, BSYENDF = 1 << 0, 1 << 1
BUSY_READS = 2


class IcacheL5(Peripheral):
    name = "ICACHE"

    def __init__(self, base: int = 0x40030400):
        super().__init__(base, 0x400)
        self.reset()

    def reset(self) -> None:
        self.cr = 1 << 2  # WAYSEL = 2-way
        self.sr = 0
        self.ier = 0
        self.busy_reads = 0
        self.filled = False  # holds lines from before the last invalidation
        self.stale = False  # a flash operation since those lines were filled

    def flash_operated(self, kind: str, address: int) -> None:
        """The flash controller erases or programs (called before the cells change)."""
        if self.cr & EN:
            self.violation(
                f"flash {kind} at {address:#010x} with the ICACHE enabled: the CPU can read stale lines "
                "(disable it around flash operations and invalidate it before enabling it again)"
            )
        if self.filled:
            self.stale = True

    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.cr
        if offset == 0x04:
            if self.busy_reads:
                self.busy_reads -= 1
                if not self.busy_reads:
                    self.sr |= BSYENDF
                    self.cr &= ~CACHEINV
                return self.sr | BUSYF
            return self.sr
        if offset == 0x08:
            return self.ier
        if offset == 0x0C:
            return 0
        if offset in (0x10, 0x14) or 0x20 <= offset <= 0x2C:
            return 0
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            if value & CACHEINV and not self.busy_reads:
                self.busy_reads = BUSY_READS
                self.stale = False
                self.filled = bool(value & EN)  # an enabled cache fills again at once
            if value & EN and not self.cr & EN:
                if self.stale:
                    self.violation("ICACHE enabled again after a flash operation without an invalidation (CACHEINV)")
                self.filled = True
            self.cr = (value & (EN | (1 << 2) | (0xF << 16))) | (self.cr & CACHEINV) | (value & CACHEINV)
            return
        if offset == 0x08:
            self.ier = value & 0x6
            return
        if offset == 0x0C:
            self.sr &= ~(value & 0x6)
            return
        if offset in (0x10, 0x14) or 0x20 <= offset <= 0x2C:
            return
        super().write32(offset, value)
