# SPDX-License-Identifier: Apache-2.0
"""The emulator port (bootloader/port/mps2/port_mps2.c + port/common/startup.c) on QEMU mps2-an385.

tests/emulator/smoke_main.c is cross-compiled with the generated header of boards/EMU-MPS2-AN385.toml and
driven over the console UART: flash rules, persistence across SYSRESETREQ, the boot alias, the jump to
an application vector table, a power cut (SIGKILL) in the middle of programming, and the instruction
count method of tests/support/qemu.py."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from support import qemu
from support.qemu import FLASH_BASE, SHADOW_ADDR, Emulator, create_flash_file, read_flash

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BOARD = REPO / "boards" / "EMU-MPS2-AN385.toml"
CC = "arm-none-eabi-gcc"

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(
        not qemu.qemu_available() or shutil.which(CC) is None, reason="needs qemu-system-arm and arm-none-eabi-gcc"
    ),
]

# Must match smoke_main.c
COUNTER_PAGE = FLASH_BASE + 0x80000
TEST_PAGE = FLASH_BASE + 0x80800
CUT_PAGE = FLASH_BASE + 0x81000
PAGE = 0x800
UNIT = 8


def pattern(length, seed):
    return bytes((seed * 31 + i * 7 + 1) & 0xFF for i in range(length))


def shadow_bit(addr, flash_file):
    unit = (addr - FLASH_BASE) // UNIT
    byte = read_flash(flash_file, SHADOW_ADDR + unit // 8, 1)[0]
    return (byte >> (unit % 8)) & 1


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """(bin path, symbol table) of the smoke program."""
    from spb.board import load_board
    from spb.board_header import render

    out = tmp_path_factory.mktemp("smoke")
    (out / "spb_board.h").write_text(render(load_board(BOARD)))
    elf = out / "smoke.elf"
    cmd = [
        CC,
        "-mcpu=cortex-m3",
        "-mthumb",
        "-Os",
        "-g",
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-ffunction-sections",
        "-fdata-sections",
        "-nostartfiles",
        "-Wl,--gc-sections",
        f"-I{out}",
        f"-I{REPO / 'bootloader/port'}",
        f"-I{REPO / 'bootloader/port/common'}",
        "-T",
        str(HERE / "smoke.ld"),
        "-o",
        str(elf),
        str(HERE / "smoke_main.c"),
        str(REPO / "bootloader/port/mps2/port_mps2.c"),
        str(REPO / "bootloader/port/common/startup.c"),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    binary = out / "smoke.bin"
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(binary)], check=True)
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], check=True, capture_output=True, text=True).stdout
    symbols = {parts[2]: int(parts[0], 16) for parts in (line.split() for line in nm.splitlines()) if len(parts) == 3}
    return binary, symbols


@pytest.fixture
def flash_file(tmp_path, smoke):
    return create_flash_file(tmp_path / "flash.img", [(FLASH_BASE, smoke[0])])


def test_port_smoke(flash_file, smoke):
    binary, symbols = smoke
    with Emulator(flash_file) as emu:
        # Reset through the boot alias: VTOR is 0 at reset, the port moves it to the bootloader's table.
        emu.read_until("SMOKE boot 1 vtor=21000000 vtor0=00000000\r\n", timeout=30)

        emu.write(b"t")
        out = emu.read_until(re.compile(r"DONE \w+\r\n"), timeout=30)
        assert "FAIL" not in out, out
        for name in (
            "erase",
            "write",
            "readback",
            "reprogram_refused",
            "misaligned_addr_refused",
            "misaligned_len_refused",
            "beyond_flash_refused",
            "erase_misaligned_refused",
            "reprogram_ff_refused",
            "partial_write_refused",
            "millis_advances",
        ):
            assert f"OK {name}\r\n" in out
        assert out.endswith("DONE PASS\r\n")

        # SYSRESETREQ: a full system reset, the flash keeps its content.
        emu.write(b"r")
        emu.read_until("SMOKE boot 2 vtor=21000000 vtor0=00000000\r\n", timeout=30)
        emu.write(b"v")
        assert emu.read_until("\r\n", timeout=30) == "VERIFY OK\r\n"

        # port_jump_to_app: VTOR, MSP and SysTick off as the application sees them.
        emu.write(b"j")
        line = emu.read_until("\r\n", timeout=30)
        m = re.fullmatch(r"APP vtor=([0-9a-f]{8}) sp=([0-9a-f]{8}) systick=([0-9a-f]{8})\r\n", line)
        assert m, line
        assert int(m.group(1), 16) == symbols["app_vectors"]
        assert 0x20008000 - 0x40 <= int(m.group(2), 16) < 0x20008000
        assert int(m.group(3), 16) == 0

        # The application resets by itself (SYSRESETREQ from the jumped-to code).
        emu.read_until("SMOKE boot 3", timeout=30)
        # The guest overwrites the alias' reset SP/PC at address 0 and resets: QEMU restores the alias at
        # every system reset, so the board boots again.
        emu.write(b"z")
        emu.read_until("SMOKE boot 4 vtor=21000000 vtor0=00000000\r\n", timeout=30)
    assert emu.returncode is not None

    # After QEMU exited, the file holds what the guest wrote.
    assert read_flash(flash_file, FLASH_BASE, len(binary.read_bytes())) == binary.read_bytes()
    counter = read_flash(flash_file, COUNTER_PAGE, PAGE)
    for n in range(4):
        assert counter[n * UNIT : (n + 1) * UNIT] == bytes([n]) + b"\xa5" * 7
    assert counter[4 * UNIT :] == b"\xff" * (PAGE - 4 * UNIT)

    page = read_flash(flash_file, TEST_PAGE, PAGE)
    expected = bytearray(b"\xff" * PAGE)
    expected[8:16] = pattern(64, 2)[:8]
    for off in range(0x400, PAGE, 64):
        expected[off : off + 64] = pattern(64, off)
    assert page == bytes(expected)
    # The write-once shadow: set for programmed units, cleared by the last erase for the others
    # (0x200 was programmed with 0xFF before the erase).
    assert shadow_bit(TEST_PAGE + 8, flash_file) == 1
    assert shadow_bit(TEST_PAGE + 0x400, flash_file) == 1
    assert shadow_bit(TEST_PAGE, flash_file) == 0
    assert shadow_bit(TEST_PAGE + 0x200, flash_file) == 0
    assert shadow_bit(FLASH_BASE, flash_file) == 0  # placed by the host, not programmed by the guest


def test_power_cut_keeps_exactly_what_was_written(flash_file):
    cut_after = 37  # unit index programmed last before the cut
    emu = Emulator(flash_file).start()
    try:
        emu.read_until("SMOKE boot 1", timeout=30)
        emu.write(b"w")
        for i in range(cut_after + 1):
            emu.read_until(f"W {i}\r\n", timeout=30)
            if i < cut_after:
                emu.write(b".")  # let the guest program the next unit
        emu.power_cut()  # the guest is now waiting for the byte that would let it program unit 38
    finally:
        emu.power_cut()
    assert emu.returncode == -9

    page = read_flash(flash_file, CUT_PAGE, PAGE)
    for i in range(PAGE // UNIT):
        want = pattern(UNIT, 1000 + i) if i <= cut_after else b"\xff" * UNIT
        assert page[i * UNIT : (i + 1) * UNIT] == want, f"unit {i}"

    # The killed board boots again from the same file and still counts its boots.
    with Emulator(flash_file) as emu:
        emu.read_until("SMOKE boot 2 ", timeout=30)


def test_instruction_count_with_icount(flash_file):
    """-icount shift=0: 1 ns of guest time per instruction; SysTick at 25 MHz ticks every 40 instructions.
    The loop is 50000 x (subs + bne) = 100000 instructions; DWT CYCCNT is not modelled (reads 0)."""
    with Emulator(flash_file, icount=0) as emu:
        emu.read_until(re.compile(r"SMOKE boot 1 .*\r\n"), timeout=30)
        emu.write(b"c")
        line = emu.read_until("\r\n", timeout=30)
        emu.write(b"c")
        again = emu.read_until("\r\n", timeout=30)
    m = re.search(r"CYC (\d+) (\d+)", line)
    assert m, line
    assert abs(int(m.group(1)) * 40 - 100000) <= 80
    m2 = re.search(r"CYC (\d+) (\d+)", again)
    # Repeatable to one SysTick period: the loop's start phase against the tick depends on when the
    # host delivers the 'c'.
    assert m2 and abs(int(m2.group(1)) - int(m.group(1))) <= 1 and m2.group(2) == m.group(2), (line, again)
