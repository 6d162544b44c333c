# SPDX-License-Identifier: Apache-2.0
"""What the RCC models of every family share: oscillators whose ready flag follows their enable bit a
few register reads later (software must poll it, as on silicon), the system clock switch that only
happens once the selected source is ready (SWS follows SW), enable bits that gate peripheral bus
clocks, and the checks of the resulting clock tree against the datasheet limits: flash wait states for
the frequency and voltage range, bus maxima, PLL input/VCO/output ranges.

A limit broken on silicon does not raise a flag: the flash returns wrong data at too few wait states,
an out-of-range PLL does not lock or runs out of specification. The models report each such case as a
violation (and an out-of-range PLL does not lock: PLLRDY stays clear, so software that waits for it
hangs, which the run loop reports as a timeout).
"""

from __future__ import annotations

from typing import ClassVar

from .bus import Registers

READY_AFTER_READS = 2  # an oscillator or PLL ready flag appears on the third read after it was enabled


class Oscillator:
    """An on/ready pair: ready `READY_AFTER_READS` reads of the register after `on` went to 1, clear
    as soon as `on` goes to 0."""

    def __init__(self, name: str, on_bit: int, rdy_bit: int, hz: float | None, ready_at_reset: bool = False):
        self.name, self.on_bit, self.rdy_bit, self.hz = name, on_bit, rdy_bit, hz
        self.ready_at_reset = ready_at_reset
        self.reset()

    def reset(self) -> None:
        self.countdown = 0 if self.ready_at_reset else None
        self.locks = True

    def written(self, old: int, new: int) -> None:
        was, now = old >> self.on_bit & 1, new >> self.on_bit & 1
        if now and not was:
            self.countdown = READY_AFTER_READS
        elif not now:
            self.countdown = None

    def ready(self) -> bool:
        return self.countdown == 0 and self.locks

    def read(self) -> None:
        if self.countdown:
            self.countdown -= 1

    def bits(self) -> int:
        return (1 << self.rdy_bit) if self.ready() else 0


class RccBase(Registers):
    """Subclasses define `layout`, the oscillators (attached to the CR register) in the order of the
    system clock switch SW (`sources`; `hse` and `pll` among them), the PLL configuration register and
    the bits of it that are frozen while the PLL runs (`pll_config`), the clock tree (`sysclk_hz()`,
    `hclk_hz()`, `pclk_hz(bus)`), `_pll_valid()` and `check_tree()`."""

    name = "RCC"
    cr_name = "CR"
    cfgr_name = "CFGR"
    sws_shift = 2
    #: (register name, bit) of the bus clock enable of each gated peripheral, by peripheral name.
    gates: ClassVar[dict] = {}
    #: (register, mask of the PLL fields, manual section): "can be written only when the PLL is disabled"
    pll_config: tuple = ("PLLCFGR", 0xFFFFFFFF, "")

    def __init__(self, base: int, oscillators, sources, hse_hz=None, pwr=None, flash=None):
        self.oscillators = oscillators
        self.sources = tuple(sources)  # index = SW value
        self.hse_hz = hse_hz
        self.hse = next(o for o in oscillators if o.name == "HSE")
        self.pll = next(o for o in oscillators if o.name == "PLL")
        self.pwr = pwr
        self.flash = flash
        self.sws = 0
        self.reset_targets: dict = {}  # peripheral name -> model reset by its RCC reset bit
        super().__init__(base, 0x400)

    def reset(self) -> None:
        super().reset()
        for osc in self.oscillators:
            osc.reset()
        self.sws = self.regs[self.cfgr_name] & 3

    # -- gates -------------------------------------------------------------------------------------------
    def gate(self, peripheral: str):
        reg, bit = self.gates[peripheral]
        return lambda: bool(self.regs[reg] >> bit & 1)

    def reset_bit(self, peripheral: str) -> tuple:
        """(register, bit) of a peripheral's reset: on every family here the xxxRSTR register mirrors
        its xxxENR register bit for bit (RM0394 6.4, RM0090 6.3, RM0367 7.3)."""
        reg, bit = self.gates[peripheral]
        return reg.replace("ENR", "RSTR"), bit

    # -- register behaviour ------------------------------------------------------------------------------
    def value(self, name: str) -> int:
        v = self.regs[name]
        if name == self.cr_name:
            for osc in self.oscillators:
                osc.read()
                v = (v & ~(1 << osc.rdy_bit)) | osc.bits()
            return v
        if name == self.cfgr_name:
            self._switch()
            return (v & ~(3 << self.sws_shift)) | (self.sws << self.sws_shift)
        return v

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        reg, mask, where = self.pll_config
        if name == reg and self.regs["CR"] >> 24 & 1 and (old ^ new) & mask:
            self.regs[name] = new = (new & ~mask) | (old & mask)
            self.violation(f"RCC_{reg} PLL fields written while the PLL is on: ignored ({where})")
        if name == "CR" and (old ^ new) & (1 << 16) and new & (1 << 16) and self.hse_hz is None:
            self.violation("HSE enabled on a board without a high-speed external clock: HSERDY never sets")
            self.hse.locks = False
        if "RSTR" in name:
            for peripheral, target in self.reset_targets.items():
                reg, bit = self.reset_bit(peripheral)
                if reg == name and (new >> bit & 1) and not (old >> bit & 1):
                    target.reset()  # held in reset while the bit is set; registers at reset values
            return
        if name == self.cr_name:
            for osc in self.oscillators:
                if (old ^ new) >> osc.on_bit & 1 and not new >> osc.on_bit & 1 and self.source_in_use(osc):
                    # Hardware refuses to stop the clock the system runs from: the ON bit stays set.
                    self.regs[name] |= 1 << osc.on_bit
                    continue
                osc.written(old, new)
            if new >> 24 & 1 and not old >> 24 & 1:
                self.pll.locks = self._pll_valid(report=True)
        elif name == self.cfgr_name:
            self._switch()
            self.check_tree("CFGR write")

    def source_in_use(self, osc: Oscillator) -> bool:
        return self.sws < len(self.sources) and self.sources[self.sws] is osc

    def _switch(self) -> None:
        sw = self.regs[self.cfgr_name] & 3
        if sw != self.sws and self.source_ready(sw):
            before = self.sysclk_hz()
            self.sws = sw
            self.switched(before)
            self.check_tree("system clock switch")

    def source_ready(self, sw: int) -> bool:
        return sw < len(self.sources) and self.sources[sw].ready()

    def _pll_valid(self, report: bool) -> bool:
        raise NotImplementedError

    def switched(self, sysclk_before: float) -> None:
        """Hook: the system clock source just changed (SWS follows SW)."""

    # -- clock tree ----------------------------------------------------------------------------------------
    @staticmethod
    def ahb_div(hpre: int) -> int:
        return 1 if hpre < 8 else (2, 4, 8, 16, 64, 128, 256, 512)[hpre - 8]

    @staticmethod
    def apb_div(ppre: int) -> int:
        return 1 if ppre < 4 else (2, 4, 8, 16)[ppre - 4]

    def hclk_hz(self) -> float:
        return self.sysclk_hz() / self.ahb_div(self.regs[self.cfgr_name] >> 4 & 0xF)

    def sysclk_hz(self) -> float:
        raise NotImplementedError

    def pclk_hz(self, bus: int) -> float:
        raise NotImplementedError

    def check_tree(self, when: str) -> None:
        raise NotImplementedError

    def check_latency(self, when: str, hclk: float, table_hz: tuple, latency: int, where: str) -> None:
        """table_hz[n]: highest HCLK allowed with n wait states."""
        needed = next((n for n, limit in enumerate(table_hz) if hclk <= limit + 1), None)
        if needed is None:
            self.violation(f"{when}: HCLK {hclk / 1e6:.1f} MHz is above every wait-state limit ({where})")
        elif latency < needed:
            self.violation(
                f"{when}: HCLK {hclk / 1e6:.1f} MHz needs {needed} flash wait states, "
                f"FLASH_ACR.LATENCY is {latency} ({where})"
            )

    def publish(self) -> None:
        if self.machine is not None:
            self.machine.clock_changed()
