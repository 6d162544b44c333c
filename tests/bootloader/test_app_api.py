# SPDX-License-Identifier: Apache-2.0
"""The application interface outside the update stream (bootloader/src/api.c and the small SE_PATCH_*
calls), on the real core built for the host: the API table the application finds at SE_API, the
running image's identity, the bootloader's version string, the status strings, Poll, and the calls
that are valid in the READY stage."""

from __future__ import annotations

import ctypes
import hashlib
import random

import pytest

from spb import image
from support.hostboot import (
    COMPLETED,
    DELAY_NEXT,
    IMAGE_TOO_SMALL,
    INVALID_ARG,
    PARSER_ERROR,
    STAGE_ERROR,
    STAGE_IDLE,
    STAGE_READY,
    StartInfo,
    Status,
    app_image,
)

BOARD = "EMU-MPS2-AN385"
V1, V2 = 0x01000000, 0x01020003
SEED = 0x5EA9
SE_ERROR, SE_SUCCESS = 0, 1
SE_OK, SE_KO = 0, 1
SPB_API_MAGIC, SPB_API_ABI = 0x41425053, 1
STATUS_CODE_MAX = 26  # SE_PATCH_StatusCode_MAX
BOOT_VERSION = b"vhost"  # SPB_BOOT_VERSION_STR of the host build (tests/support/hostboot.py)

u32p = ctypes.POINTER(ctypes.c_uint32)


class ActiveFwInfo(ctypes.Structure):
    _fields_ = [
        ("ActiveFwVersion", ctypes.c_uint32),
        ("ActiveFwSize", ctypes.c_uint32),
        ("ActiveFwTag", ctypes.c_uint8 * 32),
    ]


class ApiTable(ctypes.Structure):
    _fields_ = [
        ("magic", ctypes.c_uint32),
        ("abi", ctypes.c_uint16),
        ("size", ctypes.c_uint16),
        *[
            (name, ctypes.c_void_p)
            for name in (
                "GetActiveFwInfo",
                "GetBootVer",
                "PatchInitStatus",
                "PatchInit",
                "PatchData",
                "PatchInstallAtNextReset",
                "PatchAbort",
                "PatchPoll",
                "StatusCodeString",
                "GetActiveFwInfo2",
                "Confirm",
                "Rollback",
            )
        ],
    ]


def prototype(lib, name, restype, *argtypes):
    """A function of the library with its own prototype (the library object is shared by the session)."""
    return ctypes.CFUNCTYPE(restype, *argtypes)((name, lib))


@pytest.fixture
def hb(host_bootloader):
    hb = host_bootloader(BOARD)
    hb.power_on()
    return hb


def active_fw_info(hb, with_status=True, with_info=True):
    fn = prototype(hb.lib, "SE_APP_GetActiveFwInfo", ctypes.c_uint32, u32p, ctypes.POINTER(ActiveFwInfo))
    status, info = ctypes.c_uint32(0xEEEE), ActiveFwInfo()
    result = fn(ctypes.byref(status) if with_status else None, ctypes.byref(info) if with_info else None)
    return result, status.value, info


def boot_version(hb, length, with_status=True, with_buffer=True):
    fn = prototype(hb.lib, "SE_APP_GetBootVer", ctypes.c_uint32, u32p, ctypes.c_char_p, ctypes.c_uint32)
    status, buffer = ctypes.c_uint32(0xEEEE), ctypes.create_string_buffer(b"\xaa" * 16, 16)
    result = fn(ctypes.byref(status) if with_status else None, buffer if with_buffer else None, length)
    return result, status.value, buffer.raw


def test_api_table_is_what_the_application_links_against(hb):
    """The table at SE_API: magic, ABI, its own size, and every entry the function of that name."""
    table = ApiTable.in_dll(hb.lib, "spb_api_table")
    assert (table.magic, table.abi, table.size) == (SPB_API_MAGIC, SPB_API_ABI, ctypes.sizeof(ApiTable))
    for field, symbol in [
        ("GetActiveFwInfo", "SE_APP_GetActiveFwInfo"),
        ("GetBootVer", "SE_APP_GetBootVer"),
        ("PatchInitStatus", "SE_PATCH_InitStatus"),
        ("PatchInit", "SE_PATCH_Init"),
        ("PatchData", "SE_PATCH_Data"),
        ("PatchInstallAtNextReset", "SE_PATCH_InstallAtNextReset"),
        ("PatchAbort", "SE_PATCH_Abort"),
        ("PatchPoll", "SE_PATCH_Poll"),
        ("StatusCodeString", "SE_PATCH_GetStatusCodeString"),
        ("GetActiveFwInfo2", "SE_APP_GetActiveFwInfo2"),
        ("Confirm", "SE_APP_Confirm"),
        ("Rollback", "SE_APP_Rollback"),
    ]:
        assert getattr(table, field) == ctypes.cast(getattr(hb.lib, symbol), ctypes.c_void_p).value, field


def test_active_fw_info_follows_slot0(hb, dev_keys):
    rng = random.Random(SEED)
    v1, v2 = app_image(hb.board, rng.randbytes(1024)), app_image(hb.board, rng.randbytes(1536))

    # An empty SLOT0 has no identity: an error, and the status says KO.
    assert active_fw_info(hb)[:2] == (SE_ERROR, SE_KO)

    hb.manufacture(v1, V1)
    result, status, info = active_fw_info(hb)
    assert (result, status) == (SE_SUCCESS, SE_OK)
    assert (info.ActiveFwVersion, info.ActiveFwSize) == (V1, len(v1))
    assert bytes(info.ActiveFwTag) == hashlib.sha256(v1).digest()
    assert active_fw_info(hb, with_status=False)[0] == SE_SUCCESS  # the status is optional
    assert active_fw_info(hb, with_info=False)[:2] == (SE_ERROR, SE_KO)
    assert active_fw_info(hb, with_status=False, with_info=False)[0] == SE_ERROR

    # After an update and the reboot that installs it, the new image.
    result = hb.update(image.build_sfb(v2, V2, dev_keys, hb.board.vector_size))
    assert result.failed_call == 0 and result.status.status == COMPLETED
    _cut, vector, log = hb.boot()
    assert vector and hb.slot0_valid_as(v2, V2), log
    result, status, info = active_fw_info(hb)
    assert (result, status, info.ActiveFwVersion, info.ActiveFwSize) == (SE_SUCCESS, SE_OK, V2, len(v2))
    assert bytes(info.ActiveFwTag) == hashlib.sha256(v2).digest()

    # A SLOT0 header that no longer authenticates is no identity either.
    address = hb.board.slot0.address + 0x20
    hb.write(address, bytes([hb.read(address, 1)[0] ^ 1]))
    assert active_fw_info(hb)[:2] == (SE_ERROR, SE_KO)


@pytest.mark.parametrize(
    ("length", "result", "status", "text"),
    [
        (16, SE_SUCCESS, SE_OK, BOOT_VERSION),
        (len(BOOT_VERSION) + 1, SE_SUCCESS, SE_OK, BOOT_VERSION),  # exactly fits with its NUL
        (len(BOOT_VERSION), SE_ERROR, SE_KO, BOOT_VERSION[:-1]),  # truncated, still terminated
        (1, SE_ERROR, SE_KO, b""),
    ],
)
def test_boot_version(hb, length, result, status, text):
    got, got_status, buffer = boot_version(hb, length)
    assert (got, got_status) == (result, status)
    assert buffer[: len(text) + 1] == text + b"\0"
    assert buffer[len(text) + 1 :] == b"\xaa" * (16 - len(text) - 1)  # nothing written past the NUL
    assert boot_version(hb, length, with_status=False)[0] == result


def test_boot_version_refuses_no_buffer(hb):
    result, status, buffer = boot_version(hb, 0)
    assert (result, status, buffer) == (SE_ERROR, SE_KO, b"\xaa" * 16)  # length 0: not one byte written
    assert boot_version(hb, 16, with_buffer=False)[:2] == (SE_ERROR, SE_KO)
    assert boot_version(hb, 16, with_status=False, with_buffer=False)[0] == SE_ERROR


def test_status_code_strings(hb):
    fn = prototype(hb.lib, "SE_PATCH_GetStatusCodeString", ctypes.c_char_p, ctypes.c_uint8)
    strings = [fn(code).decode() for code in range(STATUS_CODE_MAX)]
    assert len(set(strings)) == STATUS_CODE_MAX and all(strings)  # one distinct text per code
    assert strings[0] == "None" and strings[COMPLETED] == "Completed"
    assert strings[INVALID_ARG].startswith("Invalid arg") and strings[PARSER_ERROR].startswith("Parser error")
    for code in (STATUS_CODE_MAX, 0x80, 0xFF):
        assert fn(code) == b"Unknown status"


def test_poll_and_install_when_ready(hb, dev_keys):
    """Poll reports without changing anything; InstallAtNextReset in READY (reboot delay NEXT, already
    marked) succeeds again without a flash operation; Poll fails once the session has failed."""
    rng = random.Random(SEED + 1)
    v1, v2 = app_image(hb.board, rng.randbytes(512)), app_image(hb.board, rng.randbytes(768))
    hb.manufacture(v1, V1)
    sfb = image.build_sfb(v2, V2, dev_keys, hb.board.vector_size)
    lib = hb.lib
    st = Status()
    assert lib.SE_PATCH_Poll(ctypes.byref(st)) == SE_SUCCESS and st.stage == STAGE_IDLE

    info = StartInfo(1, 0, DELAY_NEXT, len(sfb))
    assert lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(info)) == SE_SUCCESS
    assert lib.SE_PATCH_Data(ctypes.byref(st), sfb, len(sfb)) == SE_SUCCESS
    assert (st.status, st.stage, st.completed, st.percent) == (COMPLETED, STAGE_READY, 1, 100)
    polled = Status()
    assert lib.SE_PATCH_Poll(ctypes.byref(polled)) == SE_SUCCESS
    assert bytes(polled) == bytes(st)
    assert lib.SE_PATCH_Poll(None) == SE_SUCCESS  # the status is optional
    hb.reset_ops()
    again = Status()
    assert lib.SE_PATCH_InstallAtNextReset(ctypes.byref(again)) == SE_SUCCESS
    assert bytes(again) == bytes(st) and hb.ops == 0
    _cut, vector, log = hb.boot()
    assert vector and hb.slot0_valid_as(v2, V2), log

    # A new session that fails: a declared length below the smallest stream.
    hb.power_on()
    small = StartInfo(1, 0, DELAY_NEXT, 2 * 128 + 15)
    assert lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(small)) == SE_ERROR
    assert (st.status, st.stage) == (IMAGE_TOO_SMALL, STAGE_IDLE)
    # One that fails in the stream: a header whose signature does not verify.
    info = StartInfo(1, 0, DELAY_NEXT, 0)
    assert lib.SE_PATCH_Init(ctypes.byref(st), ctypes.byref(info)) == SE_SUCCESS
    bad = bytearray(sfb[:128])
    bad[0x20] ^= 1
    assert lib.SE_PATCH_Data(ctypes.byref(st), bytes(bad), len(bad)) == SE_ERROR
    assert st.stage == STAGE_ERROR
    polled = Status()
    assert lib.SE_PATCH_Poll(ctypes.byref(polled)) == SE_ERROR
    assert (polled.stage, polled.status) == (STAGE_ERROR, st.status)


@pytest.mark.parametrize(
    ("size", "status"),
    [(0, IMAGE_TOO_SMALL), (1000, PARSER_ERROR)],  # empty; not whole AES blocks
    ids=["empty", "not-whole-blocks"],
)
def test_authentic_header_of_an_impossible_size_is_refused(hb, dev_keys, size, status):
    """A header signed with the device's key (so past the authentication) whose size no image can have:
    refused on the header, before a single flash operation, and SLOT0 keeps booting."""
    rng = random.Random(SEED + 2)
    v1 = app_image(hb.board, rng.randbytes(512))
    hb.manufacture(v1, V1)
    tag = hashlib.sha256(b"").digest()
    header = image.Header(image.PROTOCOL_IMAGE, bytes(16), V2, size, tag).signed(dev_keys)
    stream = header.pack() + bytes(hb.board.vector_size - 128) + bytes(1024)
    hb.reset_ops()
    result = hb.update(stream, declared=0)
    assert result.failed_call == 2 and result.status.status == status and result.status.stage == STAGE_ERROR
    assert hb.ops == 0
    _cut, vector, log = hb.boot()
    assert vector == hb.board.app_vector_address and hb.slot0_valid_as(v1, V1), log


def test_abi1_entry_writes_only_the_abi1_struct(hb, dev_keys):
    """Applications built before the trial-state fields pass a 40-byte struct to the ABI-1 entry: it must
    not write past it. GetActiveFwInfo2 fills the state (confirmed: this build has no trial boot)."""
    hb.manufacture(app_image(hb.board, random.Random(SEED).randbytes(1024)), V1)
    buf = (ctypes.c_uint8 * 48)(*([0xA5] * 48))
    fn = prototype(hb.lib, "SE_APP_GetActiveFwInfo", ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32), ctypes.c_void_p)
    status = ctypes.c_uint32()
    assert fn(ctypes.byref(status), ctypes.cast(buf, ctypes.c_void_p)) == SE_SUCCESS
    assert bytes(buf[40:]) == b"\xa5" * 8
    fn2 = prototype(
        hb.lib, "SE_APP_GetActiveFwInfo2", ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32), ctypes.c_void_p
    )
    assert fn2(ctypes.byref(status), ctypes.cast(buf, ctypes.c_void_p)) == SE_SUCCESS
    assert bytes(buf[40:44]) == bytes(4) and bytes(buf[44:]) == b"\xa5" * 4
    confirm = prototype(hb.lib, "SE_APP_Confirm", ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32))
    rollback = prototype(hb.lib, "SE_APP_Rollback", ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32))
    assert confirm(ctypes.byref(status)) == SE_SUCCESS and status.value == SE_OK  # nothing to confirm
    assert rollback(ctypes.byref(status)) == SE_ERROR and status.value == SE_KO  # nothing to go back to
