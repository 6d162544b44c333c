# SPDX-License-Identifier: Apache-2.0
"""RCC and PWR of the STM32L0.

Sources: RM0367 rev 7 (L0x3) section 7 "Reset and clock control" and section 6 "Power control"; the
L0x1/L0x2 manuals (RM0377, RM0376) describe the same blocks. Bit positions as in cmsis_device_l0.

RCC (base 0x4002_1000):
- CR 0x00, reset 0x0000_0300: HSI16ON b0, HSI16RDYF b2, MSION b8, MSIRDY b9, HSEON b16, HSERDY b17,
  HSEBYP b18, PLLON b24, PLLRDY b25.
- ICSCR 0x04: MSIRANGE[15:13] (reset 101 = 2.097 MHz).
- CFGR 0x0C: SW[1:0] (MSI, HSI16, HSE, PLL), SWS[3:2], HPRE[7:4], PPRE1[10:8], PPRE2[13:11], PLLSRC b16
  (0 HSI16, 1 HSE), PLLMUL[21:18] (x3 x4 x6 x8 x12 x16 x24 x32 x48), PLLDIV[23:22] (/2 /3 /4; 00 is not
  allowed). PLL fields "must be written only when the PLL is disabled" (7.3.3); VCO (PLLVCO) <= 96 MHz
  in range 1, 48 MHz in range 2, 24 MHz in range 3; PLL input 2..24 MHz (7.2.4).
- Enables IOPENR 0x2C (GPIOA..E b0..4, GPIOH b7), AHBENR 0x30 (reset 0x0000_0100 MIFEN), APB2ENR 0x34
  (USART1EN b14), APB1ENR 0x38 (USART2EN b17, LPUART1EN b18, USART4EN b19, USART5EN b20, PWREN b28);
  resets IOPRSTR 0x1C, AHBRSTR 0x20, APB2RSTR 0x24, APB1RSTR 0x28; CCIPR 0x4C (USARTxSEL reset 00 = PCLK).
- Limits (RM0367 6.1.5 "Dynamic voltage scaling"; 3.3.1 table 13): range 1 (1.8 V) up to 32 MHz with one
  flash wait state above 16 MHz, range 2 up to 16 MHz (one wait state above 8 MHz), range 3 up to 4.2 MHz.

PWR (base 0x4000_7000, clock APB1ENR.PWREN): CR 0x00 VOS[12:11] (reset 10 = range 2; 00 is not allowed);
CSR 0x04 VOSF b4 ("the regulator is changing range": VOS must not be written while it is set).
"""

from __future__ import annotations

from typing import ClassVar

from .bus import Registers
from .rcc_common import Oscillator, RccBase

MSI_RANGES_HZ = (65.536e3, 131.072e3, 262.144e3, 524.288e3, 1.048e6, 2.097e6, 4.194e6)
PLLMUL = (3, 4, 6, 8, 12, 16, 24, 32, 48)


class PwrL0(Registers):
    name = "PWR"
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x00001000, 0x00037FFF),
        0x04: ("CSR", 0x00000008, 0x00000700),
    }

    def __init__(self):
        self.vosf_reads = 0
        super().__init__(0x40007000, 0x400)

    def range(self) -> int:
        return self.regs["CR"] >> 11 & 3

    def value(self, name: str) -> int:
        v = self.regs[name]
        if name == "CSR" and self.vosf_reads:
            self.vosf_reads -= 1
            v |= 1 << 4
        return v

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        if name == "CR" and (old ^ new) >> 11 & 3:
            if self.vosf_reads:
                self.violation("PWR_CR.VOS written while VOSF is set")
            if new >> 11 & 3 == 0:
                self.violation("PWR_CR.VOS = 00 is not allowed")
            self.vosf_reads = 2
            if self.machine is not None:
                self.machine.rcc.check_tree("PWR_CR.VOS change")


class RccL0(RccBase):
    cfgr_name = "CFGR"
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x00000300, 0x011D032B),
        0x04: ("ICSCR", 0x0000A000, 0xFF00E000),
        0x08: ("CRRCR", 0x00000000, 0x00000001),
        0x0C: ("CFGR", 0x00000000, 0x77FFBFF3),
        0x10: ("CIER", 0x00000000, 0x00000000),
        0x14: ("CIFR", 0x00000000, 0x00000000),
        0x18: ("CICR", 0x00000000, 0x00000000),
        0x1C: ("IOPRSTR", 0x00000000, 0x0000009F),
        0x20: ("AHBRSTR", 0x00000000, 0x01111101),
        0x24: ("APB2RSTR", 0x00000000, 0x00405225),
        0x28: ("APB1RSTR", 0x00000000, 0xB8FE4A33),
        0x2C: ("IOPENR", 0x00000000, 0x0000009F),
        0x30: ("AHBENR", 0x00000100, 0x01111101),
        0x34: ("APB2ENR", 0x00000000, 0x00405225),
        0x38: ("APB1ENR", 0x00000000, 0xB8FE4A33),
        0x4C: ("CCIPR", 0x00000000, 0x000C3C3F),
        0x50: ("CSR", 0x0C000000, 0x01C7FF00),
    }
    pll_config = ("CFGR", 0x00FF0000, "RM0367 7.3.3")
    gates: ClassVar[dict] = {
        "GPIOA": ("IOPENR", 0),
        "GPIOB": ("IOPENR", 1),
        "GPIOC": ("IOPENR", 2),
        "GPIOD": ("IOPENR", 3),
        "GPIOE": ("IOPENR", 4),
        "GPIOH": ("IOPENR", 7),
        "PWR": ("APB1ENR", 28),
        "USART1": ("APB2ENR", 14),
        "USART2": ("APB1ENR", 17),
        "LPUART1": ("APB1ENR", 18),
        "USART4": ("APB1ENR", 19),
        "USART5": ("APB1ENR", 20),
    }
    uart_bus: ClassVar[dict] = {"USART1": 2, "USART2": 1, "LPUART1": 1, "USART4": 1, "USART5": 1}

    def __init__(self, *, hse_hz=None, pwr=None, flash=None):
        oscillators = [
            Oscillator("HSI16", 0, 2, 16e6),
            Oscillator("MSI", 8, 9, None, ready_at_reset=True),
            Oscillator("HSE", 16, 17, hse_hz),
            Oscillator("PLL", 24, 25, None),
        ]
        self.hsi, self.msi, hse, pll = oscillators
        super().__init__(0x40021000, oscillators, (self.msi, self.hsi, hse, pll), hse_hz, pwr, flash)

    def msi_hz(self) -> float:
        return MSI_RANGES_HZ[self.regs["ICSCR"] >> 13 & 7]

    def pll_input_hz(self) -> float:
        return float(self.hse_hz or 0) if self.regs["CFGR"] >> 16 & 1 else 16e6

    def vco_hz(self) -> float:
        mul = self.regs["CFGR"] >> 18 & 0xF
        return self.pll_input_hz() * (PLLMUL[mul] if mul < len(PLLMUL) else 0)

    def pll_hz(self) -> float:
        div = self.regs["CFGR"] >> 22 & 3
        return self.vco_hz() / (div + 1) if div else 0.0

    def _pll_valid(self, report: bool) -> bool:
        cfgr = self.regs["CFGR"]
        problems = []
        if cfgr >> 18 & 0xF >= len(PLLMUL):
            problems.append("PLLMUL reserved value")
        if cfgr >> 22 & 3 == 0:
            problems.append("PLLDIV = 00 is not allowed")
        if not 2e6 <= self.pll_input_hz() <= 24e6:
            problems.append(f"PLL input {self.pll_input_hz() / 1e6:.1f} MHz outside 2..24 MHz")
        vrange = self.pwr.range() if self.pwr is not None else 2
        vco_max = {1: 96e6, 2: 48e6, 3: 24e6}.get(vrange, 24e6)
        if self.vco_hz() > vco_max + 1:
            problems.append(f"PLLVCO {self.vco_hz() / 1e6:.0f} MHz above {vco_max / 1e6:.0f} MHz in range {vrange}")
        if problems and report:
            self.violation("PLL enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def sysclk_hz(self) -> float:
        return (self.msi_hz(), 16e6, float(self.hse_hz or 0), self.pll_hz())[self.sws]

    def pclk_hz(self, bus: int) -> float:
        ppre = self.regs["CFGR"] >> (8 if bus == 1 else 11) & 7
        return self.hclk_hz() / self.apb_div(ppre)

    def uart_clock_hz(self, name: str) -> float:
        return self.pclk_hz(self.uart_bus[name])

    def check_tree(self, when: str) -> None:
        hclk = self.hclk_hz()
        vrange = self.pwr.range() if self.pwr is not None else 2
        latency = self.flash.acr & 1 if self.flash is not None else 0
        table = {1: (16e6, 32e6), 2: (8e6, 16e6), 3: (4.2e6, 4.2e6)}.get(vrange, (4.2e6, 4.2e6))
        self.check_latency(when, hclk, table, latency, "RM0367 table 13")
        self.publish()
