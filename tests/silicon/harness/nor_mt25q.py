# SPDX-License-Identifier: Apache-2.0
"""Micron MT25TL01G (DISCO-H745I): two MT25QL512 dies (512 Mbit, 64 MiB each, 3 V) in one package, wired to
QUADSPI banks 1 and 2 and used in dual-flash mode.

Sources: Micron MT25Q (MT25QL512ABB) datasheet, as restated in ../shared/reference/stm32-extflash-protection.md
A3 from ST's mt25tl01g component driver (command table, status and flag bits, timeouts) and the datasheet
excerpts quoted there (ERASE operations; typical times); the dual-die wiring from ST's STM32H745I-DISCO BSP
(stm32h745i_discovery_qspi.h/.c: dual-flash mode, FlashSize 26, BK1 and BK2 I/O lines, one chip select).
Items marked [U] were not confirmed in the datasheet text this session.

One die (`NorMT25QL512`) is the N25Q128A model (nor_n25q.py: extended/dual/quad SPI protocols, WEL, WIP,
flag status, VCR dummy cycles, page program wrapping in its 256-byte page and only clearing bits, reset
pair, a state that survives an MCU reset) with what the MT25Q adds, by parameters of that model:
- 64 MiB, JEDEC ID 20 BA 20; up to 133 MHz (03/13 READ without dummy cycles: 66 MHz [U]).
- 4-byte addresses: the dedicated opcodes take a 4-byte address whatever the mode - 13 READ4B, 0C FAST_READ4B,
  3C / BC dual, 6C / EC quad reads, 12 PP4B, 21 4 KiB and DC 64 KiB erase (4B), 5C 32 KiB erase (4B); the
  others (03, 0B, 02, 20, 52, D8 ...) take 3 bytes, or 4 after B7 (enter 4-byte address mode; E9 leaves it;
  FSR bit 0 shows it). On the MT25Q, 12 is the 4-byte page program (the N25Q's 12 is a quad program) and
  38 the quad input extended program (not modelled, as on the N25Q).
- Erase units 4 KiB, 32 KiB (52 / 5C) and 64 KiB; typical times 0.12 ms per page program, 50 ms / 0.1 s /
  0.15 s per 4 / 32 / 64 KiB erase [U: the 32 KiB figure].

The package (`MT25TL01G`) is what the QUADSPI sees in dual-flash mode (RM0399 "Dual-flash mode", ST community
FAQ "QSPI interface address in Dual-Flash memory mode"): both dies take every frame (the controller sends the
address AR / 2); data bytes alternate - even bytes to and from die 1 (bank 1), odd bytes die 2 (bank 2) -
so a register read returns one byte of each die in turn, and the memory seen through the window is the two
dies interleaved byte by byte (128 MiB). A program or erase runs on both dies at once: it is one operation
of the power-cut model (address and length in the window), and a cut tears both dies' parts of it. Each die
keeps its own WEL/WIP and state; they differ only if software addresses a die alone (DFM = 0: reported by
the QUADSPI model).
"""

from __future__ import annotations

import dataclasses
import random

from .nor_mx25lm import Frame
from .nor_n25q import COMMANDS as N25Q_COMMANDS
from .nor_n25q import NOT_MODELLED as N25Q_NOT_MODELLED
from .nor_n25q import NorN25Q128A

DIE_SIZE = 64 << 20
JEDEC_ID = bytes((0x20, 0xBA, 0x20, 0x10, 0x00))  # manufacturer, type (3 V), capacity 512 Mbit [U: EDID bytes]
PP_SECONDS = 0.12e-3
SSE_SECONDS, SE32_SECONDS, SE_SECONDS = 50e-3, 0.1, 0.15

#: opcodes with a 4-byte address in every mode
ADDR4_OPCODES = frozenset((0x13, 0x0C, 0x3C, 0xBC, 0x6C, 0xEC, 0x12, 0x21, 0xDC, 0x5C, 0x34))
COMMANDS = {
    **N25Q_COMMANDS,
    0x13: ("READ", True, 1, 1, False),
    0x0C: ("FAST_READ", True, 1, 1, True),
    0x3C: ("DOFR", True, 1, 2, True),
    0xBC: ("DIOFR", True, 2, 2, True),
    0x6C: ("QOFR", True, 1, 4, True),
    0xEC: ("QIOFR", True, 4, 4, True),
    0x12: ("PP", True, 1, 1, False),
    0x21: ("SSE", True, 1, 0, False),
    0xDC: ("SE", True, 1, 0, False),
    0x52: ("SE32K", True, 1, 0, False),
    0x5C: ("SE32K", True, 1, 0, False),
    0x38: ("QIEFP", True, 4, 4, False),
    0x34: ("QIFP", True, 1, 4, False),
    0xB7: ("EN4B", False, 0, 0, False),
    0xE9: ("EX4B", False, 0, 0, False),
}


class NorMT25QL512(NorN25Q128A):
    """One MT25QL512 die; `base` is where offset 0 shows (0 for a die inside the MT25TL01G package)."""

    name = "MT25QL512"
    commands = COMMANDS
    not_modelled = N25Q_NOT_MODELLED
    max_hz, max_hz_plain_read = 133e6, 66e6

    def __init__(self, base: int = 0x90000000, size: int = DIE_SIZE):
        self.dual: MT25TL01G | None = None
        super().__init__(base, size)
        self.noise.seed(0x4D54)

    def power_on(self) -> None:
        super().power_on()
        self.addr4 = False

    def address_bytes(self, opcode: int) -> int:
        return 4 if opcode in ADDR4_OPCODES or self.addr4 else 3

    def flag_status(self) -> int:
        return super().flag_status() | (1 if self.addr4 else 0)

    def _reset(self, armed: bool) -> bytes:
        if armed:
            self.addr4 = False
        return super()._reset(armed)

    def _n25q_rdid(self, f: Frame) -> bytes:
        return (JEDEC_ID + bytes(max(0, f.read)))[: f.read]

    _n25q_miordid = _n25q_rdid

    def _n25q_en4b(self, f: Frame) -> bytes:
        self.addr4 = True
        return b""

    def _n25q_ex4b(self, f: Frame) -> bytes:
        self.addr4 = False
        return b""

    def _n25q_pp(self, f: Frame) -> bytes:
        if not self.wel:
            self.event("PP without WEL: ignored")
            return b""
        self.wel = False
        if f.data:
            self._operate("program", f.address % self.size, len(f.data), bytes(f.data), PP_SECONDS)
        return b""

    def _n25q_sse(self, f: Frame) -> bytes:
        return self._erase(f, 4 << 10, SSE_SECONDS)

    def _n25q_se32k(self, f: Frame) -> bytes:
        return self._erase(f, 32 << 10, SE32_SECONDS)

    def _n25q_se(self, f: Frame) -> bytes:
        return self._erase(f, 64 << 10, SE_SECONDS)

    def _operate(self, kind: str, offset: int, length: int, data, seconds: float) -> None:
        if self.dual is not None:  # the package runs both dies' operation as one (MT25TL01G.command)
            self.dual.pending.append((self, kind, offset, length, data, seconds))
            return
        super()._operate(kind, offset, length, data, seconds)


def _interleave(even: bytes, odd: bytes) -> bytes:
    out = bytearray(len(even) + len(odd))
    out[0::2], out[1::2] = even, odd
    return bytes(out)


class MT25TL01G:
    """The two dies as the QUADSPI sees them in dual-flash mode, with the chip interface the QUADSPI, its window
    and the power-cut replay use (command, decode, busy, read, load, snapshot, restore, apply...)."""

    name = "MT25TL01G"
    dual = True
    reads = NorMT25QL512.reads
    max_hz_plain_read = NorMT25QL512.max_hz_plain_read

    def __init__(self, base: int = 0x90000000):
        self.base = base
        self.dies = [NorMT25QL512(0), NorMT25QL512(0)]
        self.size = 2 * DIE_SIZE
        self.pending: list = []
        self.on_change = None
        self.noise = random.Random(0x4D5432)
        self._machine = None
        for i, die in enumerate(self.dies):
            die.dual = self
            die.on_change = self._die_changed_cb(i)

    # -- wiring -------------------------------------------------------------------------------------------------
    @property
    def machine(self):
        return self._machine

    @machine.setter
    def machine(self, machine) -> None:
        self._machine = machine
        for die in self.dies:
            die.machine = machine

    def _die_changed_cb(self, index: int):
        def changed(offset: int, length: int) -> None:
            if self.on_change is not None and length:
                self.on_change(2 * offset, 2 * length)

        return changed

    def power_on(self) -> None:
        for die in self.dies:
            die.power_on()

    def reset(self) -> None:
        for die in self.dies:
            die.reset()

    def violation(self, text: str) -> None:
        self.dies[0].violation(text)

    def garbage(self, n: int) -> bytes:
        return bytes(self.noise.getrandbits(8) for _ in range(n))

    # -- contents (offsets in the window) -----------------------------------------------------------------------
    @property
    def blocks(self) -> dict:
        """64 KiB blocks of the window that hold programmed bytes (for the window's first copy)."""
        out: dict = {}
        for die in self.dies:
            for index in die.blocks:
                out[2 * index] = out[2 * index + 1] = None
        return out

    @property
    def busy(self):
        return self.dies[0].busy if self.dies[0].busy is not None else self.dies[1].busy

    def read(self, offset: int, length: int) -> bytes:
        lo, hi = offset // 2, (offset + length + 1) // 2
        both = _interleave(self.dies[0].read(lo, hi - lo), self.dies[1].read(lo, hi - lo))
        start = offset - 2 * lo
        return both[start : start + length]

    def _split(self, offset: int, data: bytes) -> tuple:
        """(die offset, die 1 bytes, die 2 bytes) of `data` at window offset `offset`, widened to whole pairs."""
        data = bytes(data)
        if offset % 2:
            data, offset = self.read(offset - 1, 1) + data, offset - 1
        if len(data) % 2:
            data += self.read(offset + len(data), 1)
        return offset // 2, data[0::2], data[1::2]

    def load(self, offset: int, data: bytes) -> None:
        at, even, odd = self._split(offset, data)
        self.dies[0].load(at, even)
        self.dies[1].load(at, odd)

    def snapshot(self) -> tuple:
        return tuple(die.snapshot() for die in self.dies)

    def restore(self, state: tuple) -> None:
        for die, s in zip(self.dies, state):
            die.restore(s)

    def contains(self, address: int, length: int = 1) -> bool:
        return self.base <= address and address + length <= self.base + self.size

    def apply(self, kind: str, address: int, length: int, data, verdict: str, rng) -> None:
        """One operation of the power-cut trace (window address): both dies' parts, with one randomness."""
        offset = address - self.base
        if kind == "erase":
            for die in self.dies:
                die.apply(kind, offset // 2, length // 2, None, verdict, rng)
            return
        at, even, odd = self._split(offset, data)
        self.dies[0].apply(kind, at, len(even), even, verdict, rng)
        self.dies[1].apply(kind, at, len(odd), odd, verdict, rng)

    # -- frames -------------------------------------------------------------------------------------------------
    def decode(self, f: Frame):
        return self.dies[0].decode(f)

    def command(self, f: Frame) -> bytes:
        """One dual-flash frame (address already AR / 2): each die gets the frame with its bytes."""
        self.pending = []
        answers = []
        for i, die in enumerate(self.dies):
            part = dataclasses.replace(f, data=bytes(f.data)[i::2], read=(f.read + 1 - i) // 2)
            answers.append(die.command(part))
        if self.pending:
            self._run_pending()
        return _interleave(answers[0], answers[1])[: f.read]

    def _run_pending(self) -> None:
        ops, self.pending = self.pending, []
        shapes = {(kind, offset, length) for _die, kind, offset, length, _data, _s in ops}
        if len(ops) != 2 or len(shapes) != 1:
            self.violation(f"the dies started different operations ({sorted(shapes)}): not modelled")
        _die, kind, offset, length, _data, seconds = ops[0]
        data = _interleave(ops[0][4], ops[1][4]) if kind == "program" and len(ops) == 2 else None
        olds = [[(first, before) for first, before, _ in die.targets(k, o, n, d or b"")] for die, k, o, n, d, _s in ops]
        machine = self._machine
        if machine is not None:
            verdict = machine.power.operation(kind, self.base + 2 * offset, 2 * length, data)
            rng = machine.power.rng()
        else:
            from .power import DO

            verdict, rng = DO, None
        self.apply(kind, self.base + 2 * offset, 2 * length, data, verdict, rng)
        if machine is not None and machine.power.dead:
            return
        for (die, *_rest), old in zip(ops, olds):
            die._start_busy(kind, offset, length, seconds, old)
