# SPDX-License-Identifier: Apache-2.0
"""The STM32L5 models' refusals (flash_l5.py, rcc_l5.py) with small guest programs, and the bootloader's
own refusal of option bytes its board layout does not fit (DBANK, TZEN)."""

from __future__ import annotations

import pytest

from spb.board import load_board
from support.scons_project import REPO

from .harness.flash_l5 import OPTR_DBANK, OPTR_FACTORY, OPTR_TZEN
from .harness.machine import Machine
from .support import firmware, tail
from .test_models import assemble, in_hardfault, reg, run

BOARD = "DISCO-L562E"
UNLOCK_L5 = """
    ldr r0, =0x40022000
    ldr r1, =0x45670123
    str r1, [r0, #8]         @ FLASH_NSKEYR
    ldr r1, =0xCDEF89AB
    str r1, [r0, #8]
"""
WAIT_L5 = """
1:  ldr r4, [r0, #0x20]      @ FLASH_NSSR
    lsls r4, r4, #15         @ NSBSY (bit 16) -> sign
    bmi 1b
"""


def test_l5_programs_and_erases_through_the_non_secure_registers():
    """NSPG programs a double word; a second program of it is refused with NSPROGERR; NSPER + NSPNB +
    NSBKER erases page 1 of bank 2 (0x08040800 with DBANK = 1), not page 1 of bank 1."""
    m = run(
        BOARD,
        UNLOCK_L5
        + """
    ldr r2, =0x08040800
    movs r1, #1
    str r1, [r0, #0x28]      @ NSCR.NSPG
    ldr r3, =0x11111111
    str r3, [r2]
    ldr r3, =0x22222222
    str r3, [r2, #4]
"""
        + WAIT_L5
        + """
    ldr r3, =0x33333333
    str r3, [r2]
    str r3, [r2, #4]
    ldr r5, [r0, #0x20]      @ NSSR after the second attempt
    movs r1, #0xFF
    str r1, [r0, #0x20]      @ clear the flags (write 1)
    ldr r6, [r0, #0x20]
    ldr r1, =0x0000080A      @ NSPER | NSPNB = 1 | NSBKER
    str r1, [r0, #0x28]
    ldr r1, =0x0001080A      @ + NSSTRT
    str r1, [r0, #0x28]
"""
        + WAIT_L5,
    )
    assert reg(m, 5) & (1 << 3)  # NSPROGERR: the double word is not erased
    assert reg(m, 6) == 0
    assert m.read(0x08040800, 8) == b"\xff" * 8  # bank 2, page 1 erased again
    assert [op[:3] for op in m.power.trace] == [("program", 0x08040800, 8), ("erase", 0x08040800, 0x800)]
    assert not m.violations


def test_l5_refuses_byte_stores_wrong_keys_and_the_l4_register_map():
    """A byte store while NSPG is set: NSSIZERR, nothing written. FLASH_ECCR at the L4's offset 0x18 is
    reserved on the L5 (a violation: an L4 register map is caught). A wrong key: bus fault, NSCR locked
    until reset."""
    m = run(
        BOARD,
        UNLOCK_L5
        + """
    movs r1, #1
    str r1, [r0, #0x28]
    ldr r2, =0x08040000
    movs r3, #0
    strb r3, [r2]
    ldr r5, [r0, #0x20]
    ldr r6, [r0, #0x18]      @ the L4's FLASH_ECCR offset: reserved here
    ldr r1, =0x11111111      @ a wrong key
    str r1, [r0, #8]
    nop
    nop
""",
    )
    assert reg(m, 5) & (1 << 6)  # NSSIZERR
    assert m.read(0x08040000, 8) == b"\xff" * 8
    assert in_hardfault(m), m.events[-5:]
    assert m.soc.flash.cr & (1 << 31)
    assert any("undefined" in v and "0x018" in v for v in m.violations), m.violations


def test_l5_double_ecc_error_in_bank_2_sets_eccr_and_raises_the_nmi():
    board = load_board(REPO / "boards" / f"{BOARD}.toml")
    m = Machine(board)
    m.load(
        board.flash.base,
        assemble("""
    movs r0, #0
    mov r11, r0
    ldr r0, =0x08041008
    ldr r1, [r0]
    movs r3, #7
    ldr r4, =0x40022030
    ldr r5, [r4]            @ FLASH_ECCR
    b .
"""),
    )
    m.soc.cells.poisoned.add(0x08041008)
    m.power_on()
    m.run(max_cycles=50_000, stop_at_app=False)
    assert reg(m, 11) == 1 and reg(m, 3) == 7
    eccr = reg(m, 5)
    assert eccr >> 31 & 1 and eccr >> 21 & 1  # ECCD, BK_ECC = bank 2
    assert eccr & 0x7FFFF == 0x1008  # ADDR_ECC: offset inside bank 2


ERASE_BANK2_PAGE1 = (
    UNLOCK_L5
    + """
    ldr r1, =0x0000080A      @ NSPER | NSPNB = 1 | NSBKER
    str r1, [r0, #0x28]
    ldr r1, =0x0001080A      @ + NSSTRT
    str r1, [r0, #0x28]
"""
    + WAIT_L5
)
ICACHE_ON = """
    ldr r7, =0x40030400
    ldr r1, [r7]
    movs r2, #1
    orrs r1, r2
    str r1, [r7]             @ ICACHE_CR.EN
"""
ICACHE_OFF = """
    ldr r1, [r7]
    movs r2, #1
    bics r1, r2
    str r1, [r7]
"""
ICACHE_INVALIDATE = """
    ldr r1, [r7]
    movs r2, #2
    orrs r1, r2
    str r1, [r7]             @ CACHEINV
2:  ldr r1, [r7, #4]
    lsls r1, r1, #31         @ BUSYF -> sign
    bmi 2b
"""


@pytest.mark.parametrize(
    ("sequence", "stale"),
    [
        (ICACHE_ON + ERASE_BANK2_PAGE1, "with the ICACHE enabled"),
        (ICACHE_ON + ICACHE_OFF + ERASE_BANK2_PAGE1 + ICACHE_ON, "without an invalidation"),
        (ICACHE_ON + ICACHE_OFF + ERASE_BANK2_PAGE1 + ICACHE_INVALIDATE + ICACHE_ON, None),
    ],
    ids=["erase-with-cache-on", "re-enabled-stale", "disabled-invalidated"],
)
def test_l5_icache_must_be_off_and_invalidated_around_flash_operations(sequence, stale):
    """The ICACHE does not see erases and programs: an operation with it on, or enabling it again without
    CACHEINV after one, would let the CPU read the old content (a violation); off, then invalidated, is
    right."""
    m = run(BOARD, sequence)
    hits = [v for v in m.violations if "ICACHE" in v]
    if stale is None:
        assert not m.violations, m.violations
    else:
        assert hits and stale in hits[0], m.violations
    assert m.read(0x08040800, 8) == b"\xff" * 8


def test_l5_range_2_refuses_a_faster_clock():
    """VOS stays at its reset value (range 2, 26 MHz): switching to a 32 MHz PLL is out of specification."""
    m = run(
        BOARD,
        """
    ldr r0, =0x40021000
    ldr r1, =0x01001001      @ PLLCFGR: MSI, M = 1, N = 16, PLLREN, R = /2 -> 32 MHz
    str r1, [r0, #0x0C]
    ldr r1, [r0]
    movs r2, #1
    lsls r2, r2, #24
    orrs r1, r2
    str r1, [r0]            @ PLLON
1:  ldr r1, [r0]
    lsls r1, r1, #6         @ PLLRDY (bit 25) -> sign
    bpl 1b
    ldr r3, =0x40022000
    movs r1, #2
    str r1, [r3]            @ FLASH_ACR.LATENCY = 2
    movs r1, #3
    str r1, [r0, #8]        @ SW = PLL
    ldr r1, [r0, #8]
""",
    )
    assert any("voltage range 2" in v for v in m.violations), m.violations


@pytest.mark.parametrize(
    ("optr", "why"),
    [
        (OPTR_FACTORY & ~OPTR_DBANK, "DBANK is incorrect 7faff8aa"),
        (OPTR_FACTORY | OPTR_TZEN, "TZEN is set ffeff8aa"),
    ],
)
def test_l5_bootloader_refuses_option_bytes_its_layout_does_not_fit(optr, why):
    """DBANK = 0 (4 KiB pages: every page number the board's layout gives names another page) or TZEN = 1:
    the bootloader logs why and stays in the loader; it neither writes the flash nor starts the app."""
    fw = firmware(BOARD)
    m = Machine(fw.board)
    m.load_hex(fw.combined())
    m.soc.flash.optr_reset = optr
    m.power_on()
    m.power.arm(None)
    r = m.run(until="staying in the bootloader", max_cycles=200_000_000)
    assert r.reason == "console", tail(m)
    assert f"System Security Configuration failed: {why}" in m.console_text()
    r = m.run(max_cycles=100_000_000)
    assert r.reason == "timeout" and r.resets == 0 and m.app_entry is None
    assert m.power.ops == 0
    assert not m.violations
