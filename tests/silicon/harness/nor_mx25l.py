# SPDX-License-Identifier: Apache-2.0
"""Macronix MX25L51245G (3 V): 512 Mbit (64 MiB) quad-SPI NOR flash of the DISCO-F769I, as the QUADSPI sees it.

Sources (facts, restated): ST's component driver for the part (STM32CubeF7 Drivers/BSP/Components/mx25l512:
mx25l512.h command table and register bits, mx25l512.c notes on QE, QPI and the dummy-cycle table), the
mbed-os test configuration MX25L51245G_config.h (status bits, erase/program maxima), and the JEDEC ID C2 20 1A
as flash tables list it (e.g. U-Boot / Linux spi-nor "mx25l51245g"). Items marked [U] were not confirmed in
the Macronix datasheet text this session.

The chip takes one `Frame` (nor_mx25lm.Frame) per chip-select cycle and understands it only when it is
framed for the protocol it is in:
- SPI (power-on): instruction on 1 line. Commands with 3- or 4-byte addresses by the address mode (EN4B B7 /
  EX4B E9; power-on: 3-byte [U: the ADP power-up default]): 03 READ, 0B FAST_READ, 3B DREAD (1-1-2), BB 2READ
  (1-2-2), 6B QREAD (1-1-4), EB 4READ (1-4-4), 02 PP, 38 4PP (1-4-4), 20 SE 4 KiB, 52 BE32K, D8 BE 64 KiB; and
  the dedicated 4-byte-address opcodes, whatever the mode: 13, 0C, 3C, BC, 6C, EC, 12, 3E, 21, 5C, DC.
  Registers: 05 RDSR, 15 RDCR, 2B RDSCUR, 9F RDID; 06 WREN, 04 WRDI; 66/99 reset; 35 EQIO (enter QPI).
- QE (status bit 6, non-volatile): "QE = 0: accept 1-1-1, 1-1-2, 1-2-2 commands; QE = 1: also 1-1-4, 1-4-4"
  (ST's notes). QE is at its factory value 0 here: quad commands are refused (violation, reads answer
  garbage) [U: the QE factory value of the DISCO-F769I's part; ST's BSP sets QE itself].
- QPI (after EQIO): every phase on 4 lines; F5 RSTQIO returns to SPI; RDID is not available (AF QPIID).
- Dummy cycles by the configuration register's DC [7:6] = 00 (power-on): 8 for 1-1-1, 1-1-2, 1-1-4 fast
  reads, 4 for 1-2-2, 6 for 1-4-4 / 4-4-4 (ST's table; 133 / 84 / 84 MHz). Wrong dummy cycles shift the data:
  garbage and a violation. 03 / 13 READ (no dummy) up to 50 MHz [U], everything else up to 133 MHz.

Rules enforced (the behaviour shared with nor_mx25lm.NorMX25LM is inherited: storage, tearing, WIP timing):
- WREN sets WEL (status bit 1); program and erase need it and clear it; without WEL they are ignored.
- While a program or erase runs (WIP = 1) only RDSR, RDSCUR and the reset pair are accepted; anything else
  is ignored and reported.
- Page program writes inside one 256-byte page (wrapping, the last 256 bytes win) and only clears bits;
  erase sets its 4 KiB / 32 KiB / 64 KiB unit (address truncated to it) to FFh.
- Reset enable (66) then reset (99) on the next frame, in either protocol: SPI, 3-byte address mode, WEL
  off, an operation in progress interrupted (cells torn), a recovery time with frames ignored.
- An MCU system reset does not reset the chip: its protocol and address mode survive it.

Not modelled (reported when used): WRSR (status / configuration write: block protection, QE, DC), chip erase,
suspend/resume, DTR reads, OTP, lock registers and fast boot. Program and erase never fail.

Power cuts: each page program and each 4 / 32 / 64 KiB erase is one operation of `machine.power`; a torn one
leaves each bit that had to move moved or not (no ECC on this chip).

Timing (typical [U]; maxima from ST's / mbed's tables: 4 KiB 400 ms, 64 KiB 2 s, page 10 ms): page program
0.25 ms, 4 KiB erase 30 ms, 32 KiB 0.15 s, 64 KiB 0.28 s.
"""

from __future__ import annotations

from .nor_mx25lm import Frame, NorMX25LM

SIZE = 64 << 20
JEDEC_ID = bytes((0xC2, 0x20, 0x1A))
PP_SECONDS = 0.25e-3
ERASE_SECONDS = {4 << 10: 30e-3, 32 << 10: 0.15, 64 << 10: 0.28}
MAX_HZ, MAX_HZ_READ = 133e6, 50e6
MAX_HZ_BY_DUMMY = {"122": 84e6, "144": 84e6}
SR_QE = 0x40
CR_4BYTE = 0x20

SPI, QPI = "SPI", "QPI"
# opcode -> name, address ("34": by the address mode, 4: always 4, 0: none), address lines, data lines,
# dummy class ("", "111", "122", "144"), needs QE
COMMANDS = {
    0x06: ("WREN", 0, 0, 0, "", False),
    0x04: ("WRDI", 0, 0, 0, "", False),
    0x05: ("RDSR", 0, 0, 1, "", False),
    0x15: ("RDCR", 0, 0, 1, "", False),
    0x2B: ("RDSCUR", 0, 0, 1, "", False),
    0x9F: ("RDID", 0, 0, 1, "", False),
    0xAF: ("QPIID", 0, 0, 1, "", False),
    0x66: ("RSTEN", 0, 0, 0, "", False),
    0x99: ("RST", 0, 0, 0, "", False),
    0x35: ("EQIO", 0, 0, 0, "", False),
    0xF5: ("RSTQIO", 0, 0, 0, "", False),
    0xB7: ("EN4B", 0, 0, 0, "", False),
    0xE9: ("EX4B", 0, 0, 0, "", False),
    0x01: ("WRSR", 0, 0, 1, "", False),
    0x03: ("READ", "34", 1, 1, "", False),
    0x13: ("READ", 4, 1, 1, "", False),
    0x0B: ("FAST_READ", "34", 1, 1, "111", False),
    0x0C: ("FAST_READ", 4, 1, 1, "111", False),
    0x3B: ("DREAD", "34", 1, 2, "111", False),
    0x3C: ("DREAD", 4, 1, 2, "111", False),
    0xBB: ("2READ", "34", 2, 2, "122", False),
    0xBC: ("2READ", 4, 2, 2, "122", False),
    0x6B: ("QREAD", "34", 1, 4, "111", True),
    0x6C: ("QREAD", 4, 1, 4, "111", True),
    0xEB: ("4READ", "34", 4, 4, "144", True),
    0xEC: ("4READ", 4, 4, 4, "144", True),
    0x02: ("PP", "34", 1, 1, "", False),
    0x12: ("PP", 4, 1, 1, "", False),
    0x38: ("4PP", "34", 4, 4, "", True),
    0x3E: ("4PP", 4, 4, 4, "", True),
    0x20: ("SE", "34", 1, 0, "", False),
    0x21: ("SE", 4, 1, 0, "", False),
    0x52: ("BE32K", "34", 1, 0, "", False),
    0x5C: ("BE32K", 4, 1, 0, "", False),
    0xD8: ("BE", "34", 1, 0, "", False),
    0xDC: ("BE", 4, 1, 0, "", False),
    0x60: ("CE", 0, 0, 0, "", False),
    0xC7: ("CE", 0, 0, 0, "", False),
    0xB0: ("SUSPEND", 0, 0, 0, "", False),
    0x30: ("RESUME", 0, 0, 0, "", False),
}
DUMMY = {"": 0, "111": 8, "122": 4, "144": 6}  # DC = 00
#: commands of the QPI protocol (4-4-4) the model accepts; in QPI everything is framed on 4 lines
QPI_COMMANDS = ("WREN", "WRDI", "RDSR", "RDCR", "RSTEN", "RST", "RSTQIO", "QPIID", "EN4B", "EX4B", "4READ", "PP")
QPI_COMMANDS += ("SE", "BE32K", "BE")
READS = ("READ", "FAST_READ", "DREAD", "2READ", "QREAD", "4READ")
REGISTER_READS = ("RDSR", "RDCR", "RDSCUR", "RDID", "QPIID")
BUSY_ALLOWED = ("RDSR", "RDSCUR", "RSTEN", "RST")
NOT_MODELLED = ("WRSR", "CE", "SUSPEND", "RESUME")
ERASE_UNITS = {"SE": 4 << 10, "BE32K": 32 << 10, "BE": 64 << 10}


class NorMX25L(NorMX25LM):
    """The chip; `base` is where the QUADSPI window shows offset 0."""

    name = "MX25L51245G"
    reads = READS
    max_hz_plain_read = MAX_HZ_READ

    def __init__(self, base: int = 0x90000000, size: int = SIZE):
        super().__init__(base, size)
        self.noise.seed(0x4D5A)

    def power_on(self) -> None:
        super().power_on()
        self.protocol = SPI
        self.sr = 0x00  # QE = 0 (factory) [U], no block protection
        self.cr = 0x07  # ODS default, DC = 00, 3-byte mode [U]

    def status(self) -> int:
        return super().status() | (self.sr & ~0x03)

    def four_byte(self) -> bool:
        return bool(self.cr & CR_4BYTE)

    # -- decoding ---------------------------------------------------------------------------------------------
    def decode(self, f: Frame):
        """(name, dummy cycles) or (None, why) when the chip cannot see the frame."""
        if f.clock_hz > MAX_HZ + 1:
            return None, f"clock {f.clock_hz / 1e6:.1f} MHz above {MAX_HZ / 1e6:.0f} MHz"
        wide = 4 if self.protocol == QPI else 1
        if f.ilines != wide or f.isize != 1 or f.idtr:
            return None, (
                f"instruction framed on {f.ilines} lines x {f.isize} bytes{' DTR' if f.idtr else ''} but the chip "
                f"is in {self.protocol} (instruction on {wide} line{'s' if wide > 1 else ''}, 1 byte)"
            )
        cmd = COMMANDS.get(f.instruction & 0xFF)
        if cmd is None:
            return None, f"unknown opcode {f.instruction:#04x}"
        name, addr, alines, dlines, dummy_class, needs_qe = cmd
        if self.protocol == QPI:
            if name not in QPI_COMMANDS:
                return None, f"{name} {f.instruction:#04x} is not a QPI command (or not modelled in QPI)"
            alines, dlines = (4 if addr else 0), (4 if dlines else 0)
            dummy_class = "144" if dummy_class else ""
        else:
            if name in ("RSTQIO", "QPIID"):
                return None, f"{name} is a QPI command"
            if needs_qe and not self.sr & SR_QE:
                return None, f"{name} {f.instruction:#04x} (quad) needs the status register's QE bit, which is 0"
        if addr:
            width = 4 if addr == 4 or self.four_byte() else 3
            if f.address is None or f.alines != alines or f.asize != width or f.adtr:
                mode = "" if addr == 4 else f" in {'4' if self.four_byte() else '3'}-byte address mode"
                return None, f"{name} {f.instruction:#04x} needs a {alines}-line {width}-byte address{mode}"
        elif f.address is not None:
            return None, f"{name} takes no address"
        if f.dlines and (f.dlines != dlines or f.ddtr):
            return None, f"{name}: data phase on {f.dlines} lines{' DTR' if f.ddtr else ''}, the chip uses {dlines}"
        if f.alt_lines:
            return None, f"{name}: alternate bytes (performance-enhance mode) are not modelled"
        limit = MAX_HZ_BY_DUMMY.get(dummy_class, MAX_HZ)
        if f.clock_hz > limit + 1:
            return None, f"{name} at {f.clock_hz / 1e6:.1f} MHz: above {limit / 1e6:.0f} MHz with DC = 00"
        return (name, DUMMY[dummy_class]), None

    _decode = decode

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
            self.violation(f"{name} while a program or erase is in progress (WIP = 1): ignored; poll WIP first")
            return self.garbage(f.read)
        if name in NOT_MODELLED:
            self.violation(f"{name} ({f.instruction:#04x}) is not modelled")
            return self.garbage(f.read)
        if f.dummy != dummy:
            self.violation(f"{name} with {f.dummy} dummy cycles, the chip needs {dummy}: data shifted")
            return self.garbage(f.read)
        if name == "READ" and f.clock_hz > MAX_HZ_READ + 1:
            self.violation(f"READ (no dummy) at {f.clock_hz / 1e6:.1f} MHz: above 50 MHz; use a fast read")
            return self.garbage(f.read)
        if f.read and name not in READS + REGISTER_READS:
            self.violation(f"{name} read with a data phase")
            return self.garbage(f.read)
        if f.data and name not in ("PP", "4PP"):
            self.violation(f"{name} with {len(f.data)} data bytes")
        was_rsten, self.rsten = self.rsten, False
        if name == "RST":
            if not was_rsten:
                self.event("RST without RSTEN on the frame before: ignored")
                return b""
            self._cmd_rst(Frame(), True)  # interrupts a running operation, WEL off, recovery time
            self.protocol, self.cr = SPI, self.cr & ~CR_4BYTE
            return b""
        return getattr(self, "_mx_" + name.lower())(f)

    # -- commands -------------------------------------------------------------------------------------------
    def _mx_rdsr(self, f: Frame) -> bytes:
        return self._cmd_rdsr(f)

    def _mx_rdcr(self, f: Frame) -> bytes:
        return self._repeat(bytes([self.cr]), f.read)

    def _mx_rdscur(self, f: Frame) -> bytes:
        return bytes(f.read)  # no P_FAIL / E_FAIL: operations do not fail in the model

    def _mx_rdid(self, f: Frame) -> bytes:
        return self._repeat(JEDEC_ID, f.read)

    _mx_qpiid = _mx_rdid

    def _mx_wren(self, f: Frame) -> bytes:
        self.wel = True
        return b""

    def _mx_wrdi(self, f: Frame) -> bytes:
        self.wel = False
        return b""

    def _mx_rsten(self, f: Frame) -> bytes:
        self.rsten = True
        return b""

    def _mx_eqio(self, f: Frame) -> bytes:
        self.protocol = QPI
        self.event("EQIO: protocol SPI -> QPI")
        return b""

    def _mx_rstqio(self, f: Frame) -> bytes:
        self.protocol = SPI
        self.event("RSTQIO: protocol QPI -> SPI")
        return b""

    def _mx_en4b(self, f: Frame) -> bytes:
        self.cr |= CR_4BYTE
        return b""

    def _mx_ex4b(self, f: Frame) -> bytes:
        self.cr &= ~CR_4BYTE
        return b""

    def _mx_read(self, f: Frame) -> bytes:
        return self._cmd_read(f)

    _mx_fast_read = _mx_read
    _mx_dread = _mx_read
    _mx_2read = _mx_read
    _mx_qread = _mx_read
    _mx_4read = _mx_read

    def _mx_pp(self, f: Frame) -> bytes:
        if not self.wel:
            self.event("PP without WEL: ignored")
            return b""
        self.wel = False
        if f.data:
            self._operate("program", f.address % self.size, len(f.data), bytes(f.data), PP_SECONDS)
        return b""

    _mx_4pp = _mx_pp

    def _erase_unit(self, f: Frame, name: str) -> bytes:
        unit = ERASE_UNITS[name]
        return self._erase(f, unit, ERASE_SECONDS[unit])

    def _mx_se(self, f: Frame) -> bytes:
        return self._erase_unit(f, "SE")

    def _mx_be32k(self, f: Frame) -> bytes:
        return self._erase_unit(f, "BE32K")

    def _mx_be(self, f: Frame) -> bytes:
        return self._erase_unit(f, "BE")


__all__ = ["QPI", "SPI", "NorMX25L"]
