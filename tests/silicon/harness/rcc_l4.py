# SPDX-License-Identifier: Apache-2.0
"""RCC and PWR of the STM32L4 / L4+.

Sources: RM0394 rev 4 section 6 "Reset and clock control" and section 5 "Power control" (L41x-L46x),
RM0351 rev 9 sections 5/6 (L47x/L49x), RM0432 rev 9 sections 5/6 (L4+). Bit positions as in
cmsis_device_l4.

RCC (base 0x4002_1000):
- CR 0x00, reset 0x0000_0063: MSION, MSIRDY, MSIRANGE = 6 (4 MHz). HSION b8/HSIRDY b10 (16 MHz),
  HSEON b16/HSERDY b17/HSEBYP b18, PLLON b24/PLLRDY b25. The clock in use cannot be switched off.
- CFGR 0x08: SW[1:0] (MSI, HSI16, HSE, PLL), SWS[3:2], HPRE[7:4], PPRE1[10:8], PPRE2[13:11].
- PLLCFGR 0x0C, reset 0x0000_1000: PLLSRC[1:0], PLLM[6:4] (L4+: [7:4]) = M - 1, PLLN[14:8], PLLREN b24,
  PLLR[26:25] (/2, /4, /6, /8). "This register can be written only when the PLL is disabled" (6.4.4):
  writes while PLLON is set are ignored. Limits (6.2.5 and datasheet): PLL input 4..16 MHz (L4+ 2.66..16),
  VCO 64..344 MHz, PLLN 8..86 (L4+ 8..127), PLLCLK (R output) <= 80 MHz (L4+ 120 MHz).
- Enables: AHB1ENR 0x48 (reset 0x0000_0100 FLASHEN), AHB2ENR 0x4C (GPIOx bits 0..8, OSPIM b20), AHB3ENR
  0x50 (OSPI1EN b8), APB1ENR1 0x58 (USART2..5 b17..20, PWREN b28), APB1ENR2 0x5C (LPUART1EN b0), APB2ENR
  0x60 (USART1EN b14); resets AHB1RSTR 0x28, AHB2RSTR 0x2C, AHB3RSTR 0x30, APB1RSTR1 0x38, APB1RSTR2 0x3C,
  APB2RSTR 0x40; CCIPR 0x88 (USARTxSEL reset 00 = PCLK), CSR 0x94.
- Flash wait states (RM0394 3.3.3 table 9; RM0432 3.3.3): range 1: 16 MHz per wait state up to 80 MHz;
  L4+ range 1 boost (PWR_CR5.R1MODE = 0): 20 MHz per wait state up to 120 MHz; range 2: 6/12/18/26 MHz.
- Above 80 MHz on L4+ (RM0432 6.2.9 / 5.1.8): range 1 boost mode must be selected before, and the AHB
  prescaler must divide by 2 while switching to the faster clock (at least 1 us), then be set to /1.

PWR (base 0x4000_7000, clock APB1ENR1.PWREN): CR1 0x00 VOS[10:9] (reset 01 = range 1), SR2 0x14 VOSF b10
(set while the regulator changes range), CR5 0x80 (L4+) R1MODE b8 (reset 1: normal range 1).
"""

from __future__ import annotations

from typing import ClassVar

from .bus import Registers
from .rcc_common import Oscillator, RccBase

MSI_RANGES_HZ = (100e3, 200e3, 400e3, 800e3, 1e6, 2e6, 4e6, 8e6, 16e6, 24e6, 32e6, 48e6)


class PwrL4(Registers):
    name = "PWR"
    layout: ClassVar[dict] = {
        0x00: ("CR1", 0x00000200, 0x0000C71F),
        0x04: ("CR2", 0x00000000, 0x000007FF),
        0x08: ("CR3", 0x00008000, 0x0000F51F),
        0x0C: ("CR4", 0x00000000, 0x0000030F),
        0x10: ("SR1", 0x00000000, 0x00000000),
        0x14: ("SR2", 0x00000000, 0x00000000),
        0x18: ("SCR", 0x00000000, 0x0000031F),
    }

    def __init__(self, plus: bool):
        self.plus = plus
        if plus:
            self.layout = dict(self.layout)
            self.layout[0x80] = ("CR5", 0x00000100, 0x00000100)
        self.vosf_reads = 0
        super().__init__(0x40007000, 0x400)

    def range(self) -> int:
        return self.regs["CR1"] >> 9 & 3

    def boost(self) -> bool:
        return self.plus and not self.regs["CR5"] >> 8 & 1

    def value(self, name: str) -> int:
        if name == "SR2":
            if self.vosf_reads:
                self.vosf_reads -= 1
                return 1 << 10
            return 0
        return self.regs[name]

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        if name == "CR1" and (old ^ new) >> 9 & 3:
            if new >> 9 & 3 not in (1, 2):
                self.violation(f"PWR_CR1.VOS = {new >> 9 & 3} is reserved")
            self.vosf_reads = 2
            if self.machine is not None:
                self.machine.rcc.check_tree("PWR_CR1.VOS change")
        if name == "CR5" and self.machine is not None:
            self.machine.rcc.check_tree("PWR_CR5.R1MODE change")


class RccL4(RccBase):
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x00000063, 0x0F0F0BFD),
        0x04: ("ICSCR", 0x10000000, 0x1FFF0000),
        0x08: ("CFGR", 0x00000000, 0x7F00FFF3),
        0x0C: ("PLLCFGR", 0x00001000, 0xFF737FF3),
        0x10: ("PLLSAI1CFGR", 0x00001000, 0xFF737F00),
        0x14: ("PLLSAI2CFGR", 0x00001000, 0xFF737F00),
        0x18: ("CIER", 0x00000000, 0x000007FF),
        0x1C: ("CIFR", 0x00000000, 0x00000000),
        0x20: ("CICR", 0x00000000, 0x00000000),
        0x28: ("AHB1RSTR", 0x00000000, 0x00031107),
        0x2C: ("AHB2RSTR", 0x00000000, 0x077F31FF),
        0x30: ("AHB3RSTR", 0x00000000, 0x00000301),
        0x38: ("APB1RSTR1", 0x00000000, 0xF7FECE33),
        0x3C: ("APB1RSTR2", 0x00000000, 0x00000023),
        0x40: ("APB2RSTR", 0x00000000, 0x037F7801),
        0x48: ("AHB1ENR", 0x00000100, 0x00031107),
        0x4C: ("AHB2ENR", 0x00000000, 0x077F31FF),
        0x50: ("AHB3ENR", 0x00000000, 0x00000301),
        0x58: ("APB1ENR1", 0x00000000, 0xF7FECE33),
        0x5C: ("APB1ENR2", 0x00000000, 0x00000023),
        0x60: ("APB2ENR", 0x00000000, 0x037F7C81),
        0x88: ("CCIPR", 0x00000000, 0xFFFFFFFF),
        0x90: ("BDCR", 0x00000000, 0x0301BBFF),
        0x94: ("CSR", 0x0C000600, 0x00800F19),
        0x98: ("CRRCR", 0x00000000, 0x00000001),
        0x9C: ("CCIPR2", 0x00000000, 0x001FFFFF),  # L4+ (OSPISEL, DSI, ...); reserved on L4
    }
    pll_config = ("PLLCFGR", 0xFFFFFFFF, "RM0394 6.4.4")
    gates: ClassVar[dict] = {
        **{f"GPIO{chr(65 + i)}": ("AHB2ENR", i) for i in range(9)},
        "OCTOSPIM": ("AHB2ENR", 20),
        "OCTOSPI1": ("AHB3ENR", 8),
        "OCTOSPI2": ("AHB3ENR", 9),
        "PWR": ("APB1ENR1", 28),
        "USART1": ("APB2ENR", 14),
        "USART2": ("APB1ENR1", 17),
        "USART3": ("APB1ENR1", 18),
        "UART4": ("APB1ENR1", 19),
        "UART5": ("APB1ENR1", 20),
        "LPUART1": ("APB1ENR2", 0),
    }
    #: the APB bus of each U(S)ART: its kernel clock is that PCLK (CCIPR reset value)
    uart_bus: ClassVar[dict] = {"USART1": 2, "USART2": 1, "USART3": 1, "UART4": 1, "UART5": 1, "LPUART1": 1}

    def __init__(self, *, plus: bool, hse_hz=None, pwr=None, flash=None):
        self.plus = plus
        oscillators = [
            Oscillator("MSI", 0, 1, None, ready_at_reset=True),
            Oscillator("HSI16", 8, 10, 16e6),
            Oscillator("HSE", 16, 17, hse_hz),
            Oscillator("PLL", 24, 25, None),
        ]
        self.msi, self.hsi = oscillators[:2]
        super().__init__(0x40021000, oscillators, oscillators, hse_hz, pwr, flash)

    def source_ready(self, sw: int) -> bool:
        return super().source_ready(sw) and (sw != 3 or bool(self.regs["PLLCFGR"] >> 24 & 1))  # PLLREN

    # -- clock tree ----------------------------------------------------------------------------------------
    def msi_hz(self) -> float:
        cr = self.regs["CR"]
        index = cr >> 4 & 0xF if cr & 8 else self.regs["CSR"] >> 8 & 0xF
        return MSI_RANGES_HZ[index] if index < len(MSI_RANGES_HZ) else MSI_RANGES_HZ[6]

    def pll_input_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        src = cfg & 3
        hz = {0: 0.0, 1: self.msi_hz(), 2: 16e6, 3: float(self.hse_hz or 0)}[src]
        m = (cfg >> 4 & (0xF if self.plus else 7)) + 1
        return hz / m

    def pll_r_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        n = cfg >> 8 & 0x7F
        r = (2, 4, 6, 8)[cfg >> 25 & 3]
        return self.pll_input_hz() * n / r

    def _pll_valid(self, report: bool) -> bool:
        cfg = self.regs["PLLCFGR"]
        n = cfg >> 8 & 0x7F
        fin = self.pll_input_hz()
        vco = fin * n
        problems = []
        if cfg & 3 == 0:
            problems.append("no PLL source selected")
        if not (2.66e6 if self.plus else 4e6) <= fin <= 16e6:
            problems.append(f"PLL input {fin / 1e6:.2f} MHz outside {'2.66' if self.plus else '4'}..16 MHz")
        if not 8 <= n <= (127 if self.plus else 86):
            problems.append(f"PLLN {n} out of range")
        if not 64e6 <= vco <= 344e6:
            problems.append(f"VCO {vco / 1e6:.1f} MHz outside 64..344 MHz")
        if cfg >> 24 & 1 and self.pll_r_hz() > (120e6 if self.plus else 80e6) + 1:
            problems.append(f"PLLCLK {self.pll_r_hz() / 1e6:.1f} MHz above the limit")
        if problems and report:
            self.violation("PLL enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def sysclk_hz(self) -> float:
        return (self.msi_hz(), 16e6, float(self.hse_hz or 0), self.pll_r_hz())[self.sws]

    def pclk_hz(self, bus: int) -> float:
        cfgr = self.regs["CFGR"]
        ppre = cfgr >> (8 if bus == 1 else 11) & 7
        return self.hclk_hz() / self.apb_div(ppre)

    def uart_clock_hz(self, name: str) -> float:
        return self.pclk_hz(self.uart_bus[name])

    def check_tree(self, when: str) -> None:
        hclk = self.hclk_hz()
        sysclk = self.sysclk_hz()
        pwr = self.pwr
        vrange = pwr.range() if pwr is not None else 1
        boost = pwr.boost() if pwr is not None else False
        latency = self.flash.acr & 0xF if self.flash is not None else 0
        if vrange == 2:
            if hclk > 26e6 + 1:
                self.violation(f"{when}: HCLK {hclk / 1e6:.1f} MHz in voltage range 2 (max 26 MHz)")
            table = (6e6, 12e6, 18e6, 26e6)
        elif boost:
            table = (20e6, 40e6, 60e6, 80e6, 100e6, 120e6)
        else:
            table = (16e6, 32e6, 48e6, 64e6, 80e6)
        self.check_latency(when, hclk, table, latency, "RM0394 table 9 / RM0432 table 12")
        if sysclk > 80e6 + 1:
            if not self.plus:
                self.violation(f"{when}: SYSCLK {sysclk / 1e6:.1f} MHz above 80 MHz on an STM32L4")
            elif not boost:
                self.violation(f"{when}: SYSCLK {sysclk / 1e6:.1f} MHz without range 1 boost (PWR_CR5.R1MODE = 0)")
        for bus in (1, 2):
            if self.pclk_hz(bus) > (120e6 if self.plus else 80e6) + 1:
                self.violation(f"{when}: PCLK{bus} above the bus limit")
        self.publish()

    def switched(self, sysclk_before: float) -> None:
        if self.sysclk_hz() > 80e6 + 1 and sysclk_before <= 80e6 + 1 and self.hclk_hz() > 80e6 + 1:
            self.violation(
                "switched to SYSCLK above 80 MHz with the AHB prescaler at /1: RM0432 6.2.9 asks "
                "for HPRE = /2 during the transition"
            )
