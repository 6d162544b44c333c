# SPDX-License-Identifier: Apache-2.0
"""Updates on the register-level models: release 1.0.0 runs from its manufacturing image, the example
application receives a file on its console UART and streams it through the bootloader's SE_PATCH_* API
into SLOT1, resets; the bootloader verifies, installs and launches 1.1.0. Refused files leave SLOT0 and
the running application untouched."""

from __future__ import annotations

import pytest

from spb import image

from .support import (
    BOARDS,
    MORE_DUAL_SLOT,
    SINGLE_SLOT,
    V1,
    V2,
    expect_app,
    firmware,
    installed_ok,
    machine,
    no_violations,
    other_keys,
    send_update,
    tail,
    version_word,
    wait_app,
)

INSTALL_LOG = [
    "Slot 1 is ready.",
    "Slot 1 firmware 1.1.0 is newer.",
    "Verify slot 1 signature.",
    "Erase slot 0.",
    "Copy slot 1 to slot 0.",
    "] 100%",
    "Slot 0 validated.",
    "Slot 0 has valid firmware version 1.1.0",
]


def _install(fw, m, data, what):
    wait_app(m, V1)
    r = send_update(m, data, "APP: update verified, installing at reset")
    assert r.reason == "console", f"{what}: {r.reason}\n{tail(m)}"
    mark = len(m.console)
    r = m.run()  # the app resets; the bootloader installs and hands over
    expect_app(m, r, fw.plain(V2), what)
    log = m.console[mark:].decode("latin-1")
    pos = 0
    for line in INSTALL_LOG:
        at = log.find(line, pos)
        assert at >= 0, f"{what}: install log lacks {line!r}\n{log}"
        pos = at + len(line)
    assert installed_ok(m, fw, fw.plain(V2), V2), f"{what}: SLOT0 is not exactly 1.1.0"
    wait_app(m, V2)
    # A further reset boots 1.1.0 without installing again and without touching flash.
    m.power.arm(None)
    mark = len(m.console)
    m.power_on()
    r = m.run()
    expect_app(m, r, fw.plain(V2), f"{what}, next boot")
    assert "Slot 1 is installed." in m.console[mark:].decode("latin-1")
    assert m.power.ops == 0, f"{what}: the next boot wrote flash: {m.power.trace[:5]}"
    no_violations(m, what)


@pytest.mark.parametrize("board_name", BOARDS + MORE_DUAL_SLOT)
def test_sfb_update(board_name):
    fw = firmware(board_name)
    _install(fw, machine(fw), fw.sfb(V2), f"{board_name} .sfb")


@pytest.mark.parametrize("board_name", BOARDS + MORE_DUAL_SLOT)
def test_sfbp_update(board_name):
    """The delta patch 1.0.0 -> 1.1.0 made by the build: the engine regenerates 1.1.0 into SLOT1."""
    fw = firmware(board_name)
    m = machine(fw)
    _install(fw, m, fw.sfbp(), f"{board_name} .sfbp")
    # SLOT1 holds exactly what the .sfb route would have stored (header, then the ciphertext).
    b = fw.board
    sfb = fw.sfb(V2)
    assert m.read(b.slot1.address, 128) == sfb[:128]
    assert m.read(b.slot1.address + b.vector_size, len(sfb) - b.vector_size) == sfb[b.vector_size :]


def _tampered(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


REFUSALS = {
    # name: (file maker, expected status code and the byte count at which the verdict comes)
    "bad header signature": (lambda fw: _tampered(fw.sfb(V2), 0x50), "status=3"),
    "downgrade to 1.0.0": (lambda fw: fw.sfb(V1), "status=12"),
    "tampered body": (lambda fw: _tampered(fw.sfb(V2), fw.board.vector_size + 40), "status=15"),
    "patch for another image": (lambda fw: _tampered(fw.sfbp(), 0x1C), "status="),
    "signed with another key": (
        lambda fw: image.build_sfb(fw.plain(V2), version_word(V2), other_keys(), fw.board.vector_size),
        "status=3",
    ),
}
#: the refusals run on the boards of an already-proven flash IP (the rest is the same code on the same IP)
MORE_REFUSALS = ("downgrade to 1.0.0", "signed with another key")


@pytest.mark.parametrize(
    ("board_name", "case"),
    [(b, c) for b in BOARDS for c in REFUSALS] + [(b, c) for b in MORE_DUAL_SLOT for c in MORE_REFUSALS],
)
def test_refused_files_leave_slot0_untouched(board_name, case):
    fw = firmware(board_name)
    m = machine(fw)
    b = fw.board
    slot0_before = m.read(b.slot0.address, b.vector_size + len(fw.plain(V1)))
    make, expect = REFUSALS[case]
    wait_app(m, V1)
    r = send_update(m, make(fw), "APP: update rejected")
    assert r.reason == "console", f"{case}: {r.reason}\n{tail(m)}"
    m.run(stop_at_app=False, until="\n", max_cycles=10_000_000)
    assert expect in m.console_text().split("APP: update rejected")[-1], tail(m)
    assert m.read(b.slot0.address, len(slot0_before)) == slot0_before
    # The board still boots 1.0.0, with nothing to install.
    m.power_on()
    r = m.run()
    expect_app(m, r, fw.plain(V1), case)
    assert installed_ok(m, fw, fw.plain(V1), V1)
    no_violations(m, case)


@pytest.mark.parametrize("board_name", SINGLE_SLOT)
def test_single_slot_board_refuses_updates(board_name):
    """No SLOT1, no download: SE_PATCH_Init answers SECTION_NOT_AVAILABLE (9) before a byte is taken,
    nothing is written to flash, and the board keeps booting its image."""
    fw = firmware(board_name)
    m = machine(fw)
    b = fw.board
    slot0_before = m.read(b.slot0.address, b.vector_size + len(fw.plain(V1)))
    wait_app(m, V1)
    m.power.arm(None)  # count flash operations from here
    r = send_update(m, fw.sfb(V2), "APP: init failed")
    assert r.reason == "console", f"{r.reason}\n{tail(m)}"
    m.run(stop_at_app=False, until="\n", max_cycles=10_000_000)
    assert "status=9" in m.console_text().split("APP: init failed")[-1], tail(m)
    assert m.power.ops == 0, f"flash written: {m.power.trace[:5]}"
    assert m.read(b.slot0.address, len(slot0_before)) == slot0_before
    m.power_on()
    r = m.run()
    expect_app(m, r, fw.plain(V1), "after the refused update")
    assert installed_ok(m, fw, fw.plain(V1), V1)
    no_violations(m, board_name)
