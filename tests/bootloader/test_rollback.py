# SPDX-License-Identifier: Apache-2.0
"""Anti-rollback against an application that writes flash (docs/update-state.md, "Anti-rollback").

The device runs 2.0.0, installed by an update (the journal's last entry) or straight from the factory
(the manufacturing image's journal entry). The attacker holds an authentic, older 1.0.0 .sfb, writes it
into SLOT1 as any application can, and forges the markers every way it can think of, with and without
damaging SLOT0 first. Every forgery must end with 2.0.0 still running and nothing installed; the
genuine update path keeps working afterwards."""

from __future__ import annotations

import os

import pytest

from spb import image, journal
from support.hostboot import DELAY_COMMAND, MARK_APPROVED, MARK_DONE, MARK_READY, app_image

V1, V2, V3 = 0x01000000, 0x02000000, 0x03000000
BOARDS = ["EMU-MPS2-AN385", "NUCLEO-L073RZ", "DISCO-L4R9I"]


def _installed_by_update(hb, keys, v1, v2):
    """2.0.0 reached SLOT0 through a real update: the journal's last entry is 2.0.0."""
    hb.manufacture(v1, V1)
    result = hb.update(image.build_sfb(v2, V2, keys, hb.board.vector_size), delay=DELAY_COMMAND)
    assert result.failed_call == 0
    _cut, vector, log = hb.boot()
    assert vector and hb.slot0_valid_as(v2, V2) and "Copy slot 1" in log


def _from_factory(hb, keys, v1, v2):
    hb.manufacture(v2, V2)


@pytest.fixture(params=BOARDS)
def device(request, host_bootloader, dev_keys):
    return host_bootloader(request.param), dev_keys


def _erased(hb, address):
    ext = hb.board.external_flash
    if ext is not None and ext.contains(address):
        return 0xFF
    return hb.board.flash.erased_value


def _write_old_sfb(hb, keys, v1):
    """The attacker's SLOT1: an authentic 1.0.0 .sfb, written directly (markers erased)."""
    slot1 = hb.board.slot1.address
    sfb = bytearray(image.build_sfb(v1, V1, keys, hb.board.vector_size))
    fill = _erased(hb, slot1)
    sfb[128 : hb.board.vector_size] = bytes([fill]) * (hb.board.vector_size - 128)
    hb.write(slot1, bytes(sfb))
    return image.Header.unpack(bytes(sfb[:128]))


def _marker(hb, offset, value: bytes):
    hb.write(hb.board.slot1.address + offset, value)


FORGERIES = {
    # name: how the markers are forged, given the old image's header and a stranger's header
    "exact READY and APPROVED": lambda old, other: {MARK_READY: old.signature[:32], MARK_APPROVED: old.signature[:32]},
    "APPROVED zeroed": lambda old, other: {MARK_READY: old.signature[:32], MARK_APPROVED: bytes(32)},
    "APPROVED copied from another image": lambda old, other: {
        MARK_READY: old.signature[:32],
        MARK_APPROVED: other.signature[:32],
    },
    "APPROVED partial": lambda old, other: {MARK_READY: old.signature[:32], MARK_APPROVED: old.signature[:16]},
    "READY zeroed, APPROVED set": lambda old, other: {MARK_READY: bytes(32), MARK_APPROVED: old.signature[:32]},
    "READY only": lambda old, other: {MARK_READY: old.signature[:32]},
    "READY copied from another image": lambda old, other: {MARK_READY: other.signature[:32]},
}
DAMAGE = ["none", "SLOT0 header erased", "SLOT0 body corrupted"]


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("forgery", list(FORGERIES))
@pytest.mark.parametrize("history", ["updated", "factory"])
def test_forged_markers_never_install_an_older_image(device, forgery, damage, history):
    hb, keys = device

    def rng(n):
        return app_image(hb.board, os.urandom(n))

    v1, v2 = rng(1024), rng(1536)
    (_installed_by_update if history == "updated" else _from_factory)(hb, keys, v1, v2)
    old = _write_old_sfb(hb, keys, v1)
    other = image.image_header(rng(512), V3, keys)
    for offset, value in FORGERIES[forgery](old, other).items():
        _marker(hb, offset, value)
    slot0 = hb.board.slot0.address
    if damage == "SLOT0 header erased":
        hb.write(slot0, bytes([hb.board.flash.erased_value]) * hb.board.vector_size)
    elif damage == "SLOT0 body corrupted":
        hb.write(hb.board.app_vector_address + 100, bytes([hb.read(hb.board.app_vector_address + 100, 1)[0] ^ 1]))
    before = hb.read(slot0, hb.board.vector_size + len(v1))
    hb.reset_ops()
    _, vector, log = hb.boot()
    context = f"{history}, {forgery}, {damage}\n{log}"
    assert "Copy slot 1" not in log and "Erase slot 0" not in log, context
    assert hb.read(slot0, len(before)) == before, context
    if damage == "none":
        assert vector and hb.slot0_valid_as(v2, V2), context  # 2.0.0 still runs
    else:
        assert vector == 0, context  # nothing valid to run: stays in the bootloader, 1.0.0 not installed
    # Genuine path still works afterwards: a newer image streamed by the application installs.
    if damage == "none":
        v3 = rng(1024)
        assert hb.update(image.build_sfb(v3, V3, keys, hb.board.vector_size)).failed_call == 0
        _cut, vector, log = hb.boot()
        assert vector and hb.slot0_valid_as(v3, V3), log


def test_journal_entries_and_the_manufacturing_image_agree(device):
    """The C journal and spb.journal write and read the same entries."""
    hb, keys = device
    v1, v2 = app_image(hb.board, os.urandom(1024)), app_image(hb.board, os.urandom(1024))
    hb.manufacture(v1, V1)
    assert hb.update(image.build_sfb(v2, V2, keys, hb.board.vector_size)).failed_call == 0
    hb.boot()
    b = hb.board.bootloader
    entries = journal.parse(hb.read(b.journal_address, b.journal_size))
    assert [version for version, _ in entries] == [V1, V2]
    assert entries[-1][1] == hb.slot0_header().signature[:16]


def test_full_journal_starts_again_and_keeps_the_floor(host_bootloader, dev_keys):
    """NUCLEO-L073RZ's journal unit is one 128-byte page: four entries. Many updates later it has been
    restarted several times and still refuses what is older than the last install."""
    hb = host_bootloader("NUCLEO-L073RZ")
    keys = dev_keys
    v = app_image(hb.board, os.urandom(512))
    hb.manufacture(v, V1)
    version = V1
    for _ in range(9):
        version += 0x00010000
        v = app_image(hb.board, os.urandom(512))
        assert hb.update(image.build_sfb(v, version, keys, hb.board.vector_size)).failed_call == 0
        _, vector, log = hb.boot()
        assert vector and hb.slot0_valid_as(v, version), log
    b = hb.board.bootloader
    assert journal.parse(hb.read(b.journal_address, b.journal_size))[-1][0] == version
    old = _write_old_sfb(hb, keys, app_image(hb.board, os.urandom(512)))
    _marker(hb, MARK_READY, old.signature[:32])
    hb.write(hb.board.slot0.address, bytes([hb.board.flash.erased_value]) * 0x80)  # SLOT0 header gone
    _cut, vector, log = hb.boot()
    assert "is not newer" in log and "Copy slot 1" not in log, log


def test_done_marker_stops_a_replayed_install(device):
    """The installed image replayed with APPROVED forged: recognised as installed, DONE, nothing copied."""
    hb, keys = device
    v1, v2 = app_image(hb.board, os.urandom(1024)), app_image(hb.board, os.urandom(1024))
    _installed_by_update(hb, keys, v1, v2)
    hb.write(hb.board.slot1.address + MARK_DONE, bytes([_erased(hb, hb.board.slot1.address)]) * 32)
    hb.reset_ops()
    _cut, vector, log = hb.boot()
    assert vector and hb.slot0_valid_as(v2, V2) and "Copy slot 1" not in log, log


def test_cut_between_journal_entry_and_approved_resumes_the_install(device):
    """A cut after the journal entry landed but before APPROVED: the next boot finds SLOT1's image as the
    journal's last entry ("recorded for install"), skips the version decision it already made and
    installs it - even though the journal now holds the very version being installed."""
    hb, keys = device
    v1, v2 = app_image(hb.board, os.urandom(1024)), app_image(hb.board, os.urandom(1536))
    hb.manufacture(v1, V1)
    sfb = image.build_sfb(v2, V2, keys, hb.board.vector_size)
    assert hb.update(sfb, delay=DELAY_COMMAND).failed_call == 0
    b = hb.board.bootloader
    entries = journal.parse(hb.read(b.journal_address, b.journal_size))
    assert entries == [(V1, image.image_header(v1, V1, keys).signature[: journal.ID_SIZE])]
    # The state the cut leaves: the entry for 2.0.0 programmed after the factory entry, APPROVED erased.
    header = image.Header.unpack(sfb[:128])
    hb.write(b.journal_address + journal.ENTRY_SIZE, journal.entry(header))
    _cut, vector, log = hb.boot()
    assert "recorded for install" in log and "Copy slot 1" in log, log
    assert vector and hb.slot0_valid_as(v2, V2), log
    # No second entry for the same install.
    assert [v for v, _ in journal.parse(hb.read(b.journal_address, b.journal_size))] == [V1, V2]
