# SPDX-License-Identifier: Apache-2.0
"""RCC and PWR of the STM32H745/H755, as the Cortex-M7 uses them (the CM4 is not modelled: its D2 domain clock
is gated until started, boards/DISCO-H745I.toml).

Sources: RM0399 section 7 "Reset and clock control (RCC)" and section 6 "Power control (PWR)"; register
offsets, bit positions and reset values as in cmsis_device_h7 stm32h745xx.h; limits from the datasheet
DS12923 (STM32H745xI/G) "General operating conditions" and the PLL characteristics. [U]: not re-read in the
manual text this session.

PWR (base 0x5802_4800, always clocked - no enable bit):
- CR3 0x0C: BYPASS b0, LDOEN b1, SDEN b2 (SMPS), SMPSEXTHP b3, SMPSLEVEL [5:4]; reset 0x0000_0046 [U]. The
  supply configuration "can be written only once after a power-on reset" (RM0399 6.8.4): the first write
  latches it, later writes of those bits are ignored (a different value is reported). The board's supply
  is fixed by its components: the DISCO-H745I is built for the direct SMPS supply (SDEN = 1, LDOEN = 0,
  BYPASS = 0). Another configuration on that board never gets ACTVOSRDY (reported): the part does not
  reach a valid operating point.
- CSR1 0x04: ACTVOSRDY b13 (the supply configuration is active), ACTVOS [15:14].
- D3CR 0x18: VOS [15:14] (01 scale 3 - the reset value, 10 scale 2, 11 scale 1), VOSRDY b13. VOS may be
  changed only once ACTVOSRDY is set (reported otherwise). VOS0 (SYSCFG_PWRCR.ODEN) is not modelled: it
  needs the LDO, which the board has not.

RCC (base 0x5802_4400):
- CR 0x00 (reset 0x0000_0025: HSION, HSIRDY, HSIDIVF): HSION b0, HSIRDY b2, HSIDIV [4:3] (64 MHz / 1..8),
  HSEON b16, HSERDY b17, HSEBYP b18, PLL1ON b24, PLL1RDY b25 (PLL2/3 b26-29 not modelled: reported).
- CFGR 0x10: SW [2:0] (0 HSI, 1 CSI, 2 HSE, 3 PLL1), SWS [5:3].
- D1CFGR 0x18: HPRE [3:0] (AXI/AHB), D1PPRE [6:4] (APB3), D1CPRE [11:8] (CPU); D2CFGR 0x1C: D2PPRE1
  [6:4] (APB1), D2PPRE2 [10:8] (APB2); D3CFGR 0x20: D3PPRE [6:4] (APB4).
- PLLCKSELR 0x28 (reset 0x0202_0200): PLLSRC [1:0] (HSI, CSI, HSE, none), DIVM1 [9:4] (0: PLL1 off).
  PLLCFGR 0x2C (reset 0x01FF_0000): PLL1FRACEN b0, PLL1VCOSEL b1 (0 wide, 1 medium), PLL1RGE [3:2],
  DIVP1EN b16, DIVQ1EN b17, DIVR1EN b18. PLL1DIVR 0x30 (reset 0x0101_0280): DIVN1 [8:0] (N = DIVN1 + 1,
  4..512), DIVP1 [15:9] (P = DIVP1 + 1; odd P not allowed for PLL1), DIVQ1 [22:16], DIVR1 [30:24]. The PLL1
  configuration (PLLCKSELR.DIVM1/PLLSRC, PLLCFGR PLL1 bits, PLL1DIVR) "can be written only when the PLL is
  disabled": writes while PLL1ON is set are ignored and reported.
- PLL1 limits (DS12923 "PLL characteristics"): reference after DIVM1 1..16 MHz inside the PLL1RGE range
  (0: 1-2, 1: 2-4, 2: 4-8, 3: 8-16 MHz), wide VCO needs a reference >= 2 MHz and runs 192..836 MHz
  (960 MHz in VOS0), medium VCO 150..420 MHz with a 1-2 MHz reference.
- System limits per voltage scale (DS12923): VOS1 CPU 400 MHz, AXI/AHB 200 MHz, APB 100 MHz; VOS2 300 /
  150 / 75; VOS3 200 / 100 / 50 [U: VOS2/VOS3 values]. Flash wait states (RM0399 4.3.8 table, AXI clock):
  VOS1: 0 WS up to 70 MHz, 1 up to 140, 2 up to 210, 3 up to 225; VOS2: 55 / 110 / 165 / 225; VOS3: 45 / 90 /
  135 / 180 / 225 [U]; programming delay WRHIGHFREQ at least 1 above 70 (VOS1) and 2 above 185 MHz [U].
- Clock enables: AHB3ENR 0xD4 (QSPIEN b14), AHB4ENR 0xE0 (GPIOAEN..GPIOKEN b0..b10), APB1LENR 0xE8
  (USART2..5 b17..b20, UART7/8 b30/b31), APB2ENR 0xF0 (USART1 b4, USART6 b5); resets AHB3RSTR 0x7C,
  AHB4RSTR 0x88, APB1LRSTR 0x90, APB2RSTR 0x98 (the same bits).
- Kernel clocks at their reset selection: USART2/3/4/5/7/8 on PCLK1, USART1/6 on PCLK2 (D2CCIP2R = 0);
  QUADSPI on HCLK3 = the AXI clock (D1CCIPR.QSPISEL = 0). Writes to D1CCIPR/D2CCIP2R are reported.
"""

from __future__ import annotations

from typing import ClassVar

from .bus import Registers
from .rcc_common import READY_AFTER_READS, Oscillator, RccBase

SUPPLY_MASK = 0x3F
DIRECT_SMPS = 0x04
VOS_LIMITS = {  # D3CR.VOS -> (CPU, AXI/AHB, APB) maxima
    3: (400e6, 200e6, 100e6),
    2: (300e6, 150e6, 75e6),
    1: (200e6, 100e6, 50e6),
}
WAIT_STATES = {  # highest AXI clock per number of wait states
    3: (70e6, 140e6, 210e6, 225e6),
    2: (55e6, 110e6, 165e6, 225e6),
    1: (45e6, 90e6, 135e6, 180e6, 225e6),
}


class PwrH7(Registers):
    name = "PWR"
    layout: ClassVar[dict] = {
        0x00: ("CR1", 0xF000C000, 0x000FC3F1),
        0x04: ("CSR1", 0x00004000, 0x00000000),
        0x08: ("CR2", 0x00000000, 0x00000011),
        0x0C: ("CR3", 0x00000046, 0x0700033F),
        0x10: ("CPUCR", 0x00000000, 0x00000A05),
        0x18: ("D3CR", 0x00004000, 0x0000C000),
        0x20: ("WKUPCR", 0x00000000, 0x0000003F),
        0x24: ("WKUPFR", 0x00000000, 0x00000000),
        0x28: ("WKUPEPR", 0x00000000, 0x0FFF3F3F),
    }

    def __init__(self, board_supply: int = DIRECT_SMPS):
        self.board_supply = board_supply
        super().__init__(0x58024800, 0x400)
        self.power_on()

    def power_on(self) -> None:
        super().reset()
        self.supply_written = False
        self.supply_ok = False
        self.actvos_countdown: int | None = None
        self.vos = 1  # scale 3 (D3CR.VOS = 01) at reset
        self.vos_countdown: int | None = None

    def reset(self) -> None:
        """A system reset keeps the supply configuration (it is latched until the next power-on) and, here,
        the voltage scale (the D3 domain is not reset by a CPU system reset [U])."""
        if not hasattr(self, "supply_written"):  # construction: Registers.__init__ resets first
            super().reset()
            return
        cr3, supply_written, supply_ok = self.regs["CR3"], self.supply_written, self.supply_ok
        d3cr, vos = self.regs["D3CR"], self.vos
        super().reset()
        self.regs["CR3"], self.supply_written, self.supply_ok = cr3, supply_written, supply_ok
        self.regs["D3CR"], self.vos = d3cr, vos
        self.actvos_countdown = 0 if supply_ok else None
        self.vos_countdown = None

    def actvosrdy(self) -> bool:
        return self.supply_ok and self.actvos_countdown == 0

    def value(self, name: str) -> int:
        v = self.regs[name]
        if name == "CSR1":
            if self.actvos_countdown:
                self.actvos_countdown -= 1
            v &= ~((1 << 13) | (3 << 14))
            if self.actvosrdy():
                v |= 1 << 13
            return v | (self.vos << 14)
        if name == "D3CR":
            if self.vos_countdown:
                self.vos_countdown -= 1
            v &= ~(1 << 13)
            if self.vos_countdown == 0:
                v |= 1 << 13
            return v
        return v

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        if name == "CR3":
            if self.supply_written:
                if (written ^ old) & SUPPLY_MASK:
                    self.violation(
                        f"PWR_CR3 supply configuration rewritten ({old & SUPPLY_MASK:#x} -> "
                        f"{written & SUPPLY_MASK:#x}): it is written once after a power-on reset, this write is "
                        "ignored (RM0399 6.8.4)"
                    )
                self.regs["CR3"] = (new & ~SUPPLY_MASK) | (old & SUPPLY_MASK)
                return
            self.supply_written = True
            if new & SUPPLY_MASK != self.board_supply:
                self.violation(
                    f"PWR_CR3 supply configuration {new & SUPPLY_MASK:#x} does not match the board's "
                    f"({self.board_supply:#x}: direct SMPS): ACTVOSRDY never sets"
                )
                self.supply_ok = False
                self.actvos_countdown = None
            else:
                self.supply_ok = True
                self.actvos_countdown = READY_AFTER_READS
        elif name == "D3CR":
            if not self.actvosrdy():
                self.violation("PWR_D3CR.VOS changed before PWR_CSR1.ACTVOSRDY (RM0399 6.8.4): ignored")
                self.regs["D3CR"] = old
                return
            vos = new >> 14 & 3
            if vos == 0:
                self.violation("D3CR.VOS = 00 is reserved")
                self.regs["D3CR"] = old
                return
            if vos != self.vos:
                self.vos = vos
                self.vos_countdown = READY_AFTER_READS
                if self.machine is not None:
                    self.machine.rcc.check_tree("voltage scale change")
            elif self.vos_countdown is None:
                self.vos_countdown = 0


class RccH7(RccBase):
    sws_shift = 3
    pll_config = ("-", 0, "")  # the PLL1 fields span three registers: pll1_fields
    layout: ClassVar[dict] = {
        0x00: ("CR", 0x00000025, 0x3F0F02BB),
        0x04: ("HSICFGR", 0x40000000, 0x7F000000),
        0x08: ("CRRCR", 0x00000000, 0x00000000),
        0x0C: ("CSICFGR", 0x20000000, 0x3F000000),
        0x10: ("CFGR", 0x00000000, 0xFFFFFFC7),
        0x18: ("D1CFGR", 0x00000000, 0x00000F7F),
        0x1C: ("D2CFGR", 0x00000000, 0x00000770),
        0x20: ("D3CFGR", 0x00000000, 0x00000070),
        0x28: ("PLLCKSELR", 0x02020200, 0x03F3F3F3),
        0x2C: ("PLLCFGR", 0x01FF0000, 0x01FF0FFF),
        0x30: ("PLL1DIVR", 0x01010280, 0x7F7FFFFF),
        0x34: ("PLL1FRACR", 0x00000000, 0x0000FFF8),
        0x4C: ("D1CCIPR", 0x00000000, 0x31000033),
        0x50: ("D2CCIP1R", 0x00000000, 0xB13731C7),
        0x54: ("D2CCIP2R", 0x00000000, 0x70F0333F),
        0x58: ("D3CCIPR", 0x00000000, 0x7FFFE307),
        0x60: ("CIER", 0x00000000, 0x000003FF),
        0x68: ("CICR", 0x00000000, 0x000007FF),
        0x7C: ("AHB3RSTR", 0x00000000, 0x00015031),
        0x80: ("AHB1RSTR", 0x00000000, 0x0A008023),
        0x84: ("AHB2RSTR", 0x00000000, 0x00000271),
        0x88: ("AHB4RSTR", 0x00000000, 0x032807FF),
        0x8C: ("APB3RSTR", 0x00000000, 0x00000008),
        0x90: ("APB1LRSTR", 0x00000000, 0xE8FFC3FF),
        0x94: ("APB1HRSTR", 0x00000000, 0x03000136),
        0x98: ("APB2RSTR", 0x00000000, 0x31D73033),
        0x9C: ("APB4RSTR", 0x00000000, 0x04000000),
        0xD0: ("RSR", 0x00000000, 0x00010000),
        0xD4: ("AHB3ENR", 0x00000000, 0x00015031),
        0xD8: ("AHB1ENR", 0x00000000, 0x0E00C023),
        0xDC: ("AHB2ENR", 0x00000000, 0xE0000271),
        0xE0: ("AHB4ENR", 0x00000000, 0x132807FF),
        0xE4: ("APB3ENR", 0x00000000, 0x00000058),
        0xE8: ("APB1LENR", 0x00000000, 0xE8FFC3FF),
        0xEC: ("APB1HENR", 0x00000000, 0x03000136),
        0xF0: ("APB2ENR", 0x00000000, 0x31D73033),
        0xF4: ("APB4ENR", 0x00010000, 0x04010000),
    }
    gates: ClassVar[dict] = {
        **{f"GPIO{chr(65 + i)}": ("AHB4ENR", i) for i in range(11)},
        "QUADSPI": ("AHB3ENR", 14),
        "USART1": ("APB2ENR", 4),
        "USART2": ("APB1LENR", 17),
        "USART3": ("APB1LENR", 18),
        "UART4": ("APB1LENR", 19),
        "UART5": ("APB1LENR", 20),
        "USART6": ("APB2ENR", 5),
        "UART7": ("APB1LENR", 30),
        "UART8": ("APB1LENR", 31),
    }
    uart_bus: ClassVar[dict] = {"USART1": 2, "USART6": 2}  # the others: APB1
    #: (register, mask of the PLL1 fields) frozen while PLL1ON is set
    pll1_fields: ClassVar[dict] = {"PLLCKSELR": 0x000003F3, "PLLCFGR": 0x0007000F, "PLL1DIVR": 0x7F7FFFFF}

    def __init__(self, *, hse_hz=None, pwr=None, flash=None):
        oscillators = [
            Oscillator("HSI", 0, 2, 64e6, ready_at_reset=True),
            Oscillator("CSI", 7, 8, 4e6),
            Oscillator("HSE", 16, 17, hse_hz),
            Oscillator("PLL", 24, 25, None),
        ]
        super().__init__(0x58024400, oscillators, oscillators, hse_hz, pwr, flash)

    def reset(self) -> None:
        super().reset()
        self.sws = self.regs["CFGR"] & 7

    # -- register behaviour -------------------------------------------------------------------------------------
    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        mask = self.pll1_fields.get(name)
        if mask is not None and self.regs["CR"] >> 24 & 1 and (old ^ new) & mask:
            self.regs[name] = (new & ~mask) | (old & mask)
            self.violation(f"RCC_{name} PLL1 fields written while PLL1 is on: ignored (RM0399 7.7)")
            return
        if name == "CR" and new & (0x3F << 26) and not old & (0x3F << 26):
            self.violation("PLL2/PLL3 are not modelled")
        if name in ("D1CCIPR", "D2CCIP2R") and new != old:
            self.violation(f"RCC_{name} kernel clock selection is not modelled (reset selection assumed)")
        if name in ("D1CFGR", "D2CFGR", "D3CFGR"):
            self.check_tree(f"{name} write")
            return
        if name == "CFGR":
            self._switch()
            self.check_tree("CFGR write")
            return
        super().on_write(name, old, new, written)

    def _switch(self) -> None:
        sw = self.regs["CFGR"] & 7
        if sw > 3:
            return
        if sw != self.sws and self.sources[sw].ready():
            self.sws = sw
            self.check_tree("system clock switch")

    def value(self, name: str) -> int:
        v = self.regs[name]
        if name == "CR":
            for osc in self.oscillators:
                osc.read()
                v = (v & ~(1 << osc.rdy_bit)) | osc.bits()
            return v
        if name == "CFGR":
            self._switch()
            return (v & ~(7 << 3)) | (self.sws << 3)
        return v

    # -- clock tree -----------------------------------------------------------------------------------------------
    def pll_input_hz(self) -> float:
        sel = self.regs["PLLCKSELR"]
        src = {0: 64e6 / (1 << (self.regs["CR"] >> 3 & 3)), 1: 4e6, 2: float(self.hse_hz or 0), 3: 0.0}[sel & 3]
        m = sel >> 4 & 0x3F
        return src / m if m else 0.0

    def vco_hz(self) -> float:
        return self.pll_input_hz() * ((self.regs["PLL1DIVR"] & 0x1FF) + 1)

    def pll_p_hz(self) -> float:
        p = (self.regs["PLL1DIVR"] >> 9 & 0x7F) + 1
        return self.vco_hz() / p

    def _pll_valid(self, report: bool) -> bool:
        cfg, div = self.regs["PLLCFGR"], self.regs["PLL1DIVR"]
        problems = []
        ref, rge, medium = self.pll_input_hz(), cfg >> 2 & 3, bool(cfg >> 1 & 1)
        lo, hi = ((1e6, 2e6), (2e6, 4e6), (4e6, 8e6), (8e6, 16e6))[rge]
        if not lo * 0.99 <= ref <= hi * 1.01:
            problems.append(f"reference {ref / 1e6:.2f} MHz outside PLL1RGE {rge} ({lo / 1e6:.0f}-{hi / 1e6:.0f} MHz)")
        n = (div & 0x1FF) + 1
        if not 4 <= n <= 512:
            problems.append(f"DIVN1 + 1 = {n} out of 4..512")
        p = (div >> 9 & 0x7F) + 1
        if p != 1 and p % 2:
            problems.append(f"PLL1 P divider {p} is odd")
        vco = self.vco_hz()
        if medium:
            if not 150e6 <= vco <= 420e6 or ref > 2e6 * 1.01:
                problems.append(f"medium VCO {vco / 1e6:.0f} MHz (150..420, reference <= 2 MHz)")
        elif not 192e6 <= vco <= 836e6 or ref < 2e6 * 0.99:
            problems.append(f"wide VCO {vco / 1e6:.0f} MHz outside 192..836 MHz (or reference below 2 MHz)")
        if cfg & 1:
            problems.append("fractional PLL1 is not modelled")
        if not cfg >> 16 & 1:
            problems.append("DIVP1EN clear: no system clock output")
        if problems and report:
            self.violation("PLL1 enabled out of specification: " + "; ".join(problems) + " (it does not lock)")
        return not problems

    def sysclk_hz(self) -> float:
        hsi = 64e6 / (1 << (self.regs["CR"] >> 3 & 3))
        return (hsi, 4e6, float(self.hse_hz or 0), self.pll_p_hz())[self.sws] if self.sws < 4 else 0.0

    def cpu_hz(self) -> float:
        return self.sysclk_hz() / self.ahb_div(self.regs["D1CFGR"] >> 8 & 0xF)

    def axi_hz(self) -> float:
        return self.cpu_hz() / self.ahb_div(self.regs["D1CFGR"] & 0xF)

    def hclk_hz(self) -> float:
        """The machine's time base: the Cortex-M7 clock (SysTick counts it; one instruction per cycle)."""
        return self.cpu_hz()

    def qspi_kernel_hz(self) -> float:
        return self.axi_hz()  # HCLK3 (D1CCIPR.QSPISEL = 00)

    def pclk_hz(self, bus: int) -> float:
        d2, d1, d3 = self.regs["D2CFGR"], self.regs["D1CFGR"], self.regs["D3CFGR"]
        ppre = {1: d2 >> 4, 2: d2 >> 8, 3: d1 >> 4, 4: d3 >> 4}[bus] & 7
        return self.axi_hz() / self.apb_div(ppre)

    def uart_clock_hz(self, name: str) -> float:
        return self.pclk_hz(self.uart_bus.get(name, 1))

    def check_tree(self, when: str) -> None:
        vos = self.pwr.vos if self.pwr is not None else 1
        cpu_max, axi_max, apb_max = VOS_LIMITS[vos]
        scale = {3: "VOS1", 2: "VOS2", 1: "VOS3"}[vos]
        cpu, axi = self.cpu_hz(), self.axi_hz()
        if cpu > cpu_max + 1:
            self.violation(f"{when}: CPU clock {cpu / 1e6:.1f} MHz above {cpu_max / 1e6:.0f} MHz ({scale})")
        if axi > axi_max + 1:
            self.violation(f"{when}: AXI/AHB clock {axi / 1e6:.1f} MHz above {axi_max / 1e6:.0f} MHz ({scale})")
        for bus in (1, 2, 3, 4):
            if self.pclk_hz(bus) > apb_max + 1:
                self.violation(f"{when}: APB{bus} {self.pclk_hz(bus) / 1e6:.1f} MHz above {apb_max / 1e6:.0f} MHz")
        if self.flash is not None:
            acr = self.flash.acr
            self.check_latency(when, axi, WAIT_STATES[vos], acr & 0xF, f"RM0399 4.3.8, {scale}")
            needed = 0 if axi <= 70e6 + 1 else 1 if axi <= 185e6 + 1 else 2
            if vos == 3 and (acr >> 4 & 3) < needed:
                self.violation(
                    f"{when}: AXI clock {axi / 1e6:.1f} MHz needs FLASH_ACR.WRHIGHFREQ >= {needed}, it is "
                    f"{acr >> 4 & 3} (RM0399 4.3.8)"
                )
        self.publish()
