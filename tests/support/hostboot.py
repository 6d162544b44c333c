# SPDX-License-Identifier: Apache-2.0
"""The real bootloader core (bootloader/src) built for the host against the flash simulator in
bootloader/port/host, loaded with ctypes. One shared library per (board, key set)."""

from __future__ import annotations

import ctypes
import hashlib
import struct
from dataclasses import dataclass

from spb import image, journal
from spb.board import Board, load_board
from spb.board_header import render
from spb.keys import KeySet, c_source

from .cbuild import CACHE, REPO, build

BOOT = REPO / "bootloader"
MARK_READY, MARK_APPROVED, MARK_DONE = 0x80, 0xA0, 0xC0
DELAY_NEXT, DELAY_COMMAND = 0x0000, 0xFFFF

# SE_PATCH_StatusCode / Stage values (bootloader/include/se_interface.h)
COMPLETED, INVALID_ARG, INVALID_PATCH_IMAGE = 1, 2, 3
IMAGE_TOO_LARGE, IMAGE_TOO_SMALL, IMAGE_VERSION_FAILURE = 7, 8, 12
IMAGE_VERIFY_TAG_FAILURE, IMAGE_VERIFY_ALG_FAILURE = 14, 15
INVALID_STATE, INVALID_ORDER, PARSER_ERROR = 17, 18, 20
STAGE_IDLE, STAGE_HEADER, STAGE_DATA, STAGE_VERIFIED, STAGE_READY, STAGE_ERROR = range(6)


class Status(ctypes.Structure):
    _fields_ = [
        ("status", ctypes.c_uint8),
        ("stage", ctypes.c_uint8),
        ("completed", ctypes.c_uint8),
        ("percent", ctypes.c_uint8),
        ("received", ctypes.c_uint32),
        ("total", ctypes.c_uint32),
    ]


class StartInfo(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_uint8),
        ("reserved", ctypes.c_uint8),
        ("rebootDelay", ctypes.c_uint16),
        ("totalLength", ctypes.c_uint32),
    ]


def app_image(board: Board, data: bytes) -> bytes:
    """`data` with a vector table the bootloader's hand-over checks accept: initial SP at the top of RAM,
    reset handler (Thumb) just after the two vector words."""
    sp = board.ram.base + board.ram.size
    reset = board.app_vector_address + 8
    return struct.pack("<II", sp, reset | 1) + bytes(data[8:])


@dataclass
class UpdateResult:
    cut: bool
    failed_call: int  # 0 none, 1 Init, 2 Data, 3 InstallAtNextReset
    status: Status


class FwInfo(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
        ("tag", ctypes.c_uint8 * 32),
        ("state", ctypes.c_uint8),
        ("trial_boots", ctypes.c_uint8),
        ("trial_boots_max", ctypes.c_uint8),
        ("reserved", ctypes.c_uint8),
    ]


FW_CONFIRMED, FW_TRIAL, FW_ROLLBACK = 0, 1, 2


class HostBootloader:
    def __init__(self, board_name: str, keys: KeySet, trial: bool = False):
        """trial: build with the board's [trial] table (install by exchange, trial boot; docs/trial-boot.md);
        without it, the overwrite install every board has with TRIAL=0."""
        self.board: Board = load_board(REPO / "boards" / f"{board_name}.toml")
        self.keys = keys
        self.trial = trial
        mode = "-trial" if trial else ""
        gen = CACHE / f"gen-{board_name}{mode}-{hashlib.sha256(keys.public_key + keys.aes_key).hexdigest()[:12]}"
        gen.mkdir(parents=True, exist_ok=True)
        (gen / "spb_board.h").write_text(render(self.board, trial=trial))
        (gen / "spb_keys.c").write_text(c_source(keys))
        sources = [
            *sorted((BOOT / "src").glob("*.c")),
            *sorted((BOOT / "src/crypto").glob("*.c")),
            BOOT / "port/host/port_host.c",
            gen / "spb_keys.c",
        ]
        includes = [
            gen,
            BOOT / "include",
            BOOT / "src",
            BOOT / "src/crypto",
            BOOT / "port",
            BOOT / "port/common",
            BOOT / "port/host",
        ]
        lib = build(
            f"hostboot-{board_name}{mode}",
            sources,
            includes,
            defines=["SPB_HOST", "SPB_BOOTLOADER_BUILD", 'SPB_BOOT_VERSION_STR="vhost"'],
            extra_files=[gen / "spb_board.h"],
        )
        self.lib = ctypes.CDLL(str(lib))
        L = self.lib
        for name, res, args in [
            ("host_flash", ctypes.c_void_p, []),
            ("host_flash_size", ctypes.c_uint32, []),
            ("host_ext", ctypes.c_void_p, []),
            ("host_ext_size", ctypes.c_uint32, []),
            ("host_ecc", ctypes.c_void_p, []),
            ("host_ecc_size", ctypes.c_uint32, []),
            ("host_ops", ctypes.c_uint32, []),
            ("host_erases", ctypes.c_uint32, []),
            ("host_violations", ctypes.c_uint32, []),
            ("host_console", ctypes.c_char_p, []),
            ("host_set_cut", None, [ctypes.c_uint32]),
            ("host_boot", ctypes.c_int, [ctypes.POINTER(ctypes.c_uint32)]),
            (
                "host_update",
                ctypes.c_int,
                [
                    ctypes.c_char_p,
                    ctypes.c_uint32,
                    ctypes.c_uint32,
                    ctypes.c_uint16,
                    ctypes.c_uint32,
                    ctypes.c_int,
                    ctypes.POINTER(Status),
                    ctypes.POINTER(ctypes.c_uint32),
                ],
            ),
            ("SE_PATCH_Init", ctypes.c_uint32, [ctypes.POINTER(Status), ctypes.POINTER(StartInfo)]),
            ("SE_PATCH_Data", ctypes.c_uint32, [ctypes.POINTER(Status), ctypes.c_char_p, ctypes.c_uint32]),
            ("SE_PATCH_InstallAtNextReset", ctypes.c_uint32, [ctypes.POINTER(Status)]),
            ("SE_PATCH_Abort", ctypes.c_uint32, [ctypes.POINTER(Status)]),
            ("SE_PATCH_Poll", ctypes.c_uint32, [ctypes.POINTER(Status)]),
            (
                "host_app_call",
                ctypes.c_int,
                [
                    ctypes.c_uint32,
                    ctypes.POINTER(ctypes.c_uint32),
                    ctypes.POINTER(FwInfo),
                    ctypes.POINTER(ctypes.c_uint32),
                ],
            ),
        ]:
            fn = getattr(L, name)
            fn.restype = res
            fn.argtypes = args
        self.erase_all()

    # -- flash ------------------------------------------------------------------------------------
    def erase_all(self):
        self.lib.host_erase_all()

    def _locate(self, address, size):
        b = self.board
        if b.flash.base <= address and address + size <= b.flash.base + b.flash.size:
            return self.lib.host_flash(), address - b.flash.base
        ext = b.external_flash
        if ext is not None and ext.base <= address and address + size <= ext.base + self.lib.host_ext_size():
            return self.lib.host_ext(), address - ext.base
        raise ValueError(f"{address:#x}+{size:#x} is outside the simulated flash")

    def read(self, address, size) -> bytes:
        base, offset = self._locate(address, size)
        return ctypes.string_at(base + offset, size)

    def write(self, address, data: bytes):
        """Direct write (a programmer), bypassing the flash rules."""
        base, offset = self._locate(address, len(data))
        ctypes.memmove(base + offset, bytes(data), len(data))

    def save_state(self) -> tuple:
        """Everything that survives a power cut: both flash arrays and the units with ECC errors."""
        L = self.lib
        ext = ctypes.string_at(L.host_ext(), L.host_ext_size()) if L.host_ext_size() else b""
        return (
            ctypes.string_at(L.host_flash(), L.host_flash_size()),
            ext,
            ctypes.string_at(L.host_ecc(), L.host_ecc_size()),
        )

    def load_state(self, state: tuple):
        L = self.lib
        internal, ext, ecc = state
        ctypes.memmove(L.host_flash(), internal, len(internal))
        if ext:
            ctypes.memmove(L.host_ext(), ext, len(ext))
        ctypes.memmove(L.host_ecc(), ecc, len(ecc))

    def ecc_errors(self) -> int:
        """Programming units that currently read with an ECC error (boards with ECC flash)."""
        return ctypes.string_at(self.lib.host_ecc(), self.lib.host_ecc_size()).count(1)

    def snapshot(self):
        self.lib.host_snapshot()

    def restore(self):
        self.lib.host_restore()

    # -- images -----------------------------------------------------------------------------------
    def plaintext_address(self, segoff, offset):
        b = self.board
        if segoff and offset >= segoff:
            return b.slot0.external.address + offset - segoff
        return b.app_vector_address + offset

    def manufacture(self, plaintext: bytes, version: int, segoff: int = 0):
        """SLOT0 as the combined manufacturing image leaves it."""
        header = image.image_header(plaintext, version, self.keys, segoff)
        self.write(self.board.bootloader.journal_address, journal.entry(header))
        self.write(self.board.slot0.address, image.installed_header(header, self.board.vector_size))
        self.write_plain(plaintext, segoff)
        return header

    def write_plain(self, plaintext, segoff=0):
        if segoff:
            self.write(self.plaintext_address(0, 0), plaintext[:segoff])
            self.write(self.plaintext_address(segoff, segoff), plaintext[segoff:])
        else:
            self.write(self.plaintext_address(0, 0), plaintext)

    def slot0_plaintext(self, size, segoff=0) -> bytes:
        if segoff:
            return self.read(self.plaintext_address(0, 0), segoff) + self.read(
                self.plaintext_address(segoff, segoff), size - segoff
            )
        return self.read(self.plaintext_address(0, 0), size)

    def slot0_header(self):
        return image.Header.unpack(self.read(self.board.slot0.address, 128))

    def slot0_valid_as(self, plaintext, version) -> bool:
        """SLOT0 holds this exact image with an authentic installed header."""
        raw = self.read(self.board.slot0.address, 0xE0)
        try:
            header = image.Header.unpack(raw[:128])
        except Exception:
            return False
        return (
            header.signature_valid(self.keys.public_key)
            and header.version == version
            and raw[128:] == header.signature[:32] * 3
            and self.slot0_plaintext(len(plaintext), header.segoff) == plaintext
        )

    def marker(self, offset) -> bool:
        erased = self.board.flash.erased_value if self._is_internal(self.board.slot1.address) else 0xFF
        return self.read(self.board.slot1.address + offset, 32) != bytes([erased]) * 32

    def _is_internal(self, address):
        return self.board.flash.base <= address < self.board.flash.base + self.board.flash.size

    # -- calls ------------------------------------------------------------------------------------
    def app_call(self, which: int, cut=0):
        """SE_APP_Confirm (0), SE_APP_Rollback (1) or SE_APP_GetActiveFwInfo2 (2), as the application calls
        them; returns (cut_happened, SE_ErrorStatus, SE_StatusTypeDef, FwInfo)."""
        self.lib.host_set_cut(cut)
        status, result, info = ctypes.c_uint32(), ctypes.c_uint32(), FwInfo()
        cut_happened = bool(
            self.lib.host_app_call(which, ctypes.byref(status), ctypes.byref(info), ctypes.byref(result))
        )
        self.lib.host_set_cut(0)
        return cut_happened, result.value, status.value, info

    def confirm(self, cut=0):
        return self.app_call(0, cut)

    def rollback(self, cut=0):
        return self.app_call(1, cut)

    def fw_info(self) -> FwInfo:
        return self.app_call(2)[3]

    def boot(self, cut=0):
        """Run the boot sequence; returns (cut_happened, vector_table_or_0, console text)."""
        self.lib.host_set_cut(cut)
        vector = ctypes.c_uint32()
        cut_happened = bool(self.lib.host_boot(ctypes.byref(vector)))
        self.lib.host_set_cut(0)
        return cut_happened, vector.value, self.console()

    def update(self, data: bytes, chunk=64, delay=DELAY_COMMAND, declared=None, install=True, cut=0) -> UpdateResult:
        self.lib.host_set_cut(cut)
        status = Status()
        failed = ctypes.c_uint32()
        cut_happened = bool(
            self.lib.host_update(
                bytes(data),
                len(data),
                chunk,
                delay,
                len(data) if declared is None else declared,
                int(install),
                ctypes.byref(status),
                ctypes.byref(failed),
            )
        )
        self.lib.host_set_cut(0)
        return UpdateResult(cut_happened, failed.value, status)

    def power_on(self):
        self.lib.host_power_on()

    def reset_ops(self):
        self.lib.host_reset_ops()

    @property
    def ops(self):
        return self.lib.host_ops()

    @property
    def violations(self):
        return self.lib.host_violations()

    def console(self) -> str:
        text = self.lib.host_console().decode(errors="replace")
        self.lib.host_console_clear()
        return text
