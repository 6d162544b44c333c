# SPDX-License-Identifier: Apache-2.0
"""QUADSPI of the STM32F469/F479 and STM32F76x/F77x (RM0410 "Quad-SPI interface": the same IP at the same
addresses) with a quad-SPI NOR chip on bank 1 (CHIPS: N25Q128A, MX25L51245G).

Sources: RM0386 (STM32F469xx/F479xx) section "Quad-SPI interface (QUADSPI)"; register layout, bit positions
and reset values (all registers reset to 0) as in the CMSIS device header stm32f469xx.h and restated in
the facts reference (../shared/reference/stm32-extflash-protection.md, A2); the start-of-command rules as
the RM states them ("Triggering the start of a command": a write to INSTRUCTION in CCR when no address is
needed and software supplies no data, a write to AR when an address is needed and software supplies no
data, a write to DR when software supplies the data). Registers at 0xA000_1000 (AHB3), memory window
0x9000_0000 [U: RM0386 memory map; not defined in the F4 header], clock RCC_AHB3ENR.QSPIEN (bit 1),
kernel clock HCLK / (CR.PRESCALER + 1). Items marked [U] were not confirmed in the manual text.

What a driver can observe, as modelled:
- CR (EN, ABORT, SSHIFT, FTHRES, APMS, PMM, PRESCALER), DCR (CKMODE, CSHT, FSIZE), SR (TEF, TCF, FTF, SMF,
  BUSY, FLEVEL 13:8 of the 32-byte FIFO), FCR (write 1 to clear TEF, TCF, SMF, TOF), DLR, CCR
  (INSTRUCTION, IMODE, ADMODE, ADSIZE, ABMODE, DCYC, DMODE, FMODE 00 indirect write / 01 indirect read /
  10 automatic polling / 11 memory-mapped), AR, ABR, DR (8/16/32-bit accesses), PSMKR, PSMAR, PIR, LPTR.
- A command uses the register values at its start; BUSY from its start until the frame is over and the
  FIFO is empty; TCF when the last byte was transferred, and after ABORT. Indirect write: the frame goes
  out when DLR + 1 bytes were written to DR (more are dropped and reported). Indirect read: the data is
  in the FIFO at once; reading DR with nothing left is reported (the access would stall).
- Automatic polling: every SR read is one status read on the bus; masked match against PSMAR (PMM AND /
  OR), SMF, and with APMS the polling stops (BUSY clears, TCF set [U]).
- ABORT stops whatever runs (a partly written frame goes out with the bytes written so far), flushes the
  FIFO, sets TCF, clears BUSY; memory-mapped mode stays selected until CCR is written with another FMODE.
- Memory-mapped mode (CCR.FMODE = 11 with EN): BUSY stays set [U: RM "BUSY ... set in memory-mapped mode"
  until ABORT]. The window is readable and executable while the mode is on and the chip answers the read
  command in its current protocol, up to 2^(FSIZE + 1) bytes; otherwise every access is a bus error [U].
  Memory-mapped writes do not exist on QUADSPI [U]: a store is a bus error.
- Strictness (violations): CCR, DCR, DLR, AR, ABR, PSM*, PIR, LPTR, and CR fields other than ABORT written
  while BUSY (ignored) [U: "can be modified only when BUSY = 0"]; a command started while EN = 0 (nothing
  is sent); a command whose CLK, BK1_NCS or IO lines are not routed to the chip by the GPIO alternate
  functions (or whose GPIO clock is off); an address beyond FSIZE (TEF); DMA, interrupts, dual-flash
  (DFM), bank 2 (FSEL), DDR, SIOO and alternate bytes (not modelled: reported); the chip's own refusals
  (nor_n25q.py).
"""

from __future__ import annotations

from .bus import Peripheral
from .nor_mt25q import MT25TL01G
from .nor_mx25l import NorMX25L
from .nor_mx25lm import Frame
from .nor_n25q import MAX_HZ_READ as N25Q_MAX_HZ_READ
from .nor_n25q import READS, NorN25Q128A
from .octospi import Window
from .pinmux import parse_pin, signal

#: the quad-SPI chips of the modelled boards: DISCO-F469I (N25Q128A), DISCO-F769I (MX25L51245G), DISCO-H745I
#: (MT25TL01G: two MT25QL512 dies in dual-flash mode, nor_mt25q.py)
CHIPS = {"N25Q128A": NorN25Q128A, "MX25L51245G": NorMX25L, "MT25TL01G": MT25TL01G}
#: QUADSPI register base by family (RM0386/RM0410: AHB3 0xA000_1000; RM0399: D1 AHB3 0x5200_5000)
BASES = {"stm32h7": 0x52005000}

BASE, WINDOW = 0xA0001000, 0x90000000
LINES = {0: 0, 1: 1, 2: 2, 3: 4}

CR_EN, CR_ABORT, CR_DMAEN, CR_DFM, CR_FSEL = 1, 2, 4, 1 << 6, 1 << 7
CR_IRQS = 0x1F << 16
CR_APMS, CR_PMM = 1 << 22, 1 << 23
CR_MASK = 0xFFDF1FDF
FMODE_WRITE, FMODE_READ, FMODE_POLL, FMODE_MM = 0, 1, 2, 3
SR_TEF, SR_TCF, SR_FTF, SR_SMF, SR_TOF, SR_BUSY = 1, 2, 4, 8, 16, 32
FIFO = 32

# offset -> (name, writable mask)
LAYOUT = {
    0x04: ("DCR", 0x001F0701),
    0x10: ("DLR", 0xFFFFFFFF),
    0x14: ("CCR", 0xDFFFFFFF),
    0x18: ("AR", 0xFFFFFFFF),
    0x1C: ("ABR", 0xFFFFFFFF),
    0x24: ("PSMKR", 0xFFFFFFFF),
    0x28: ("PSMAR", 0xFFFFFFFF),
    0x2C: ("PIR", 0x0000FFFF),
    0x30: ("LPTR", 0x0000FFFF),
}
SIGNALS = {
    "clk": "QUADSPI_CLK",
    "ncs": "QUADSPI_BK1_NCS",
    "io0": "QUADSPI_BK1_IO0",
    "io1": "QUADSPI_BK1_IO1",
    "io2": "QUADSPI_BK1_IO2",
    "io3": "QUADSPI_BK1_IO3",
    # bank 2, dual-flash mode (RM0399 "Dual-flash mode"): the second die's lines, its chip select optional
    "bk2_ncs": "QUADSPI_BK2_NCS",
    "bk2_io0": "QUADSPI_BK2_IO0",
    "bk2_io1": "QUADSPI_BK2_IO1",
    "bk2_io2": "QUADSPI_BK2_IO2",
    "bk2_io3": "QUADSPI_BK2_IO3",
}


class QuadSpi(Peripheral):
    def __init__(self, chip: NorN25Q128A | NorMX25L | MT25TL01G, pins: dict, gpios: dict, family: str):
        super().__init__(BASES.get(family, BASE), 0x400, name="QUADSPI")
        #: dual-flash mode is what a two-die package needs (CR.DFM); any other chip sits on bank 1 alone
        self.dual = bool(getattr(chip, "dual", False))
        self.window_base = WINDOW
        self.chip = chip
        self.pins = {}
        for sig, (pin, af) in pins.items():
            wanted = SIGNALS[sig]
            if signal(family, pin, af) != wanted:
                raise ValueError(
                    f"external_flash.pins.{sig} = {pin} AF{af} is not {wanted} in the datasheet table "
                    f"(harness/pinmux.py)"
                )
            p, n = parse_pin(pin)
            self.pins[sig] = (gpios[chr(65 + p)], n, af, pin)
        self.window = None
        self.reset()

    # -- state ---------------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.cr = 0
        self.regs = {name: 0 for name, _mask in LAYOUT.values()}
        self.flags = 0
        self.busy = False
        self.rx = bytearray()
        self.tx = None  # indirect write in progress: (bytes so far, DLR + 1)
        self.polling = None
        self.last_status = 0
        self.mm_ok = False
        self.mm_busy = False
        if self.window is not None:
            self.window.protect(False, 0)

    # -- registers -------------------------------------------------------------------------------------------
    def sr(self) -> int:
        if self.polling is not None:
            self._poll()
        level = min(len(self.rx), FIFO)
        v = self.flags
        thr = (self.cr >> 8 & 0x1F) + 1
        if level >= thr or (level and self.flags & SR_TCF):
            v |= SR_FTF
        if self.busy or self.mm_busy:
            v |= SR_BUSY
        return v | level << 8

    def read(self, offset: int, size: int) -> int:
        if offset & ~3 == 0x20:
            return self._read_dr(size)
        return super().read(offset, size)

    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.cr
        if offset == 0x08:
            return self.sr()
        if offset == 0x0C:
            return 0
        reg = LAYOUT.get(offset)
        if reg is not None:
            return self.regs[reg[0]]
        return super().read32(offset)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset & ~3 == 0x20:
            self._write_dr(size, value)
            return
        super().write(offset, size, value)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            self._write_cr(value)
            return
        if offset == 0x0C:
            self.flags &= ~(value & (SR_TEF | SR_TCF | SR_SMF | SR_TOF))
            return
        if offset == 0x08:
            self.violation("write to the read-only SR (flags are cleared through FCR)")
            return
        reg = LAYOUT.get(offset)
        if reg is None:
            super().write32(offset, value)
            return
        name, mask = reg
        if self.busy or self.mm_busy:
            self.violation(f"{name} written while BUSY: ignored [U: RM 'modified only when BUSY = 0']")
            return
        self.regs[name] = value & mask
        if name == "DLR" and self.cr & CR_DFM:
            self.regs[name] |= 1  # DL[0] stuck at 1 in dual-flash mode: an even number of bytes
        fmode, admode, dmode = self._fmode(), self._ccr(10, 3), self._ccr(24, 3)
        if name == "CCR":
            self._check_ccr()
            self._update_mm()
            if fmode != FMODE_MM and admode == 0 and (fmode != FMODE_WRITE or dmode == 0):
                self._trigger("CCR")
        elif name == "AR" and fmode != FMODE_MM and admode != 0 and (fmode != FMODE_WRITE or dmode == 0):
            self._trigger("AR")
        elif name == "DCR" and self.regs["DCR"] & 1:
            self.violation("DCR.CKMODE = 1 (clock mode 3) is not modelled")

    def _write_cr(self, value: int) -> None:
        old = self.cr
        if value & CR_ABORT:
            self._abort()
            value &= ~CR_ABORT
        elif (self.busy or self.mm_busy) and (old ^ value) & CR_MASK:
            self.violation(f"CR written ({old:#010x} -> {value:#010x}) while BUSY: ignored; use ABORT first")
            return
        self.cr = value & CR_MASK & ~CR_ABORT
        unsupported = value & (CR_DMAEN | (0 if self.dual else CR_DFM) | CR_FSEL | CR_IRQS)
        if unsupported and (old ^ value) & unsupported:
            self.violation(f"CR bits {unsupported:#x} (DMA / dual-flash / bank 2 / interrupts) are not modelled")
        if (old ^ self.cr) & CR_EN:
            self._update_mm()

    def _check_ccr(self) -> None:
        ccr = self.regs["CCR"]
        if ccr >> 31 & 1:
            self.violation("CCR.DDRM (double data rate) is not modelled")
        if ccr >> 28 & 1:
            self.violation("CCR.SIOO (instruction only once, XIP) is not modelled")
        if self._ccr(14, 3):
            self.violation("CCR.ABMODE: alternate bytes (XIP confirmation) are not modelled")

    # -- frames ------------------------------------------------------------------------------------------------
    def _fmode(self) -> int:
        return self.regs["CCR"] >> 26 & 3

    def _ccr(self, shift: int, mask: int) -> int:
        return self.regs["CCR"] >> shift & mask

    def clock_hz(self) -> float:
        rcc = self.machine.rcc if self.machine is not None else None
        kernel = getattr(rcc, "qspi_kernel_hz", rcc.hclk_hz)() if rcc is not None else 16e6  # H7: HCLK3
        return kernel / ((self.cr >> 24 & 0xFF) + 1)

    def _frame(self, address, read: int = 0, data: bytes = b"") -> Frame:
        ccr = self.regs["CCR"]
        ilines, alines, dlines = LINES[ccr >> 8 & 3], LINES[ccr >> 10 & 3], LINES[ccr >> 24 & 3]
        asize = (ccr >> 12 & 3) + 1
        if self.cr & CR_DFM:
            address >>= 1  # dual-flash mode: each die gets AR / 2 (RM0399 "Dual-flash mode")
        return Frame(
            instruction=ccr & 0xFF if ilines else 0,
            ilines=ilines,
            isize=1 if ilines else 0,
            address=(address & ((1 << (8 * asize)) - 1)) if alines else None,
            alines=alines,
            asize=asize if alines else 0,
            alt_lines=LINES[ccr >> 14 & 3],
            dummy=ccr >> 18 & 0x1F,
            dlines=dlines,
            data=data,
            read=read if dlines else 0,
            clock_hz=self.clock_hz(),
        )

    def _missing(self, f: Frame) -> list:
        lines = max(f.ilines, f.alines, f.alt_lines, f.dlines, 1)
        need = ["clk", "ncs", "io0"]
        if lines >= 2 or (f.read and f.dlines == 1):
            need.append("io1")
        if lines >= 4:
            need += ["io2", "io3"]
        if self.cr & CR_DFM:
            need += ["bk2_" + sig for sig in need if sig.startswith("io")]
        missing = []
        for sig in need:
            if sig not in self.pins:
                missing.append((sig, "not wired on this board"))
                continue
            gpio, n, af, pin = self.pins[sig]
            if gpio.clock_enabled is not None and not gpio.clock_enabled():
                missing.append((sig, f"{pin} GPIO clock off"))
            elif not gpio.routed(n, af):
                missing.append((sig, f"{pin} is not in alternate function {af}"))
        return missing

    def _send(self, f: Frame) -> bytes:
        if self.dual and not self.cr & CR_DFM:
            self.violation(f"frame ({f.describe()}) to a two-die chip without dual-flash mode (CR.DFM): die 1 only")
            return self.chip.dies[0].command(f)
        missing = self._missing(f)
        if missing:
            why = "; ".join(f"{sig}: {why}" for sig, why in missing)
            self.violation(f"frame ({f.describe()}) with signals not reaching the chip: {why}")
            if any(sig in ("clk", "ncs", "io0") for sig, _why in missing):
                return self.chip.garbage(f.read)
            data = self.chip.command(f)
            return self.chip.garbage(len(data))
        return self.chip.command(f)

    def _in_range(self, address: int) -> bool:
        size = 1 << ((self.regs["DCR"] >> 16 & 0x1F) + 1)
        if address >= size:
            self.flags |= SR_TEF
            self.log(f"address {address:#x} beyond FSIZE ({size:#x}): TEF")
            return False
        return True

    def _trigger(self, register: str) -> None:
        fmode, dmode = self._fmode(), self._ccr(24, 3)
        if not self.cr & CR_EN:
            self.violation(f"command started by a write to {register} while CR.EN = 0: nothing is sent")
            return
        ar, dl = self.regs["AR"], self.regs["DLR"]
        if self._ccr(10, 3) and not self._in_range(ar):
            self.flags |= SR_TCF
            return
        if fmode == FMODE_POLL:
            n = dl + 1
            if not 1 <= n <= 4:
                self.violation(f"automatic polling of {n} status bytes (DLR + 1 must be 1..4)")
                return
            self.polling = self._frame(ar, read=n)
            self.busy = True
            return
        if fmode == FMODE_READ:
            if dl == 0xFFFFFFFF and dmode:
                self.violation("DLR = 0xFFFFFFFF (read to the end of memory) is not modelled")
                return
            self.rx = bytearray(self._send(self._frame(ar, read=dl + 1 if dmode else 0)))
            self.busy = bool(self.rx)
            if len(self.rx) <= FIFO:
                self.flags |= SR_TCF
            return
        self._send(self._frame(ar))  # indirect write without data: instruction (+ address) only
        self.flags |= SR_TCF
        self.busy = False

    def _write_dr(self, size: int, value: int) -> None:
        data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        if self._fmode() != FMODE_WRITE or self._ccr(24, 3) == 0:
            self.violation(f"DR written outside an indirect write with a data phase (FMODE {self._fmode()})")
            return
        if self.tx is None:
            if not self.cr & CR_EN:
                self.violation("command started by a write to DR while CR.EN = 0: nothing is sent")
                return
            if self.regs["DLR"] >= 0x10000:
                self.violation(f"indirect write of {self.regs['DLR'] + 1} bytes: not modelled")
                return
            self.tx = (bytearray(), self.regs["DLR"] + 1)
            self.busy = True
        buf, total = self.tx
        room = total - len(buf)
        if len(data) > room:
            self.violation(f"{len(data) - room} bytes written to DR beyond DLR + 1 = {total}: dropped")
            data = data[:room]
        buf += data
        if len(buf) == total:
            self.tx = None
            if not (self._ccr(10, 3) and not self._in_range(self.regs["AR"])):
                self._send(self._frame(self.regs["AR"], data=bytes(buf)))
            self.flags |= SR_TCF
            self.busy = False

    def _read_dr(self, size: int) -> int:
        if self._fmode() == FMODE_POLL:
            return self.last_status & ((1 << (8 * size)) - 1)
        if not self.rx:
            self.violation("DR read with an empty FIFO (the bus access would stall)")
            return 0
        chunk = bytes(self.rx[:size])
        del self.rx[:size]
        if len(self.rx) <= FIFO:
            self.flags |= SR_TCF
        if not self.rx:
            self.busy = False
        return int.from_bytes(chunk, "little")

    def _poll(self) -> None:
        status = int.from_bytes(self._send(self.polling), "little")
        self.last_status = status
        mask, match = self.regs["PSMKR"], self.regs["PSMAR"]
        hit = bool(~(status ^ match) & mask) if self.cr & CR_PMM else (status & mask) == (match & mask)
        if hit:
            self.flags |= SR_SMF
            if self.cr & CR_APMS:
                self.polling = None
                self.busy = False
                self.flags |= SR_TCF

    def _abort(self) -> None:
        if self.tx is not None:
            buf, _total = self.tx
            self.log(f"ABORT during an indirect write: {len(buf)} bytes went out")
            self.tx = None
            if buf:
                self._send(self._frame(self.regs["AR"], data=bytes(buf)))
        self.rx = bytearray()
        self.polling = None
        self.busy = False
        self.mm_busy = False  # memory-mapped mode itself stays selected (CCR.FMODE = 11)
        self.flags |= SR_TCF

    # -- memory-mapped mode -------------------------------------------------------------------------------------
    def _plain_read_max(self) -> float:
        """Clock limit of the chip's read command without dummy cycles (03/13)."""
        return float(getattr(self.chip, "max_hz_plain_read", N25Q_MAX_HZ_READ))

    def _update_mm(self) -> None:
        """CCR or EN changed: the window is readable only while memory-mapped mode works."""
        active = bool(self.cr & CR_EN) and self._fmode() == FMODE_MM
        self.mm_ok = False
        if not active:
            self.mm_busy = False
            if self.window is not None:
                self.window.protect(False, 0)
            return
        self.mm_busy = True
        probe = self._frame(0, read=4)
        missing = self._missing(probe)
        why = None
        if not self._ccr(24, 3):
            why = "no data phase (CCR.DMODE = 0)"
        elif missing:
            why = "signals not reaching the chip: " + "; ".join(f"{s}: {w}" for s, w in missing)
        elif self.chip.busy is not None:
            why = "the chip is still busy (WIP = 1)"
        else:
            decoded, reason = self.chip.decode(probe)
            if decoded is None:
                why = reason
            elif decoded[0] not in getattr(self.chip, "reads", READS):
                why = f"{decoded[0]} is not an array read"
            elif probe.dummy != decoded[1]:
                why = f"{probe.dummy} dummy cycles, the chip needs {decoded[1]}"
            elif decoded[0] == "READ" and probe.clock_hz > self._plain_read_max() + 1:
                why = f"READ without dummy cycles at {probe.clock_hz / 1e6:.1f} MHz"
        if why is not None:
            self.violation(
                f"memory-mapped mode with a read command the chip does not answer ({probe.describe()}): "
                f"{why}; the window stays inaccessible"
            )
            if self.window is not None:
                self.window.protect(False, 0)
            return
        self.mm_ok = True
        size = min(1 << ((self.regs["DCR"] >> 16 & 0x1F) + 1), self.chip.size)
        if self.window is not None:
            self.window.protect(True, size)


class QspiFlash:
    """The board's external flash as the machine sees it: QUADSPI + the NOR chip on bank 1, with the
    externals interface machine.py uses (attach, power_on, reset, contains, load, read, snapshot,
    restore; apply for power.replay)."""

    def __init__(self, board, rcc, gpios, family: str):
        ext = board.external_flash
        self.board = board
        self.chip = CHIPS[ext.chip](ext.base)
        self.base, self.size = ext.base, self.chip.size
        pins = {p.signal: (p.pin, p.af) for p in ext.pins}
        self.qspi = QuadSpi(self.chip, pins, gpios, family)
        if ext.base != WINDOW:
            raise ValueError(f"{board.name}: external_flash.base {ext.base:#x} is not the QUADSPI window {WINDOW:#x}")
        self.qspi.clock_enabled = rcc.gate("QUADSPI")
        rcc.reset_targets["QUADSPI"] = self.qspi

    def attach(self, machine) -> None:
        self.machine = machine
        self.qspi.attach(machine)
        machine._map_mmio(self.qspi)
        self.chip.machine = machine
        self.qspi.window = Window(machine, self.base, self.chip, self.qspi)

    def power_on(self) -> None:
        self.qspi.power_on()
        self.chip.power_on()

    def reset(self) -> None:
        self.qspi.reset()
        self.chip.reset()

    def contains(self, address: int, length: int = 1) -> bool:
        return self.chip.contains(address, length)

    def load(self, address: int, data: bytes) -> None:
        self.chip.load(address - self.base, data)

    def read(self, address: int, length: int) -> bytes:
        return self.chip.read(address - self.base, length)

    def snapshot(self):
        return self.chip.snapshot()

    def restore(self, state) -> None:
        self.chip.restore(state)

    def apply(self, kind: str, address: int, length: int, data, verdict: str, rng) -> None:
        self.chip.apply(kind, address, length, data, verdict, rng)
