# SPDX-License-Identifier: Apache-2.0
"""A project in the shape STM32CubeMX generates for STM32CubeIDE (tests/fixtures/cubemx_like: its own
startup .s, a .S, system_*.c, syscalls.c, sysmem.c, a HAL-style main.c printing through printf), built by
spb for the emulator board the way docs/migrating-from-cubeide.md says, and run under QEMU.

The startup file and syscalls use only the symbols CubeMX's linker scripts define (_estack, _sidata, _sdata,
_edata, _sbss, _ebss, end, _Min_Stack_Size), and __libc_init_array needs _init: the application's line
shows that .data was copied, .bss zeroed, the constructors run and malloc served from the heap; its
per-application CPPDEFINES, CCFLAGS, ASFLAGS and LINKFLAGS reached it and not the bootloader. Its v1.1.0
.sfb goes in through the bootloader's YMODEM loader and runs after the install."""

from __future__ import annotations

import re
import shutil

import pytest

from support import qemu
from support.qemu import Emulator, flash_file_from_hex, read_flash
from support.scons_project import REPO, make_keys, scons

BOARD = "EMU-MPS2-AN385"
FIXTURE = REPO / "tests" / "fixtures" / "cubemx_like"
pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(
        not qemu.qemu_available() or shutil.which("arm-none-eabi-gcc") is None,
        reason="needs qemu-system-arm and arm-none-eabi-gcc",
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The fixture copied out of the repository and built twice (1.0.0, then 1.1.0 into the same BUILD_DIR:
    the bootloader is compiled once), verbose, so the command lines can be checked."""
    from spb.board import load_board

    root = tmp_path_factory.mktemp("cubemx")
    src = root / "project"
    shutil.copytree(FIXTURE, src)
    keys = make_keys(root / "keys")
    build = root / "build"
    args = [f"BOARD={BOARD}", f"BUILD_DIR={build}", f"KEYS={keys.directory}", f"RELEASES_DIR={root / 'releases'}"]
    first = scons(src, *args, "VERSION=1.0.0", "SPB_VERBOSE=1")
    factory = root / "cube_1.0.0_combined.hex"
    shutil.copy(build / "cube_combined.hex", factory)
    shutil.copy(build / "cube.elf", root / "cube_1.0.0.elf")
    scons(src, *args, "VERSION=1.1.0")
    return {
        "log": first.stdout,
        "build": build,
        "factory": factory,
        "elf": root / "cube_1.0.0.elf",
        "board": load_board(REPO / "boards" / f"{BOARD}.toml"),
    }


def _compile_lines(log, marker):
    """The compiler command lines whose output (-o) contains marker."""
    return [
        line
        for line in log.splitlines()
        if line.startswith("arm-none-eabi-gcc") and " -o " in line and marker in line.split(" -o ")[1].split()[0]
    ]


def test_build_variables_apply_to_the_application_only(project):
    log = project["log"]
    boot = _compile_lines(log, f"{project['build']}/bootloader/")
    app = _compile_lines(log, "/cube/Core/Src/") + _compile_lines(log, "/cube/Drivers/")
    assert len(boot) > 10 and len(app) >= 7
    for flag in ("SPB_LEAK_PROBE", "CUBE_CCFLAGS_TAG", "USE_HAL_DRIVER", "ASM_TAG", "CUBE_LINK_TAG"):
        assert not [line for line in boot if flag in line], f"{flag} reached the bootloader"
    c_lines = [line for line in app if line.endswith(".c")]
    assert all("-DSPB_LEAK_PROBE" in line and "-DCUBE_CCFLAGS_TAG=7" in line for line in c_lines)
    # .s: assembled as it is (-c, never linked); .S: through the preprocessor with the application's ASFLAGS.
    (startup,) = _compile_lines(log, "startup_mps2_an385.o")
    assert " -c " in startup and "-mcpu=cortex-m3" in startup
    (asm,) = _compile_lines(log, "asm_tag.o")
    assert "-DASM_TAG=0x5A" in asm and " -c " in asm
    (link,) = _compile_lines(log, "cube.elf")
    assert "-Wl,--defsym=CUBE_LINK_TAG=0x1234" in link and link.rstrip().endswith("-lm")


def test_size_report_counts_heap_and_stack(project):
    from spb import linker

    report = (project["build"] / "cube.size.txt").read_text()
    need, guard = linker.api_stack_need(project["board"]), linker.default_stack_size(project["board"])
    assert "heap 512 (HEAP_SIZE" in report and f"stack {guard} (STACK_SIZE; the bootloader API needs {need})" in report
    used = int(re.search(r"RAM .*\(used (\d+) bytes", report)[1])
    static = int(re.search(r"\.data\+\.bss (\d+),", report)[1])
    assert used == static + 512 + guard


def test_cube_symbols_in_the_generated_script(project):
    from spb import sizereport

    board = project["board"]
    names = ("_estack", "_sidata", "_sdata", "_edata", "_sbss", "_ebss", "end", "_end", "_Min_Stack_Size")
    sym = sizereport.symbol_values(project["elf"], (*names, "_Min_Heap_Size", "__data_load"))
    assert set(names) <= set(sym)
    assert sym["_estack"] == board.ram.base + board.ram.size
    assert sym["_sidata"] == sym["__data_load"] and sym["_sidata"] % 16 == 0
    assert board.app_ram_base <= sym["_sdata"] <= sym["_edata"] <= sym["_sbss"] <= sym["_ebss"] <= sym["end"]
    assert sym["end"] == sym["_end"] and sym["end"] % 8 == 0
    assert sym["end"] + sym["_Min_Heap_Size"] <= sym["_estack"] - sym["_Min_Stack_Size"]


class _Console:
    """The emulator's UART as the YMODEM sender's link (read(timeout), write(data))."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def read(self, timeout: float) -> bytes:
        return bytes(self.emu.read(timeout=timeout))

    def write(self, data: bytes) -> None:
        self.emu.write(data)


def test_boots_and_installs_its_sfb_through_the_bootloader(project, tmp_path):
    from spb.transport.ymodem import Sender

    board = project["board"]
    expect = "data=42 bss=0 ctor=ok heap=ok asm=0x5a link=0x1234"
    sfb = (project["build"] / "cube.sfb").read_bytes()
    new_plain = (project["build"] / "cube.bin").read_bytes()
    flash = flash_file_from_hex(tmp_path / "flash.img", project["factory"])
    with Emulator(flash) as emu:
        emu.read_until(f"CUBE: hello 1.0.0 {expect}", timeout=20)
        emu.write(b"r")  # main.c: reset into the bootloader
        emu.read_until("UART loader check trigger.", timeout=20)
        emu.write(b"load")
        emu.read_until("YMODEM loader ready.", timeout=5)
        Sender(_Console(emu)).send("cube.sfb", sfb)
        log = emu.read_until(f"CUBE: hello 1.1.0 {expect}", timeout=60)
        # installed: by exchange (trial boot, the emulator board's default) or by copy (TRIAL=0)
        assert "Slot 1 firmware 1.1.0 is newer." in log
        assert "Swap slots: 1.0.0 <-> 1.1.0." in log or "Slot 0 validated." in log
    assert read_flash(flash, board.app_vector_address, len(new_plain)) == new_plain
