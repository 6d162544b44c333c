# SPDX-License-Identifier: Apache-2.0
"""Firmware for the silicon tests and the scenarios they share.

Every board is built by `scons` exactly as a user builds it (bootloader + examples/hello), twice:
release 1.0.0 and release 1.1.0 with the same keys and release store, so the second build also makes
the delta patch 1.0.0 -> 1.1.0. The machine starts from the 1.0.0 manufacturing image
(hello_combined.hex), the bytes a production programmer would write.

The example application's console protocol ('u' + u32 length + file) streams an update into SLOT1
through the bootloader's SE_PATCH_* API, then resets into the install: the same path a product takes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from spb import image, journal
from spb.board import Board, load_board
from spb.keys import KeySet, load_keys
from support.scons_project import REPO, make_keys, scons

from .harness.machine import Machine, RunResult

OUT = REPO / "build" / "silicon"
#: one board per flash IP generation (L4 double words with ECC, F4 sectors, L0 words erased to zero, L4+
#: with octal external flash): every scenario, every power-cut point
BOARDS = ("NUCLEO-L452RE", "NUCLEO-F429ZI", "NUCLEO-L073RZ", "DISCO-L4R9I")
#: the original system's other boards whose parts use those flash IPs: boot, both kinds of update, a
#: subset of the refusals and sampled power cuts (the IP itself is enumerated on BOARDS)
MORE_BOARDS = (
    "NUCLEO-L476RG",
    "DISCO-L476G",
    "NUCLEO-L496ZG",
    "DISCO-L496G",
    "B-L4S5I-IOT01A",
    "B-L072Z-LRWAN1",
    "NUCLEO-L412KB",
    "DISCO-F469I",  # F4 sectors (F469: 180 MHz, over-drive) + QUADSPI and N25Q128A MultiSegment external flash
    "DISCO-L562E",  # L5 (TrustZone disabled): the L4 flash IP through its non-secure registers
    # the L4 flash IP on the G4 (170 MHz, boost), G0 (Cortex-M0+, bank 2 pages 256.., BKER bit 13, ECC2R) and
    # WL (registers on AHB3, CFGBSY); NUCLEO-WL55JC is also enumerated (test_powercut.py)
    "NUCLEO-G474RE",
    "NUCLEO-G0B1RE",
    "NUCLEO-WL55JC",
    "LORA-E5-DEV",
    # F7 (Cortex-M7, 216 MHz with over-drive): the F4's sector controller in single-bank mode (32/128/256 KiB
    # sectors), QUADSPI + MX25L51245G (4-byte addresses) MultiSegment external flash; install enumerated
    # (test_powercut.py)
    "DISCO-F769I",
    # H7 flash words (256 bits, ECC: a torn word reads as a bus error) on the Cortex-M7 of the STM32H745, QUADSPI
    # dual-flash mode with the MT25TL01G's two dies; its new flash IP is enumerated in test_powercut.py
    "DISCO-H745I",
)
#: boards without SLOT1 (no download, no patch: the update API refuses with SECTION_NOT_AVAILABLE)
SINGLE_SLOT = ("NUCLEO-L412KB",)
ALL_BOARDS = BOARDS + MORE_BOARDS
MORE_DUAL_SLOT = tuple(b for b in MORE_BOARDS if b not in SINGLE_SLOT)
V1, V2 = "1.0.0", "1.1.0"
_cache: dict = {}


@contextlib.contextmanager
def _build_lock():
    """One builder at a time across pytest-xdist workers (they share build/silicon/)."""
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def version_word(text: str) -> int:
    from spb.version import Version

    return Version.parse(text).encoded


def keys() -> KeySet:
    directory = OUT / "keys"
    with _build_lock():
        if not (directory / "signing_key.pem").exists():
            make_keys(directory)
    return load_keys(directory)


def other_keys() -> KeySet:
    """A second key set (another vendor's, or a lost development set): nothing it signs is this device's."""
    directory = OUT / "other-keys"
    with _build_lock():
        if not (directory / "signing_key.pem").exists():
            make_keys(directory)
    return load_keys(directory)


@dataclass
class Firmware:
    board: Board
    keys: KeySet
    builds: dict  # version -> build directory

    def path(self, version: str, name: str) -> Path:
        return self.builds[version] / name

    def combined(self, version: str = V1) -> Path:
        return self.path(version, "hello_combined.hex")

    def plain(self, version: str) -> bytes:
        return self.path(version, "hello.bin").read_bytes()

    def sfb(self, version: str = V2) -> bytes:
        return self.path(version, "hello.sfb").read_bytes()

    def sfbp(self) -> bytes:
        return self.path(V2, f"hello_{V1}_to_{V2}.sfbp").read_bytes()

    def bootloader_elf(self) -> Path:
        return self.path(V1, "bootloader.elf")


def firmware(board_name: str) -> Firmware:
    """The two releases of a board, built once per session (scons is incremental across sessions), with
    the overwrite install (TRIAL=0) every board has; trial boot is tested on trial_firmware()."""
    if board_name in _cache:
        return _cache[board_name]
    ks = keys()
    root = OUT / board_name
    builds = {}
    with _build_lock():
        for version in (V1, V2):
            build = root / version
            scons(
                REPO,
                f"BOARD={board_name}",
                f"BUILD_DIR={build}",
                f"KEYS={ks.directory}",
                f"VERSION={version}",
                f"RELEASES_DIR={root / 'releases'}",
                # The store under build/silicon outlives sessions: a change to the example or the plugin
                # rebuilds 1.0.0 with other bytes, which a real store refuses; this one is scratch.
                "RELEASE_REPLACE=1",
                "TRIAL=0",
                "-Q",
            )
            builds[version] = build
    fw = Firmware(load_board(REPO / "boards" / f"{board_name}.toml"), ks, builds)
    _cache[board_name] = fw
    return fw


#: the trial-boot releases: a good 1.0.0, the deliberately broken 1.1.0 (never confirms, resets), a good 1.2.0
TRIAL_RELEASES = (("1.0.0", False), ("1.1.0", True), ("1.2.0", False))


def trial_firmware(board_name: str) -> Firmware:
    """The trial-boot releases of a board with a [trial] table, built as a user builds them (TRIAL=auto)."""
    key = (board_name, "trial")
    if key in _cache:
        return _cache[key]
    ks = keys()
    root = OUT / f"{board_name}-trial"
    builds = {}
    with _build_lock():
        for version, broken in TRIAL_RELEASES:
            build = root / version
            scons(
                REPO,
                f"BOARD={board_name}",
                f"BUILD_DIR={build}",
                f"KEYS={ks.directory}",
                f"VERSION={version}",
                f"RELEASES_DIR={root / 'releases'}",
                "RELEASE_REPLACE=1",
                f"HELLO_NEVER_CONFIRM={int(broken)}",
                "-Q",
            )
            builds[version] = build
    fw = Firmware(load_board(REPO / "boards" / f"{board_name}.toml"), ks, builds)
    _cache[key] = fw
    return fw


def bootloader_usage(elf_path: Path) -> tuple[int, int]:
    """(flash, RAM) bytes a bootloader ELF occupies: allocated PROGBITS below RAM; allocated sections in RAM
    but the stack."""
    from elftools.elf.elffile import ELFFile

    with open(elf_path, "rb") as handle:
        elf = ELFFile(handle)
        flash = sum(
            s["sh_size"]
            for s in elf.iter_sections()
            if s["sh_flags"] & 2 and s["sh_type"] == "SHT_PROGBITS" and s["sh_addr"] < 0x20000000
        )
        ram = sum(
            s["sh_size"]
            for s in elf.iter_sections()
            if s["sh_flags"] & 2 and 0x20000000 <= s["sh_addr"] < 0x40000000 and s.name != ".stack"
        )
    return flash, ram


# -- machines --------------------------------------------------------------------------------------------


def machine(fw: Firmware, version: str = V1, seed: int = 0) -> Machine:
    """A board fresh from the factory: the manufacturing image of `version` programmed, power on."""
    m = Machine(fw.board, seed=seed)
    m.load_hex(fw.combined(version))
    m.power_on()
    return m


def app_vector(board: Board, plaintext: bytes) -> tuple:
    """(initial SP, reset handler without the Thumb bit) of an image's vector table."""
    sp, reset = struct.unpack_from("<II", plaintext, 0)
    return sp, reset & ~1


def expect_app(m: Machine, result: RunResult, plaintext: bytes, context: str = "") -> None:
    """The bootloader handed over to exactly this image: MSP and PC from its vector table, VTOR at it."""
    assert result.reason == "app", f"{context}: {result.reason} {result.detail}\n{tail(m)}"
    sp, reset = app_vector(m.board, plaintext)
    entry = result.app
    assert (entry.pc, entry.msp) == (reset, sp), (
        f"{context}: entered {entry.pc:#x} with MSP {entry.msp:#x}, expected {reset:#x} / {sp:#x}\n{tail(m)}"
    )
    assert entry.vtor == m.board.app_vector_address, f"{context}: VTOR {entry.vtor:#x}"


def tail(m: Machine, n: int = 1500) -> str:
    events = "\n".join(m.events[-15:])
    return f"--- console ---\n{m.console_text()[-n:]}\n--- events ---\n{events}"


def no_violations(m: Machine, context: str = "") -> None:
    assert not m.violations, f"{context}: model violations:\n" + "\n".join(m.violations[:20])


def slot0_image(m: Machine, size: int, segoff: int = 0) -> bytes:
    b = m.board
    if segoff:
        return m.read(b.app_vector_address, segoff) + m.read(b.slot0.external.address, size - segoff)
    return m.read(b.app_vector_address, size)


def installed_ok(m: Machine, fw: Firmware, plaintext: bytes, version: str) -> bool:
    """SLOT0 holds exactly this image with its authentic installed header (header + three copies)."""
    b = m.board
    raw = m.read(b.slot0.address, 0xE0)
    try:
        header = image.Header.unpack(raw[:128])
    except Exception:
        return False
    return (
        header.signature_valid(fw.keys.public_key)
        and header.version == version_word(version)
        and raw[128:] == header.signature[:32] * 3
        and slot0_image(m, len(plaintext), header.segoff) == plaintext
    )


# -- the example application's update protocol --------------------------------------------------------------


def wait_app(m: Machine, version: str, max_cycles: int = 3_000_000_000) -> RunResult:
    r = m.run(stop_at_app=False, until=f"APP: hello version {version}", max_cycles=max_cycles)
    assert r.reason == "console", f"app {version} did not start: {r.reason} {r.detail}\n{tail(m)}"
    return r


def send_update(m: Machine, data: bytes, until: str, max_cycles: int = 6_000_000_000) -> RunResult:
    """Stream a file through the running example app; run until `until` shows on the console."""
    m.feed(b"u" + struct.pack("<I", len(data)) + bytes(data))
    return m.run(stop_at_app=False, until=until, max_cycles=max_cycles)


def tiny_image(board: Board, size: int = 256, fill: int = 0) -> bytes:
    """A runnable application image of `size` bytes (multiple of 16): initial SP at the top of the
    application RAM, reset handler = a branch-to-self right after the two vector words."""
    assert size % 16 == 0 and size >= 16
    reset = board.app_vector_address + 8
    body = struct.pack("<II", board.ram.base + board.ram.size, reset | 1) + b"\xfe\xe7" + b"\x00\xbf" * 3
    filler = hashlib.sha256(bytes([fill]) + size.to_bytes(4, "little")).digest() * (size // 32 + 1)
    return (body + filler)[:size]


def manufacture(m: Machine, fw: Firmware, plaintext: bytes, version: str, segoff: int = 0) -> None:
    """Program SLOT0 as the combined image would: installed header + plaintext (a programmer write)."""
    b = m.board
    header = image.image_header(plaintext, version_word(version), fw.keys, segoff)
    m.load(b.bootloader.journal_address, journal.entry(header))
    m.load(b.slot0.address, image.installed_header(header, b.vector_size))
    if segoff:
        m.load(b.app_vector_address, plaintext[:segoff])
        m.load(b.slot0.external.address, plaintext[segoff:])
    else:
        m.load(b.app_vector_address, plaintext)
