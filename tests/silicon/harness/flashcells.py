# SPDX-License-Identifier: Apache-2.0
"""Flash cell arrays: what the bits hold, independent of the controller that programs them.

`FlashCells` is the memory array of an internal STM32 flash: contents, programming unit, erase units,
erased value and ECC. Its byte buffer is the very memory Unicorn executes and reads from (mapped with
`mem_map_ptr` at the flash base and at its boot alias 0x00000000), so CPU reads cost nothing; only
writes go through the controller models.

Physics of an interrupted operation (what a power cut leaves):
- Programming moves bits from the erased level to the programmed level (1 -> 0 on every STM32 flash
  but the L0/L1, where the erased level is 0: 0 -> 1). A torn program leaves each bit that had to move
  either moved or not.
- Erasing moves every programmed bit of the unit back to the erased level; a torn erase leaves each of
  them moved or not.
- ECC (`ecc="detect"`: STM32L4/L4+/G0/G4/WL/L5, 8 check bits per 64-bit double word; RM0351 3.3.2,
  RM0394 3.3.2): the check bits are programmed together with the data, so a torn program or a torn
  erase leaves a unit whose data and check bits disagree; reading it gives a double error (ECCD), which
  raises an NMI. The field reports of exactly this (ST community "Handling ECCD error during flash read
  on STM32L4", a power cut during double-word programming) agree. A unit the cut left fully at its old
  or new value is readable.
- `ecc="correct-only"` (STM32L0: 6 check bits per word that correct one error, RM0377/RM0367 3.2 "NVM
  main features"; no double-error detection flag exists): a torn word is simply read back as whatever
  bits it holds, without any fault.
- `ecc=None` (STM32F4, NOR chips): no ECC; torn units read back as their mixed bits.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable


class FlashCells:
    def __init__(self, base: int, size: int, unit: int, erased: int, sectors: Iterable, ecc: str | None):
        """sectors: (start, size) of every erase unit, ascending and contiguous."""
        self.base, self.size, self.unit, self.erased, self.ecc = base, size, unit, erased, ecc
        self.buffer = ctypes.create_string_buffer(size)
        self.mem = memoryview(self.buffer).cast("B")
        self.mem[:] = bytes([erased]) * size
        self.sectors = list(sectors)
        self.poisoned: set = set()  # addresses of units that read with a double ECC error
        self.on_poison_change = None  # the machine re-arms its read hook when this set changes

    # -- geometry ----------------------------------------------------------------------------------------
    def contains(self, address: int, length: int = 1) -> bool:
        return self.base <= address and address + length <= self.base + self.size

    def sector_at(self, address: int):
        for start, size in self.sectors:
            if start <= address < start + size:
                return start, size
        return None

    def sector_index(self, address: int) -> int:
        for i, (start, size) in enumerate(self.sectors):
            if start <= address < start + size:
                return i
        raise ValueError(f"{address:#x} is in no sector")

    # -- contents ------------------------------------------------------------------------------------------
    def read(self, address: int, length: int) -> bytes:
        off = address - self.base
        return bytes(self.mem[off : off + length])

    def load(self, address: int, data: bytes) -> None:
        """A programmer (ST-LINK) writes the image: clean units, no ECC errors."""
        off = address - self.base
        self.mem[off : off + len(data)] = data
        self._unpoison(address, len(data))

    def snapshot(self) -> tuple:
        return bytes(self.mem), frozenset(self.poisoned)

    def restore(self, state: tuple) -> None:
        data, poisoned = state
        self.mem[:] = data
        self.poisoned = set(poisoned)
        self._changed()

    def is_erased(self, address: int, length: int) -> bool:
        return self.read(address, length) == bytes([self.erased]) * length

    # -- operations --------------------------------------------------------------------------------------
    def program(self, address: int, data: bytes) -> None:
        """Program whole units: bits only move from the erased to the programmed level."""
        off = address - self.base
        old = self.mem[off : off + len(data)]
        if self.erased == 0xFF:
            new = bytes(o & d for o, d in zip(old, data))
        else:
            new = bytes(o | d for o, d in zip(old, data))
        self.mem[off : off + len(data)] = new
        self._unpoison(address, len(data))

    def erase(self, start: int, size: int) -> None:
        off = start - self.base
        self.mem[off : off + size] = bytes([self.erased]) * size
        self._unpoison(start, size)

    def tear_program(self, address: int, data: bytes, rng) -> None:
        """A program the power cut interrupted: each bit that had to move moved or not."""
        off = address - self.base
        old = bytes(self.mem[off : off + len(data)])
        new = bytearray(old)
        changed = False
        for i, (o, d) in enumerate(zip(old, data)):
            target = (o & d) if self.erased == 0xFF else (o | d)
            moving = o ^ target
            keep = rng.getrandbits(8) & moving
            new[i] = o ^ keep
            changed |= keep != moving
        if not changed and old != bytes(data) and any(o != d for o, d in zip(old, data)):
            # The random draw completed every bit: force one bit back so the unit is really torn.
            for i, o in enumerate(old):
                if new[i] != o:
                    new[i] = o
                    break
        self.mem[off : off + len(data)] = bytes(new)
        if self.ecc == "detect":
            for unit in range(address - (address - self.base) % self.unit, address + len(data), self.unit):
                self.poisoned.add(unit)
            self._changed()

    def tear_erase(self, start: int, size: int, rng) -> None:
        """An erase the power cut interrupted: every programmed bit went back to the erased level or
        not. On ECC flash every unit that was not erased before and is not fully erased now reads with
        a double error; units that were erased stay erased (erasing an erased cell changes nothing)."""
        for unit in range(start, start + size, self.unit):
            uoff = unit - self.base
            old = bytes(self.mem[uoff : uoff + self.unit])
            if old == bytes([self.erased]) * self.unit and unit not in self.poisoned:
                continue
            new = bytearray(self.unit)
            for i, o in enumerate(old):
                moving = o ^ self.erased
                new[i] = o ^ (rng.getrandbits(8) & moving)
            self.mem[uoff : uoff + self.unit] = bytes(new)
            if self.ecc == "detect":
                if bytes(new) == bytes([self.erased]) * self.unit and rng.random() < 0.5:
                    self.poisoned.discard(unit)  # the erase of this unit had completed
                else:
                    self.poisoned.add(unit)
        self._changed()

    def apply(self, kind: str, address: int, length: int, data, verdict: str, rng) -> None:
        """One operation of a power-cut trace (power.replay), as the controller performs it."""
        from .power import DO, TEAR

        if verdict == DO:
            self.erase(address, length) if kind == "erase" else self.program(address, data)
        elif verdict == TEAR:
            self.tear_erase(address, length, rng) if kind == "erase" else self.tear_program(address, data, rng)

    # -- ECC ---------------------------------------------------------------------------------------------
    def poisoned_in(self, address: int, length: int) -> int | None:
        """First unit in [address, address + length) that reads with a double ECC error, or None."""
        if not self.poisoned:
            return None
        first = address - (address - self.base) % self.unit
        for unit in range(first, address + length, self.unit):
            if unit in self.poisoned:
                return unit
        return None

    def _unpoison(self, address: int, length: int) -> None:
        if not self.poisoned:
            return
        first = address - (address - self.base) % self.unit
        before = len(self.poisoned)
        for unit in range(first, address + length, self.unit):
            self.poisoned.discard(unit)
        if len(self.poisoned) != before:
            self._changed()

    def _changed(self) -> None:
        if self.on_poison_change is not None:
            self.on_poison_change()
