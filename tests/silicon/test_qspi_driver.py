# SPDX-License-Identifier: Apache-2.0
"""The F4 port's QUADSPI driver (bootloader/port/stm32f4/qspi.c with the shared NOR code of
bootloader/port/common/xspi_nor.c) on the DISCO-F469I models: the external flash reached from a chip
left in the quad or dual I/O protocol by an earlier run, a MultiSegment application executing from the
memory-mapped window (quad output reads) after the hand-over, and a MultiSegment update whose install
erases and programs SLOT0's second segment in external flash, with power cuts there; and the driver
built for 4 KiB erase units."""

from __future__ import annotations

import struct

import pytest
from unicorn import arm_const as A

from spb import image
from spb.board import load_board
from support.cutcounts import record as record_cuts
from support.scons_project import REPO, scons

from .harness.nor_n25q import DIO, QIO
from .powercut import Images, boot_and_check, cut_state, record_boot, record_download, sfb_for, tiny
from .support import (
    OUT,
    V1,
    Firmware,
    _build_lock,
    expect_app,
    firmware,
    installed_ok,
    keys,
    machine,
    manufacture,
    no_violations,
    send_update,
    tail,
    version_word,
    wait_app,
)

BOARD = "DISCO-F469I"


@pytest.mark.parametrize(("mode", "vecr"), [(QIO, 0x5F), (DIO, 0x9F)])
def test_boot_with_the_chip_left_in_another_protocol(mode, vecr):
    """A system reset does not reset the chip: the driver must bring it back to extended SPI itself."""
    fw = firmware(BOARD)
    m = machine(fw)
    chip = m.soc.externals[0].chip
    chip.vecr = vecr
    assert chip.protocol() == mode
    r = m.run()
    expect_app(m, r, fw.plain(V1), mode)
    assert "Slot 1 is empty." in m.console_text(), tail(m)
    assert chip.protocol() == "SPI"
    no_violations(m, mode)


def _multisegment(fw, tag: int) -> tuple:
    """A MultiSegment image: its vector table and a jump in SLOT0's internal part, the code it jumps to
    (MOVS r0, #tag; B .) at the start of the second segment. Returns (plaintext, segoff)."""
    b = fw.board
    ext = b.slot0.external.address
    reset = b.app_vector_address + 8
    internal = struct.pack("<IIHHI", b.ram.base + b.ram.size, reset | 1, 0x4800, 0x4700, ext | 1)
    internal += bytes(256 - len(internal))  # ldr r0, [pc, #0]; bx r0; .word ext | 1; padding
    external = struct.pack("<HH", 0x2000 | tag, 0xE7FE) + bytes([tag]) * 0x3FC
    return internal + external, len(internal)


def _runs_from_the_window(m, fw, tag: int) -> None:
    ext = fw.board.slot0.external.address
    m.run(stop_at_app=False, max_cycles=2_000_000)
    pc = m.uc.reg_read(A.UC_ARM_REG_PC)
    assert ext <= pc < ext + 4 and m.uc.reg_read(A.UC_ARM_REG_R0) == tag and not m.core.lockup, tail(m)


def test_multisegment_application_runs_from_the_window():
    """The hand-over leaves memory-mapped mode on: code in SLOT0's external segment executes."""
    fw = firmware(BOARD)
    m = machine(fw)
    plain, segoff = _multisegment(fw, 42)
    manufacture(m, fw, plain, "3.0.0", segoff=segoff)
    m.power_on()
    r = m.run()
    assert r.reason == "app" and r.app.pc == fw.board.app_vector_address + 8, tail(m)
    _runs_from_the_window(m, fw, 42)
    no_violations(m, "MultiSegment")


def test_multisegment_install_with_cuts_in_the_second_segment(exhaustive):
    """1.0.0 streams a MultiSegment .sfb into SLOT1 (external flash); the install erases and programs
    SLOT0's internal part and its second segment. Cuts (torn) at the second segment's erase, its first and
    last page programs and a sample of the others (every one with --silicon-exhaustive), and at the first
    and last operation of the install: the new image, exactly, after each recovery."""
    fw = firmware(BOARD)
    b = fw.board
    plain, segoff = _multisegment(fw, 7)
    data = image.build_sfb(plain, version_word("3.0.0"), fw.keys, b.vector_size, segoff)
    images = Images(fw.plain(V1), V1, plain, "3.0.0")
    download = record_download(fw, data)
    install = record_boot(fw, download.end)
    seg = b.slot0.external
    in_segment = [k for k, (_kind, a, _n, _d) in enumerate(install.trace, 1) if seg.address <= a < seg.end]
    kinds = {install.trace[k - 1][0] for k in in_segment}
    assert kinds == {"erase", "program"}, install.trace
    chosen = {1, len(install.trace)} | {k for k in in_segment if install.trace[k - 1][0] == "erase"}
    programs = [k for k in in_segment if install.trace[k - 1][0] == "program"]
    chosen |= set(programs if exhaustive else programs[:2] + programs[len(programs) // 2 :][:1] + programs[-1:])
    chosen = sorted(chosen)
    for k in chosen:
        label = f"{BOARD} MultiSegment install cut op {k}/{len(install.trace)} {install.trace[k - 1][:3]}"
        boot_and_check(fw, cut_state(fw, install, k, "torn", seed=k), images, label, must_be_new=True, seed=k)
    record_cuts(f"{BOARD} MultiSegment install" + ("" if exhaustive else " (sampled)"), len(chosen))
    m = machine(fw)
    m.restore(install.end)
    m.power_on()
    assert m.run().reason == "app"
    _runs_from_the_window(m, fw, 7)
    no_violations(m, "after the MultiSegment install")


def test_subsector_erase_variant(tmp_path):
    """The same board with 4 KiB erase units (sector_size 0x1000: the driver's 20 subsector erase instead of
    D8): built from a board file outside boards/, a small image streamed into SLOT1 and installed."""
    board_file = tmp_path / "DISCO-F469I-4K.toml"
    text = (REPO / "boards" / f"{BOARD}.toml").read_text()
    text = text.replace(f'name = "{BOARD}"', 'name = "DISCO-F469I-4K"').replace(
        "sector_size = 0x10000", "sector_size = 0x1000"
    )
    board_file.write_text(text)
    ks = keys()
    build = OUT / "DISCO-F469I-4K"
    with _build_lock():
        scons(REPO, f"BOARD={board_file}", f"BUILD_DIR={build}", f"KEYS={ks.directory}", f"VERSION={V1}", "-Q")
    fw = Firmware(load_board(board_file), ks, {V1: build})
    assert "#define SPB_EXT_FLASH_SECTOR_SIZE        0x00001000u" in (build / "gen" / "spb_board.h").read_text()
    images = tiny(fw)
    m = machine(fw)
    wait_app(m, V1)
    r = send_update(m, sfb_for(fw, images), "APP: update verified, installing at reset")
    assert r.reason == "console", tail(m)
    erases = {(a, n) for kind, a, n, _d in m.power.trace if kind == "erase"}
    assert (fw.board.slot1.address, 0x1000) in erases, m.power.trace
    r = m.run()
    assert r.reason == "app" and installed_ok(m, fw, images.new, images.new_version), tail(m)
    no_violations(m, "4 KiB erase units")
