# SPDX-License-Identifier: Apache-2.0
"""End to end on the emulator board: the real cross-compiled bootloader and example application, built by
`scons` exactly as a user would, running on QEMU mps2-an385.

v1.0.0 is started from its combined (manufacturing) image; a v1.1.0 .sfb is fed to the running app over
its console UART ('u' + u32 length + bytes), which hands it to the bootloader through SE_PATCH_*. After
the reset the bootloader verifies SLOT1, installs it and launches v1.1.0; the next boot does not install
again. Also: a power cut in the middle of the install, a tampered file and a downgrade.

These run the overwrite install (TRIAL=0), the mode of every board without a [trial] table; the emulator
board's default, trial boot with revert, is test_trial_e2e.py."""

from __future__ import annotations

import hashlib
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


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two releases of examples/hello for the emulator board, signed with the same (test) keys."""
    from spb.board import load_board

    root = tmp_path_factory.mktemp("e2e")
    keys = make_keys(root / "keys")
    out = {}
    for version in ("1.0.0", "1.1.0"):
        build = root / version
        scons(
            REPO,
            f"BOARD={BOARD}",
            f"BUILD_DIR={build}",
            f"KEYS={keys.directory}",
            f"VERSION={version}",
            f"RELEASES_DIR={root / 'releases'}",
            "TRIAL=0",
        )
        out[version] = build
    out["board"] = load_board(REPO / "boards" / f"{BOARD}.toml")
    out["keys"] = keys
    return out


def slot0_image(flash, board, size):
    return read_flash(flash, board.app_vector_address, size)


def boot(flash):
    return Emulator(flash)


def announce(emu, data):
    """The example app's update command: 'u' + u32 length; it answers when it is ready to receive."""
    emu.write(b"u" + struct.pack("<I", len(data)))
    emu.read_until(f"APP: receiving {len(data)} bytes", timeout=30)


def send_header_only(emu, data, expect):
    """Announce the whole file but send only its first header: the verdict must come right there."""
    announce(emu, data)
    emu.write(bytes(data[:128]))
    emu.read_until(expect, timeout=30)


def send_update(emu, data):
    announce(emu, data)
    emu.write(data)


def test_update_installs_once_and_runs_new_version(builds, tmp_path):
    board = builds["board"]
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.0.0"] / "hello_combined.hex")
    sfb = (builds["1.1.0"] / "hello.sfb").read_bytes()
    new_plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    with boot(flash) as emu:
        emu.read_until("APP: hello version 1.0.0", timeout=20)
        send_update(emu, sfb)
        emu.read_until("APP: update verified, installing at reset", timeout=60)
        log = emu.read_until("APP: hello version 1.1.0", timeout=60)
        assert "Slot 1 is ready." in log
        assert "Slot 1 firmware 1.1.0 is newer." in log
        assert "Verify slot 1 signature." in log
        assert "Erase slot 0." in log and "Copy slot 1 to slot 0." in log and "] 100%" in log
        assert "Slot 0 validated." in log
        assert "Slot 0 has valid firmware version 1.1.0" in log
        emu.read_until("APP: active firmware 1.1.0", timeout=30)
        # SLOT0 now holds exactly the new plaintext image.
        assert slot0_image(flash, board, len(new_plain)) == new_plain
        # A reset boots 1.1.0 again without installing a second time.
        emu.write(b"r")
        log = emu.read_until("APP: hello version 1.1.0", timeout=30)
        assert "Slot 1 is installed." in log
        assert "Copy slot 1" not in log and "Erase slot 0" not in log


@pytest.mark.parametrize("encoding", ["compact", "compat"])
def test_patch_update_installs_the_same_image_as_the_full_route(builds, tmp_path, encoding):
    """v1.0.0 runs; the app receives a .sfbp over its UART and feeds it to SE_PATCH_*; the bootloader's
    engine regenerates v1.1.0 from SLOT0 into SLOT1; after the reset v1.1.0 runs and SLOT0 holds exactly
    the image the .sfb route installs. compact is the build's own output, compat made with spb.patch."""
    from spb import patch

    board = builds["board"]
    new_plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    if encoding == "compact":
        sfbp = (builds["1.1.0"] / "hello_1.0.0_to_1.1.0.sfbp").read_bytes()
    else:
        old_plain = (builds["1.0.0"] / "hello.bin").read_bytes()
        sfbp = patch.build_sfbp(old_plain, 0x01000000, new_plain, 0x01000100, builds["keys"], encoding="compat")
    assert patch.encoding_of(int.from_bytes(sfbp[2:4], "little")) == encoding
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.0.0"] / "hello_combined.hex")
    with boot(flash) as emu:
        emu.read_until("APP: hello version 1.0.0", timeout=20)
        send_update(emu, sfbp)
        emu.read_until("APP: update verified, installing at reset", timeout=60)
        log = emu.read_until("APP: hello version 1.1.0", timeout=60)
        assert "Copy slot 1 to slot 0." in log and "Slot 0 validated." in log
    slot0 = slot0_image(flash, board, len(new_plain))
    assert hashlib.sha256(slot0).digest() == hashlib.sha256(new_plain).digest()
    # SLOT1 holds exactly what a .sfb download would have left there.
    sfb = (builds["1.1.0"] / "hello.sfb").read_bytes()
    assert read_flash(flash, board.slot1.address, 128) == sfb[:128]
    assert read_flash(flash, board.slot1.address + board.vector_size, len(new_plain)) == sfb[board.vector_size :]


def test_patch_for_another_image_is_refused(builds, tmp_path):
    """A patch made from a different FROM image: refused at byte 128 (INVALID_SOURCE_IMAGE), nothing
    written, v1.0.0 keeps running after a reset."""
    from spb import patch

    board = builds["board"]
    new_plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    other = bytearray((builds["1.0.0"] / "hello.bin").read_bytes())
    other[-1] ^= 0xFF
    sfbp = patch.build_sfbp(bytes(other), 0x01000000, new_plain, 0x01000100, builds["keys"])
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.0.0"] / "hello_combined.hex")
    before = read_flash(flash, board.slot0.address, board.slot0.size)
    with boot(flash) as emu:
        emu.read_until("APP: hello version 1.0.0", timeout=20)
        send_header_only(emu, sfbp, "APP: update rejected status=4")
        emu.write(b"r")
        emu.read_until("APP: hello version 1.0.0", timeout=30)
    assert read_flash(flash, board.slot0.address, board.slot0.size) == before


def test_power_cut_during_install_resumes(builds, tmp_path):
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.0.0"] / "hello_combined.hex")
    sfb = (builds["1.1.0"] / "hello.sfb").read_bytes()
    new_plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    with boot(flash) as emu:
        emu.read_until("APP: hello version 1.0.0", timeout=20)
        send_update(emu, sfb)
        emu.read_until("Erase slot 0.", timeout=60)
        emu.power_cut()  # SIGKILL while SLOT0 is being erased/rewritten
    # SLOT0's header is gone (erased first) or the copy is incomplete: the next boot must finish the job.
    with boot(flash) as emu:
        log = emu.read_until("APP: hello version 1.1.0", timeout=60)
        assert "Copy slot 1 to slot 0." in log or "is installed." in log
        assert "Slot 1 firmware 1.1.0 is newer" not in log  # resumed, not re-decided
    assert slot0_image(flash, builds["board"], len(new_plain)) == new_plain


def test_tampered_update_refused_and_slot0_untouched(builds, tmp_path):
    board = builds["board"]
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.0.0"] / "hello_combined.hex")
    sfb = bytearray((builds["1.1.0"] / "hello.sfb").read_bytes())
    sfb[0x14] ^= 0x01  # version field: covered by the signature
    slot0_before = read_flash(flash, board.slot0.address, board.slot0.size)
    with boot(flash) as emu:
        emu.read_until("APP: hello version 1.0.0", timeout=20)
        send_header_only(emu, sfb, "APP: update rejected status=3")
        # The verdict comes at byte 128, before anything is written; the rest is never needed.
        emu.write(b"r")
        log = emu.read_until("APP: hello version 1.0.0", timeout=30)
        assert "Bootloader starting up." in log
        assert "Slot 1 is empty." in log
    assert read_flash(flash, board.slot0.address, board.slot0.size) == slot0_before


def test_downgrade_refused(builds, tmp_path):
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.1.0"] / "hello_combined.hex")
    old = (builds["1.0.0"] / "hello.sfb").read_bytes()
    with boot(flash) as emu:
        emu.read_until("APP: hello version 1.1.0", timeout=20)
        send_header_only(emu, old, "APP: update rejected status=12")


def test_slot0_tag_checked_at_boot(builds, tmp_path):
    """A flipped bit in SLOT0's image is caught by the tag check: the bootloader stays and says so."""
    board = builds["board"]
    flash = flash_file_from_hex(tmp_path / "flash.img", builds["1.0.0"] / "hello_combined.hex")
    addr = board.app_vector_address + 0x300
    byte = read_flash(flash, addr, 1)[0]
    qemu.write_flash(flash, addr, bytes([byte ^ 0x10]))
    with boot(flash) as emu:
        log = emu.read_until("staying in the bootloader", timeout=20)
        assert "Slot 0 image does not match its tag." in log
        assert "APP:" not in emu.read(timeout=1.0).decode(errors="replace")
