# SPDX-License-Identifier: Apache-2.0
"""The manufacturing image: bootloader + installed SLOT0 header + application in one hex (and a .bin of
internal flash filled with the erased value, so programming it leaves gaps as blank flash)."""

from __future__ import annotations

from pathlib import Path

from intelhex import IntelHex

from . import buildinfo, journal
from .board import Board
from .elfimage import load_segments, plain_image
from .errors import SpbError, StrPath
from .image import image_header, installed_header
from .keys import KeySet


def combined_image(boot_elf: StrPath, app_elf: StrPath, board: Board, version: int, keys: KeySet) -> IntelHex:
    """The manufacturing image. Refuses a bootloader built for another board or with another public key
    (spb.buildinfo) before anything is read from the application."""
    buildinfo.check(boot_elf, board, keys)
    ihex = IntelHex()
    boot_end = board.flash.base + board.bootloader.code_size  # the journal unit after it stays erased
    for seg in load_segments(boot_elf):
        if not (board.flash.base <= seg.address and seg.address + len(seg.data) <= boot_end):
            raise SpbError(
                boot_elf,
                f"segment at {seg.address:#010x} lies outside the bootloader region "
                f"[{board.flash.base:#010x}, {boot_end:#010x})",
            )
        ihex.puts(seg.address, seg.data)
    image = plain_image(app_elf, board)
    header = image_header(image.data, version, keys, image.segoff)
    # The install journal starts with the factory image: nothing older is ever installed afterwards. On a
    # board with trial boot the factory image is also confirmed (it is what a first failed trial returns
    # to), so the first boot writes nothing (docs/trial-boot.md).
    entries = journal.entry(header)
    if board.trial is not None:
        entries += journal.entry(header, "confirm")
    ihex.puts(board.bootloader.journal_address, entries)
    ihex.puts(board.slot0.address, installed_header(header, board.vector_size))
    internal = image.data[: image.segoff] if image.segoff else image.data
    ihex.puts(board.app_vector_address, internal)
    if image.segoff:
        assert board.slot0.external is not None, "plain_image: segoff > 0 only with an external segment"
        ihex.puts(board.slot0.external.address, image.data[image.segoff :])
    return ihex


def write_combined(ihex: IntelHex, board: Board, hex_path: StrPath, bin_path: StrPath) -> None:
    ihex.write_hex_file(str(hex_path))
    flash_end = board.flash.base + board.flash.size
    internal_max = max(a for a in ihex.addresses() if a < flash_end)
    # The .bin spans internal flash from its base to the last byte used; gaps read as erased flash
    # (0xFF on most families, 0x00 on STM32L0).
    ihex.padding = board.flash.erased_value
    data = ihex.tobinstr(start=board.flash.base, end=internal_max)
    Path(bin_path).write_bytes(data)
