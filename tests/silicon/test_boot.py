# SPDX-License-Identifier: Apache-2.0
"""Boot on the register-level models: each board's real bootloader.elf and manufacturing image, from the
reset vector to the hand-over to the application, with the clock tree, console and flash set up as the
reference manuals require (any model violation fails the test)."""

from __future__ import annotations

import re

import pytest
from elftools.elf.elffile import ELFFile

from . import support
from .support import ALL_BOARDS, BOARDS, V1, bootloader_usage, expect_app, firmware, machine, no_violations, tail

SLOT1_LINES = ("Verify slot 1 header.", "Slot 1 is empty.")  # not on a single-slot board
BOOT_LOG = [
    "Bootloader starting up.",
    "Target: {board}",
    "SLOT0:{slot0:08X} SLOT1:{slot1:08X}",
    *SLOT1_LINES,
    "Verify slot 0.",
    "Verify slot 0 header.",
    "Verify slot 0 signature.",
    "Verify slot 0 ready.",
    "Verify slot 0 fw ver.",
    "Slot 0 has valid active firmware version 1.0.0",
    "Preparing to launch application in slot 0.",
]


def _symbols(elf_path, *names):
    with open(elf_path, "rb") as f:
        table = {sym.name: sym["st_value"] for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}
    return tuple(table[n] for n in names)


@pytest.mark.parametrize("board_name", ALL_BOARDS)
def test_boot_to_application(board_name):
    """Reset -> bootloader -> application: MSP and PC are the application's vector table entries, VTOR
    points at it, the boot log is the documented one (docs/update-state.md, README), the console baud
    rate is right for the clock the port set up, and no model saw a violation."""
    fw = firmware(board_name)
    m = machine(fw)
    result = m.run()
    expect_app(m, result, fw.plain(V1), board_name)
    # The boot-time stack (in the application's RAM) is zero at the jump: nothing the verification left
    # there reaches the application (cm_jump, docs/security.md). The models power RAM up random, so a
    # region left alone would not read as zeros.
    top, limit = _symbols(fw.bootloader_elf(), "__stack_top", "__stack_limit")
    start = max(limit, top - 4096)
    assert m.read(start, top - start) == bytes(top - start), f"{board_name}: boot stack not wiped at the jump"
    log = m.console_text()
    b = fw.board
    pos = 0
    for line in BOOT_LOG:
        if b.slot1 is None and line in SLOT1_LINES:
            assert line not in log, f"{board_name}: single-slot board logs {line!r}\n{log}"
            continue
        text = line.format(board=board_name, slot0=b.slot0.address, slot1=b.slot1.address if b.slot1 else 0)
        at = log.find(text, pos)
        assert at >= 0, f"{board_name}: boot log lacks {text!r} (in order)\n{log}"
        pos = at + len(text)
    assert re.search(rf"Clock:{b.clock.sysclk_hz} UART:{b.uart.instance},{b.uart.baud},N81", log)
    no_violations(m, board_name)
    # The application itself starts (its BSP sets the clock up again) and prints its banner.
    support.wait_app(m, V1)
    no_violations(m, f"{board_name} application")
    # Peripherals left as the bootloader promises (docs/porting.md): SysTick off at the hand-over.
    assert m.core.vtor == b.app_vector_address


@pytest.mark.parametrize("board_name", ALL_BOARDS)
def test_bootloader_fits_the_original_reservations(board_name):
    """Flash within 24 KiB and RAM within the original's reservation for the family."""
    fw = firmware(board_name)
    flash, ram = bootloader_usage(fw.bootloader_elf())
    reservations = {"stm32l0": 0x1500, "stm32l4": 0x1700, "stm32f4": 0x2700, "stm32l5": 0x1700}
    reservations.update({"stm32g0": 0x1700, "stm32g4": 0x1700, "stm32wl": 0x1700})  # original: 0x20001700
    reservations["stm32f7"] = 0x22700  # DISCO-F769I: the original's application RAM starts at 0x20022700
    reservations["stm32h7"] = 0x2700  # DISCO-H745I: the original's RAM_START 0x24002700 (AXI SRAM)
    reservation = reservations[fw.board.family]
    assert flash <= 24 * 1024, f"{board_name}: bootloader flash {flash} bytes"
    assert ram <= fw.board.bootloader.ram_reserved <= reservation, (
        f"{board_name}: RAM {ram} bytes, reserved {fw.board.bootloader.ram_reserved:#x}, original {reservation:#x}"
    )


@pytest.mark.parametrize("board_name", BOARDS)
def test_no_valid_image_stays_in_the_bootloader(board_name):
    """SLOT0 erased: the bootloader says so and stays (no jump into erased flash, no reset loop)."""
    fw = firmware(board_name)
    m = machine(fw)
    b = fw.board
    m.load(b.slot0.address, bytes([b.flash.erased_value]) * b.vector_size)
    result = m.run(until="staying in the bootloader", max_cycles=400_000_000)
    assert result.reason == "console", f"{result.reason}\n{tail(m)}"
    assert result.resets == 0
    assert "Slot 0 is empty." in m.console_text()
    result = m.run(max_cycles=200_000_000)
    assert result.reason == "timeout" and result.resets == 0 and m.app_entry is None
    no_violations(m, board_name)
