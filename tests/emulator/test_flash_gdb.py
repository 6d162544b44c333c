# SPDX-License-Identifier: Apache-2.0
"""`spb flash`, `scons flash` and `scons run` executed for real on the emulator board (docs/flashing.md).

QEMU starts halted with its GDB stub on a TCP port and an erased flash file (tests/support/qemu.py); spb loads
the combined image through the stub (GDB remote serial protocol, no GDB needed), starts the bootloader from its
vector table and detaches; the console must then show the bootloader verifying SLOT0 and the application
printing its version. `scons run` must do the same with the console on its standard output."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from spb import cli
from spb.board import load_board
from spb.transport.flash import load_image
from support import qemu
from support.qemu import Emulator, create_flash_file, read_flash
from support.scons_project import REPO, make_keys, scons

BOARD = "EMU-MPS2-AN385"
pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(
        not qemu.qemu_available() or shutil.which("arm-none-eabi-gcc") is None,
        reason="needs qemu-system-arm and arm-none-eabi-gcc",
    ),
]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    root = tmp_path_factory.mktemp("flash-gdb")
    keys = make_keys(root / "keys")
    args = [f"BOARD={BOARD}", f"BUILD_DIR={root / 'out'}", f"KEYS={keys.directory}", "VERSION=1.2.0"]
    args.append(f"RELEASES_DIR={root / 'releases'}")
    scons(REPO, *args)
    return root, args


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def halted_with_stub(tmp_path):
    """QEMU halted at reset (-S) with an erased flash and its GDB stub on a free port."""
    port = free_port()
    flash = create_flash_file(tmp_path / "flash.img")
    emu = Emulator(flash, extra_args=["-S", "-gdb", f"tcp:127.0.0.1:{port}"]).start()
    return emu, f"127.0.0.1:{port}"


def test_spb_flash_loads_through_the_gdb_stub_and_the_board_boots(build, tmp_path, capsys):
    root, _args = build
    image = root / "out" / "hello_combined.hex"
    board = load_board(REPO / "boards" / f"{BOARD}.toml")
    emu, stub = halted_with_stub(tmp_path)
    try:
        start = time.monotonic()
        assert cli.main(["flash", "--board", BOARD, "--gdb", stub, str(image)]) == 0
        log = emu.read_until("APP: hello version 1.2.0", timeout=20)
        seconds = time.monotonic() - start
    finally:
        emu.stop()
    err = capsys.readouterr().err
    assert f"spb: {stub}: wrote and verified" in err and "packets)" in err, err
    assert "Slot 0 has valid active firmware version 1.2.0" in log, log
    # the writes went to the emulated flash (the file QEMU maps): SLOT0 holds the image's SLOT0 bytes
    loaded = load_image(image)
    app = loaded.read(board.app_vector_address, 256)
    assert read_flash(emu.flash_file, board.app_vector_address, 256) == app
    print(f"spb flash via the GDB stub to the application's version line: {seconds:.2f} s")


def test_scons_flash_builds_then_loads_and_scons_run_boots(build, tmp_path):
    _root, args = build
    emu, stub = halted_with_stub(tmp_path)
    try:
        result = scons(REPO, "-Q", *args, f"GDB={stub}", "flash")
        emu.read_until("APP: hello version 1.2.0", timeout=20)
    finally:
        emu.stop()
    assert "FLASH " in result.stdout and "(GDB remote protocol to" in result.stdout, result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith(("CC ", "LINK ", "COMBINE "))]

    # scons run: QEMU with the image, the console on scons's standard output
    env = {**os.environ, "PYTHONPATH": str(REPO / "site_scons")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "SCons", "-Q", *args, "run"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # QEMU is scons's child: the whole group is stopped below
    )
    out = b""
    deadline = time.monotonic() + 30
    try:
        while b"APP: hello version 1.2.0" not in out and time.monotonic() < deadline:
            if select.select([proc.stdout], [], [], 0.5)[0]:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                out += chunk
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    text = out.decode(errors="replace")
    assert "qemu-system-arm -M mps2-an385 -nographic -device loader,file=" in text, text
    assert "Bootloader starting up." in text and "APP: hello version 1.2.0" in text, text
