# SPDX-License-Identifier: Apache-2.0
"""OCTOSPI (v1, STM32L4+) and its I/O manager OCTOSPIM, with an octal NOR chip behind them.

Sources: RM0432 (STM32L4+) section "Octo-SPI interface (OCTOSPI)" and "OCTOSPI I/O manager (OCTOSPIM)";
register layout, bit positions and reset values as in the CMSIS device header stm32l4r9xx.h and the
part's SVD (every OCTOSPI register resets to 0; OCTOSPIM P1CR 0x0301_0111, P2CR 0x0705_0333: port n is
wired to OCTOSPIn after reset); field encodings as restated in the facts reference
(../shared/reference/stm32-extflash-protection.md, A1). Items marked [U] were not confirmed in the
manual text and follow ST's HAL practice or the reference's recollection.

OCTOSPI1 registers at 0xA000_1000 (OCTOSPI2 0xA000_1400), memory window 0x9000_0000 (0x7000_0000); clock
RCC AHB3ENR.OSPI1EN (bit 8); OCTOSPIM at 0x5006_1C00, clock AHB2ENR.OSPIMEN (bit 20). Kernel clock: the
RCC_CCIPR2.OSPISEL reset value, SYSCLK, divided by DCR2.PRESCALER + 1.

What a driver can observe, as modelled:
- CR: EN, ABORT, FTHRES, APMS, PMM, FMODE (00 indirect write, 01 indirect read, 10 automatic status
  polling, 11 memory-mapped). DMA, dual-quad, interrupts, HyperBus and SIOO are not modelled (setting
  them is reported).
- Start of a command in indirect and polling mode ("Triggering the start of a command" [U: wording]):
  the write to IR when no address is needed and the software supplies no data; the write to AR when an
  address is needed and no data comes from software; the first write to DR when the software supplies
  the data (FMODE = 00 and DMODE != 000). The frame uses the register values at that moment: writing AR
  before IR sends the stale instruction, as silicon does.
- BUSY (SR bit 5) from the start until the frame is over and the FIFO is empty; in memory-mapped mode it
  stays set until ABORT [U]. TCF at the end of a transfer and after an abort; FTF when the FIFO holds
  FTHRES + 1 bytes or data remains after a read; SMF on a status match; FLEVEL (13:8) for the 32-byte
  FIFO; TEF when the address lies beyond 2^(DEVSIZE + 1) [U].
- FCR clears TEF, TCF, SMF, TOF (write 1).
- Indirect write: the frame goes out when DLR + 1 bytes were written to DR (8/16/32-bit accesses). More
  bytes than DLR + 1 are ignored and reported. Indirect read: the data is in the FIFO at once; reading
  DR with nothing left is reported (the AHB access would stall).
- Automatic status polling: every SR read is one status read on the bus (the chip's time advances while
  it is busy); the masked status is compared with PSMAR (PMM = 0: all masked bits match; 1: any);
  on a match SMF is set, and with APMS the polling stops (BUSY clears, TCF set [U]).
- ABORT stops whatever runs (a partly written frame goes out with the bytes written so far), flushes the
  FIFO, sets TCF, clears BUSY; the bit reads back 0.
- Memory-mapped mode (FMODE = 11, EN): reads use CCR/TCR/IR. The window is backed by memory that
  mirrors the chip, readable and executable while the mode is on and the read command is one the chip
  understands in its current protocol; otherwise it is inaccessible (an access is a bus error in the
  CPU) [U: RM wording on window accesses outside memory-mapped mode not read]. Memory-mapped writes
  (WCCR/WIR) are not modelled.
- Strictness (violations): configuration registers (CR fields other than ABORT, DCR1-3, CCR, TCR, IR,
  AR, DLR, ABR, PSMKR, PSMAR, PIR, LPTR) written while BUSY [U: "can be modified only when BUSY = 0"];
  a command started while EN = 0 (nothing is sent); a command whose CLK/NCS/IO lines are not routed to
  the chip by OCTOSPIM and the GPIO alternate functions of the board's pins (PG2..PG15 also need
  PWR_CR2.IOSV: they are supplied by VDDIO2, RM0432 "Independent I/O supply rail"); the chip's own
  refusals (nor_mx25lm.py).
- OCTOSPIM: P1CR 0x04, P2CR 0x08 (CLKEN 0, CLKSRC 1, DQSEN 4, DQSSRC 5, NCSEN 8, NCSSRC 9, IOLEN 16,
  IOLSRC 18:17, IOHEN 24, IOHSRC 26:25; write mask 0x0707_0333). Written while an OCTOSPI is enabled:
  reported [U: HAL_OSPIM_Config disables both OCTOSPIs first].
"""

from __future__ import annotations

import ctypes
import mmap
import os
import tempfile

from unicorn import (
    UC_HOOK_MEM_FETCH_PROT,
    UC_HOOK_MEM_READ_PROT,
    UC_HOOK_MEM_WRITE_PROT,
    UC_MEM_FETCH_PROT,
    UC_MEM_READ_PROT,
    UC_MEM_WRITE_PROT,
    UC_PROT_EXEC,
    UC_PROT_NONE,
    UC_PROT_READ,
)

from .bus import Peripheral
from .nor_mx25lm import Frame, NorMX25LM
from .pinmux import parse_pin, signal

LINES = {0: 0, 1: 1, 2: 2, 3: 4, 4: 8}

CR_EN, CR_ABORT, CR_DMAEN, CR_TCEN, CR_DQM, CR_FSEL = 1, 2, 4, 8, 1 << 6, 1 << 7
CR_IRQS = 0x1F << 16
CR_APMS, CR_PMM = 1 << 22, 1 << 23
CR_MASK = 0x30DF1FCF
FMODE_WRITE, FMODE_READ, FMODE_POLL, FMODE_MM = 0, 1, 2, 3

SR_TEF, SR_TCF, SR_FTF, SR_SMF, SR_TOF, SR_BUSY = 1, 2, 4, 8, 16, 32
FIFO = 32

INSTANCES = {"OCTOSPI1": (0xA0001000, 0x90000000), "OCTOSPI2": (0xA0001400, 0x70000000)}
OSPIM_BASE = 0x50061C00
OSPIM_RESET = (0x03010111, 0x07050333)
OSPIM_MASK = 0x07070333

# register offset -> (name, writable mask, locked while BUSY)
LAYOUT = {
    0x008: ("DCR1", 0x071F070B, True),
    0x00C: ("DCR2", 0x000700FF, True),
    0x010: ("DCR3", 0x001F0000, True),
    0x040: ("DLR", 0xFFFFFFFF, True),
    0x048: ("AR", 0xFFFFFFFF, True),
    0x080: ("PSMKR", 0xFFFFFFFF, True),
    0x088: ("PSMAR", 0xFFFFFFFF, True),
    0x090: ("PIR", 0x0000FFFF, True),
    0x100: ("CCR", 0xAF3F3F3F, True),
    0x108: ("TCR", 0x5000001F, True),
    0x110: ("IR", 0xFFFFFFFF, True),
    0x120: ("ABR", 0xFFFFFFFF, True),
    0x130: ("LPTR", 0x0000FFFF, True),
    0x180: ("WCCR", 0x2F3F3F3F, True),
    0x188: ("WTCR", 0x0000001F, True),
    0x190: ("WIR", 0xFFFFFFFF, True),
    0x1A0: ("WABR", 0xFFFFFFFF, True),
    0x200: ("HLCR", 0x00FFFF03, True),
}
SIGNALS = ("clk", "ncs", "dqs") + tuple(f"io{i}" for i in range(8))


class OctoSpiM(Peripheral):
    """The I/O manager: which OCTOSPI drives the signals of each port."""

    name = "OCTOSPIM"

    def __init__(self):
        super().__init__(OSPIM_BASE, 0x400)
        self.controllers: list = []
        self.reset()

    def reset(self) -> None:
        self.pcr = list(OSPIM_RESET)

    def read32(self, offset: int) -> int:
        if offset in (0x04, 0x08):
            return self.pcr[offset // 4 - 1]
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset not in (0x04, 0x08):
            super().write32(offset, value)
            return
        enabled = [c.name for c in self.controllers if c.cr & CR_EN]
        if enabled:
            self.violation(
                f"P{offset // 4}CR written while {', '.join(enabled)} is enabled (disable the "
                f"OCTOSPIs before changing the I/O manager) [HAL practice]"
            )
        self.pcr[offset // 4 - 1] = value & OSPIM_MASK

    def routes(self, port: int, instance: int, sig: str) -> bool:
        """Port `port` (1/2) carries signal `sig` of OCTOSPI`instance` (1/2)."""
        v = self.pcr[port - 1]
        inst = instance - 1
        if sig == "clk":
            return bool(v & 1) and (v >> 1 & 1) == inst
        if sig == "dqs":
            return bool(v >> 4 & 1) and (v >> 5 & 1) == inst
        if sig == "ncs":
            return bool(v >> 8 & 1) and (v >> 9 & 1) == inst
        n = int(sig[2:])
        if n < 4:
            return bool(v >> 16 & 1) and (v >> 17 & 3) == inst * 2
        return bool(v >> 24 & 1) and (v >> 25 & 3) == inst * 2 + 1


class OctoSpi(Peripheral):
    def __init__(
        self, instance: str, chip: NorMX25LM, ospim: OctoSpiM, port: int, pins: dict, gpios: dict, pwr, family: str
    ):
        base, window = INSTANCES[instance]
        super().__init__(base, 0x400, name=instance)
        self.instance = int(instance[-1])
        self.window_base = window
        self.chip, self.ospim, self.port = chip, ospim, port
        self.gpios, self.pwr = gpios, pwr
        self.pins = {}
        for sig, (pin, af) in pins.items():
            wanted = f"OCTOSPIM_P{port}_{sig.upper()}"
            if signal(family, pin, af) != wanted:
                raise ValueError(
                    f"external_flash.pins.{sig} = {pin} AF{af} is not {wanted} in the datasheet "
                    f"table (harness/pinmux.py)"
                )
            p, n = parse_pin(pin)
            self.pins[sig] = (gpios[chr(65 + p)], n, af, pin)
        ospim.controllers.append(self)
        self.window = None
        self.reset()

    # -- state ---------------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.cr = 0
        self.regs = {name: 0 for name, _m, _l in LAYOUT.values()}
        self.flags = 0
        self.busy = False
        self.rx = bytearray()  # indirect read / polling: bytes not yet read from DR
        self.tx = None  # indirect write in progress: (bytes so far, DLR + 1)
        self.polling = None  # Frame polled in automatic status-polling mode
        self.last_status = 0
        self.mm_ok = False  # memory-mapped mode on with a read command the chip answers
        self.mm_busy = False  # BUSY of memory-mapped mode: from its start until ABORT
        if self.window is not None:
            self.window.protect(False, 0)

    # -- register access -------------------------------------------------------------------------------------
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
        if offset & ~3 == 0x050:
            return self._read_dr(size)
        return super().read(offset, size)

    def read32(self, offset: int) -> int:
        if offset == 0x000:
            return self.cr
        if offset == 0x020:
            return self.sr()
        if offset == 0x024:
            return 0
        reg = LAYOUT.get(offset)
        if reg is not None:
            return self.regs[reg[0]]
        return super().read32(offset)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset & ~3 == 0x050:
            self._write_dr(size, value)
            return
        super().write(offset, size, value)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x000:
            self._write_cr(value)
            return
        if offset == 0x024:
            self.flags &= ~(value & (SR_TEF | SR_TCF | SR_SMF | SR_TOF))
            return
        if offset == 0x020:
            self.violation("write to the read-only SR (flags are cleared through FCR)")
            return
        reg = LAYOUT.get(offset)
        if reg is None:
            super().write32(offset, value)
            return
        name, mask, locked = reg
        if locked and (self.busy or self.mm_busy):
            self.violation(f"{name} written while BUSY: ignored [U: RM 'modified only when BUSY = 0']")
            return
        self.regs[name] = value & mask
        if name in ("DCR1", "DCR2", "CCR", "TCR", "IR") and self.cr & CR_EN and self._fmode() == FMODE_MM:
            self.mm_ok = False  # memory-mapped reads use the new setting from the next access
            self._update_mm()
        if name == "DCR1" and (value >> 24 & 7) == 4:
            self.violation("DCR1.MTYP = HyperBus is not modelled")
        if name == "IR" and self._fmode() != FMODE_MM and self._ccr_field(8, 7) == 0:
            self._trigger("IR")
        elif name == "AR" and self._fmode() != FMODE_MM and self._ccr_field(8, 7) != 0:
            self._trigger("AR")

    def _write_cr(self, value: int) -> None:
        old = self.cr
        if value & CR_ABORT:
            self._abort()
            value &= ~CR_ABORT
        elif (self.busy or self.mm_busy) and (old ^ value) & CR_MASK & ~CR_ABORT:
            self.violation(f"CR written ({old:#010x} -> {value:#010x}) while BUSY: ignored; use ABORT first")
            return
        self.cr = value & CR_MASK & ~CR_ABORT
        unsupported = value & (CR_DMAEN | CR_DQM | CR_FSEL | CR_IRQS)
        if unsupported and (old ^ value) & unsupported:
            self.violation(f"CR bits {unsupported:#x} (DMA / dual-quad / FSEL / interrupts) are not modelled")
        if (old ^ self.cr) & (CR_EN | 3 << 28):
            self._update_mm()  # entering or leaving memory-mapped mode (an ABORT leaves it selected)

    # -- frames ------------------------------------------------------------------------------------------------
    def _fmode(self) -> int:
        return self.cr >> 28 & 3

    def _ccr_field(self, shift: int, mask: int) -> int:
        return self.regs["CCR"] >> shift & mask

    def clock_hz(self) -> float:
        machine = self.machine
        kernel = machine.rcc.sysclk_hz() if machine is not None else 4e6
        return kernel / ((self.regs["DCR2"] & 0xFF) + 1)

    def _frame(self, ccr: int, tcr: int, ir: int, address, read: int = 0, data: bytes = b"") -> Frame:
        ilines = LINES.get(ccr & 7, 0)
        isize = (ccr >> 4 & 3) + 1
        alines = LINES.get(ccr >> 8 & 7, 0)
        asize = (ccr >> 12 & 3) + 1
        ablines = LINES.get(ccr >> 16 & 7, 0)
        dlines = LINES.get(ccr >> 24 & 7, 0)
        f = Frame(
            instruction=ir & ((1 << (8 * isize)) - 1) if ilines else 0,
            ilines=ilines,
            isize=isize if ilines else 0,
            idtr=bool(ccr >> 3 & 1),
            address=(address & ((1 << (8 * asize)) - 1)) if alines else None,
            alines=alines,
            asize=asize if alines else 0,
            adtr=bool(ccr >> 11 & 1),
            alt_lines=ablines,
            dummy=tcr & 0x1F,
            dlines=dlines,
            ddtr=bool(ccr >> 27 & 1),
            dqs=bool(ccr >> 29 & 1),
            data=data,
            read=read if dlines else 0,
            clock_hz=self.clock_hz(),
        )
        if ablines:
            self.violation("alternate bytes are not modelled (the MX25LM51245G takes none)")
        if ccr >> 31 & 1:
            self.violation("CCR.SIOO is not modelled")
        return f

    def _missing(self, f: Frame) -> list:
        """(signal, why) for each signal the frame needs that does not reach the chip."""
        lines = max(f.ilines, f.alines, f.alt_lines, f.dlines, 1)
        need = ["clk", "ncs", "io0"]
        if lines >= 2 or (f.read and f.dlines == 1):
            need.append("io1")
        if lines >= 4:
            need += ["io2", "io3"]
        if lines >= 8:
            need += ["io4", "io5", "io6", "io7"]
        if f.dqs:
            need.append("dqs")
        iosv = bool(self.pwr.regs["CR2"] >> 9 & 1)
        missing = []
        for sig in need:
            if sig not in self.pins:
                missing.append((sig, "not wired on this board"))
                continue
            gpio, n, af, pin = self.pins[sig]
            if not self.ospim.routes(self.port, self.instance, sig):
                missing.append((sig, f"OCTOSPIM port {self.port} does not route it from {self.name}"))
            elif gpio.clock_enabled is not None and not gpio.clock_enabled():
                missing.append((sig, f"{pin} GPIO clock off"))
            elif not gpio.routed(n, af):
                missing.append((sig, f"{pin} is not in alternate function {af}"))
            elif pin[1] == "G" and n >= 2 and not iosv:
                missing.append((sig, f"{pin} is supplied by VDDIO2 and PWR_CR2.IOSV is clear"))
        return missing

    @staticmethod
    def _explain(missing: list) -> str:
        return "; ".join(f"{sig}: {why}" for sig, why in missing)

    def _send(self, f: Frame) -> bytes:
        """Clock one frame out to the chip; returns what comes back."""
        missing = self._missing(f)
        if missing:
            self.violation(f"frame ({f.describe()}) with signals not reaching the chip: {self._explain(missing)}")
            if any(sig in ("clk", "ncs", "io0") for sig, _why in missing):
                return self.chip.garbage(f.read)  # the chip sees no frame at all
            data = self.chip.command(f)
            return self.chip.garbage(len(data))
        return self.chip.command(f)

    def _in_range(self, address: int) -> bool:
        size = 1 << ((self.regs["DCR1"] >> 16 & 0x1F) + 1)
        if address >= size:
            self.flags |= SR_TEF
            self.log(f"address {address:#x} beyond DEVSIZE ({size:#x}): TEF")
            return False
        return True

    def _trigger(self, register: str) -> None:
        fmode = self._fmode()
        dmode = self._ccr_field(24, 7)
        if fmode == FMODE_WRITE and dmode != 0:
            return  # the data written to DR starts it
        if not self.cr & CR_EN:
            self.violation(f"command started by a write to {register} while CR.EN = 0: nothing is sent")
            return
        ccr, tcr, ir, ar, dl = (self.regs[k] for k in ("CCR", "TCR", "IR", "AR", "DLR"))
        if self._ccr_field(8, 7) and not self._in_range(ar):
            self.flags |= SR_TCF
            return
        if fmode == FMODE_POLL:
            n = dl + 1
            if not 1 <= n <= 4:
                self.violation(f"automatic polling of {n} status bytes (DLR + 1 must be 1..4)")
                return
            self.polling = self._frame(ccr, tcr, ir, ar, read=n)
            self.busy = True
            return
        if fmode == FMODE_READ:
            if dl == 0xFFFFFFFF:
                self.violation("DLR = 0xFFFFFFFF (read to the end of memory) is not modelled")
                return
            n = dl + 1 if dmode else 0
            f = self._frame(ccr, tcr, ir, ar, read=n)
            self.rx = bytearray(self._send(f))
            self.busy = bool(self.rx)
            if len(self.rx) <= FIFO:
                self.flags |= SR_TCF  # the last byte has been received from the chip
            return
        # indirect write without data: instruction (+ address) only
        self._send(self._frame(ccr, tcr, ir, ar))
        self.flags |= SR_TCF
        self.busy = False

    def _write_dr(self, size: int, value: int) -> None:
        data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        if self._fmode() != FMODE_WRITE or self._ccr_field(24, 7) == 0:
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
            self._finish_write()

    def _finish_write(self) -> None:
        buf, _total = self.tx
        self.tx = None
        ccr, tcr, ir, ar = (self.regs[k] for k in ("CCR", "TCR", "IR", "AR"))
        if not (self._ccr_field(8, 7) and not self._in_range(ar)):
            self._send(self._frame(ccr, tcr, ir, ar, data=bytes(buf)))
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
        f = self.polling
        status = int.from_bytes(self._send(f), "little")
        self.last_status = status
        mask, match = self.regs["PSMKR"], self.regs["PSMAR"]
        if self.cr & CR_PMM:
            hit = bool(~(status ^ match) & mask)
        else:
            hit = (status & mask) == (match & mask)
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
                ccr, tcr, ir, ar = (self.regs[k] for k in ("CCR", "TCR", "IR", "AR"))
                self._send(self._frame(ccr, tcr, ir, ar, data=bytes(buf)))
        self.rx = bytearray()
        self.polling = None
        self.busy = False
        self.mm_busy = False  # memory-mapped mode itself stays selected (FMODE = 11)
        self.flags |= SR_TCF

    # -- memory-mapped mode -------------------------------------------------------------------------------------
    def _update_mm(self) -> None:
        """Entering or leaving memory-mapped mode: the window is readable only while it works."""
        active = bool(self.cr & CR_EN) and self._fmode() == FMODE_MM
        if not active:
            self.mm_ok = self.mm_busy = False
            if self.window is not None:
                self.window.protect(False, 0)
            return
        if self.mm_ok:
            return
        # BUSY from the start of memory-mapped mode (silicon: from the first access) until ABORT [U]
        self.mm_busy = True
        ccr, tcr, ir = self.regs["CCR"], self.regs["TCR"], self.regs["IR"]
        if not ccr >> 24 & 7:
            self.violation("memory-mapped mode with no data phase (CCR.DMODE = 0): reads return nothing")
            return
        probe = self._frame(ccr, tcr, ir, 0, read=4)
        missing = self._missing(probe)
        why = None
        if missing:
            why = "signals not reaching the chip: " + self._explain(missing)
        elif self.chip.busy is not None:
            why = "the chip is still busy (WIP = 1)"
        else:
            decoded, reason = self.chip._decode(probe)
            if decoded is None:
                why = reason
            elif decoded[0] not in ("READ", "FAST_READ", "READ8", "READ8_DTR"):
                why = f"{decoded[0]} is not an array read"
            elif decoded[1] is not None and probe.dummy != decoded[1]:
                why = f"{probe.dummy} dummy cycles, the chip needs {decoded[1]}"
            elif decoded[0] == "READ" and probe.clock_hz > 50e6 + 1:
                why = f"READ without dummy cycles at {probe.clock_hz / 1e6:.1f} MHz"
        if why is not None:
            self.violation(
                f"memory-mapped mode with a read command the chip does not answer "
                f"({probe.describe()}): {why}; the window stays inaccessible"
            )
            return
        self.mm_ok = True
        size = min(1 << ((self.regs["DCR1"] >> 16 & 0x1F) + 1), self.chip.size)
        if self.window is not None:
            self.window.protect(True, size)


def _erased_file(size: int) -> int:
    """One file of erased bytes per process (memory-backed where the OS offers it), mapped copy-on-write
    by every window: a whole chip reads 0xFF without each machine filling its own copy."""
    global _ERASED
    if _ERASED is None or _ERASED[1] < size:
        if hasattr(os, "memfd_create"):
            f = os.fdopen(os.memfd_create("spb-nor-erased"), "w+b")
        else:  # pragma: no cover - not Linux
            f = tempfile.TemporaryFile(prefix="spb-nor-")  # noqa: SIM115 - kept open: mapped below
        chunk = b"\xff" * (1 << 20)
        for _ in range((size + len(chunk) - 1) // len(chunk)):
            f.write(chunk)
        f.flush()
        _ERASED = (f, size)
    return _ERASED[0].fileno()


_ERASED = None


class Window:
    """The memory-mapped window in Unicorn: a private copy-on-write mapping of an erased file, so the
    whole chip is mapped at once without touching memory, kept equal to the chip's cells."""

    def __init__(self, machine, base: int, chip: NorMX25LM, owner: OctoSpi):
        self.machine, self.base, self.chip, self.owner = machine, base, chip, owner
        size = chip.size
        self.buffer = mmap.mmap(_erased_file(size), size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._cbuf = ctypes.c_char.from_buffer(self.buffer)
        machine.uc.mem_map_ptr(base, size, UC_PROT_NONE, ctypes.addressof(self._cbuf))
        self.size = size
        self.readable = 0
        self._hook = machine.uc.hook_add(
            UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_FETCH_PROT | UC_HOOK_MEM_WRITE_PROT,
            self._fault,
            begin=base,
            end=base + size - 1,
        )
        for index in list(chip.blocks):
            self.changed(index * 0x10000, 0x10000)
        chip.on_change = self.changed

    def changed(self, offset: int, length: int) -> None:
        self.buffer[offset : offset + length] = self.chip.read(offset, length)
        self.machine.flash_changed(self.base + offset, length)

    def protect(self, on: bool, size: int) -> None:
        size = size if on else 0
        if size == self.readable:
            return
        uc = self.machine.uc
        if size:
            uc.mem_protect(self.base, size, UC_PROT_READ | UC_PROT_EXEC)
        if size < self.size:
            uc.mem_protect(self.base + size, self.size - size, UC_PROT_NONE)
        self.readable = size

    def _fault(self, uc, access, address, size, value, _):
        what = {
            UC_MEM_WRITE_PROT: "store to",
            UC_MEM_READ_PROT: "read of",
            UC_MEM_FETCH_PROT: "instruction fetch from",
        }.get(access, "access to")
        mode = "memory-mapped mode is off" if not self.owner.mm_ok else "beyond DCR1.DEVSIZE"
        if access == UC_MEM_WRITE_PROT:
            mode = "memory-mapped writes are not modelled"
        self.machine.violation(
            f"{self.owner.name}: {what} the memory-mapped window at {address:#010x}: {mode} (bus error)"
        )
        return False


class OspiFlash:
    """The board's external flash as the machine sees it: OCTOSPIM + OCTOSPIx + the NOR chip, with the
    externals interface machine.py uses (attach, power_on, reset, contains, load, read, snapshot,
    restore; apply for power.replay)."""

    def __init__(self, board, rcc, pwr, gpios, family: str):
        ext = board.external_flash
        self.board = board
        self.chip = NorMX25LM(ext.base)
        self.base, self.size = ext.base, self.chip.size
        self.ospim = OctoSpiM()
        self.ospim.clock_enabled = rcc.gate("OCTOSPIM")
        pins = {p.signal: (p.pin, p.af) for p in ext.pins}
        self.ospi = OctoSpi(ext.instance, self.chip, self.ospim, ext.port, pins, gpios, pwr, family)
        if self.ospi.window_base != ext.base:
            raise ValueError(
                f"{board.name}: external_flash.base {ext.base:#x} is not the {ext.instance} "
                f"window {self.ospi.window_base:#x}"
            )
        self.ospi.clock_enabled = rcc.gate(ext.instance)
        rcc.reset_targets["OCTOSPIM"] = self.ospim
        rcc.reset_targets[ext.instance] = self.ospi

    def attach(self, machine) -> None:
        self.machine = machine
        for p in (self.ospim, self.ospi):
            p.attach(machine)
            machine._map_mmio(p)
        self.chip.machine = machine
        self.ospi.window = Window(machine, self.base, self.chip, self.ospi)

    def power_on(self) -> None:
        self.ospim.power_on()
        self.ospi.power_on()
        self.chip.power_on()

    def reset(self) -> None:
        self.ospim.reset()
        self.ospi.reset()
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
