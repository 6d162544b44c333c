# SPDX-License-Identifier: Apache-2.0
"""Systems on chip: which models sit at which address for a board's part.

A board file names its part (`mcu`, e.g. "STM32L452RE"); `PARTS` maps the part's line to what differs
between parts of one family: the flash IP variant and its field widths, option-byte defaults, GPIO
ports, the SRAM that is one contiguous block at 0x2000_0000, bus limits. The addresses are those of the
reference manuals' memory maps (RM0394 2.2.2, RM0351 2.2.2, RM0432 2.2.2, RM0090 2.3, RM0367/RM0376 2.2.2;
RM0440, RM0444 and RM0453/RM0461 section 2 for the G4, G0 and WL).

A board file's `ram` must lie inside its part's contiguous SRAM (`Part.sram`): the harness maps only the
board's RAM, so a board claiming memory the part does not have there would pass here and crash on the
chip. On the STM32L47x, SRAM2 sits at 0x1000_0000 only (not after SRAM1); on the L41x/L45x/L49x and L4+
it is also aliased right after SRAM1.
"""

from __future__ import annotations

from dataclasses import dataclass

from .firewall import Firewall, Syscfg
from .flash_f4 import FlashF4
from .flash_g0g4wl import FlashG0, FlashG4, FlashWL
from .flash_h7 import FlashH7
from .flash_l0 import FlashL0, OptionBytesL0
from .flash_l4 import FlashL4
from .flash_l5 import OPTR_FACTORY as OPTR_L5
from .flash_l5 import FlashL5
from .flashcells import FlashCells
from .gpio import Gpio
from .icache import IcacheL5
from .pinmux import parse_pin, signal
from .rcc_f4 import PwrF4, RccF4, RccF7
from .rcc_g0g4wl import PwrWL, RccG0, RccG4, RccWL
from .rcc_h7 import PwrH7, RccH7
from .rcc_l0 import PwrL0, RccL0
from .rcc_l4 import PwrL4, RccL4
from .rcc_l5 import PwrL5, RccL5
from .usart import UsartV1, UsartV2


@dataclass(frozen=True)
class Part:
    family: str
    manual: str
    gpio_ports: str
    sram: int  # bytes of SRAM contiguous from 0x2000_0000 (the largest `ram.size` a board may give)
    plus: bool = False  # L4+ (RM0432)
    pnb_bits: int = 8
    optr: int = 0xFFEFF8AA  # option bytes as shipped (RDP level 0)
    bk_ecc_bit: int | None = None
    ecc_addr_bits: int = 19  # FLASH_ECCR.ADDR_ECC width: [18:0], [19:0] on the L4+
    vddio2: bool = False  # PG[15:2] supplied by VDDIO2: usable only with PWR_CR2.IOSV set
    sysclk_max: float = 0.0
    apb1_max: float = 0.0
    apb2_max: float = 0.0
    boot_alias: int = 0x00000000  # where the core fetches the reset vectors (the flash's boot alias)
    sram_base: int = 0x20000000  # where `sram` starts (STM32H7: the AXI SRAM at 0x2400_0000)


PARTS = {
    # L4: RM0394 (L41x/L42x/L43x/L44x/L45x/L46x) - single bank, ECCR without BK_ECC; SRAM2 aliased
    # after SRAM1 (L45x: 128 + 32 KiB; L41x: 32 + 8 KiB); no port G
    "STM32L452": Part("stm32l4", "RM0394", "ABCDEH", 0x28000, optr=0xFFEFF8AA),
    "STM32L412": Part("stm32l4", "RM0394", "ABCDH", 0xA000, pnb_bits=6, optr=0xFFEFF8AA),
    # L47x/L49x: RM0351 - dual bank (DUALBANK for 1 MB parts), PNB [10:3] per bank, BK_ECC bit 19; port G
    # on VDDIO2. L47x SRAM2 (32 KiB) only at 0x1000_0000: 96 KiB contiguous; L49x SRAM2 (64 KiB) also at
    # 0x2004_0000: 320 KiB contiguous
    "STM32L476": Part("stm32l4", "RM0351", "ABCDEFGH", 0x18000, optr=0xFFEFF8AA, bk_ecc_bit=19, vddio2=True),
    "STM32L496": Part("stm32l4", "RM0351", "ABCDEFGHI", 0x50000, optr=0xFFEFF8AA, bk_ecc_bit=19, vddio2=True),
    # L4+: RM0432 - DBANK = 1 (option bit 22) gives two banks of 4 KiB pages; BK_ECC bit 21, ADDR_ECC
    # [19:0]; SRAM1 + SRAM2 + SRAM3 = 640 KiB contiguous; port G on VDDIO2
    "STM32L4R9": Part(
        "stm32l4",
        "RM0432",
        "ABCDEFGHI",
        0xA0000,
        plus=True,
        optr=0xFFEFF8AA | (1 << 22),
        bk_ecc_bit=21,
        ecc_addr_bits=20,
        vddio2=True,
    ),
    "STM32L4S5": Part(
        "stm32l4",
        "RM0432",
        "ABCDEFGHI",
        0xA0000,
        plus=True,
        optr=0xFFEFF8AA | (1 << 22),
        bk_ecc_bit=21,
        ecc_addr_bits=20,
        vddio2=True,
    ),
    # F4: RM0090 F42x/F43x - 180 MHz with over-drive, APB1 45 MHz, APB2 90 MHz; SRAM1-3 192 KiB contiguous
    "STM32F429": Part("stm32f4", "RM0090", "ABCDEFGHIJK", 0x30000, sysclk_max=180e6, apb1_max=45e6, apb2_max=90e6),
    "STM32F407": Part("stm32f4", "RM0090", "ABCDEFGHI", 0x20000, sysclk_max=168e6, apb1_max=42e6, apb2_max=84e6),
    # F469/F479: RM0386 - the F42x flash, RCC and PWR (180 MHz with over-drive, APB1 45 MHz, APB2 90 MHz) plus
    # the QUADSPI; SRAM1 160 KiB + SRAM2 32 KiB + SRAM3 128 KiB contiguous (RM0386 2.3 memory map)
    "STM32F469": Part("stm32f4", "RM0386", "ABCDEFGHIJK", 0x50000, sysclk_max=180e6, apb1_max=45e6, apb2_max=90e6),
    # F76x/F77x: RM0410 - the F4's flash controller (single bank as shipped, nDBANK = 1), RCC and PWR with
    # 216 MHz (over-drive above 180 MHz), APB1 54 MHz, APB2 108 MHz, the QUADSPI; DTCM 128 KiB + SRAM1 368 KiB +
    # SRAM2 16 KiB contiguous from 0x2000_0000; boot from BOOT_ADD0 = 0x0080 (factory): the flash on the ITCM
    # interface at 0x0020_0000 (RM0410 2.4 "Boot configuration"), no alias at 0
    "STM32F769": Part(
        "stm32f7",
        "RM0410",
        "ABCDEFGHIJK",
        0x80000,
        sysclk_max=216e6,
        apb1_max=54e6,
        apb2_max=108e6,
        boot_alias=0x00200000,
    ),
    # H745/H755 Cortex-M7 side: RM0399 - H7 flash words (flash_h7.py), RCC/PWR (rcc_h7.py), the QUADSPI; the
    # board's RAM is the AXI SRAM (512 KiB at 0x2400_0000, D1 domain); the CM7 boots from BOOT_CM7_ADD0 = 0x0800
    # (factory): the flash at 0x0800_0000 itself, no alias at 0 (0 is the ITCM RAM, not modelled)
    "STM32H745": Part("stm32h7", "RM0399", "ABCDEFGHIJK", 0x80000, sram_base=0x24000000, boot_alias=0x08000000),
    # L0: RM0367 (L0x3), RM0376 (L0x2); 20 KiB SRAM
    "STM32L073": Part("stm32l0", "RM0367", "ABCDEH", 0x5000),
    "STM32L072": Part("stm32l0", "RM0376", "ABCDEH", 0x5000),
    # The L4's flash IP on other families (flash_g0g4wl.py). G4: RM0440 - G47x dual bank as shipped (OPTR
    # DBANK bit 22: 2 x 128 pages of 2 KiB), PNB [9:3], BK_ECC bit 21; SRAM1 80 KiB + SRAM2 16 KiB + CCM SRAM
    # 32 KiB aliased at 0x2001_8000: 128 KiB contiguous; ports A..G
    "STM32G474": Part("stm32g4", "RM0440", "ABCDEFG", 0x20000, pnb_bits=7, optr=0xFFEFF8AA | (1 << 22), bk_ecc_bit=21),
    # G0: RM0444 - G0B1 dual bank (bank 2 pages 256..383, BKER bit 13, ECC2R), PNB [12:3]; 144 KiB SRAM;
    # ports A..F on IOPORT; OPTR: RDP level 0 with DUAL_BANK (bit 21) set (the other user bits are **unconfirmed**
    # factory values; no port reads them)
    "STM32G0B1": Part("stm32g0", "RM0444", "ABCDEF", 0x24000, pnb_bits=10, optr=0xFFEFFEAA | (1 << 21)),
    # WL: RM0453 (WL5x), RM0461 (WLEx) - single bank of 128 pages, PNB [9:3], ADDR_ECC [16:0]; SRAM1 + SRAM2
    # 64 KiB contiguous; ports A, B, C, H
    "STM32WL55": Part("stm32wl", "RM0453", "ABCH", 0x10000, pnb_bits=7, ecc_addr_bits=17),
    "STM32WLE5": Part("stm32wl", "RM0461", "ABCH", 0x10000, pnb_bits=7, ecc_addr_bits=17),
    # L5 with TrustZone disabled: RM0438 - FLASH with non-secure registers, DBANK = 1 as shipped (two banks of
    # 128 pages of 2 KiB), NSPNB [9:3], BK_ECC bit 21; SRAM1 192 KiB + SRAM2 64 KiB contiguous; port G on
    # VDDIO2; peripherals at their non-secure aliases (RM0438 2.3)
    "STM32L562": Part("stm32l5", "RM0438", "ABCDEFGH", 0x40000, pnb_bits=7, optr=OPTR_L5, bk_ecc_bit=21, vddio2=True),
    "STM32L552": Part("stm32l5", "RM0438", "ABCDEFGH", 0x40000, pnb_bits=7, optr=OPTR_L5, bk_ecc_bit=21, vddio2=True),
}

UART_BASES = {
    "stm32l4": {
        "USART1": 0x40013800,
        "USART2": 0x40004400,
        "USART3": 0x40004800,
        "UART4": 0x40004C00,
        "UART5": 0x40005000,
        "LPUART1": 0x40008000,
    },
    "stm32f4": {
        "USART1": 0x40011000,
        "USART6": 0x40011400,
        "USART2": 0x40004400,
        "USART3": 0x40004800,
        "UART4": 0x40004C00,
        "UART5": 0x40005000,
        "UART7": 0x40007800,
        "UART8": 0x40007C00,
    },
    "stm32l0": {
        "USART1": 0x40013800,
        "USART2": 0x40004400,
        "LPUART1": 0x40004800,
        "USART4": 0x40004C00,
        "USART5": 0x40005000,
    },
}
UART_BASES["stm32f7"] = UART_BASES["stm32f4"]  # RM0410 memory map: the F4's instances at the F4's addresses
UART_BASES["stm32h7"] = UART_BASES["stm32f4"]  # RM0399 memory map: the same instances at the same addresses
UART_BASES["stm32l5"] = UART_BASES["stm32l4"]  # the same instances at the same non-secure addresses (RM0438 2.3)
UART_BASES["stm32g4"] = UART_BASES["stm32l4"]  # RM0440 memory map: the L4's addresses
UART_BASES["stm32wl"] = {"USART1": 0x40013800, "USART2": 0x40004400, "LPUART1": 0x40008000}  # RM0453 2.2
UART_BASES["stm32g0"] = {  # RM0444 2.2
    "USART1": 0x40013800,
    "USART2": 0x40004400,
    "USART3": 0x40004800,
    "USART4": 0x40004C00,
    "USART5": 0x40005000,
    "USART6": 0x40013C00,
    "LPUART1": 0x40008000,
    "LPUART2": 0x40008400,
}
#: families whose GPIO ports have the reset values of another's (gpio.RESET): G4/WL ports A/B start with the
#: L4's debug-pin modes (RM0440 / RM0453 GPIO_MODER reset values), the G0's with the L0's (RM0444)
GPIO_RESETS_OF = {"stm32g4": "stm32l4", "stm32wl": "stm32l4", "stm32g0": "stm32l0", "stm32f7": "stm32f4"}
GPIO_BASE = {"stm32l4": 0x48000000, "stm32f4": 0x40020000, "stm32l0": 0x50000000, "stm32l5": 0x42020000}
GPIO_BASE.update({"stm32g4": 0x48000000, "stm32wl": 0x48000000, "stm32g0": 0x50000000})  # G0: IOPORT
GPIO_BASE["stm32f7"] = 0x40020000  # RM0410: AHB1, the F4's addresses
GPIO_BASE["stm32h7"] = 0x58020000  # RM0399: AHB4 (D3 domain)
CPU = {"stm32l4": "cortex-m4", "stm32f4": "cortex-m4", "stm32l0": "cortex-m0plus", "stm32l5": "cortex-m33"}
CPU.update({"stm32g4": "cortex-m4", "stm32wl": "cortex-m4", "stm32g0": "cortex-m0plus", "stm32f7": "cortex-m7"})
CPU["stm32h7"] = "cortex-m7"  # the H745's Cortex-M7 (the Cortex-M4 is not modelled)


def part_of(board) -> Part:
    mcu = getattr(board, "mcu", None)
    if not mcu:
        raise ValueError(f"{board.name}: the board file names no `mcu`: the harness cannot pick the part")
    for prefix, part in PARTS.items():
        if mcu.upper().startswith(prefix):
            if part.family != board.family:
                raise ValueError(f"{board.name}: mcu {mcu} is not a {board.family} part")
            return part
    raise ValueError(f"{board.name}: no silicon model for {mcu} (known: {', '.join(PARTS)})")


def check_ram(board, part: Part) -> None:
    """The board's RAM must be memory the part has, in one block from 0x2000_0000 (the part's sram_base)."""
    base, end = board.ram.base, board.ram.base + board.ram.size
    if base != part.sram_base or end > part.sram_base + part.sram:
        raise ValueError(
            f"{board.name}: ram [{base:#010x}, {end:#010x}) is not inside the {board.mcu}'s contiguous SRAM "
            f"[{part.sram_base:#010x}, {part.sram_base + part.sram:#010x}) ({part.manual} memory map)"
        )


def io_supply(part: Part, pwr, pin_name: str):
    """A callable giving why `pin_name` cannot drive its signal now (None when it can): on parts with
    VDDIO2, PG2..PG15 are isolated until PWR_CR2.IOSV is set (RM0351 / RM0432 "Independent I/O supply
    rail"; ST's HAL: HAL_PWREx_EnableVddIO2). None for pins always supplied."""
    port, pin = parse_pin(pin_name)
    if not (part.vddio2 and chr(65 + port) == "G" and pin >= 2):
        return None
    return lambda: None if pwr.regs["CR2"] >> 9 & 1 else f"{pin_name} is supplied by VDDIO2 and PWR_CR2.IOSV is clear"


@dataclass
class Soc:
    part: Part
    cpu: str
    cells: FlashCells
    flash: object
    rcc: object
    pwr: object
    gpios: dict
    uart: object
    peripherals: list
    ram: tuple  # (base, size)
    externals: list  # external-memory models (e.g. OCTOSPI + NOR), each with map(machine)


def build(board) -> Soc:
    part = part_of(board)
    check_ram(board, part)
    family = part.family
    f = board.flash
    sectors = [(s.start, s.size) for s in f.sectors]
    ecc = {"stm32l4": "detect", "stm32l0": "correct-only", "stm32f4": None, "stm32l5": "detect", "stm32f7": None}.get(
        family, "detect"
    )
    cells = FlashCells(f.base, f.size, f.write_size, f.erased_value, sectors, ecc)
    hse = board.clock.hse_hz
    extra: list = []  # blocks only some families have (the L5's ICACHE)

    if family == "stm32l4":
        flash = FlashL4(
            cells,
            bank2_base=f.bank2_base,
            pnb_bits=part.pnb_bits,
            optr=part.optr,
            bk_ecc_bit=part.bk_ecc_bit,
            ecc_addr_bits=part.ecc_addr_bits,
        )
        pwr = PwrL4(part.plus)
        rcc = RccL4(plus=part.plus, hse_hz=hse, pwr=pwr, flash=flash)
        firewall = Firewall(vds_mask=0x0003FFC0 if part.plus else 0x0001FFC0)
        extra += [firewall, Syscfg(firewall, 0x7C000001)]
    elif family == "stm32f4":
        flash = FlashF4(cells, bank2_base=f.bank2_base)
        pwr = PwrF4(0x40007000, 0x400)
        rcc = RccF4(
            hse_hz=hse, sysclk_max=part.sysclk_max, apb1_max=part.apb1_max, apb2_max=part.apb2_max, pwr=pwr, flash=flash
        )
    elif family == "stm32h7":
        flash = FlashH7(cells)
        pwr = PwrH7()
        rcc = RccH7(hse_hz=hse, pwr=pwr, flash=flash)
    elif family == "stm32f7":
        flash = FlashF4(cells, bank2_base=f.bank2_base, variant="f7")
        pwr = PwrF4(0x40007000, 0x400)
        rcc = RccF7(
            hse_hz=hse, sysclk_max=part.sysclk_max, apb1_max=part.apb1_max, apb2_max=part.apb2_max, pwr=pwr, flash=flash
        )
    elif family == "stm32l0":
        flash = FlashL0(cells)
        extra.append(OptionBytesL0(flash))  # the option-byte words at 0x1FF8_0000 (RM0367 3.4)
        pwr = PwrL0()
        rcc = RccL0(hse_hz=hse, pwr=pwr, flash=flash)
        firewall = Firewall(vds_mask=0x0000FFC0)
        extra += [firewall, Syscfg(firewall, 0x00000001)]
    elif family == "stm32l5":
        extra.append(IcacheL5())
        flash = FlashL5(cells, optr=part.optr, icache=extra[-1])
        pwr = PwrL5()
        rcc = RccL5(hse_hz=hse, pwr=pwr, flash=flash)
    elif family in ("stm32g4", "stm32g0", "stm32wl"):
        flash_cls = {"stm32g4": FlashG4, "stm32g0": FlashG0, "stm32wl": FlashWL}[family]
        flash = flash_cls(
            cells,
            bank2_base=f.bank2_base,
            pnb_bits=part.pnb_bits,
            optr=part.optr,
            bk_ecc_bit=part.bk_ecc_bit,
            ecc_addr_bits=part.ecc_addr_bits,
        )
        pwr = PwrWL() if family == "stm32wl" else PwrL4(family == "stm32g4")  # G4: PWR_CR5 (R1MODE)
        rcc = {"stm32g4": RccG4, "stm32g0": RccG0, "stm32wl": RccWL}[family](hse_hz=hse, pwr=pwr, flash=flash)
    else:
        raise ValueError(f"no silicon model for family {family}")
    pwr.clock_enabled = rcc.gate("PWR") if "PWR" in rcc.gates else None  # the WL's PWR has no enable bit
    if "PWR" in rcc.gates:
        rcc.reset_targets["PWR"] = pwr

    gpios = {}
    for letter in part.gpio_ports:
        index = ord(letter) - 65
        gpio_family = "stm32l4" if family == "stm32l5" else GPIO_RESETS_OF.get(family, family)
        gpio = Gpio(gpio_family, index, GPIO_BASE[family] + 0x400 * index)
        gpio.clock_enabled = rcc.gate(f"GPIO{letter}")
        rcc.reset_targets[f"GPIO{letter}"] = gpio
        gpios[letter] = gpio

    u = board.uart
    uart_cls = UsartV1 if family == "stm32f4" else UsartV2
    uart = uart_cls(UART_BASES[family][u.instance], u.instance, u.kind)
    uart.clock_enabled = rcc.gate(u.instance)
    rcc.reset_targets[u.instance] = uart
    uart.board_baud = u.baud
    for direction, pin_name, af in (("TX", u.tx_pin, u.tx_af), ("RX", u.rx_pin, u.rx_af)):
        wanted = f"{u.instance}_{direction}"
        if signal(family, pin_name, af) != wanted:
            raise ValueError(
                f"{board.name}: uart.{direction.lower()} = {pin_name} AF{af} is not {wanted} in the "
                f"{board.mcu} datasheet table (harness/pinmux.py)"
            )
        port, pin = parse_pin(pin_name)
        setattr(uart, f"{direction.lower()}_pin", (gpios[chr(65 + port)], pin, af))
        if direction == "TX":
            uart.tx_supply = io_supply(part, pwr, pin_name)

    peripherals = [flash, rcc, pwr, uart, *gpios.values(), *extra]
    externals = []
    ext = board.external_flash
    if ext is not None and ext.kind == "ospi" and ext.chip == "MX25LM51245G" and family == "stm32l4" and part.plus:
        if not ext.has_driver:
            raise ValueError(
                f"{board.name}: external_flash names no instance/port/pins: the harness cannot wire the chip"
            )
        from .octospi import OspiFlash

        externals.append(OspiFlash(board, rcc, pwr, gpios, family))
    # chip -> the part whose board wires it
    qspi_parts = {"N25Q128A": "STM32F469", "MX25L51245G": "STM32F769", "MT25TL01G": "STM32H745"}
    if ext is not None and ext.kind == "qspi" and board.mcu.upper().startswith(qspi_parts.get(ext.chip, "-")):
        if not ext.has_driver:
            raise ValueError(f"{board.name}: external_flash names no instance/pins: the harness cannot wire the chip")
        from .quadspi import QspiFlash

        externals.append(QspiFlash(board, rcc, gpios, family))
    return Soc(
        part, CPU[family], cells, flash, rcc, pwr, gpios, uart, peripherals, (board.ram.base, board.ram.size), externals
    )
