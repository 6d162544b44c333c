# SPDX-License-Identifier: Apache-2.0
"""RCC and PWR of the STM32G4, G0 and WL (on rcc_common.RccBase; the G4 and WL blocks on rcc_l4.RccL4,
whose register layout they keep for everything modelled here).

Sources: RM0440 rev 8 (G4) sections 6 "PWR" and 7 "RCC"; RM0444 rev 5 (G0) sections 4 "PWR" and 5 "RCC";
RM0453 rev 5 (WL5x) / RM0461 (WLEx) sections 5 "PWR" and 6 "RCC"; the datasheets DS12288 (G474), DS13560
(G0B1), DS13293 (WL55) and DS13105 (WLE5) for the PLL and clock limits; bit positions as in ST's CMSIS
device headers. Limits not read in the text itself are marked **unconfirmed**.

G4 (`RccG4`, RCC 0x4002_1000, PWR 0x4000_7000 with PWREN APB1ENR1 b28):
- No MSI: HSI16 is the reset clock (CR reset 0x0000_0500: HSION, HSIRDY; CFGR SW = SWS = 01). SW: 01
  HSI16, 10 HSE, 11 PLL; 00 is reserved (reported).
- PLLCFGR as on the L4+: PLLSRC [1:0] (10 HSI16, 11 HSE; 01 reserved), PLLM [7:4] (/1../16), PLLN [14:8]
  (8..127), PLLREN b24, PLLR [26:25] (/2 /4 /6 /8). PLL input 2.66..16 MHz, VCO 96..344 MHz, PLLCLK at
  most 170 MHz (DS12288 "PLL characteristics").
- Range 1 boost (PWR_CR5.R1MODE = 0, reset 1) is required above 150 MHz. Flash wait states (RM0440 3.3.3
  table 9): boost 34 / 68 / 102 / 136 / 170 MHz for 0..4 WS, normal range 1 30 / 60 / 90 / 120 / 150,
  range 2 12 / 24 / 26. Switching to a SYSCLK above 80 MHz goes through AHB /2 for at least 1 us (RM0440
  RCC "System clock switch", as on the L4+; **section number unconfirmed**).
- Enables: AHB2ENR GPIOA..G b0..6, APB1ENR1 USART2/3 b17/18, UART4/5 b19/20, PWR b28, APB1ENR2 LPUART1 b0,
  APB2ENR USART1 b14; the RSTR registers mirror them.

G0 (`RccG0`, RCC 0x4002_1000, PWR 0x4000_7000 with PWREN APBENR1 b28):
- CR reset 0x0000_0500: HSION b8, HSIRDY b10, HSIDIV [13:11] (HSISYS = HSI16 / 2^HSIDIV; reset /1), HSEON
  b16, HSERDY b17, HSEBYP b18, PLLON b24, PLLRDY b25.
- CFGR: SW [2:0] (000 HSISYS, 001 HSE, 010 PLLRCLK, 011 LSI, 100 LSE: the last two not modelled and
  reported), SWS [5:3], HPRE [11:8], PPRE [14:12] (one APB).
- PLLCFGR (reset 0x0000_1000): PLLSRC [1:0] (10 HSI16, 11 HSE), PLLM [6:4] (/1../8), PLLN [14:8] (8..86),
  PLLREN b28, PLLR [31:29] (/2../8; 000 reserved). PLL input 2.66..16 MHz, VCO 64..344 MHz, PLLRCLK at most
  64 MHz (DS13560). Writes while the PLL runs are ignored ("can be written only when the PLL is disabled").
- Flash wait states (RM0444 3.3.4 table 12): range 1 24 / 48 / 64 MHz for 0..2 WS; range 2 8 / 16 MHz.
- Enables: IOPENR GPIOA..F b0..5 (GPIO on the IOPORT bus at 0x5000_0000), APBENR1 USART2..4 b17..19,
  LPUART1 b20, LPUART2 b7, USART5/6 b8/9, PWR b28, APBENR2 USART1 b14; resets IOPRSTR / APBRSTR1 / APBRSTR2.

WL (`RccWL`, RCC 0x5800_0000 and PWR 0x5800_0400 on AHB3; PWR has no clock-enable bit):
- CR reset 0x0000_0061 (MSION, MSIRDY, MSIRANGE 6 = 4 MHz): MSIRGSEL b3 (range from CR, else from
  CSR.MSISRANGE, 4 MHz after reset), HSION b8, HSIRDY b10, HSEON b16, HSERDY b17, PLLON b24, PLLRDY b25.
  MSIRANGE may change only while MSI is off or ready.
- CFGR: SW [1:0] (MSI, HSI16, HSE32, PLL), SWS [3:2], HPRE [7:4], PPRE1 [10:8], PPRE2 [13:11].
- PLLCFGR (reset 0x0000_1000): PLLSRC [1:0] (01 MSI, 10 HSI16, 11 HSE32), PLLM [6:4] (/1../8), PLLN [14:8]
  (6..127), PLLREN b28, PLLR [31:29] (/2../8; 000 reserved). PLL input 2.66..16 MHz, VCO 96..344 MHz,
  PLLRCLK at most 48 MHz (DS13293).
- HCLK3 (AHB3 and the flash) = SYSCLK / EXTCFGR.SHDHPRE (reset /1: not changed by the software modelled).
  Flash wait states (RM0453 3.3.4): range 1 18 / 36 / 48 MHz for 0..2 WS, range 2 6 / 12 / 16.
- Enables: AHB2ENR GPIOA/B/C b0..2, GPIOH b7; APB1ENR1 USART2 b17; APB1ENR2 LPUART1 b0; APB2ENR USART1
  b14. HSE32 is a TCXO on the boards modelled (needs HSEBYPPWR and its supply pin): HSEON is reported.
"""

from __future__ import annotations

from typing import ClassVar

from .rcc_common import Oscillator, RccBase
from .rcc_l4 import PwrL4, RccL4


class RccG4(RccL4):
    layout: ClassVar[dict] = {
        **RccL4.layout,
        0x00: ("CR", 0x00000500, 0x0F0F0100),
        0x08: ("CFGR", 0x00000005, 0x7F00FFF3),
        0x0C: ("PLLCFGR", 0x00001000, 0xFF7F7FF3),
    }
    gates: ClassVar[dict] = {
        **{f"GPIO{chr(65 + i)}": ("AHB2ENR", i) for i in range(7)},
        "PWR": ("APB1ENR1", 28),
        "USART1": ("APB2ENR", 14),
        "USART2": ("APB1ENR1", 17),
        "USART3": ("APB1ENR1", 18),
        "UART4": ("APB1ENR1", 19),
        "UART5": ("APB1ENR1", 20),
        "LPUART1": ("APB1ENR2", 0),
    }

    def __init__(self, *, hse_hz=None, pwr=None, flash=None):
        oscillators = [
            Oscillator("HSI16", 8, 10, 16e6, ready_at_reset=True),
            Oscillator("HSE", 16, 17, hse_hz),
            Oscillator("PLL", 24, 25, None),
        ]
        self.plus = True
        self.hsi = oscillators[0]
        # SW = 00 is reserved on the G4: a source that never becomes ready
        reserved = Oscillator("reserved", 31, 31, None)
        reserved.locks = False
        RccBase.__init__(self, 0x40021000, oscillators, (reserved, *oscillators), hse_hz, pwr, flash)

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        if name == "CFGR" and new & 3 == 0:
            self.violation("RCC_CFGR.SW = 00 is reserved on the STM32G4 (RM0440 RCC_CFGR)")
        if name == "PLLCFGR" and new & 3 == 1:
            self.violation("RCC_PLLCFGR.PLLSRC = 01 is reserved on the STM32G4 (no MSI)")
        super().on_write(name, old, new, written)

    def pll_input_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        hz = {2: 16e6, 3: float(self.hse_hz or 0)}.get(cfg & 3, 0.0)
        return hz / ((cfg >> 4 & 0xF) + 1)

    def _pll_valid(self, report: bool) -> bool:
        cfg = self.regs["PLLCFGR"]
        n = cfg >> 8 & 0x7F
        fin = self.pll_input_hz()
        problems = []
        if cfg & 3 not in (2, 3):
            problems.append("no PLL source selected")
        if not 2.66e6 <= fin <= 16e6:
            problems.append(f"PLL input {fin / 1e6:.2f} MHz outside 2.66..16 MHz")
        if not 8 <= n <= 127:
            problems.append(f"PLLN {n} out of range")
        if not 96e6 <= fin * n <= 344e6:
            problems.append(f"VCO {fin * n / 1e6:.1f} MHz outside 96..344 MHz")
        if cfg >> 24 & 1 and self.pll_r_hz() > 170e6 + 1:
            problems.append(f"PLLCLK {self.pll_r_hz() / 1e6:.1f} MHz above 170 MHz")
        if problems and report:
            self.violation("PLL enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def sysclk_hz(self) -> float:
        return (0.0, 16e6, float(self.hse_hz or 0), self.pll_r_hz())[self.sws]

    def check_tree(self, when: str) -> None:
        hclk, sysclk = self.hclk_hz(), self.sysclk_hz()
        pwr = self.pwr
        vrange = pwr.range() if pwr is not None else 1
        boost = pwr.boost() if pwr is not None else False
        latency = self.flash.acr & 0xF if self.flash is not None else 0
        if vrange == 2:
            if hclk > 26e6 + 1:
                self.violation(f"{when}: HCLK {hclk / 1e6:.1f} MHz in voltage range 2 (max 26 MHz)")
            table: tuple = (12e6, 24e6, 26e6)
        elif boost:
            table = (34e6, 68e6, 102e6, 136e6, 170e6)
        else:
            table = (30e6, 60e6, 90e6, 120e6, 150e6)
        self.check_latency(when, hclk, table, latency, "RM0440 table 9")
        if sysclk > 150e6 + 1 and not boost:
            self.violation(f"{when}: SYSCLK {sysclk / 1e6:.1f} MHz without range 1 boost (PWR_CR5.R1MODE = 0)")
        for bus in (1, 2):
            if self.pclk_hz(bus) > 170e6 + 1:
                self.violation(f"{when}: PCLK{bus} above 170 MHz")
        self.publish()

    def switched(self, sysclk_before: float) -> None:
        hpre = self.regs["CFGR"] >> 4 & 0xF
        if self.sysclk_hz() > 80e6 + 1 and sysclk_before <= 80e6 + 1 and hpre < 8:
            self.violation(
                "switched to SYSCLK above 80 MHz with the AHB prescaler at /1: RM0440 asks for HPRE = /2 "
                "during the transition (and for 1 us after it)"
            )


class RccWL(RccL4):
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x00000061, 0x01330BFD),
        0x04: ("ICSCR", 0x40000000, 0x7F0000FF),
        0x08: ("CFGR", 0x00000000, 0x0000FFF3),
        0x0C: ("PLLCFGR", 0x00001000, 0xFF3F7F73),
        0x18: ("CIER", 0x00000000, 0x0000033F),
        0x1C: ("CIFR", 0x00000000, 0x00000000),
        0x20: ("CICR", 0x00000000, 0x00000000),
        0x28: ("AHB1RSTR", 0x00000000, 0x00011007),
        0x2C: ("AHB2RSTR", 0x00000000, 0x00000087),
        0x30: ("AHB3RSTR", 0x00000000, 0x020F0000),
        0x38: ("APB1RSTR1", 0x00000000, 0xA0E2C201),
        0x3C: ("APB1RSTR2", 0x00000000, 0x00000061),
        0x40: ("APB2RSTR", 0x00000000, 0x00064800),
        0x48: ("AHB1ENR", 0x00000000, 0x00011007),
        0x4C: ("AHB2ENR", 0x00000000, 0x00000087),
        0x50: ("AHB3ENR", 0x02080000, 0x020F0000),
        0x58: ("APB1ENR1", 0x00000400, 0xA0E2CE01),
        0x5C: ("APB1ENR2", 0x00000000, 0x00000061),
        0x60: ("APB2ENR", 0x00000000, 0x00064800),
        0x88: ("CCIPR", 0x00000000, 0xFFFFFFFF),
        0x90: ("BDCR", 0x00000000, 0x0301BBFF),
        0x94: ("CSR", 0x00000600, 0x00800F19),
        0x108: ("EXTCFGR", 0x00030000, 0x000000FF),
    }
    gates: ClassVar[dict] = {
        "GPIOA": ("AHB2ENR", 0),
        "GPIOB": ("AHB2ENR", 1),
        "GPIOC": ("AHB2ENR", 2),
        "GPIOH": ("AHB2ENR", 7),
        "USART1": ("APB2ENR", 14),
        "USART2": ("APB1ENR1", 17),
        "LPUART1": ("APB1ENR2", 0),
    }
    uart_bus: ClassVar[dict] = {"USART1": 2, "USART2": 1, "LPUART1": 1}

    def __init__(self, *, hse_hz=None, pwr=None, flash=None):
        super().__init__(plus=False, hse_hz=hse_hz, pwr=pwr, flash=flash)
        self.base = 0x58000000

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        if name == "CR" and (old ^ new) >> 4 & 0xF and old & 1 and new & 1 and not self.msi.ready():
            self.violation("RCC_CR.MSIRANGE changed while MSI is on but not ready (RM0453 RCC_CR)")
        super().on_write(name, old, new, written)

    def source_ready(self, sw: int) -> bool:
        return RccBase.source_ready(self, sw) and (sw != 3 or bool(self.regs["PLLCFGR"] >> 28 & 1))  # PLLREN

    def pll_input_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        hz = {1: self.msi_hz(), 2: 16e6, 3: float(self.hse_hz or 0)}.get(cfg & 3, 0.0)
        return hz / ((cfg >> 4 & 7) + 1)

    def pll_r_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        r = (cfg >> 29 & 7) + 1
        return self.pll_input_hz() * (cfg >> 8 & 0x7F) / r if r > 1 else 0.0

    def _pll_valid(self, report: bool) -> bool:
        cfg = self.regs["PLLCFGR"]
        n = cfg >> 8 & 0x7F
        fin = self.pll_input_hz()
        problems = []
        if cfg & 3 == 0:
            problems.append("no PLL source selected")
        if not 2.66e6 <= fin <= 16e6:
            problems.append(f"PLL input {fin / 1e6:.2f} MHz outside 2.66..16 MHz")
        if not 6 <= n <= 127:
            problems.append(f"PLLN {n} out of range")
        if not 96e6 <= fin * n <= 344e6:
            problems.append(f"VCO {fin * n / 1e6:.1f} MHz outside 96..344 MHz")
        if cfg >> 29 & 7 == 0:
            problems.append("PLLR = 000 is reserved")
        elif cfg >> 28 & 1 and self.pll_r_hz() > 48e6 + 1:
            problems.append(f"PLLRCLK {self.pll_r_hz() / 1e6:.1f} MHz above 48 MHz")
        if problems and report:
            self.violation("PLL enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def check_tree(self, when: str) -> None:
        hclk = self.hclk_hz()
        vrange = self.pwr.range() if self.pwr is not None else 1
        latency = self.flash.acr & 7 if self.flash is not None else 0
        table = (18e6, 36e6, 48e6) if vrange == 1 else (6e6, 12e6, 16e6)
        if vrange == 2 and hclk > 16e6 + 1:
            self.violation(f"{when}: HCLK {hclk / 1e6:.1f} MHz in voltage range 2 (max 16 MHz)")
        self.check_latency(when, hclk, table, latency, "RM0453 3.3.4")
        if self.sysclk_hz() > 48e6 + 1:
            self.violation(f"{when}: SYSCLK {self.sysclk_hz() / 1e6:.1f} MHz above 48 MHz")
        self.publish()

    def switched(self, sysclk_before: float) -> None:
        """No AHB /2 step on the WL (48 MHz at most)."""


class PwrWL(PwrL4):
    """PWR of the WL at 0x5800_0400: CR1 VOS [10:9] (reset 01, range 1), SR2 VOSF b10; no clock gate."""

    def __init__(self):
        super().__init__(plus=False)
        self.base = 0x58000400


class RccG0(RccBase):
    sws_shift = 3
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x00000500, 0x010D3900),
        0x04: ("ICSCR", 0x00000000, 0x00007F00),
        0x08: ("CFGR", 0x00000000, 0xFF007F07),
        0x0C: ("PLLCFGR", 0x00001000, 0xFFFF7F73),
        0x18: ("CIER", 0x00000000, 0x0000003B),
        0x1C: ("CIFR", 0x00000000, 0x00000000),
        0x20: ("CICR", 0x00000000, 0x00000000),
        0x24: ("IOPRSTR", 0x00000000, 0x0000003F),
        0x28: ("AHBRSTR", 0x00000000, 0x00051103),
        0x2C: ("APBRSTR1", 0x00000000, 0xFFFFFFFF),
        0x30: ("APBRSTR2", 0x00000000, 0x0017D801),
        0x34: ("IOPENR", 0x00000000, 0x0000003F),
        0x38: ("AHBENR", 0x00000100, 0x00051103),
        0x3C: ("APBENR1", 0x00000000, 0xFFFFFFFF),
        0x40: ("APBENR2", 0x00000000, 0x0017D801),
        0x54: ("CCIPR", 0x00000000, 0xFFFFFFFF),
        0x58: ("CCIPR2", 0x00000000, 0x00003303),
        0x5C: ("BDCR", 0x00000000, 0x030183BF),
        0x60: ("CSR", 0x0C000000, 0x00800001),
    }
    pll_config = ("PLLCFGR", 0xFFFFFFFF, "RM0444 5.4.4")
    gates: ClassVar[dict] = {
        **{f"GPIO{chr(65 + i)}": ("IOPENR", i) for i in range(6)},
        "PWR": ("APBENR1", 28),
        "USART1": ("APBENR2", 14),
        "USART2": ("APBENR1", 17),
        "USART3": ("APBENR1", 18),
        "USART4": ("APBENR1", 19),
        "LPUART1": ("APBENR1", 20),
        "LPUART2": ("APBENR1", 7),
        "USART5": ("APBENR1", 8),
        "USART6": ("APBENR1", 9),
    }

    def __init__(self, *, hse_hz=None, pwr=None, flash=None):
        oscillators = [
            Oscillator("HSI16", 8, 10, 16e6, ready_at_reset=True),
            Oscillator("HSE", 16, 17, hse_hz),
            Oscillator("PLL", 24, 25, None),
        ]
        self.hsi = oscillators[0]
        super().__init__(0x40021000, oscillators, oscillators, hse_hz, pwr, flash)

    def reset(self) -> None:
        super().reset()
        self.sws = self.regs["CFGR"] & 7

    def value(self, name: str) -> int:
        if name == "CFGR":
            self._switch()
            return (self.regs[name] & ~(7 << 3)) | (self.sws << 3)
        return super().value(name)

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        if name == "CFGR" and new & 7 > 2:
            self.violation(f"RCC_CFGR.SW = {new & 7}: LSI/LSE as system clock is not modelled")
        super().on_write(name, old, new, written)

    def _switch(self) -> None:
        sw = self.regs["CFGR"] & 7
        if sw != self.sws and sw < 3 and self.source_ready(sw):
            before = self.sysclk_hz()
            self.sws = sw
            self.switched(before)
            self.check_tree("system clock switch")

    def source_ready(self, sw: int) -> bool:
        return super().source_ready(sw) and (sw != 2 or bool(self.regs["PLLCFGR"] >> 28 & 1))  # PLLREN

    def hsisys_hz(self) -> float:
        return 16e6 / (1 << (self.regs["CR"] >> 11 & 7))

    def pll_input_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        hz = {2: 16e6, 3: float(self.hse_hz or 0)}.get(cfg & 3, 0.0)
        return hz / ((cfg >> 4 & 7) + 1)

    def pll_r_hz(self) -> float:
        cfg = self.regs["PLLCFGR"]
        r = (cfg >> 29 & 7) + 1
        return self.pll_input_hz() * (cfg >> 8 & 0x7F) / r if r > 1 else 0.0

    def _pll_valid(self, report: bool) -> bool:
        cfg = self.regs["PLLCFGR"]
        n = cfg >> 8 & 0x7F
        fin = self.pll_input_hz()
        problems = []
        if cfg & 3 not in (2, 3):
            problems.append("no PLL source selected")
        if not 2.66e6 <= fin <= 16e6:
            problems.append(f"PLL input {fin / 1e6:.2f} MHz outside 2.66..16 MHz")
        if not 8 <= n <= 86:
            problems.append(f"PLLN {n} out of range")
        if not 64e6 <= fin * n <= 344e6:
            problems.append(f"VCO {fin * n / 1e6:.1f} MHz outside 64..344 MHz")
        if cfg >> 29 & 7 == 0:
            problems.append("PLLR = 000 is reserved")
        elif cfg >> 28 & 1 and self.pll_r_hz() > 64e6 + 1:
            problems.append(f"PLLRCLK {self.pll_r_hz() / 1e6:.1f} MHz above 64 MHz")
        if problems and report:
            self.violation("PLL enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def sysclk_hz(self) -> float:
        return (self.hsisys_hz(), float(self.hse_hz or 0), self.pll_r_hz())[self.sws]

    def hclk_hz(self) -> float:
        return self.sysclk_hz() / self.ahb_div(self.regs["CFGR"] >> 8 & 0xF)

    def pclk_hz(self, bus: int) -> float:
        return self.hclk_hz() / self.apb_div(self.regs["CFGR"] >> 12 & 7)

    def uart_clock_hz(self, name: str) -> float:
        return self.pclk_hz(1)

    def check_tree(self, when: str) -> None:
        hclk = self.hclk_hz()
        vrange = self.pwr.range() if self.pwr is not None else 1
        latency = self.flash.acr & 7 if self.flash is not None else 0
        table = (24e6, 48e6, 64e6) if vrange == 1 else (8e6, 16e6)
        if vrange == 2 and hclk > 16e6 + 1:
            self.violation(f"{when}: HCLK {hclk / 1e6:.1f} MHz in voltage range 2 (max 16 MHz)")
        self.check_latency(when, hclk, table, latency, "RM0444 3.3.4 table 12")
        if self.sysclk_hz() > 64e6 + 1:
            self.violation(f"{when}: SYSCLK {self.sysclk_hz() / 1e6:.1f} MHz above 64 MHz")
        self.publish()
