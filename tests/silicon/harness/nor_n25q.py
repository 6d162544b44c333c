# SPDX-License-Identifier: Apache-2.0
"""Micron N25Q128A (3 V): 128 Mbit (16 MiB) quad-SPI NOR flash of the DISCO-F469I, as the QUADSPI sees it.

Sources: Micron "Serial NOR Flash Memory 3V, Multiple I/O, 4KB Sector Erase N25Q128A" (n25q_128mb_3v_65nm.pdf,
rev. R): features page (108 MHz, extended SPI / dual I/O / quad I/O protocols, uniform 4 KiB subsector and
64 KiB sector erase, software reset, JEDEC signature BA18h after manufacturer 20h); its "Status Register"
(bit 0 write in progress, bit 1 write enable latch), "Flag Status Register" (bit 7 program/erase
controller ready, 5 erase, 4 program, 1 protection error), "Volatile (Enhanced) Configuration Register"
(VCR 7:4 dummy cycles, 3 XIP; VECR 7 quad I/O protocol, 6 dual I/O protocol, active low) and the command
table; opcodes as restated in the facts reference (../shared/reference/stm32-extflash-protection.md A3)
from ST's n25q128a.h. Items marked [U] were not confirmed in the datasheet text this session.

The chip takes one `Frame` (nor_mx25lm.Frame) per chip-select cycle and understands it only when it is
framed for the protocol it is in:
- extended SPI (power-on default): instruction on 1 line; address and data on the lines of the command
  (03/0B/02/20/D8 on 1 line; 3B dual output, BB dual I/O, 6B quad output, EB quad I/O fast read); 3-byte
  addresses (16 MiB).
- dual I/O (VECR bit 6 = 0) and quad I/O (VECR bit 7 = 0): every phase on 2 / 4 lines. A driver that
  does not know the protocol sends its reset in each framing; frames of another protocol are ignored
  (instruction only: an event) or not understood (a violation; reads answer garbage).
- Fast reads take the dummy cycles of VCR[7:4]; 0 or 15 is the default: 8, 10 with the address on 4
  lines [U: the datasheet's default table]. Wrong dummy cycles shift the data: garbage and a violation.
- 03 READ (no dummy cycles) is valid up to 54 MHz [U], every command up to 108 MHz.

Rules enforced:
- WREN (06) sets WEL; PP (02), SSE (20, 4 KiB), SE (D8, 64 KiB), WRVCR/WRVECR need it and clear it; without
  WEL they are ignored with no error (as the datasheet says: not executed).
- While a program or erase runs, WIP (status bit 0) is 1 and FSR bit 7 is 0; the chip accepts only RDSR,
  RDFSR and the reset pair; anything else is ignored and reported (a driver that does not wait loses data).
- Page program writes inside one 256-byte page (bytes past its end wrap to its start, more than 256 keep
  the last 256) and only clears bits (new = old AND data). Erase sets its 4 KiB / 64 KiB unit to FFh; the
  address is truncated to the unit.
- Reset enable (66) then reset (99) on the next frame: extended SPI, WEL, VCR/VECR back to their defaults
  (the nonvolatile configuration register is at its factory value), an operation in progress interrupted
  (its cells torn) [U: datasheet wording on reset during program/erase]; then a recovery time during which
  frames are ignored (reads float high).
- An MCU system reset does not reset the chip (a separate device; DISCO-F469I wires no reset to it [U]).

Not modelled (reported when used): bulk erase (C7), suspend/resume, the nonvolatile configuration
register (B1), the status register write (01: block protection), lock and OTP registers, XIP mode (VCR
bit 3), dual/quad input programs. Operations never fail (FSR error bits stay 0).

Power cuts: each page program and each subsector/sector erase is one operation of `machine.power`; a torn
one leaves every bit that had to move moved or not (no ECC: torn bytes read back as they are). Vendor
guidance for SPI NOR says a cut page program may disturb the rest of its sector too; the model tears only
the addressed bytes. Storage, tearing, snapshots and the WIP timing are those of nor_mx25lm.NorMX25LM.

Timing (datasheet typical values [U], ST's driver maxima match the datasheet maxima): page program 0.5 ms
(max 5 ms), 4 KiB subsector erase 0.25 s (max 0.8 s), 64 KiB sector erase 0.7 s (max 3 s).
"""

from __future__ import annotations

from .nor_mx25lm import BUSY_POLLS, Frame, NorMX25LM

SIZE = 16 << 20
SUBSECTOR = 4 << 10
SECTOR = 64 << 10
JEDEC_ID = bytes((0x20, 0xBA, 0x18, 0x10, 0x00))  # manufacturer, type, capacity, EDID [U: EDID bytes]

PP_SECONDS = 0.5e-3
SSE_SECONDS = 0.25
SE_SECONDS = 0.7
WRITE_REG_SECONDS = 0.0  # volatile registers: no busy time
MAX_HZ, MAX_HZ_READ = 108e6, 54e6

SPI, DIO, QIO = "SPI", "DIO", "QIO"
PROTOCOL_LINES = {SPI: 1, DIO: 2, QIO: 4}

# opcode -> name, has address, address lines / data lines in extended SPI, fast read (configurable dummy)
COMMANDS = {
    0x06: ("WREN", False, 0, 0, False),
    0x04: ("WRDI", False, 0, 0, False),
    0x05: ("RDSR", False, 0, 1, False),
    0x70: ("RDFSR", False, 0, 1, False),
    0x50: ("CLFSR", False, 0, 0, False),
    0x9E: ("RDID", False, 0, 1, False),
    0x9F: ("RDID", False, 0, 1, False),
    0xAF: ("MIORDID", False, 0, 1, False),  # the dual/quad protocols' read ID
    0x66: ("RSTEN", False, 0, 0, False),
    0x99: ("RST", False, 0, 0, False),
    0x85: ("RDVCR", False, 0, 1, False),
    0x81: ("WRVCR", False, 0, 1, False),
    0x65: ("RDVECR", False, 0, 1, False),
    0x61: ("WRVECR", False, 0, 1, False),
    0xB5: ("RDNVCR", False, 0, 1, False),
    0xB1: ("WRNVCR", False, 0, 1, False),
    0x01: ("WRSR", False, 0, 1, False),
    0x03: ("READ", True, 1, 1, False),
    0x0B: ("FAST_READ", True, 1, 1, True),
    0x3B: ("DOFR", True, 1, 2, True),
    0xBB: ("DIOFR", True, 2, 2, True),
    0x6B: ("QOFR", True, 1, 4, True),
    0xEB: ("QIOFR", True, 4, 4, True),
    0x02: ("PP", True, 1, 1, False),
    0xA2: ("DIFP", True, 1, 2, False),
    0xD2: ("DIEFP", True, 2, 2, False),
    0x32: ("QIFP", True, 1, 4, False),
    0x12: ("QIEFP", True, 4, 4, False),
    0x20: ("SSE", True, 1, 0, False),
    0xD8: ("SE", True, 1, 0, False),
    0xC7: ("BE", False, 0, 0, False),
    0x75: ("SUSPEND", False, 0, 0, False),
    0x7A: ("RESUME", False, 0, 0, False),
}
READS = ("READ", "FAST_READ", "DOFR", "DIOFR", "QOFR", "QIOFR")
REGISTER_READS = ("RDSR", "RDFSR", "RDID", "MIORDID", "RDVCR", "RDVECR", "RDNVCR")
BUSY_ALLOWED = ("RDSR", "RDFSR", "RSTEN", "RST")
NOT_MODELLED = ("BE", "SUSPEND", "RESUME", "WRNVCR", "WRSR", "DIFP", "DIEFP", "QIFP", "QIEFP")
VCR_DEFAULT, VECR_DEFAULT, NVCR_DEFAULT = 0xFB, 0xDF, 0xFFFF  # [U: reset values of the datasheet]


class NorN25Q128A(NorMX25LM):
    """The chip; `base` is where the QUADSPI window shows offset 0."""

    name = "N25Q128A"
    #: the command set and limits, by class: nor_mt25q.NorMT25QL512 (4-byte addresses) extends them
    commands = COMMANDS
    reads = READS
    not_modelled = NOT_MODELLED
    max_hz, max_hz_plain_read = MAX_HZ, MAX_HZ_READ

    def address_bytes(self, opcode: int) -> int:
        """Address bytes the chip expects after `opcode` (3: 16 MiB, no 4-byte mode)."""
        return 3

    def __init__(self, base: int = 0x90000000, size: int = SIZE):
        super().__init__(base, size)
        self.noise.seed(0x4E32)

    def power_on(self) -> None:
        super().power_on()
        self.vcr, self.vecr, self.fsr = VCR_DEFAULT, VECR_DEFAULT, 0x80

    def protocol(self) -> str:
        if not self.vecr >> 7 & 1:
            return QIO
        if not self.vecr >> 6 & 1:
            return DIO
        return SPI

    def status(self) -> int:
        return super().status() & 0x03

    def flag_status(self) -> int:
        return (self.fsr & 0x7F) | (0 if self.busy is not None else 0x80)

    def dummy_for(self, alines: int) -> int:
        n = self.vcr >> 4 & 0xF
        if n in (0, 0xF):
            return 10 if alines == 4 else 8
        return n

    # -- decoding -------------------------------------------------------------------------------------------
    def decode(self, f: Frame):
        """(name, dummy cycles or None) or (None, why) when the chip cannot see the frame."""
        if f.clock_hz > self.max_hz + 1:
            return None, f"clock {f.clock_hz / 1e6:.1f} MHz above {self.max_hz / 1e6:.0f} MHz"
        proto = self.protocol()
        wide = PROTOCOL_LINES[proto]
        if f.ilines != wide or f.isize != 1 or f.idtr:
            return None, (
                f"instruction framed on {f.ilines} lines x {f.isize} bytes{' DTR' if f.idtr else ''} but the chip "
                f"is in {proto} (instruction on {wide} line{'s' if wide > 1 else ''}, 1 byte)"
            )
        cmd = self.commands.get(f.instruction & 0xFF)
        if cmd is None:
            return None, f"unknown opcode {f.instruction:#04x}"
        name, has_address, alines, dlines, fast = cmd
        if proto != SPI:
            alines, dlines = (wide if has_address else 0), (wide if dlines else 0)
            if name == "RDID":
                return None, f"RDID {f.instruction:#04x} is not available in {proto} (use AF)"
        elif name == "MIORDID":
            return None, "AF (multiple I/O read ID) is for the dual and quad protocols"
        if has_address:
            width = self.address_bytes(f.instruction & 0xFF)
            if f.address is None or f.alines != alines or f.asize != width or f.adtr:
                return None, f"{name} {f.instruction:#04x} needs a {alines}-line {width}-byte address"
        elif f.address is not None:
            return None, f"{name} takes no address"
        if f.dlines and (f.dlines != dlines or f.ddtr):
            return None, f"{name}: data phase on {f.dlines} lines{' DTR' if f.ddtr else ''}, the chip uses {dlines}"
        if f.alt_lines:
            return None, f"{name}: alternate bytes (XIP confirmation) are not modelled"
        return (name, self.dummy_for(alines) if fast else 0), None

    _decode = decode  # the name octospi-style controllers use

    def command(self, f: Frame) -> bytes:
        """Execute one frame; returns the bytes the chip drives for a read frame (len == f.read)."""
        now = self._now()
        if now < self.ready_at:
            if self.machine is not None:
                self.machine.stall(min(self.ready_at - now, self._seconds_to_cycles(10e-6)) / self.machine.hclk_hz)
            if not self._recovery_logged:
                self._recovery_logged = True
                self.event(f"frame during reset recovery ignored (reads float high): {f.describe()}")
            return b"\xff" * f.read
        decoded, why = self.decode(f)
        if decoded is None:
            self.rsten = False
            if f.address is None and not f.dlines and not f.dummy:
                self.event(f"{why}: frame ignored ({f.describe()})")
            else:
                self.violation(f"{why}: the chip does not understand {f.describe()}")
            return self.garbage(f.read)
        name, dummy = decoded
        if self.busy is not None and name not in BUSY_ALLOWED:
            self.violation(
                f"{name} while a program or erase is in progress (WIP = 1): ignored; poll the status "
                f"register until WIP clears"
            )
            return self.garbage(f.read)
        if name in self.not_modelled:
            self.violation(f"{name} ({f.instruction:#04x}) is not modelled")
            return self.garbage(f.read)
        if f.dummy != dummy:
            self.violation(f"{name} with {f.dummy} dummy cycles, the chip needs {dummy}: data shifted")
            return self.garbage(f.read)
        if name == "READ" and f.clock_hz > self.max_hz_plain_read + 1:
            self.violation(
                f"READ (no dummy) at {f.clock_hz / 1e6:.1f} MHz: above {self.max_hz_plain_read / 1e6:.0f} MHz; "
                "use a fast read"
            )
            return self.garbage(f.read)
        if f.read and name not in self.reads + REGISTER_READS:
            self.violation(f"{name} read with a data phase")
            return self.garbage(f.read)
        if f.data and name not in ("PP", "WRVCR", "WRVECR"):
            self.violation(f"{name} with {len(f.data)} data bytes")
        was_rsten, self.rsten = self.rsten, False
        if name == "RST":
            return self._reset(was_rsten)
        handler = getattr(self, "_n25q_" + name.lower())
        return handler(f)

    # -- commands -------------------------------------------------------------------------------------------
    def _n25q_rdsr(self, f: Frame) -> bytes:
        return self._cmd_rdsr(f)

    def _n25q_rdfsr(self, f: Frame) -> bytes:
        out = bytearray()
        for _ in range(f.read):
            out.append(self.flag_status())
            if self.busy is not None:
                self._poll_busy()
        return bytes(out)

    def _n25q_clfsr(self, f: Frame) -> bytes:
        self.fsr &= 0x80
        return b""

    def _n25q_rdid(self, f: Frame) -> bytes:
        return (JEDEC_ID + bytes(max(0, f.read)))[: f.read]

    _n25q_miordid = _n25q_rdid

    def _n25q_wren(self, f: Frame) -> bytes:
        self.wel = True
        return b""

    def _n25q_wrdi(self, f: Frame) -> bytes:
        self.wel = False
        return b""

    def _n25q_rsten(self, f: Frame) -> bytes:
        self.rsten = True
        return b""

    def _reset(self, armed: bool) -> bytes:
        if not armed:
            self.event("RST without RSTEN on the frame before: ignored")
            return b""
        self._cmd_rst(Frame(), True)  # interrupts a running operation, WEL off, recovery time
        self.vcr, self.vecr, self.fsr = VCR_DEFAULT, VECR_DEFAULT, 0x80
        return b""

    def _n25q_rdvcr(self, f: Frame) -> bytes:
        return self._repeat(bytes([self.vcr]), f.read)

    def _n25q_rdvecr(self, f: Frame) -> bytes:
        return self._repeat(bytes([self.vecr]), f.read)

    def _n25q_rdnvcr(self, f: Frame) -> bytes:
        return self._repeat(NVCR_DEFAULT.to_bytes(2, "little"), f.read)

    def _write_register(self, f: Frame, name: str) -> int | None:
        if not self.wel:
            self.event(f"{name} without WEL: ignored")
            return None
        self.wel = False
        if not f.data:
            self.violation(f"{name} without a data byte")
            return None
        return f.data[0]

    def _n25q_wrvcr(self, f: Frame) -> bytes:
        value = self._write_register(f, "WRVCR")
        if value is not None:
            if not value >> 3 & 1:
                self.violation("VCR bit 3 = 0 (XIP) is not modelled")
            self.vcr = value
        return b""

    def _n25q_wrvecr(self, f: Frame) -> bytes:
        value = self._write_register(f, "WRVECR")
        if value is not None:
            before = self.protocol()
            self.vecr = value
            if self.protocol() != before:
                self.event(f"VECR: protocol {before} -> {self.protocol()}")
        return b""

    def _n25q_read(self, f: Frame) -> bytes:
        return self._cmd_read(f)

    _n25q_fast_read = _n25q_read
    _n25q_dofr = _n25q_read
    _n25q_diofr = _n25q_read
    _n25q_qofr = _n25q_read
    _n25q_qiofr = _n25q_read

    def _n25q_pp(self, f: Frame) -> bytes:
        if not self.wel:
            self.event("PP without WEL: ignored")
            return b""
        self.wel = False
        if f.data:
            self._operate("program", f.address % self.size, len(f.data), bytes(f.data), PP_SECONDS)
        return b""

    def _n25q_sse(self, f: Frame) -> bytes:
        return self._erase(f, SUBSECTOR, SSE_SECONDS)

    def _n25q_se(self, f: Frame) -> bytes:
        return self._erase(f, SECTOR, SE_SECONDS)


__all__ = ["BUSY_POLLS", "DIO", "QIO", "SPI", "NorN25Q128A"]
