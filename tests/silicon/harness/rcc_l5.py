# SPDX-License-Identifier: Apache-2.0
"""RCC and PWR of the STM32L552 / L562, TrustZone disabled (non-secure aliases).

Sources: RM0438 rev 7 section 9 "Reset and clock control (RCC)" and section 8 "Power control (PWR)";
DS12736 (STM32L562xx) for the PLL and clock limits; bit positions as in cmsis_device_l5 (stm32l562xx.h).

The RCC is the L4's (rcc_l4.RccL4, on rcc_common.RccBase): the same base 0x4002_1000, the same CR /
CFGR / PLLCFGR fields (PLLM in [7:4] as on the L4+), the same MSI ranges (4 MHz at reset), HSI16 and HSE,
the same enable bits of the GPIO ports (AHB2ENR b0..7), PWR (APB1ENR1 b28), USART1 (APB2ENR b14),
USART2-3 / UART4-5 (APB1ENR1 b17..20) and LPUART1 (APB1ENR2 b0), U(S)ART kernel clocks on PCLK at reset.
What differs, and is checked here:
- PLL (DS12736 "PLL characteristics"): input 4..16 MHz, VCO 64..344 MHz, PLLN 8..86 (**unconfirmed**
  upper bound; the bootloader uses 55), PLLCLK (R output) at most 110 MHz.
- Voltage scaling (RM0438 8.3.2 / 8.3.3): PWR_CR1.VOS [10:9] = 00 range 0 (SYSCLK up to 110 MHz), 01
  range 1 (80 MHz), 10 range 2 (26 MHz, the reset value), 11 reserved. PWR_SR2.VOSF (b10) is set while
  the regulator moves. The L5 has no PWR_CR5 / R1MODE: range 0 is its boost.
- Flash wait states (RM0438 6.3.3, table "Number of wait states according to CPU clock (HCLK)
  frequency"): 20 MHz per wait state in ranges 0 and 1 (0..5 WS up to 110 MHz), 8 / 16 / 26 MHz in range 2.
- Above 80 MHz the switch to the faster SYSCLK goes through AHB /2 for at least 1 us, as on the L4+
  (RM0438 9.2.9 "Clock switching above 80 MHz" - **wording unconfirmed**; ST's L5 HAL does the same step).

PWR (base 0x4000_7000, clock APB1ENR1.PWREN): CR1 0x00 (reset 0x0000_0400: VOS = range 2), CR2 0x04
(IOSV b9: VDDIO2 valid, PG[15:2]), CR3 0x08, CR4 0x0C, SR1 0x10, SR2 0x14 (VOSF b10), SCR 0x18.
"""

from __future__ import annotations

from typing import ClassVar

from .bus import Registers
from .rcc_l4 import RccL4

SYSCLK_MAX = 110e6
#: voltage range -> highest HCLK per number of wait states (index) and highest SYSCLK
WAIT_STATES = {
    0: ((20e6, 40e6, 60e6, 80e6, 100e6, 110e6), 110e6),
    1: ((20e6, 40e6, 60e6, 80e6), 80e6),
    2: ((8e6, 16e6, 26e6), 26e6),
}


class PwrL5(Registers):
    name = "PWR"
    layout: ClassVar[dict] = {
        0x00: ("CR1", 0x00000400, 0x00004707),
        0x04: ("CR2", 0x00000000, 0x000006FF),
        0x08: ("CR3", 0x00008000, 0x0000F0CF),
        0x0C: ("CR4", 0x00000000, 0x0000E31F),
        0x10: ("SR1", 0x00000000, 0x00000000),
        0x14: ("SR2", 0x00000000, 0x00000000),
        0x18: ("SCR", 0x00000000, 0x0000011F),
    }

    def __init__(self):
        self.vosf_reads = 0
        super().__init__(0x40007000, 0x400)

    def range(self) -> int:
        return self.regs["CR1"] >> 9 & 3

    def boost(self) -> bool:
        return False

    def value(self, name: str) -> int:
        if name == "SR2":
            if self.vosf_reads:
                self.vosf_reads -= 1
                return 1 << 10
            return 0
        return self.regs[name]

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        if name == "CR1" and (old ^ new) >> 9 & 3:
            if new >> 9 & 3 == 3:
                self.violation("PWR_CR1.VOS = 11 is reserved (RM0438 8.7.1)")
            self.vosf_reads = 2
            if self.machine is not None:
                self.machine.rcc.check_tree("PWR_CR1.VOS change")


class RccL5(RccL4):
    pll_config = ("PLLCFGR", 0xFFFFFFFF, "RM0438 9.8.4")

    def __init__(self, *, hse_hz=None, pwr=None, flash=None):
        super().__init__(plus=True, hse_hz=hse_hz, pwr=pwr, flash=flash)  # PLLM [7:4] as on the L4+

    def _pll_valid(self, report: bool) -> bool:
        cfg = self.regs["PLLCFGR"]
        n = cfg >> 8 & 0x7F
        fin = self.pll_input_hz()
        vco = fin * n
        problems = []
        if cfg & 3 == 0:
            problems.append("no PLL source selected")
        if not 4e6 <= fin <= 16e6:
            problems.append(f"PLL input {fin / 1e6:.2f} MHz outside 4..16 MHz")
        if not 8 <= n <= 86:
            problems.append(f"PLLN {n} out of range")
        if not 64e6 <= vco <= 344e6:
            problems.append(f"VCO {vco / 1e6:.1f} MHz outside 64..344 MHz")
        if cfg >> 24 & 1 and self.pll_r_hz() > SYSCLK_MAX + 1:
            problems.append(f"PLLCLK {self.pll_r_hz() / 1e6:.1f} MHz above 110 MHz")
        if problems and report:
            self.violation("PLL enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def check_tree(self, when: str) -> None:
        hclk = self.hclk_hz()
        sysclk = self.sysclk_hz()
        vrange = self.pwr.range() if self.pwr is not None else 2
        latency = self.flash.acr & 0xF if self.flash is not None else 0
        table, top = WAIT_STATES.get(vrange, WAIT_STATES[2])
        if sysclk > top + 1:
            self.violation(f"{when}: SYSCLK {sysclk / 1e6:.1f} MHz above {top / 1e6:.0f} MHz in voltage range {vrange}")
        self.check_latency(when, hclk, table, latency, "RM0438 6.3.3 wait states")
        for bus in (1, 2):
            if self.pclk_hz(bus) > SYSCLK_MAX + 1:
                self.violation(f"{when}: PCLK{bus} above 110 MHz")
        self.publish()

    def switched(self, sysclk_before: float) -> None:
        if self.sysclk_hz() > 80e6 + 1 and sysclk_before <= 80e6 + 1 and self.hclk_hz() > 80e6 + 1:
            self.violation(
                "switched to SYSCLK above 80 MHz with the AHB prescaler at /1: the transition goes through "
                "HPRE = /2 (RM0438 9.2.9)"
            )
