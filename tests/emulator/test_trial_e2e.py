# SPDX-License-Identifier: Apache-2.0
"""Trial boot with automatic revert, end to end on QEMU mps2-an385 (docs/trial-boot.md): the real
cross-compiled bootloader and example application, built by `scons` as a user builds them; the emulator
board's file has a [trial] table, so trial boot is on by default.

1.0.0 runs from its manufacturing image and receives 1.1.0, the deliberately broken release
(HELLO_NEVER_CONFIRM=1: it never confirms itself and resets at once). The bootloader exchanges the slots
and starts 1.1.0 in trial; after 3 unconfirmed starts it rejects it and exchanges the slots back: 1.0.0
runs, confirmed, and SLOT1 holds 1.1.0's .sfb again. 1.1.0 is refused from then on; the good 1.2.0,
delivered as the build's patch from 1.0.0, is installed, confirms itself and stays."""

from __future__ import annotations

import shutil
import struct

import pytest

from support import qemu
from support.qemu import Emulator, flash_file_from_hex, read_flash
from support.scons_project import REPO, make_keys, scons

BOARD = "EMU-MPS2-AN385"
pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(
        not qemu.qemu_available() or shutil.which("arm-none-eabi-gcc") is None,
        reason="needs qemu-system-arm and arm-none-eabi-gcc",
    ),
]
RELEASES = (("1.0.0", False), ("1.1.0", True), ("1.2.0", False))


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    from spb.board import load_board

    root = tmp_path_factory.mktemp("trial-e2e")
    keys = make_keys(root / "keys")
    out = {}
    for version, broken in RELEASES:
        build = root / version
        scons(
            REPO,
            f"BOARD={BOARD}",
            f"BUILD_DIR={build}",
            f"KEYS={keys.directory}",
            f"VERSION={version}",
            f"RELEASES_DIR={root / 'releases'}",
            f"HELLO_NEVER_CONFIRM={int(broken)}",
        )
        out[version] = build
    out["board"] = load_board(REPO / "boards" / f"{BOARD}.toml")
    return out


def send(emu, data, expect):
    emu.write(b"u" + struct.pack("<I", len(data)))
    emu.read_until(f"APP: receiving {len(data)} bytes", timeout=30)
    emu.write(data)
    return emu.read_until(expect, timeout=60)


def in_order(log, lines):
    pos = 0
    for line in lines:
        at = log.find(line, pos)
        assert at >= 0, f"log lacks {line!r} (in order)\n{log}"
        pos = at + len(line)


def test_broken_release_is_reverted_and_the_next_one_confirms(builds, tmp_path):
    board = builds["board"]
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.0.0"] / "hello_combined.hex")
    broken_sfb = (builds["1.1.0"] / "hello.sfb").read_bytes()
    with Emulator(flash) as emu:
        emu.read_until("APP: active firmware 1.0.0", timeout=20)
        send(emu, broken_sfb, "APP: update verified, installing at reset")
        log = emu.read_until("APP: active firmware 1.0.0", timeout=120)
        in_order(
            log,
            [
                "Swap slots: 1.0.0 <-> 1.1.0.",
                "] 100%",
                "1.1.0 in trial: start 1 of 3.",
                "APP: hello version 1.1.0",
                "APP: active firmware 1.1.0",
                "in trial, start 1 of 3",
                "APP: broken release: not confirming, resetting",
                "1.1.0 in trial: start 2 of 3.",
                "1.1.0 in trial: start 3 of 3.",
                "1.1.0 rejected: not confirmed in time.",
                "Returning to 1.0.0.",
                "Swap slots: 1.1.0 <-> 1.0.0.",
                "APP: hello version 1.0.0",
            ],
        )
        assert emu.read_until("\r\n", timeout=10).rstrip().endswith("bytes, confirmed")
    # SLOT1 holds exactly the rejected release's .sfb again (header, then its ciphertext)
    assert read_flash(flash, board.slot1.address, 128) == broken_sfb[:128]
    body = broken_sfb[board.vector_size :]
    assert read_flash(flash, board.slot1.address + board.vector_size, len(body)) == body
    plain = (builds["1.0.0"] / "hello.bin").read_bytes()
    assert read_flash(flash, board.app_vector_address, len(plain)) == plain

    with Emulator(flash) as emu:
        log = emu.read_until("APP: active firmware 1.0.0", timeout=20)
        assert "Swap" not in log and "trial" not in log
        emu.read_until("confirmed", timeout=10)
        # the rejected version is never retried: announced whole, refused at its header
        emu.write(b"u" + struct.pack("<I", len(broken_sfb)))
        emu.read_until(f"APP: receiving {len(broken_sfb)} bytes", timeout=30)
        emu.write(broken_sfb[:128])
        assert "status=12" in emu.read_until("stage=", timeout=30)  # IMAGE_VERSION_FAILURE
    with Emulator(flash) as emu:
        emu.read_until("APP: active firmware 1.0.0", timeout=20)
        patch = (builds["1.2.0"] / "hello_1.0.0_to_1.2.0.sfbp").read_bytes()
        send(emu, patch, "APP: update verified, installing at reset")
        log = emu.read_until("APP: confirmed", timeout=120)
        in_order(log, ["Swap slots: 1.0.0 <-> 1.2.0.", "1.2.0 in trial: start 1 of 3.", "in trial, start 1 of 3"])
        emu.write(b"r")
        log = emu.read_until("APP: active firmware 1.2.0", timeout=30)
        assert "1.2.0 confirmed." in log and "Swap" not in log
        emu.write(b"r")
        log = emu.read_until("APP: active firmware 1.2.0", timeout=30)
        assert "confirmed." not in log and "trial" not in log
        emu.write(b"b")  # a confirmed image cannot be rolled back
        emu.read_until("APP: no rollback", timeout=10)
    new_plain = (builds["1.2.0"] / "hello.bin").read_bytes()
    assert read_flash(flash, board.app_vector_address, len(new_plain)) == new_plain
    assert (
        read_flash(flash, board.slot1.address + board.vector_size, 16)
        == (builds["1.0.0"] / "hello.sfb").read_bytes()[board.vector_size : board.vector_size + 16]
    )
