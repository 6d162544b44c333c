# SPDX-License-Identifier: Apache-2.0
"""The STM32F7 models alone (DISCO-F769I): the F7 variant of the F4 flash controller (single-bank sectors,
ERSERR, ARTRST, nDBANK), RCC/PWR at 216 MHz (over-drive, seven wait states), the Cortex-M7 data-cache
stale-line check, and the MX25L51245G on the QUADSPI (4-byte addressing, QE, QPI, erase units, WIP, page
wrap, power cuts, its state across an MCU reset). Guest programs are assembled as in test_models.py;
the QUADSPI is driven from Python as in test_models_qspi.py. No firmware is built."""

from __future__ import annotations

import random
import struct

import pytest
from unicorn import UcError

from spb.board import load_board
from support.scons_project import REPO

from .harness import power as powermod
from .harness.flash_f4 import OPTCR_F7, OPTCR_NDBANK
from .harness.machine import Machine
from .harness.nor_mx25l import CR_4BYTE, QPI, SPI
from .test_models import assemble, in_hardfault, reg, run
from .test_models_qspi import A1_24, D1, D4, I1, I4, MM, READ, SR_BUSY, WRITE, cpu_load, frame, mm_off, violations

pytestmark = pytest.mark.silicon

NAME = "DISCO-F769I"
BOARD = load_board(REPO / "boards" / f"{NAME}.toml")
BASE = 0x90000000
A1_32 = (1 << 10) | (3 << 12)
A4_32 = (3 << 10) | (3 << 12)
JEDEC = bytes((0xC2, 0x20, 0x1A))

UNLOCK = """
    ldr r0, =0x40023C00
    ldr r1, =0x45670123
    str r1, [r0, #4]
    ldr r1, =0xCDEF89AB
    str r1, [r0, #4]
"""
WAIT_BSY = """
1:  ldr r5, [r0, #0x0C]
    lsls r6, r5, #15
    bmi 1b
"""


# -- the flash controller --------------------------------------------------------------------------------------


def test_f7_single_bank_sectors_erase_and_snb_12_is_no_sector():
    """SNB 5 erases the 256 KiB sector at 0x0804_0000; SNB 12 names nothing in single-bank mode."""
    board = BOARD
    m = Machine(board)
    m.load(
        board.flash.base,
        assemble(
            UNLOCK
            + """
    ldr r1, =0x1022A         @ SER, SNB = 5, PSIZE x32, STRT
    str r1, [r0, #0x10]
"""
            + WAIT_BSY
            + """
    ldr r1, =0x10262         @ SER, SNB = 12, STRT
    str r1, [r0, #0x10]
    b .
"""
        ),
    )
    m.load(0x08040000, b"\x00" * 0x40000)
    m.load(0x08080000, b"\x00" * 16)
    m.power_on()
    m.run(max_cycles=80_000_000, stop_at_app=False)
    assert m.read(0x08040000, 0x40000) == b"\xff" * 0x40000 and m.read(0x08080000, 16) == bytes(16)
    assert violations(m, "SNB = 0xc: no such sector"), m.violations


def test_f7_store_without_pg_is_erserr_and_artrst_needs_art_off():
    m = run(
        NAME,
        UNLOCK
        + """
    ldr r2, =0x08080000
    movs r3, #0
    str r3, [r2]             @ no PG: erase sequence error (bit 7, ERSERR on the F7)
    ldr r7, [r0, #0x0C]
    ldr r1, =0x200           @ ARTEN
    str r1, [r0]
    ldr r1, =0xA00           @ ARTRST with ARTEN still set
    str r1, [r0]
    ldr r4, [r0]
""",
    )
    assert reg(m, 7) & (1 << 7) and m.read(0x08080000, 4) == b"\xff" * 4
    assert reg(m, 4) == 0x200 and violations(m, "ARTRST written while ARTEN is set")


def test_f7_option_bytes_and_a_dual_bank_device():
    """Factory OPTCR 0xFFFF_AAFD (nDBANK = 1), OPTCR1 BOOT_ADD0 0x0080 (0x0020_0000); with nDBANK = 0 the
    board's single-bank sector map is not the chip's: operations are reported and not done."""
    m = run(NAME, "    ldr r0, =0x40023C00\n    ldr r4, [r0, #0x14]\n    ldr r5, [r0, #0x18]\n")
    assert (reg(m, 4), reg(m, 5)) == (OPTCR_F7, 0x00400080) and m.violations == []
    board = BOARD
    m = Machine(board)
    m.load(board.flash.base, assemble(UNLOCK + "    ldr r1, =0x1022A\n    str r1, [r0, #0x10]\n    b .\n"))
    m.load(0x08040000, b"\x00" * 16)
    m.soc.flash.factory_optcr = OPTCR_F7 & ~OPTCR_NDBANK
    m.power_on()
    m.run(max_cycles=1_000_000, stop_at_app=False)
    assert violations(m, "nDBANK = 0 does not match") and m.read(0x08040000, 16) == bytes(16)


def test_f7_boots_from_the_itcm_alias_and_not_from_0():
    """The core fetches SP and PC at 0x0020_0000 (BOOT_ADD0): the flash is there, not at 0."""
    m = run(NAME, "    movs r4, #42\n")
    assert reg(m, 4) == 42 and m.uc.mem_read(0x00200000, 8) == m.uc.mem_read(0x08000000, 8)
    with pytest.raises(UcError):
        m.uc.mem_read(0x00000000, 4)


# -- clocks ------------------------------------------------------------------------------------------------------

PLL_216 = """
    ldr r0, =0x40023800
    ldr r1, [r0]
    ldr r2, =0x10000
    orrs r1, r1, r2
    str r1, [r0]             @ HSEON
1:  ldr r1, [r0]
    lsls r1, r1, #14
    bpl 1b                   @ HSERDY
    ldr r1, =0x29406C19      @ PLLR 2, PLLQ 9, PLLSRC HSE, PLLP /2, PLLN 432, PLLM 25
    str r1, [r0, #4]
    ldr r1, [r0]
    ldr r2, =0x1000000
    orrs r1, r1, r2
    str r1, [r0]             @ PLLON
1:  ldr r1, [r0]
    lsls r1, r1, #6
    bpl 1b                   @ PLLRDY
    ldr r3, =0x40023C00
    movs r1, #{ws}
    str r1, [r3]             @ FLASH_ACR.LATENCY
    ldr r1, =0x9402          @ APB2 /2, APB1 /4, SW = PLL
    str r1, [r0, #8]
    ldr r4, [r0, #8]
    ldr r4, [r0, #8]
"""


def test_f7_216_mhz_needs_the_over_drive_and_seven_wait_states():
    m = run(NAME, PLL_216.format(ws=6), cycles=200_000)
    assert m.rcc.sysclk_hz() == pytest.approx(216e6)
    assert violations(m, "above 180 MHz (over-drive off)") and violations(m, "needs 7 flash wait states")


def test_f7_216_mhz_with_over_drive_is_clean():
    over_drive = """
    ldr r5, =0x40023840
    ldr r1, [r5]
    ldr r2, =0x10000000
    orrs r1, r1, r2
    str r1, [r5]             @ PWREN
    ldr r5, =0x40007000
    ldr r1, [r5]
    ldr r2, =0x30000
    orrs r1, r1, r2
    str r1, [r5]             @ ODEN, ODSWEN
"""
    body = PLL_216.format(ws=7).replace("    ldr r3, =0x40023C00", over_drive + "    ldr r3, =0x40023C00")
    m = run(NAME, body, cycles=200_000)
    assert m.rcc.sysclk_hz() == pytest.approx(216e6) and m.violations == []
    assert m.rcc.pclk_hz(1) == pytest.approx(54e6) and m.rcc.pclk_hz(2) == pytest.approx(108e6)


# -- the data cache stale-line check ------------------------------------------------------------------------------


def test_dcache_stale_line_is_reported_until_invalidated():
    """A load caches a line, an erase changes the flash under it: the next load of the line is a
    violation; DCCIMVAC on the line first makes it clean."""
    body = (
        """
    ldr r8, =0xE000ED14
    ldr r1, [r8]
    ldr r2, =0x10000
    orrs r1, r1, r2
    str r1, [r8]             @ SCB_CCR.DC
    ldr r2, =0x08080010
    ldr r4, [r2]             @ caches the line 0x0808_0000
"""
        + UNLOCK
        + """
    ldr r1, =0x10232         @ SER, SNB = 6 (0x0808_0000), PSIZE x32, STRT
    str r1, [r0, #0x10]
"""
        + WAIT_BSY
        + """
    {maintain}
    ldr r4, [r2]
"""
    )
    clean = "ldr r1, =0xE000EF70\n    str r2, [r1]             @ DCCIMVAC"
    for maintain, stale in (("nop", True), (clean, False)):
        board = BOARD
        m = Machine(board)
        m.load(board.flash.base, assemble(body.format(maintain=maintain) + "    b .\n", "cortex-m7"))
        m.load(0x08080000, b"\x00" * 32)
        m.power_on()
        m.run(max_cycles=80_000_000, stop_at_app=False)
        assert reg(m, 4) == 0xFFFFFFFF and not in_hardfault(m)
        assert bool(violations(m, "its data cache line was loaded before the flash changed")) == stale, m.violations


# -- the MX25L51245G on the QUADSPI ---------------------------------------------------------------------------------


@pytest.fixture
def m():
    return Machine(BOARD)


def chip(m):
    return m.soc.externals[0].chip


def wire(m):
    """QUADSPI clock, the board's pins, 64 MiB (FSIZE 25), HCLK / 2, EN."""
    q, rcc = m.soc.externals[0].qspi, m.rcc
    rcc.bus_write(0x30, 4, rcc.regs["AHB1ENR"] | 0x7FF)
    rcc.bus_write(0x38, 4, rcc.regs["AHB3ENR"] | 2)
    for p in BOARD.external_flash.pins:
        g, n = m.soc.gpios[p.pin[1]], int(p.pin[2:])
        g.bus_write(0x00, 4, g.moder & ~(3 << 2 * n) | 2 << 2 * n)
        g.bus_write(0x20 + 4 * (n // 8), 4, g.afr[n // 8] & ~(0xF << 4 * (n % 8)) | p.af << 4 * (n % 8))
    q.bus_write(0x04, 4, 25 << 16 | 4 << 8)
    q.bus_write(0x00, 4, 1 << 24 | 1 << 4 | 1)
    return q


def rdsr(q, lines=I1):
    return frame(q, READ, lines | (D4 if lines == I4 else 0), 0x05, read=1)[0]


def wren(q, lines=I1):
    frame(q, WRITE, lines, 0x06)


def wait_ready(q):
    for _ in range(5000):
        if not rdsr(q) & 1:
            return
    raise AssertionError("WIP never cleared")


def pp4b(q, offset, data):
    wren(q)
    frame(q, WRITE, I1 | A1_32, 0x12, offset, data=data)


def test_rdid_4_byte_program_and_page_wrap(m):
    q = wire(m)
    assert frame(q, READ, I1, 0x9F, read=3) == JEDEC
    frame(q, WRITE, I1 | A1_32, 0x12, 0x3000100, data=b"\x00" * 4)  # no WREN: ignored
    assert m.read(BASE + 0x3000100, 4) == b"\xff" * 4
    pp4b(q, 0x30001FC, bytes(range(1, 9)))  # above 16 MiB; crosses the page end: wraps
    assert rdsr(q) & 3 == 1
    wait_ready(q)
    assert m.read(BASE + 0x30001FC, 4) == bytes((1, 2, 3, 4)) and m.read(BASE + 0x3000100, 4) == bytes((5, 6, 7, 8))
    pp4b(q, 0x30001FC, b"\xf0\x0f\xff\x00")  # programming only clears bits
    wait_ready(q)
    assert m.read(BASE + 0x30001FC, 4) == bytes((0, 2 & 0x0F, 3, 0))
    assert frame(q, READ, I1 | A1_32, 0x0C, 0x3000100, read=4, dummy=8) == bytes((5, 6, 7, 8))
    assert m.violations == []


def test_address_mode_decides_the_3_4_byte_opcodes(m):
    q = wire(m)
    m.load(BASE + 0x123400, bytes(range(8)))
    assert frame(q, READ, I1 | A1_24, 0x0B, 0x123400, read=4, dummy=8) == bytes(range(4))
    frame(q, READ, I1 | A1_32, 0x0B, 0x123400, read=4, dummy=8)  # 4 address bytes in 3-byte mode
    assert violations(m, "needs a 1-line 3-byte address in 3-byte address mode")
    m.violations.clear()
    frame(q, WRITE, I1, 0xB7)  # EN4B
    assert chip(m).cr & CR_4BYTE
    assert frame(q, READ, I1 | A1_32, 0x0B, 0x123404, read=4, dummy=8) == bytes(range(4, 8))
    assert frame(q, READ, I1 | A1_32, 0x0C, 0x123400, read=4, dummy=8) == bytes(range(4))
    assert m.violations == []


def test_quad_reads_need_qe_and_dummy_cycles_must_match(m):
    q = wire(m)
    m.load(BASE + 0x500, bytes(range(16)))
    frame(q, READ, I1 | A1_32 | D4, 0x6C, 0x500, read=4, dummy=8)
    assert violations(m, "needs the status register's QE bit")
    m.violations.clear()
    assert frame(q, READ, I1 | A1_32, 0x0C, 0x500, read=4, dummy=6) != bytes(range(4))
    assert violations(m, "dummy cycles")
    m.violations.clear()
    q.bus_write(0x14, 4, 0x6C | I1 | A1_32 | D4 | 8 << 18 | MM << 26)  # memory-mapped quad read without QE
    assert violations(m, "the window stays inaccessible")
    with pytest.raises(UcError):
        cpu_load(m, BASE + 0x500)
    m.violations.clear()
    mm_off(q)
    q.bus_write(0x14, 4, 0x0C | I1 | A1_32 | D1 | 8 << 18 | MM << 26)  # the driver's FAST_READ4B
    assert cpu_load(m, BASE + 0x500) == struct.unpack("<I", bytes(range(4)))[0] and m.violations == []
    assert q.bus_read(0x08, 4) & SR_BUSY


def test_erase_units_and_wip(m):
    q = wire(m)
    m.power.arm(None)  # record the operations
    m.load(BASE + 0x20000, b"\x12" * 0x20000)
    wren(q)
    frame(q, WRITE, I1 | A1_32, 0x21, 0x25123)  # SE4B: 4 KiB, address truncated
    frame(q, READ, I1 | A1_32, 0x0C, 0x20000, read=4, dummy=8)  # refused while WIP
    assert violations(m, "while a program or erase is in progress")
    m.violations.clear()
    wait_ready(q)
    assert m.read(BASE + 0x25000, 0x1000) == b"\xff" * 0x1000 and m.read(BASE + 0x26000, 1) == b"\x12"
    wren(q)
    frame(q, WRITE, I1 | A1_32, 0x5C, 0x28000)  # BE32K4B
    wait_ready(q)
    assert m.read(BASE + 0x28000, 0x8000) == b"\xff" * 0x8000 and m.read(BASE + 0x30000, 1) == b"\x12"
    wren(q)
    frame(q, WRITE, I1 | A1_32, 0xDC, 0x3ABCD)  # BE4B: 64 KiB
    wait_ready(q)
    assert m.read(BASE + 0x30000, 0x10000) == b"\xff" * 0x10000 and m.read(BASE + 0x24FFF, 1) == b"\x12"
    assert [(k, a - BASE, n) for k, a, n, _d in m.power.trace] == [
        ("erase", 0x25000, 0x1000),
        ("erase", 0x28000, 0x8000),
        ("erase", 0x30000, 0x10000),
    ]
    assert m.violations == []


def test_qpi_and_4_byte_mode_survive_a_system_reset_until_a_reset_frame(m):
    q = wire(m)
    frame(q, WRITE, I1, 0xB7)  # EN4B
    frame(q, WRITE, I1, 0x35)  # EQIO
    assert chip(m).protocol == QPI
    assert frame(q, READ, I4 | D4, 0xAF, read=3) == JEDEC  # QPIID
    m.system_reset()
    q = wire(m)
    assert chip(m).protocol == QPI and chip(m).cr & CR_4BYTE
    assert frame(q, READ, I1, 0x9F, read=3) != JEDEC  # SPI frame to a QPI chip
    assert violations(m, "the chip is in QPI")
    m.violations.clear()
    frame(q, WRITE, I4, 0x66)
    frame(q, WRITE, I4, 0x99)
    assert chip(m).protocol == SPI and not chip(m).cr & CR_4BYTE
    for _ in range(200):  # reset recovery: frames ignored, reads float high
        if frame(q, READ, I1, 0x9F, read=3) == JEDEC:
            break
    assert frame(q, READ, I1, 0x9F, read=3) == JEDEC and m.violations == []


def _bits_between(old: bytes, target: bytes, now: bytes) -> bool:
    return all((n ^ o) & ~(o ^ t) == 0 for o, t, n in zip(old, target, now))


@pytest.mark.parametrize("seed", [1, 2])
def test_torn_program_and_erase(m, seed):
    q = wire(m)
    m.load(BASE + 0x1000000, bytes(random.Random(seed).randbytes(0x10000)))
    old = m.read(BASE + 0x1000000, 0x10000)
    m.power.arm(2, "torn", seed)  # op 1: the program, op 2: the 64 KiB erase (cut)
    pp4b(q, 0x5000, b"\x00" * 256)
    wait_ready(q)
    wren(q)
    frame(q, WRITE, I1 | A1_32, 0xDC, 0x1000000)
    assert m.power.dead and m.power.trace[1][:3] == ("erase", BASE + 0x1000000, 0x10000)
    now = m.read(BASE + 0x1000000, 0x10000)
    assert now not in (old, b"\xff" * 0x10000) and _bits_between(old, b"\xff" * 0x10000, now)
    fresh = Machine(BOARD)
    fresh.load(BASE + 0x1000000, old)
    powermod.replay([fresh.soc.cells, *fresh.soc.externals], m.power.trace, 2, "torn", seed)
    assert fresh.read(BASE + 0x1000000, 0x10000) == now and fresh.read(BASE + 0x5000, 256) == b"\x00" * 256
