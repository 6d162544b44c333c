# SPDX-License-Identifier: Apache-2.0
"""DISCO-H745I (STM32H745XIH6, Cortex-M7 side) beyond the per-board scenarios every board runs (test_boot,
test_update, test_powercut.test_sampled_cuts): the H7 flash IP (256-bit flash words, ECC with a bus error on a
double error) enumerated at every operation of an install, its refusals one by one with small guest programs,
a torn flash word read by the real bootloader, the supply configuration rules, and the MT25TL01G's two dies
behind the QUADSPI's dual-flash mode."""

from __future__ import annotations

import pytest

from spb.board import load_board
from support.cutcounts import record as record_cuts
from support.scons_project import REPO

from .harness.cortexm import HARDFAULT
from .harness.flash_h7 import SR_DBECCERR, SR_INCERR, SR_PGSERR, SR_STRBERR
from .harness.machine import Machine
from .harness.nor_mt25q import MT25TL01G
from .harness.power import MODES
from .powercut import boot_and_check, cut_state, record_boot, record_download, sfb_for, tiny
from .support import V1, expect_app, firmware, machine, no_violations, tail, wait_app
from .test_models import assemble, reg
from .test_powercut import run_download

BOARD = "DISCO-H745I"
FLASH = 0x52002000
UNLOCK_BANK1 = f"""
    ldr r0, ={FLASH:#x}
    ldr r1, =0x45670123
    str r1, [r0, #4]
    ldr r1, =0xCDEF89AB
    str r1, [r0, #4]
"""


def guest(body: str, cycles: int = 200_000, poisoned: tuple = ()) -> Machine:
    board = load_board(REPO / "boards" / f"{BOARD}.toml")
    m = Machine(board)
    m.load(board.flash.base, assemble(body + "\n    b .\n", "cortex-m7", stack=0x24004000))
    m.soc.cells.poisoned.update(poisoned)
    m.power_on()
    m.run(max_cycles=cycles, stop_at_app=False)
    return m


def test_install_cut_at_every_operation(exhaustive):
    """A small image streamed into SLOT1 (external flash), then cut at every operation of the install (the
    128 KiB sector erases and 32-byte flash-word programs of SLOT0, the journal's), before and torn - a torn
    word reads with a double ECC error, a bus error the port turns into an error result: every recovery ends
    with the new image, exactly. With --silicon-exhaustive only (the default run samples these cuts in
    test_powercut.py::test_sampled_cuts)."""
    if not exhaustive:
        pytest.skip("every install operation, before and torn: --silicon-exhaustive")
    fw = firmware(BOARD)
    images = tiny(fw)
    download = record_download(fw, sfb_for(fw, images))
    install = record_boot(fw, download.end)
    kinds = {(kind, a >> 24) for kind, a, _n, _d in install.trace}
    assert ("erase", 0x08) in kinds and ("program", 0x08) in kinds, install.trace
    for k in range(1, len(install.trace) + 1):
        for mode in MODES:
            kind, address, length, _ = install.trace[k - 1]
            label = f"{BOARD} install cut {mode} op {k}/{len(install.trace)} {kind} {address:#010x}+{length}"
            boot_and_check(fw, cut_state(fw, install, k, mode, seed=k), images, label, must_be_new=True, seed=k)
    record_cuts(f"{BOARD} install (every operation)", len(MODES) * len(install.trace))


def test_download_cut_at_every_operation():
    """Cuts at every operation of a .sfb download into SLOT1, which lies in the MT25TL01G (each page program
    and 128 KiB erase runs on both dies as one operation; a cut tears both dies' halves): SLOT0 is never
    touched, the old image runs until READY landed (about 10 s: in the default run, as the F469's)."""
    fw = firmware(BOARD)
    images = tiny(fw)
    phase = record_download(fw, sfb_for(fw, images))
    assert {a >> 24 for _k, a, _n, _d in phase.trace} == {0x90}, phase.trace
    run_download(fw, phase, images, f"{BOARD} sfb download (dual-flash)")


def test_torn_journal_word_is_skipped_not_fatal():
    """A flash word of the install journal left torn (its programming cut): deciding on a downloaded update,
    the bootloader's read of it gets the bus error of the double ECC error, which the port turns into an
    unreadable entry - the install goes on (its entry in the next slot) and the new image runs, with no reset
    loop."""
    fw = firmware(BOARD)
    b = fw.board
    images = tiny(fw)
    download = record_download(fw, sfb_for(fw, images))
    m = Machine(b)
    m.restore(download.end)
    torn = b.bootloader.journal_address + 32  # the slot after the factory entry
    m.soc.cells.load(torn, bytes(range(32)))
    m.soc.cells.poisoned.add(torn)
    m.power_on()
    r = m.run(max_resets=3)
    expect_app(m, r, images.new, "torn journal word")
    assert any("double ECC error reading" in e for e in m.events), tail(m)
    assert torn in m.soc.cells.poisoned  # still torn: skipped, never re-programmed
    no_violations(m, "torn journal word")


def test_flash_word_is_programmed_by_its_eighth_store():
    """PG set, eight 32-bit stores into one 32-byte flash word: the word is programmed when the buffer is
    full (WBNE while partly filled); the same word stays as it is on the cells until then."""
    m = guest(
        UNLOCK_BANK1
        + """
    movs r1, #2              @ PG
    str r1, [r0, #0x0C]
    ldr r2, =0x08040000
    ldr r3, =0x11111111
    movs r4, #0
1:  str r3, [r2, r4]
    adds r4, r4, #4
    cmp r4, #28
    bne 1b
    ldr r5, [r0, #0x10]      @ SR1 with 7 words in the buffer
    str r3, [r2, r4]         @ the eighth
"""
    )
    assert reg(m, 5) & 2  # WBNE
    assert m.read(0x08040000, 32) == b"\x11" * 32
    no_violations(m, "flash word")


def test_flash_refusals_pgserr_strberr_incerr():
    """A store without PG: PGSERR, nothing written. The same buffer byte twice: STRBERR. A store into another
    flash word while the buffer holds part of one: INCERR."""
    m = guest(
        """
    ldr r2, =0x08040000
    ldr r3, =0x22222222
    str r3, [r2]             @ no PG: PGSERR
"""
        + UNLOCK_BANK1
        + """
    ldr r7, [r0, #0x10]
    movs r1, #2
    str r1, [r0, #0x0C]
    str r3, [r2, #32]        @ buffer: word 0x08040020, bytes 0..3
    str r3, [r2, #32]        @ the same bytes again: STRBERR
    ldr r5, [r0, #0x10]
    str r3, [r2, #64]        @ another flash word: INCERR
    ldr r6, [r0, #0x10]
"""
    )
    assert reg(m, 7) & SR_PGSERR
    assert reg(m, 5) & SR_STRBERR
    assert reg(m, 6) & SR_INCERR
    assert m.read(0x08040000, 96) == b"\xff" * 96


def test_double_ecc_error_is_a_precise_bus_error_at_the_load():
    """A torn flash word: the load does not complete; with the BusFault disabled the bus error escalates to
    HardFault (HFSR.FORCED) with the load as stacked PC; FLASH_SR1.DBECCERR and ECC_FA1 hold the word."""
    m = guest(
        """
    ldr r0, =0x08040040
    ldr r1, =0x5A5A5A5A
    ldr r1, [r0]
    movs r3, #7
""",
        poisoned=(0x08040040,),
    )
    assert HARDFAULT in m.core.active
    assert reg(m, 1) == 0x5A5A5A5A and reg(m, 3) != 7  # the load did not complete, nothing after it ran
    assert m.core.hfsr & (1 << 30) and m.core.cfsr & (1 << 9)  # FORCED, PRECISERR
    assert m.core.bfar == 0x08040040
    bank1 = m.soc.flash.banks[0]
    assert bank1.sr & SR_DBECCERR and bank1.ecc_fa == 0x40040 // 32


def test_supply_configuration_is_written_once_and_must_be_the_boards():
    """The DISCO-H745I is built for the direct SMPS supply: configuring the LDO never gets ACTVOSRDY (the
    part does not reach an operating point), and a second, different write is ignored."""
    m = guest(
        """
    ldr r0, =0x58024800
    movs r1, #2              @ LDOEN only
    str r1, [r0, #0x0C]
    movs r1, #4              @ SDEN: too late, ignored
    str r1, [r0, #0x0C]
    ldr r2, [r0, #0x04]      @ CSR1
    ldr r2, [r0, #0x04]
    ldr r2, [r0, #0x04]
    ldr r3, [r0, #0x0C]
"""
    )
    assert not reg(m, 2) & (1 << 13)
    assert reg(m, 3) & 0x3F == 2
    assert any("does not match the board" in v for v in m.violations)
    assert any("written once" in v for v in m.violations)


def test_vos_change_before_actvosrdy_is_refused():
    m = guest(
        """
    ldr r0, =0x58024800
    ldr r1, =0xC000
    str r1, [r0, #0x18]      @ VOS1 before any supply configuration
    ldr r2, [r0, #0x18]
"""
    )
    assert reg(m, 2) >> 14 & 3 == 1  # still scale 3
    assert any("before PWR_CSR1.ACTVOSRDY" in v for v in m.violations)


def test_dual_flash_window_interleaves_the_two_dies():
    """Even bytes of the window are die 1's, odd bytes die 2's (RM0399 dual-flash mode); a program or erase
    is one power-cut operation over both dies."""
    chip = MT25TL01G(0x90000000)
    chip.load(0x1001, bytes(range(1, 9)))
    assert chip.read(0x1000, 10) == b"\xff" + bytes(range(1, 9)) + b"\xff"
    assert chip.dies[0].read(0x800, 5) == bytes((0xFF, 2, 4, 6, 8))
    assert chip.dies[1].read(0x800, 5) == bytes((1, 3, 5, 7, 0xFF))
    assert sorted(chip.blocks) == [0, 1]


def test_application_update_reaches_both_dies():
    """The example application's 1.1.0 .sfb goes to SLOT1 in the MT25TL01G: the controller ran in dual-flash
    mode (both dies hold their halves of the file) and the boot after it installs the image."""
    fw = firmware(BOARD)
    m = machine(fw)
    wait_app(m, V1)
    from .support import send_update

    data = fw.sfb()
    r = send_update(m, data, "APP: update verified, installing at reset")
    assert r.reason == "console", tail(m)
    chip = m.soc.externals[0].chip
    at = fw.board.slot1.address - 0x90000000
    assert chip.dies[0].read(at // 2, 64) == data[0:128:2]
    assert chip.dies[1].read(at // 2, 64) == data[1:128:2]
    no_violations(m, "dual-flash download")
