# SPDX-License-Identifier: Apache-2.0
"""Macronix MX25LM51245G: 512 Mbit (64 MiB) octal NOR flash, as the OCTOSPI controller sees it.

The chip receives one `Frame` per command (chip select low .. high): instruction, optional address,
dummy cycles and an optional data phase, each with its line count and transfer rate. It answers read
frames with bytes. It understands a frame only when the frame is framed for the protocol it is in:

- SPI (power-on default): 1-line instruction of one byte, 1-line address and data, single transfer rate.
  Commands with 3-byte addresses (03 READ, 0B FAST_READ, 02 PP, 20 SE, D8 BE) and the dedicated 4-byte
  address ones (13 READ4B, 0C FAST_READ4B, 12 PP4B, 21 SE4B, DC BE4B); FAST_READ takes 8 dummy cycles.
- SOPI (CR2 address 0 bit 0) and DOPI (bit 1): 8-line instruction of two bytes (opcode, then its
  complement), always a 4-byte address, 8-line data; DOPI transfers on both clock edges and drives DQS,
  which the controller must use (DQSE) for reads. Array reads (EC13, DOPI also EE11) take the dummy
  cycles CR2 address 0x300 selects (DC, reset 0 = 20 cycles).
Opcodes and CR2 layout: ST's component driver header for the part (mx25lm51245g.h) and the facts
reference (../shared/reference/stm32-extflash-protection.md, part A3); RDID = C2 85 3A (ST's
"JEDEC_ID_VALUE" for this part, the reference says the same).

Rules the model enforces:
- WREN (06) sets WEL; PP, SE, BE and WRCR2 need WEL and clear it. Without WEL they are ignored (no error,
  as NOR chips do; the driver finds out by verifying).
- While an operation runs, WIP (status bit 0) reads 1. The chip then only accepts RDSR, RDSCUR and the
  reset pair; anything else is ignored and reported as a violation (a driver that does not wait for WIP
  loses data on silicon).
- Page program writes inside one 256-byte page: bytes past the page end wrap to its start; more than 256
  bytes keep only the last 256. Programming only clears bits (new = old AND data). Erased value 0xFF.
- Erase: 4 KiB sector (SE4B 21 / SE 20), 64 KiB block (BE4B DC / BE D8), both on their natural boundary
  (the address is truncated to it, as NOR chips do).
- A frame framed for another protocol than the chip's (line count, instruction width, transfer rate) is
  not understood: an instruction-only frame is ignored (a driver that does not know the chip's mode
  sends resets in every protocol on purpose, so this is only an event); any other frame is a
  violation, and reads answer garbage.
- Wrong dummy cycles: the data is shifted, so reads answer garbage and the model reports it.
- Reset enable (66) then reset (99) on the very next frame: back to the power-on protocol (SPI), WEL and
  the volatile CR2 cleared; an operation in progress is interrupted (its cells are left torn); for
  tREADY2 the chip ignores frames (reads float high: 0xFF) - this is an event, the driver is expected
  to poll until the chip answers.
- The chip is a separate device: an MCU system reset (SYSRESETREQ) does not reset it (`reset()` does
  nothing), so a mode a previous boot or the application left (octal) is still there; only
  `power_on()` returns it to SPI. [U: whether the board ties the chip's RESET# to the MCU's NRST, which
  the STM32 drives low on a system reset, was not checked in the DISCO-L4R9I schematic; the model
  follows the worst case a driver must survive.]
- Clock: above 133 MHz nothing is understood; 03/13 (no dummy) above 50 MHz read garbage. [U: datasheet
  frequency table not read; 133 MHz from the datasheet front page "clock frequency up to 133MHz".]

- Not modelled (reported when used): chip erase (60/C7), suspend/resume, the non-volatile CR2 0x4000_0000
  (DEFSOPI/DEFDOPI), OTP and block protection; RDSCUR answers 0 (no P_FAIL/E_FAIL: operations do not
  fail). Octal register reads (RDSR, RDID, RDCR2) are accepted with 4 or 5 dummy cycles (ST's defaults)
  or the CR2 DC setting [U: the datasheet's rule was not read].

Timing: machine time advances while the driver polls the status register, by at most 1 ms per status
read, and at least BUSY_POLLS status reads see WIP (machine.cycles only moves between the machine's
slices, so time spent polling is added by the model). Page program 0.15 ms, 4 KiB erase 25 ms, 64 KiB
erase 220 ms, CR2 write 0.1 ms [U: typical values recalled, not read in the datasheet; ST's driver for
the part allows 400 ms for a 4 KiB erase ("Max 400ms in spec") and 1-2 s for 64 KiB]. tREADY2 after a
reset: 40 us, 1 ms if a program was interrupted, 12 ms if an erase was [U: recalled]; every frame ignored
during it costs 10 us of machine time.

Power cuts: every page program and every sector/block erase is one operation of `machine.power`
(kind "program" / "erase", CPU address of the memory-mapped window); a torn one leaves each bit that had
to move either moved or not (no ECC on this chip: torn bytes read back as they are).

Storage is sparse: 64 KiB blocks created on the first program, absent blocks read as erased; snapshots
copy only the blocks that exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from .power import DO, SKIP, TEAR

SIZE = 64 << 20
PAGE = 256
SECTOR = 4 << 10
BLOCK = 64 << 10
JEDEC_ID = bytes((0xC2, 0x85, 0x3A))

SR_WIP, SR_WEL = 1, 2

PP_SECONDS = 0.15e-3
SE_SECONDS = 25e-3
BE_SECONDS = 220e-3
WRCR2_SECONDS = 0.1e-3
BUSY_POLLS = 2
POLL_STEP = 1e-3
READY_IDLE, READY_PROGRAM, READY_ERASE = 40e-6, 1e-3, 12e-3
MAX_HZ, MAX_HZ_PLAIN_READ = 133e6, 50e6
FRAME_SECONDS = 10e-6  # machine time one ignored frame costs during reset recovery (coarse)

SPI, SOPI, DOPI = "SPI", "SOPI", "DOPI"
DC_CYCLES = (20, 18, 16, 14, 12, 10, 8, 6)  # CR2 0x300 DC[2:0] -> dummy cycles

# SPI opcodes: name, address bytes, dummy cycles
SPI_COMMANDS = {
    0x06: ("WREN", 0, 0),
    0x04: ("WRDI", 0, 0),
    0x05: ("RDSR", 0, 0),
    0x15: ("RDCR", 0, 0),
    0x2B: ("RDSCUR", 0, 0),
    0x9F: ("RDID", 0, 0),
    0x66: ("RSTEN", 0, 0),
    0x99: ("RST", 0, 0),
    0x71: ("RDCR2", 4, 0),
    0x72: ("WRCR2", 4, 0),
    0x03: ("READ", 3, 0),
    0x13: ("READ", 4, 0),
    0x0B: ("FAST_READ", 3, 8),
    0x0C: ("FAST_READ", 4, 8),
    0x02: ("PP", 3, 0),
    0x12: ("PP", 4, 0),
    0x20: ("SE", 3, 0),
    0x21: ("SE", 4, 0),
    0xD8: ("BE", 3, 0),
    0xDC: ("BE", 4, 0),
}
# Octal opcodes (first byte; the second is its complement): name, address bytes (always 4 if any)
OPI_COMMANDS = {
    0x06: ("WREN", 0),
    0x04: ("WRDI", 0),
    0x05: ("RDSR", 4),
    0x15: ("RDCR", 4),
    0x2B: ("RDSCUR", 4),
    0x9F: ("RDID", 4),
    0x66: ("RSTEN", 0),
    0x99: ("RST", 0),
    0x71: ("RDCR2", 4),
    0x72: ("WRCR2", 4),
    0xEC: ("READ8", 4),
    0xEE: ("READ8_DTR", 4),
    0x12: ("PP", 4),
    0x21: ("SE", 4),
    0xDC: ("BE", 4),
}
READS = ("READ", "FAST_READ", "READ8", "READ8_DTR")
REGISTER_READS = ("RDSR", "RDCR", "RDSCUR", "RDID", "RDCR2")
BUSY_ALLOWED = ("RDSR", "RDSCUR", "RSTEN", "RST")


@dataclass
class Frame:
    """One command between chip select low and high, as the controller clocks it."""

    instruction: int = 0
    ilines: int = 1  # 0: no instruction phase
    isize: int = 1  # bytes
    idtr: bool = False
    address: int | None = None
    alines: int = 0
    asize: int = 0
    adtr: bool = False
    alt_lines: int = 0  # alternate bytes (not used by this chip)
    dummy: int = 0  # cycles
    dlines: int = 0  # 0: no data phase
    ddtr: bool = False
    dqs: bool = False
    data: bytes = b""  # bytes written by the controller
    read: int = 0  # bytes the controller reads
    clock_hz: float = 0.0

    def describe(self) -> str:
        parts = [f"instr {self.instruction:#0{2 + 2 * max(self.isize, 1)}x}/{self.ilines}L{'D' if self.idtr else ''}"]
        if self.address is not None:
            parts.append(f"addr {self.address:#x}/{self.asize}B/{self.alines}L{'D' if self.adtr else ''}")
        if self.dummy:
            parts.append(f"{self.dummy} dummy")
        if self.dlines:
            what = f"read {self.read}" if self.read else f"write {len(self.data)}"
            parts.append(f"{what}/{self.dlines}L{'D' if self.ddtr else ''}{' DQS' if self.dqs else ''}")
        return ", ".join(parts)


class NorMX25LM:
    """The chip. `base` is where the controller's memory-mapped window shows offset 0 (used for the
    power-cut trace and the externals interface); the chip itself works with offsets."""

    name = "MX25LM51245G"

    def __init__(self, base: int = 0x90000000, size: int = SIZE):
        self.base, self.size = base, size
        self.machine = None
        self.blocks: dict = {}  # block index -> bytearray(BLOCK)
        self.on_change: Callable[[int, int], None] | None = None  # (offset, length)
        self.noise = random.Random(0x4D58)
        self.power_on()

    # -- reset ----------------------------------------------------------------------------------------------
    def power_on(self) -> None:
        self.mode = SPI
        self.wel = False
        self.cr = 0x07  # configuration register (output driver strength default) [U]
        self.cr2 = {0x000: 0, 0x200: 0, 0x300: 0, 0x500: 0}
        self.rsten = False
        self.busy = None  # (kind, offset, length, old bytes, target bytes, end cycle, polls left)
        self.ready_at = 0  # cycle before which the chip is still in reset recovery

    def reset(self) -> None:
        """MCU system reset: the chip is another device and keeps its state (see the module docstring)."""

    # -- services -------------------------------------------------------------------------------------------
    def _now(self) -> int:
        return self.machine.cycles if self.machine is not None else 0

    def _seconds_to_cycles(self, seconds: float) -> int:
        hz = self.machine.hclk_hz if self.machine is not None else 4e6
        return int(seconds * hz)

    def violation(self, text: str) -> None:
        if self.machine is not None:
            self.machine.violation(f"{self.name}: {text}")
        else:
            raise AssertionError(text)

    def event(self, text: str) -> None:
        if self.machine is not None:
            self.machine.event(f"{self.name}: {text}")

    def garbage(self, n: int) -> bytes:
        return bytes(self.noise.getrandbits(8) for _ in range(n))

    # -- contents -------------------------------------------------------------------------------------------
    def read(self, offset: int, length: int) -> bytes:
        out = bytearray()
        while length > 0:
            index, inner = divmod(offset, BLOCK)
            n = min(length, BLOCK - inner)
            block = self.blocks.get(index)
            out += block[inner : inner + n] if block is not None else b"\xff" * n
            offset += n
            length -= n
        return bytes(out)

    def _write_cells(self, offset: int, data: bytes) -> None:
        """Set cells to exactly `data` (the physics has been applied by the caller)."""
        pos = 0
        while pos < len(data):
            index, inner = divmod(offset + pos, BLOCK)
            n = min(len(data) - pos, BLOCK - inner)
            chunk = data[pos : pos + n]
            block = self.blocks.get(index)
            if block is None:
                if chunk.count(0xFF) == n:
                    pos += n
                    continue
                block = self.blocks[index] = bytearray(b"\xff" * BLOCK)
            block[inner : inner + n] = chunk
            if inner == 0 and n == BLOCK and chunk.count(0xFF) == BLOCK:
                del self.blocks[index]
            pos += n
        self._changed(offset, len(data))

    def _changed(self, offset: int, length: int) -> None:
        if self.on_change is not None and length:
            self.on_change(offset, length)

    def load(self, offset: int, data: bytes) -> None:
        """A programmer writes the chip (no NOR rules)."""
        self._write_cells(offset, bytes(data))

    def snapshot(self) -> dict:
        return {index: bytes(block) for index, block in self.blocks.items()}

    def restore(self, state: dict) -> None:
        touched = set(self.blocks) | set(state)
        self.blocks = {index: bytearray(block) for index, block in state.items()}
        for index in sorted(touched):
            self._changed(index * BLOCK, BLOCK)

    # -- the physics of one operation (also used by power.replay) -------------------------------------------
    @staticmethod
    def page_image(offset: int, data: bytes) -> list:
        """(offset, byte) pairs a page program writes: wrap inside the page, the last 256 bytes win."""
        page = offset - offset % PAGE
        start = offset % PAGE
        data = bytes(data)
        if len(data) > PAGE:
            start = (start + len(data) - PAGE) % PAGE
            data = data[-PAGE:]
        return [(page + (start + i) % PAGE, b) for i, b in enumerate(data)]

    def targets(self, kind: str, offset: int, length: int, data: bytes) -> tuple:
        """(runs of (offset, old bytes, new bytes)) the operation moves the cells through."""
        if kind == "erase":
            old = self.read(offset, length)
            return [(offset, old, b"\xff" * length)]
        runs = []
        pairs = self.page_image(offset, data)
        # group consecutive offsets (a wrapped page program gives at most two runs)
        i = 0
        while i < len(pairs):
            j = i
            while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[j][0] + 1:
                j += 1
            first = pairs[i][0]
            old = self.read(first, j - i + 1)
            new = bytes(o & b for o, (_, b) in zip(old, pairs[i : j + 1]))
            runs.append((first, old, new))
            i = j + 1
        return runs

    def apply(self, kind: str, address: int, length: int, data, verdict: str, rng) -> None:
        """One operation of the power-cut trace (CPU address in the window): DO, TEAR or SKIP."""
        if verdict == SKIP:
            return
        offset = address - self.base
        for first, old, new in self.targets(kind, offset, length, data or b""):
            if verdict == TEAR:
                new = self.tear(old, new, rng)
            self._write_cells(first, new)

    @staticmethod
    def tear(old: bytes, new: bytes, rng) -> bytes:
        """Each bit that had to move moved or not; at least one did not when any had to move."""
        out = bytearray(old)
        moved_all = True
        for i, (o, n) in enumerate(zip(old, new)):
            moving = o ^ n
            if moving:
                keep = rng.getrandbits(8) & moving
                out[i] = o ^ keep
                moved_all &= keep == moving
        if moved_all and old != new:
            i = next(i for i, (o, n) in enumerate(zip(old, new)) if o != n)
            out[i] = old[i]
        return bytes(out)

    def contains(self, address: int, length: int = 1) -> bool:
        return self.base <= address and address + length <= self.base + self.size

    # -- commands ---------------------------------------------------------------------------------------------
    def status(self) -> int:
        return (SR_WIP if self._busy_now() else 0) | (SR_WEL if self.wel else 0)

    def _busy_now(self) -> bool:
        return self.busy is not None

    def _poll_busy(self) -> None:
        """A status read while an operation runs: time passes; the operation ends after its time and at
        least BUSY_POLLS reads."""
        kind, offset, length, end, polls = self.busy
        now = self._now()
        if self.machine is not None and now < end:
            # No request_stop() here: the poll is started by a register store, and a store during
            # which the machine stops is executed again when it resumes (Unicorn restarts the
            # instruction). The SysTick catches up at the end of the machine's slice.
            step = min(end - now, self._seconds_to_cycles(POLL_STEP))
            self.machine.stall(step / self.machine.hclk_hz)
            now = self._now()
        polls -= 1
        if polls <= 0 and now >= end:
            self.busy = None
        else:
            self.busy = (kind, offset, length, end, polls)

    def _decode(self, f: Frame):
        """The command name and expected framing, or None with the reason when the chip cannot see it."""
        if f.clock_hz > MAX_HZ + 1:
            return None, f"clock {f.clock_hz / 1e6:.1f} MHz above {MAX_HZ / 1e6:.0f} MHz"
        if self.mode == SPI:
            if f.ilines != 1 or f.isize != 1 or f.idtr:
                return (
                    None,
                    f"instruction framed {f.ilines} lines x {f.isize} bytes{' DTR' if f.idtr else ''} "
                    f"but the chip is in SPI mode (1 line, 1 byte)",
                )
            cmd = SPI_COMMANDS.get(f.instruction & 0xFF)
            if cmd is None:
                return None, f"unknown SPI opcode {f.instruction:#04x}"
            name, abytes, dummy = cmd
            if abytes:
                if f.address is None or f.alines != 1 or f.adtr or f.asize != abytes:
                    return None, f"{name} {f.instruction:#04x} needs a 1-line {abytes}-byte address"
            elif f.address is not None:
                return None, f"{name} takes no address"
            if f.dlines not in (0, 1) or f.ddtr:
                return None, f"{name}: data phase on {f.dlines} lines{' DTR' if f.ddtr else ''} in SPI mode"
            return (name, dummy), None
        # octal
        dtr = self.mode == DOPI
        op = (f.instruction >> 8) & 0xFF
        if f.ilines != 8 or f.isize != 2 or f.idtr != dtr:
            return (
                None,
                f"instruction framed {f.ilines} lines x {f.isize} bytes{' DTR' if f.idtr else ''} "
                f"but the chip is in {self.mode} (8 lines, 2 bytes{', DTR' if dtr else ''})",
            )
        if f.instruction & 0xFF != (~op & 0xFF):
            return None, f"octal instruction {f.instruction:#06x}: second byte is not the complement"
        cmd = OPI_COMMANDS.get(op)
        if cmd is None or (cmd[0] == "READ8_DTR" and not dtr):
            return None, f"unknown {self.mode} opcode {f.instruction:#06x}"
        name, abytes = cmd
        if abytes:
            if f.address is None or f.alines != 8 or f.asize != 4 or f.adtr != dtr:
                return None, f"{name}: needs an 8-line 4-byte address{' (DTR)' if dtr else ''}"
        elif f.address is not None:
            return None, f"{name} takes no address"
        if f.dlines not in (0, 8) or (f.dlines and f.ddtr != dtr):
            return None, f"{name}: data phase must be 8 lines{' DTR' if dtr else ''}"
        if dtr and f.read and not f.dqs:
            return None, f"{name}: DOPI reads need DQS (CCR.DQSE)"
        if name in READS:
            dummy = DC_CYCLES[self.cr2[0x300] & 7]
        elif name in REGISTER_READS:
            dummy = None  # 4 (STR) / 5 (DTR) per ST's driver, or the DC setting [U]: both accepted
        else:
            dummy = 0
        return (name, dummy), None

    def command(self, f: Frame) -> bytes:
        """Execute one frame; returns the bytes the chip drives for a read frame (len == f.read)."""
        now = self._now()
        if now < self.ready_at:
            # The frame takes bus time (machine.cycles only advances between the machine's slices).
            if self.machine is not None:
                self.machine.stall(
                    min(self.ready_at - now, self._seconds_to_cycles(FRAME_SECONDS)) / self.machine.hclk_hz
                )
            if not self._recovery_logged:
                self._recovery_logged = True
                self.event(f"frame during reset recovery ignored (reads float high): {f.describe()}")
            return b"\xff" * f.read
        decoded, why = self._decode(f)
        if decoded is None:
            self.rsten = False
            instruction_only = f.address is None and not f.dlines and not f.dummy
            if instruction_only:
                self.event(f"{why}: frame ignored ({f.describe()})")
            else:
                self.violation(f"{why}: the chip does not understand {f.describe()}")
            return self.garbage(f.read)
        name, dummy = decoded
        if self.busy is not None and name not in BUSY_ALLOWED:
            self.violation(
                f"{name} while an operation is in progress (WIP = 1): ignored; poll the "
                f"status register until WIP clears"
            )
            return self.garbage(f.read)
        if dummy is not None and f.dummy != dummy:
            if f.read:
                self.violation(f"{name} with {f.dummy} dummy cycles, the chip needs {dummy}: data shifted")
                return self.garbage(f.read)
            self.violation(f"{name} with {f.dummy} dummy cycles (needs {dummy})")
        elif dummy is None and f.dummy not in (4, 5, DC_CYCLES[self.cr2[0x300] & 7]):
            self.violation(f"{name} with {f.dummy} dummy cycles")
            return self.garbage(f.read)
        if name == "READ" and f.clock_hz > MAX_HZ_PLAIN_READ + 1:
            self.violation(
                f"READ (no dummy) at {f.clock_hz / 1e6:.1f} MHz: above {MAX_HZ_PLAIN_READ / 1e6:.0f} "
                f"MHz the data is not valid; use FAST_READ"
            )
            return self.garbage(f.read)
        if f.read and name not in READS + REGISTER_READS:
            self.violation(f"{name} read with a data phase")
            return self.garbage(f.read)
        if f.data and name not in ("PP", "WRCR2"):
            self.violation(f"{name} with {len(f.data)} data bytes")
        was_rsten, self.rsten = self.rsten, False
        handler = getattr(self, "_cmd_" + name.lower())
        if name == "RST":
            return handler(f, was_rsten)
        return handler(f)

    def _repeat(self, data: bytes, n: int) -> bytes:
        return (data * (n // len(data) + 1))[:n]

    # registers
    def _cmd_rdsr(self, f: Frame) -> bytes:
        out = bytearray()
        for _ in range(f.read):
            out.append(self.status())
            if self.busy is not None:
                self._poll_busy()
        return bytes(out)

    def _cmd_rdcr(self, f: Frame) -> bytes:
        return self._repeat(bytes([self.cr]), f.read)

    def _cmd_rdscur(self, f: Frame) -> bytes:
        return bytes(f.read)  # no P_FAIL / E_FAIL: operations do not fail in the model

    def _cmd_rdid(self, f: Frame) -> bytes:
        return self._repeat(JEDEC_ID, f.read)

    def _cmd_rdcr2(self, f: Frame) -> bytes:
        return self._repeat(bytes([self.cr2.get(f.address & 0xFFFFFFFF, 0)]), f.read)

    def _cmd_wren(self, f: Frame) -> bytes:
        self.wel = True
        return b""

    def _cmd_wrdi(self, f: Frame) -> bytes:
        self.wel = False
        return b""

    def _cmd_rsten(self, f: Frame) -> bytes:
        self.rsten = True
        return b""

    def _cmd_rst(self, f: Frame, armed: bool) -> bytes:
        if not armed:
            self.event("RST without RSTEN on the frame before: ignored")
            return b""
        recovery = READY_IDLE
        if self.busy is not None:
            kind, offset, length, _end, _polls = self.busy
            recovery = READY_ERASE if kind == "erase" else READY_PROGRAM
            self.event(f"reset interrupted a {kind} at {self.base + offset:#x}: cells left torn")
            self._interrupted(kind, offset, length)
        self.mode = SPI
        self.wel = False
        self.cr2 = {0x000: 0, 0x200: 0, 0x300: 0, 0x500: 0}
        self.busy = None
        self.ready_at = self._now() + self._seconds_to_cycles(recovery)
        self._recovery_logged = False
        self.event(f"software reset: SPI mode, ready in {recovery * 1e6:.0f} us")
        return b""

    def _interrupted(self, kind: str, offset: int, length: int) -> None:
        """A reset stopped the running operation: tear what it had to do. The operation already
        completed in the cells when it was issued; tear between the saved old contents and them."""
        old = self._inflight_old
        if old is None:
            return
        rng = self.machine.power.rng() if self.machine is not None else random.Random(1)
        for first, before in old:
            now = self.read(first, len(before))
            self._write_cells(first, self.tear(before, now, rng))

    def _cmd_wrcr2(self, f: Frame) -> bytes:
        if not self.wel:
            self.event("WRCR2 without WEL: ignored")
            return b""
        self.wel = False
        if len(f.data) < 1:
            self.violation("WRCR2 without a data byte")
            return b""
        address = f.address & 0xFFFFFFFF
        value = f.data[0]
        if address == 0x40000000:
            self.violation("CR2 0x40000000 (DEFSOPI/DEFDOPI, non-volatile power-on protocol) is not modelled")
            return b""
        if address not in self.cr2:
            self.violation(f"WRCR2 to unknown CR2 address {address:#x}")
            return b""
        self.cr2[address] = value
        if address == 0:
            new = DOPI if value & 2 else SOPI if value & 1 else SPI
            if new != self.mode:
                self.event(f"CR2: protocol {self.mode} -> {new}")
            self.mode = new
        self._start_busy("register", 0, 0, WRCR2_SECONDS, None)
        return b""

    # array
    def _cmd_read(self, f: Frame) -> bytes:
        offset = f.address % self.size
        out = bytearray()
        while len(out) < f.read:
            n = min(f.read - len(out), self.size - offset)
            out += self.read(offset, n)
            offset = 0
        return bytes(out)

    _cmd_fast_read = _cmd_read
    _cmd_read8 = _cmd_read
    _cmd_read8_dtr = _cmd_read

    def _cmd_pp(self, f: Frame) -> bytes:
        if not self.wel:
            self.event("PP without WEL: ignored")
            return b""
        self.wel = False
        if not f.data:
            return b""
        if self.mode == DOPI and (len(f.data) % 2 or f.address % 2):
            self.violation(
                f"DOPI page program of {len(f.data)} bytes at {f.address:#x}: DTR programs 16-bit "
                f"units (even address and length)"
            )
        offset = f.address % self.size
        self._operate("program", offset, len(f.data), bytes(f.data), PP_SECONDS)
        return b""

    def _cmd_se(self, f: Frame) -> bytes:
        return self._erase(f, SECTOR, SE_SECONDS)

    def _cmd_be(self, f: Frame) -> bytes:
        return self._erase(f, BLOCK, BE_SECONDS)

    def _erase(self, f: Frame, unit: int, seconds: float) -> bytes:
        if not self.wel:
            self.event("erase without WEL: ignored")
            return b""
        self.wel = False
        offset = (f.address % self.size) - (f.address % unit)
        self._operate("erase", offset, unit, None, seconds)
        return b""

    def _operate(self, kind: str, offset: int, length: int, data, seconds: float) -> None:
        old = None
        runs = self.targets(kind, offset, length, data or b"")
        if self.machine is not None:
            power = self.machine.power
            verdict = power.operation(kind, self.base + offset, length, data)
            rng = power.rng()
        else:
            verdict, rng = DO, None
        old = [(first, before) for first, before, _ in runs]
        self.apply(kind, self.base + offset, length, data, verdict, rng)
        if self.machine is not None and self.machine.power.dead:
            self._inflight_old = None
            return
        self._start_busy(kind, offset, length, seconds, old)

    def _start_busy(self, kind: str, offset: int, length: int, seconds: float, old) -> None:
        self._inflight_old = old
        self.busy = (kind, offset, length, self._now() + self._seconds_to_cycles(seconds), BUSY_POLLS)

    _inflight_old = None
    _recovery_logged = False
