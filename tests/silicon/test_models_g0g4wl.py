# SPDX-License-Identifier: Apache-2.0
"""The refusals of the G0/G4/WL variants of the L4 flash IP and of their RCC models (harness/
flash_g0g4wl.py, rcc_g0g4wl.py), with small guest programs as in test_models.py."""

from __future__ import annotations

from spb.board import load_board
from support.scons_project import REPO

from .harness.cortexm import NMI
from .harness.machine import Machine
from .test_models import assemble, in_hardfault, reg


def run(board_name: str, body: str, cycles: int = 100_000, poison: tuple = ()) -> Machine:
    board = load_board(REPO / "boards" / f"{board_name}.toml")
    m = Machine(board)
    m.load(board.flash.base, assemble(body + "\n    b .\n", board.cpu))
    m.soc.cells.poisoned.update(poison)
    m.power_on()
    m.run(max_cycles=cycles, stop_at_app=False)
    return m


def unlock(base: int) -> str:
    return f"""
    ldr r0, ={base:#x}
    ldr r1, =0x45670123
    str r1, [r0, #8]
    ldr r1, =0xCDEF89AB
    str r1, [r0, #8]
"""


WAIT_BUSY = """
1:  ldr r4, [r0, #0x10]
    ldr r5, =0x70000          @ BSY1, BSY2, CFGBSY
    tst r4, r5
    bne 1b
"""


def program_dw(address: int) -> str:
    return f"""
    movs r1, #1
    str r1, [r0, #0x14]       @ CR.PG
    ldr r2, ={address:#x}
    ldr r3, =0x11111111
    str r3, [r2]
    ldr r3, =0x22222222
    str r3, [r2, #4]
{WAIT_BUSY}
    movs r1, #0
    str r1, [r0, #0x14]
"""


def test_g0_bank2_pages_are_256_up_with_bker_at_bit_13():
    """RM0444: bank 2 of the G0B1 is erased by PNB 256.. with BKER (bit 13). The L4's encoding (BKER at bit
    11, bank-relative page 0) is page 256 of bank 1 on the G0: it does not exist and is reported, nothing is
    erased; the G0's encoding erases the page."""
    bank2 = 0x08040000
    l4_style = (1 << 11) | 2  # BKER of the L4 + PER, PNB 0
    g0_style = (1 << 13) | (256 << 3) | 2
    m = run(
        "NUCLEO-G0B1RE",
        unlock(0x40022000)
        + program_dw(bank2)
        + f"""
    ldr r1, ={l4_style:#x}
    str r1, [r0, #0x14]
    ldr r1, ={l4_style | (1 << 16):#x}
    str r1, [r0, #0x14]       @ STRT
{WAIT_BUSY}
    ldr r6, [r2]              @ still programmed
    ldr r1, ={g0_style:#x}
    str r1, [r0, #0x14]
    ldr r1, ={g0_style | (1 << 16):#x}
    str r1, [r0, #0x14]
{WAIT_BUSY}
    ldr r7, [r2]
""",
    )
    assert reg(m, 6) == 0x11111111
    assert reg(m, 7) == 0xFFFFFFFF
    assert any("page 256 of bank 1 does not exist" in v for v in m.violations), m.violations


def test_g0_ecc_error_in_bank_2_is_reported_in_ecc2r():
    """A torn double word in bank 2: ECCD in FLASH_ECC2R (0x1C), not in ECCR, and the NMI."""
    m = run(
        "NUCLEO-G0B1RE",
        """
    movs r0, #0
    mov r11, r0
    ldr r0, =0x08040010
    ldr r1, [r0]
    ldr r4, =0x40022018
    ldr r5, [r4]              @ ECCR
    ldr r6, [r4, #4]          @ ECC2R
""",
        poison=(0x08040010,),
    )
    assert reg(m, 11) == 1 and NMI not in m.core.active
    assert reg(m, 5) >> 31 == 0
    assert reg(m, 6) >> 31 == 1 and reg(m, 6) & 0x7FFF == 2  # double word 2 of bank 2


def test_wl_flash_registers_are_on_ahb3_and_show_cfgbsy():
    """The WL's FLASH registers are at 0x5800_4000 (RM0453); FLASH_SR.CFGBSY is set between the two words of
    a double word. The L4 address 0x4002_2000 is nothing on the WL: a bus fault."""
    m = run(
        "NUCLEO-WL55JC",
        unlock(0x58004000)
        + """
    movs r1, #1
    str r1, [r0, #0x14]       @ CR.PG
    ldr r2, =0x08030000
    ldr r3, =0x11111111
    str r3, [r2]
    ldr r6, [r0, #0x10]       @ SR between the words
    ldr r3, =0x22222222
    str r3, [r2, #4]
"""
        + WAIT_BUSY
        + """
    ldr r7, [r2, #4]
    ldr r0, =0x40022010
    ldr r1, [r0]              @ no FLASH here on the WL
""",
    )
    assert reg(m, 6) >> 18 & 1, f"SR {reg(m, 6):#x}"
    assert reg(m, 7) == 0x22222222
    assert in_hardfault(m), m.events[-5:]


def test_wl_changing_the_configuration_while_cfgbsy_is_reported():
    m = run(
        "LORA-E5-DEV",
        unlock(0x58004000)
        + """
    movs r1, #1
    str r1, [r0, #0x14]
    ldr r2, =0x08030000
    ldr r3, =0x11111111
    str r3, [r2]
    movs r1, #0
    str r1, [r0, #0x14]       @ PG cleared after one word
""",
    )
    assert any("CFGBSY" in v for v in m.violations), m.violations


def test_g4_170_mhz_needs_boost_and_the_ahb_step():
    """RM0440: above 150 MHz range 1 boost (PWR_CR5.R1MODE = 0) is required, and the switch above 80 MHz goes
    through AHB /2. A guest that switches HSI16 -> PLL 170 MHz with neither is reported twice."""
    m = run(
        "NUCLEO-G474RE",
        """
    ldr r0, =0x40022000
    movs r1, #4
    str r1, [r0]              @ FLASH_ACR.LATENCY = 4
    ldr r0, =0x40021000
    ldr r1, =0x01005532       @ PLLREN, N = 85, M = /4, HSI16
    str r1, [r0, #0x0C]
    ldr r1, [r0]
    movs r2, #1
    lsls r2, r2, #24
    orrs r1, r1, r2
    str r1, [r0]              @ PLLON
1:  ldr r1, [r0]
    lsls r1, r1, #6           @ PLLRDY (bit 25) -> sign
    bpl 1b
    movs r1, #3
    str r1, [r0, #8]          @ SW = PLL, HPRE /1
    ldr r1, [r0, #8]
""",
        cycles=200_000,
    )
    text = "\n".join(m.violations)
    assert "without range 1 boost" in text and "HPRE = /2" in text, text
