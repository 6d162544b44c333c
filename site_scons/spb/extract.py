# SPDX-License-Identifier: Apache-2.0
"""The SLOT0 image of a combined manufacturing image (`spb extract`): the plaintext image the installed
header describes, its internal part and, on MultiSegment boards, its external part joined after it
(docs/formats.md, "The plaintext image"), checked against the header's SHA-256 tag."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from intelhex import IntelHex, IntelHexError

from .board import Board
from .errors import SpbError, StrPath
from .image import HEADER_SIZE, PROTOCOL_IMAGE, Header

_HEX_EOF = ":00000001FF"


@dataclass(frozen=True)
class Slot0Image:
    header: Header
    data: bytes  # the plaintext image (internal part, then the external part from header.segoff)
    tag_ok: bool


class _Memory:
    """The bytes of a combined image by address: an Intel HEX file, or a .bin of internal flash from
    its base (what spb combine writes)."""

    def __init__(self, path: Path, raw: bytes, board: Board) -> None:
        self.path = path
        self.ranges: list[tuple[int, int]] = []
        if path.suffix.lower() == ".hex":
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                raise SpbError(path, "not an Intel HEX file (not ASCII text)") from None
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if not lines:
                raise SpbError(path, "empty: not an Intel HEX file")
            self.ihex = IntelHex()
            try:
                self.ihex.loadhex(io.StringIO(text))
            except (IntelHexError, ValueError) as error:
                raise SpbError(path, f"not a valid Intel HEX file ({error})") from None
            if lines[-1].upper() != _HEX_EOF:
                raise SpbError(path, "truncated: the Intel HEX file has no end-of-file record")
            self.ranges = [(start, end) for start, end in self.ihex.segments()]
        elif path.suffix.lower() == ".bin":
            self.ihex = IntelHex()
            self.ihex.frombytes(raw, offset=board.flash.base)
            if raw:
                self.ranges = [(board.flash.base, board.flash.base + len(raw))]
        else:
            raise SpbError(path, "expected a combined image .hex or .bin (what spb combine writes)")
        self.is_bin = path.suffix.lower() == ".bin"

    def read(self, address: int, size: int, what: str, external: bool = False) -> bytes:
        end = address + size
        if not any(start <= address and end <= stop for start, stop in self.ranges):
            if self.is_bin:
                hint = " (a .bin holds internal flash only: give the .hex)" if external else ""
                raise SpbError(self.path, f"truncated: {what} [{address:#010x}, {end:#010x}) is not in the file{hint}")
            raise SpbError(self.path, f"{what} [{address:#010x}, {end:#010x}) is missing from the file")
        data: bytes = self.ihex.tobinstr(start=address, size=size)
        return data


def extract_slot0(path: StrPath, raw: bytes, board: Board) -> Slot0Image:
    """The SLOT0 image of the combined image `raw` (read from `path`) for `board`."""
    memory = _Memory(Path(path), raw, board)
    slot0 = board.slot0
    block = memory.read(slot0.address, HEADER_SIZE, "the installed header at SLOT0")
    try:
        header = Header.unpack(block, path)
    except SpbError as error:
        raise SpbError(path, f"no installed header at SLOT0 {slot0.address:#010x}: {error.problem}") from None
    if header.protocol != PROTOCOL_IMAGE:
        raise SpbError(path, f"SLOT0 header protocol {header.protocol:#06x} is not a full image")
    internal = header.segoff if header.segoff else header.size
    if header.segoff > header.size:
        raise SpbError(path, f"SLOT0 header: segoff {header.segoff:#x} lies beyond the image size {header.size:#x}")
    if board.app_vector_address + internal > slot0.address + slot0.size:
        raise SpbError(
            path, f"SLOT0 header announces {internal} bytes, more than SLOT0 holds: wrong --board ({board.name})?"
        )
    data = memory.read(board.app_vector_address, internal, "the image in SLOT0")
    if header.segoff:
        ext = slot0.external
        if ext is None:
            raise SpbError(
                path,
                f"SLOT0 header has an external part (segoff {header.segoff:#x}) but board {board.name} has no "
                "external segment: wrong --board?",
            )
        rest = header.size - header.segoff
        if rest > ext.size:
            raise SpbError(path, f"SLOT0 header announces {rest} external bytes, more than the segment holds")
        data += memory.read(ext.address, rest, "the external part of the image", external=True)
    return Slot0Image(header, data, hashlib.sha256(data).digest() == header.tag)
