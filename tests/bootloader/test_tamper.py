# SPDX-License-Identifier: Apache-2.0
"""Hostile and broken input to the update engine (SE_PATCH_*), on the real core built for the host.

Every rejection must carry the right status, and SLOT0 must stay byte-identical and keep booting. A
rejection decided on the header must happen before a single flash operation."""

from __future__ import annotations

import ctypes
import random

import pytest

from spb import image
from support.hostboot import (
    COMPLETED,
    DELAY_COMMAND,
    DELAY_NEXT,
    IMAGE_TOO_LARGE,
    IMAGE_TOO_SMALL,
    IMAGE_VERIFY_ALG_FAILURE,
    IMAGE_VERSION_FAILURE,
    INVALID_ARG,
    INVALID_ORDER,
    INVALID_PATCH_IMAGE,
    INVALID_STATE,
    MARK_READY,
    PARSER_ERROR,
    STAGE_DATA,
    STAGE_READY,
    STAGE_VERIFIED,
    StartInfo,
    Status,
    app_image,
)
from support.scons_project import make_keys

BOARD = "EMU-MPS2-AN385"
V1, V2 = 0x01000000, 0x01000100
SEED = 0x7A3


@pytest.fixture
def setup(host_bootloader, dev_keys):
    hb = host_bootloader(BOARD)
    rng = random.Random(SEED)
    v1, v2 = app_image(hb.board, rng.randbytes(1024)), app_image(hb.board, rng.randbytes(1536))
    hb.manufacture(v1, V1)
    hb.snapshot()
    sfb = image.build_sfb(v2, V2, dev_keys, hb.board.vector_size)
    return hb, v1, v2, sfb


def slot0(hb):
    return hb.read(hb.board.slot0.address, hb.board.vector_size + 2048)


def assert_still_v1(hb, v1, before):
    assert slot0(hb) == before
    _cut, vector, log = hb.boot()
    assert vector == hb.board.app_vector_address and hb.slot0_valid_as(v1, V1), log
    assert "Copy slot 1" not in log
    assert hb.violations == 0


def refuse(hb, data, status, **kw):
    hb.restore()
    hb.power_on()
    hb.reset_ops()
    result = hb.update(data, **kw)
    assert result.failed_call in (1, 2), result
    assert result.status.status == status, (result.status.status, status)
    return result


def test_every_header_bit_is_authenticated(setup):
    hb, v1, _, sfb = setup
    before = slot0(hb)
    for bit in range(128 * 8):
        data = bytearray(sfb)
        data[bit // 8] ^= 1 << (bit % 8)
        refuse(hb, data, INVALID_PATCH_IMAGE, chunk=200)
        assert hb.ops == 0, f"bit {bit}: flash written before the header was authenticated"
    assert_still_v1(hb, v1, before)


def test_padding_is_not_signed_and_never_stored(setup):
    hb, _, _v2, sfb = setup
    data = bytearray(sfb)
    data[0x80 : hb.board.vector_size] = bytes(random.Random(SEED).randbytes(hb.board.vector_size - 0x80))
    result = hb.update(bytes(data), install=False)
    assert result.failed_call == 0 and result.status.stage == STAGE_VERIFIED
    # The marker area stays erased: nothing from the stream's padding reaches SLOT1.
    assert hb.read(hb.board.slot1.address + 0x80, hb.board.vector_size - 0x80) == b"\xff" * (
        hb.board.vector_size - 0x80
    )


def test_body_bit_flips_fail_verification_and_are_never_installed(setup):
    hb, v1, _, sfb = setup
    before = slot0(hb)
    rng = random.Random(SEED)
    body = range(hb.board.vector_size * 8, len(sfb) * 8)
    for bit in rng.sample(body, 32):
        data = bytearray(sfb)
        data[bit // 8] ^= 1 << (bit % 8)
        refuse(hb, data, IMAGE_VERIFY_ALG_FAILURE)
        assert not hb.marker(MARK_READY)
        # Even if the app asks, nothing verified means nothing to install.
        st = Status()
        assert hb.lib.SE_PATCH_InstallAtNextReset(ctypes.byref(st)) == 0 and st.status == INVALID_STATE
        assert_still_v1(hb, v1, before)


def test_wrong_key_garbage_downgrade_same_version(setup, dev_keys, tmp_path):
    hb, v1, v2, _ = setup
    before = slot0(hb)
    other = make_keys(tmp_path / "other")
    cases = [
        (image.build_sfb(v2, V2, other, hb.board.vector_size), INVALID_PATCH_IMAGE),
        (random.Random(1).randbytes(2048), INVALID_PATCH_IMAGE),
        (image.build_sfb(v2, V1 - 1, dev_keys, hb.board.vector_size), IMAGE_VERSION_FAILURE),
        (image.build_sfb(v2, V1, dev_keys, hb.board.vector_size), IMAGE_VERSION_FAILURE),
    ]
    for data, status in cases:
        refuse(hb, data, status)
        assert hb.ops == 0
    assert_still_v1(hb, v1, before)


def test_sizes(setup, dev_keys):
    hb, v1, _v2, sfb = setup
    before = slot0(hb)
    # Declared length shorter / longer than the stream the header describes.
    refuse(hb, sfb[:-16], IMAGE_TOO_SMALL)
    assert hb.ops == 0
    refuse(hb, sfb + b"\0" * 16, IMAGE_TOO_LARGE)
    assert hb.ops == 0
    # Declared larger than SLOT1 at Init.
    result = refuse(hb, sfb, IMAGE_TOO_LARGE, declared=hb.board.slot1.size + 1)
    assert result.failed_call == 1
    # A correctly signed header whose image cannot fit the slots.
    big = image.Header(1, bytes(16), V2, hb.board.slot1.size, bytes(32)).signed(dev_keys)
    refuse(hb, big.pack() + b"\xff" * (hb.board.vector_size - 128), IMAGE_TOO_LARGE, declared=0)
    assert hb.ops == 0
    # A delta-patch header made from another FROM image is refused before any write.
    patch = image.Header(0x11, bytes(16), V1, 64, bytes(32)).signed(dev_keys)
    refuse(hb, patch.pack() + b"\0" * 64, 4, declared=0)  # INVALID_SOURCE_IMAGE
    assert hb.ops == 0
    # An authentic header of a protocol this bootloader does not know.
    unknown = image.Header(0x21, bytes(16), V2, 64, bytes(32)).signed(dev_keys)
    refuse(hb, unknown.pack() + b"\0" * 64, PARSER_ERROR, declared=0)
    assert hb.ops == 0
    assert_still_v1(hb, v1, before)


def test_truncated_stream_never_completes(setup):
    hb, v1, _, sfb = setup
    before = slot0(hb)
    result = hb.update(sfb[:-32], declared=0, install=True)
    assert result.failed_call == 3 and result.status.status == INVALID_STATE
    assert result.status.stage == STAGE_DATA and not result.status.completed
    assert not hb.marker(MARK_READY)
    assert_still_v1(hb, v1, before)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 16, 17, 128, 129, 255, 511, 4096])
def test_any_chunk_size_installs(setup, chunk):
    hb, _, v2, sfb = setup
    result = hb.update(sfb, chunk=chunk)
    assert result.failed_call == 0 and result.status.status == COMPLETED and result.status.stage == STAGE_READY
    assert result.status.received == len(sfb) and result.status.percent == 100
    slot1 = hb.read(hb.board.slot1.address, len(sfb))
    assert slot1[:128] == sfb[:128] and slot1[hb.board.vector_size :] == sfb[hb.board.vector_size :]
    _, vector, log = hb.boot()
    assert vector and hb.slot0_valid_as(v2, V2), log
    assert hb.violations == 0


def test_random_chunking_and_reboot_delay_next(setup):
    hb, _, v2, sfb = setup
    rng = random.Random(SEED)
    st, info = Status(), StartInfo(1, 0, DELAY_NEXT, 0)
    assert hb.lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(info)) == 1
    pos = 0
    while pos < len(sfb):
        n = rng.randint(0, 300)
        assert hb.lib.SE_PATCH_Data(ctypes.byref(st), sfb[pos : pos + n], len(sfb[pos : pos + n])) == 1, st.status
        pos += n
    assert st.stage == STAGE_READY and hb.marker(MARK_READY)  # NEXT: marked without InstallAtNextReset
    # Bytes after the end are ignored.
    assert hb.lib.SE_PATCH_Data(ctypes.byref(st), b"junk", 4) == 1 and st.received == len(sfb)
    _, _vector, _ = hb.boot()
    assert hb.slot0_valid_as(v2, V2)


def test_call_order(setup):
    hb, v1, _, sfb = setup
    before = slot0(hb)
    st = Status()
    assert hb.lib.SE_PATCH_Data(ctypes.byref(st), sfb, 16) == 0 and st.status == INVALID_ORDER
    info = StartInfo(1, 0, DELAY_COMMAND, len(sfb))
    assert hb.lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(info)) == 1
    assert hb.lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(info)) == 0 and st.status == INVALID_STATE
    for bad in (StartInfo(2, 0, DELAY_COMMAND, 0), StartInfo(1, 0, 5, 0)):  # BOOT type, delay window
        hb.power_on()
        assert hb.lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(bad)) == 0 and st.status == INVALID_ARG
    assert_still_v1(hb, v1, before)


def test_abort_invalidates_partial_download(setup):
    hb, v1, _, sfb = setup
    before = slot0(hb)
    st, info = Status(), StartInfo(1, 0, DELAY_COMMAND, len(sfb))
    assert hb.lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(info)) == 1
    assert hb.lib.SE_PATCH_Data(ctypes.byref(st), sfb, 1000) == 1 and st.stage == STAGE_DATA
    assert hb.read(hb.board.slot1.address, 2) == b"SU"
    assert hb.lib.SE_PATCH_Abort(ctypes.byref(st)) == 1 and st.stage == 0
    assert hb.read(hb.board.slot1.address, 128) == b"\xff" * 128
    _, _, log = hb.boot()
    assert "Slot 1 is empty." in log
    assert_still_v1(hb, v1, before)
