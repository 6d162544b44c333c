# SPDX-License-Identifier: Apache-2.0
"""The install journal after a full-unit erase that did not finish (docs/update-state.md, "The install
journal").

When the journal's erase unit is full, the commit of the next install erases it and writes the new entry
first. A power cut inside that erase leaves the unit in whatever state the cells reached. The host
simulator tears an erase bit by bit (a torn unit reads with an ECC error on L4), which the journal
already skips; on real silicon an interrupted erase can also leave some slots fully erased and others
still holding their old, valid entries. These tests write that residue directly - the first slot erased,
older committed entries after it - and check that:

- the residue is not taken for the log's last entry: before the fix, the next commit wrote its entry in
  front of the residue, the next read took the residue's last entry as "last", and a cut during the
  install then left APPROVED refused for good with SLOT0 half written: a device without firmware;
- entries that still read valid keep raising the rollback floor, even with SLOT0's header gone."""

from __future__ import annotations

import os

import pytest

from spb import image, journal
from support.hostboot import DELAY_COMMAND, MARK_READY, app_image

V2, V3, V4, V5 = 0x02000000, 0x03000000, 0x04000000, 0x05000000
BOARDS = ["NUCLEO-L073RZ", "DISCO-L4R9I", "EMU-MPS2-AN385"]


@pytest.fixture(params=BOARDS)
def device(request, host_bootloader, dev_keys):
    return host_bootloader(request.param), dev_keys


def _residue(hb, keys):
    """SLOT0 runs 4.0.0; the journal unit holds what a torn erase of a full unit can leave: slot 0
    erased, the entries of 2.0.0, 3.0.0 and 4.0.0 after it, the rest erased."""
    b = hb.board.bootloader
    erased = bytes([hb.board.flash.erased_value])
    v4 = app_image(hb.board, os.urandom(1024))
    h4 = hb.manufacture(v4, V4)
    older = [image.image_header(app_image(hb.board, os.urandom(512)), v, keys) for v in (V2, V3)]
    unit = erased * journal.ENTRY_SIZE + b"".join(journal.entry(h) for h in (*older, h4))
    hb.write(b.journal_address, unit + erased * (b.journal_size - len(unit)))
    return v4


def test_a_cut_during_the_install_after_residue_never_leaves_the_device_without_firmware(device):
    hb, keys = device
    v4 = _residue(hb, keys)
    v5 = app_image(hb.board, os.urandom(1024))
    assert hb.update(image.build_sfb(v5, V5, keys, hb.board.vector_size), delay=DELAY_COMMAND).failed_call == 0
    hb.snapshot()
    hb.reset_ops()
    cut, vector, log = hb.boot()
    assert not cut and vector and hb.slot0_valid_as(v5, V5), log
    total = hb.ops
    # Every cut point of this install on the small boards; an even sample of them on the others.
    step = max(1, total // 60)
    points = sorted(set(range(1, total + 1, step)) | {total})
    for point in points:
        hb.restore()
        hb.reset_ops()
        cut, _, first = hb.boot(cut=point)
        assert cut, point
        _, vector, log = hb.boot()
        context = f"cut at operation {point} of {total}\n{first}\n--- next boot ---\n{log}"
        assert "was not approved by this bootloader" not in log, context
        assert vector, context
        assert hb.slot0_valid_as(v5, V5) or hb.slot0_valid_as(v4, V4), context
        assert hb.violations == 0, context
    # The journal was started again with 5.0.0 as its only (and last) entry.
    b = hb.board.bootloader
    assert journal.parse(hb.read(b.journal_address, b.journal_size))[0][0] == V5


def test_residue_entries_still_raise_the_floor(device):
    """SLOT0's header erased (an application can do that) and an authentic 3.0.0 in SLOT1, READY: the
    residue still holds 4.0.0's entry, so 3.0.0 is refused. Before the fix the log ended at the erased
    first slot, the floor fell to 0 and 3.0.0 was installed."""
    hb, keys = device
    _residue(hb, keys)
    slot1 = hb.board.slot1.address
    sfb = bytearray(image.build_sfb(app_image(hb.board, os.urandom(512)), V3, keys, hb.board.vector_size))
    fill = 0xFF if slot1 >= hb.board.flash.base + hb.board.flash.size else hb.board.flash.erased_value
    sfb[128 : hb.board.vector_size] = bytes([fill]) * (hb.board.vector_size - 128)
    hb.write(slot1, bytes(sfb))
    hb.write(slot1 + MARK_READY, image.Header.unpack(bytes(sfb[:128])).signature[:32])
    hb.write(hb.board.slot0.address, bytes([hb.board.flash.erased_value]) * hb.board.vector_size)
    _, vector, log = hb.boot()
    assert "is not newer" in log and "Copy slot 1" not in log and vector == 0, log
