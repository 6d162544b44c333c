# SPDX-License-Identifier: Apache-2.0
"""RCC and PWR of the STM32F4 (F405/407/415/417, F427/429/437/439; F469 as far as used here).

Sources: RM0090 rev 19 section 6 "Reset and clock control for STM32F42xxx and STM32F43xxx" and section 5
"Power controller"; datasheet DS9405 (F427/F429) 6.3 for the limits. Bit positions as in
cmsis_device_f4 stm32f429xx.h.

RCC (base 0x4002_3800):
- CR 0x00, reset 0x0000_0083: HSION b0, HSIRDY b1, HSITRIM = 16; HSEON b16, HSERDY b17, HSEBYP b18;
  PLLON b24, PLLRDY b25.
- PLLCFGR 0x04, reset 0x2400_3010: PLLM[5:0] 2..63, PLLN[14:6] 50..432, PLLP[17:16] (/2 /4 /6 /8),
  PLLSRC b22 (0 HSI, 1 HSE), PLLQ[27:24] 2..15. "These bits should be written only if PLL is disabled":
  writes while PLLON is set are ignored. VCO input 1..2 MHz (6.3.2, "it is recommended to select a
  frequency of 2 MHz"), VCO output 100..432 MHz, SYSCLK <= 180 MHz (F42x; 168 MHz without over-drive,
  RM0090 5.1.4), PLL48CLK <= 48 MHz.
- CFGR 0x08: SW[1:0] (HSI, HSE, PLL), SWS[3:2], HPRE[7:4], PPRE1[12:10], PPRE2[15:13]. APB1 <= 45 MHz,
  APB2 <= 90 MHz (F42x; 42 / 84 MHz on F40x).
- Enables AHB1ENR 0x30 (GPIOx bits 0..10; reset 0x0010_0000 CCMDATARAMEN), AHB3ENR 0x38 (QSPIEN b1 on
  F469), APB1ENR 0x40 (USART2/3 b17/b18, UART4/5 b19/b20, PWREN b28, UART7/8 b30/b31), APB2ENR 0x44
  (USART1 b4, USART6 b5); resets at 0x10..0x24.
- Flash wait states at 2.7..3.6 V (RM0090 3.5.1 table 11): one per 30 MHz.

PWR (base 0x4000_7000, clock APB1ENR.PWREN): CR 0x00 VOS[15:14] (F42x reset 11 = scale 1: up to 168 MHz
without over-drive), ODEN b16, ODSWEN b17; CSR 0x04 VOSRDY b14, ODRDY b16, ODSWRDY b17.
"""

from __future__ import annotations

from typing import ClassVar

from .bus import Registers
from .rcc_common import Oscillator, RccBase


class PwrF4(Registers):
    name = "PWR"
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x0000C000, 0x000FEFFF),
        0x04: ("CSR", 0x00004000, 0x00000300),
    }

    def value(self, name: str) -> int:
        v = self.regs[name]
        if name == "CSR":
            cr = self.regs["CR"]
            v |= (1 << 16) if cr >> 16 & 1 else 0
            v |= (1 << 17) if cr >> 17 & 1 else 0
        return v

    def overdrive(self) -> bool:
        return bool(self.regs["CR"] >> 17 & 1)


class RccF4(RccBase):
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x00000083, 0x3F0DFFF9),
        0x04: ("PLLCFGR", 0x24003010, 0x7F437FFF),
        0x08: ("CFGR", 0x00000000, 0xFFFFFCF3),
        0x0C: ("CIR", 0x00000000, 0x00007F00),
        0x10: ("AHB1RSTR", 0x00000000, 0x22E017FF),
        0x14: ("AHB2RSTR", 0x00000000, 0x000000F1),
        0x18: ("AHB3RSTR", 0x00000000, 0x00000003),
        0x20: ("APB1RSTR", 0x00000000, 0xF6FEC9FF),
        0x24: ("APB2RSTR", 0x00000000, 0x0C777933),
        0x30: ("AHB1ENR", 0x00100000, 0x7EF417FF),
        0x34: ("AHB2ENR", 0x00000000, 0x000000F1),
        0x38: ("AHB3ENR", 0x00000000, 0x00000003),
        0x40: ("APB1ENR", 0x00000000, 0xF6FEC9FF),
        0x44: ("APB2ENR", 0x00000000, 0x0C777F33),
        0x70: ("BDCR", 0x00000000, 0x00018305),
        0x74: ("CSR", 0x0E000000, 0x01000001),
        0x80: ("SSCGR", 0x00000000, 0xCFFFFFFF),
        0x84: ("PLLI2SCFGR", 0x24003000, 0x7F007FC0),
        0x88: ("PLLSAICFGR", 0x24003000, 0x7F007FC0),
        0x8C: ("DCKCFGR", 0x00000000, 0x01F31F1F),
    }
    pll_config = ("PLLCFGR", 0xFFFFFFFF, "RM0090 6.3.2")
    gates: ClassVar[dict] = {
        **{f"GPIO{chr(65 + i)}": ("AHB1ENR", i) for i in range(11)},
        "QUADSPI": ("AHB3ENR", 1),
        "PWR": ("APB1ENR", 28),
        "USART1": ("APB2ENR", 4),
        "USART2": ("APB1ENR", 17),
        "USART3": ("APB1ENR", 18),
        "UART4": ("APB1ENR", 19),
        "UART5": ("APB1ENR", 20),
        "USART6": ("APB2ENR", 5),
        "UART7": ("APB1ENR", 30),
        "UART8": ("APB1ENR", 31),
    }
    uart_bus: ClassVar[dict] = {
        "USART1": 2,
        "USART6": 2,
        "USART2": 1,
        "USART3": 1,
        "UART4": 1,
        "UART5": 1,
        "UART7": 1,
        "UART8": 1,
    }

    def __init__(self, *, hse_hz=None, sysclk_max=180e6, apb1_max=45e6, apb2_max=90e6, pwr=None, flash=None):
        self.sysclk_max, self.apb1_max, self.apb2_max = sysclk_max, apb1_max, apb2_max
        oscillators = [
            Oscillator("HSI", 0, 1, 16e6, ready_at_reset=True),
            Oscillator("HSE", 16, 17, hse_hz),
            Oscillator("PLL", 24, 25, None),
        ]
        self.hsi = oscillators[0]
        super().__init__(0x40023800, oscillators, oscillators, hse_hz, pwr, flash)  # SW = 11: not allowed

    def pll_input_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        src = float(self.hse_hz or 0) if cfg >> 22 & 1 else 16e6
        m = cfg & 0x3F
        return src / m if m else 0.0

    def vco_hz(self) -> float:
        return self.pll_input_hz() * (self.regs["PLLCFGR"] >> 6 & 0x1FF)

    def pll_p_hz(self) -> float:
        return self.vco_hz() / (2, 4, 6, 8)[self.regs["PLLCFGR"] >> 16 & 3]

    def _pll_valid(self, report: bool) -> bool:
        cfg = self.regs["PLLCFGR"]
        m, n, q = cfg & 0x3F, cfg >> 6 & 0x1FF, cfg >> 24 & 0xF
        problems = []
        if not 2 <= m <= 63:
            problems.append(f"PLLM {m} out of 2..63")
        if not 50 <= n <= 432:
            problems.append(f"PLLN {n} out of 50..432")
        if not 2 <= q <= 15:
            problems.append(f"PLLQ {q} out of 2..15")
        fin = self.pll_input_hz()
        if not 0.95e6 <= fin <= 2.1e6:
            problems.append(f"VCO input {fin / 1e6:.2f} MHz outside 1..2 MHz")
        if not 100e6 <= self.vco_hz() <= 432e6:
            problems.append(f"VCO {self.vco_hz() / 1e6:.1f} MHz outside 100..432 MHz")
        if q and self.vco_hz() / q > 48e6 + 1:
            problems.append(f"PLL48CLK {self.vco_hz() / q / 1e6:.1f} MHz above 48 MHz")
        if problems and report:
            self.violation("PLL enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def sysclk_hz(self) -> float:
        return (16e6, float(self.hse_hz or 0), self.pll_p_hz(), 0.0)[self.sws]

    def pclk_hz(self, bus: int) -> float:
        ppre = self.regs["CFGR"] >> (10 if bus == 1 else 13) & 7
        return self.hclk_hz() / self.apb_div(ppre)

    def uart_clock_hz(self, name: str) -> float:
        return self.pclk_hz(self.uart_bus[name])

    #: HCLK limits per wait state at 2.7..3.6 V, where they are from, and the fastest SYSCLK without over-drive
    ws_table: tuple = tuple(30e6 * (n + 1) for n in range(6))
    ws_source = "RM0090 table 11"
    no_overdrive_max = 168e6

    def check_tree(self, when: str) -> None:
        sysclk, hclk = self.sysclk_hz(), self.hclk_hz()
        latency = self.flash.acr & 0xF if self.flash is not None else 0
        self.check_latency(when, hclk, self.ws_table, latency, self.ws_source)
        od = self.pwr is not None and self.pwr.overdrive()
        limit = self.sysclk_max if od else min(self.sysclk_max, self.no_overdrive_max)
        if sysclk > limit + 1:
            self.violation(
                f"{when}: SYSCLK {sysclk / 1e6:.1f} MHz above {limit / 1e6:.0f} MHz"
                + ("" if od else " (over-drive off)")
            )
        if self.pclk_hz(1) > self.apb1_max + 1:
            self.violation(f"{when}: PCLK1 {self.pclk_hz(1) / 1e6:.1f} MHz above {self.apb1_max / 1e6:.0f} MHz")
        if self.pclk_hz(2) > self.apb2_max + 1:
            self.violation(f"{when}: PCLK2 {self.pclk_hz(2) / 1e6:.1f} MHz above {self.apb2_max / 1e6:.0f} MHz")
        self.publish()


class RccF7(RccF4):
    """RCC and PWR of the STM32F76x/F77x (RM0410 section 4 "Power controller", section 5 "Reset and clock
    control"; DS11532 "General operating conditions", "Flash memory" wait states): the F4's registers at the
    same addresses and bit positions for everything the ports touch (CR, PLLCFGR with PLLR [30:28] added,
    reset 0x2400_3010; CFGR; AHB1ENR GPIOA..K bits 0..10; AHB3ENR QSPIEN bit 1; APB1ENR PWREN bit 28 and the
    same U(S)ART bits; APB2ENR USART1/6 bits 4/5). Differences modelled:
    - SYSCLK up to 216 MHz with over-drive, 180 MHz without (voltage scale 1, PWR_CR1.VOS reset value);
      APB1 <= 54 MHz, APB2 <= 108 MHz (the board's limits come from soc.Part);
    - flash wait states at 2.7..3.6 V: one per 30 MHz up to 7 at 216 MHz (RM0410 "Number of wait states
      according to CPU clock (HCLK) frequency");
    - PWR_CR1 / PWR_CSR1 at 0x00 / 0x04 with ODEN b16, ODSWEN b17 / ODRDY b16, ODSWRDY b17 (PwrF4's layout);
    - the U(S)ART kernel clock is PCLK while RCC_DCKCFGR2 (0x90) is at its reset value (USARTxSEL = 00); the
      register is not modelled (a write is reported as an undefined offset).
    The PLL input range (0.95..2.1 MHz), VCO (100..432 MHz), PLLN (50..432) and PLL48 limits are the F4's."""

    ws_table = tuple(min(30e6 * (n + 1), 216e6) for n in range(8))
    ws_source = "RM0410 wait states per HCLK frequency"
    no_overdrive_max = 180e6
