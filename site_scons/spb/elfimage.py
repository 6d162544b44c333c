# SPDX-License-Identifier: Apache-2.0
"""The plaintext firmware image of an application ELF (what the .sfb encrypts and SLOT0 holds after
the installed header).

Rules (docs/formats.md §plaintext): take every PT_LOAD segment with file content at its load address
(p_paddr, so .data initial values land at their flash copy), starting at SLOT0 + vector_size; fill gaps
with 0xFF (erased flash); segments inside SLOT0's external segment (MultiSegment boards) are appended
after the internal part and `segoff` records where they start. The result must be a multiple of 16.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .board import Board
from .errors import SpbError, StrPath

if TYPE_CHECKING:
    from elftools.elf.segments import Segment


@dataclass(frozen=True)
class PlainImage:
    data: bytes
    segoff: int  # offset of the external segment inside data; 0 when there is none


@dataclass(frozen=True)
class LoadSegment:
    address: int
    data: bytes


def _section_span(elf: ELFFile, seg: Segment) -> tuple[int, int] | None:
    """File range [lo, hi) of the allocated sections with content inside a segment. The linker may map
    the ELF and program headers into the first segment when there is room before the vector table;
    those bytes are not firmware, so the segment is trimmed to its sections (as the original's
    elf2segbin trims segment 0 to its lowest section)."""
    start, end = seg["p_offset"], seg["p_offset"] + seg["p_filesz"]
    spans = [
        (sec["sh_offset"], sec["sh_offset"] + sec["sh_size"])
        for sec in elf.iter_sections()
        if sec["sh_flags"] & 0x2
        and sec["sh_type"] != "SHT_NOBITS"
        and sec["sh_size"] > 0
        and start <= sec["sh_offset"] < end
    ]
    if not spans:
        return None
    return min(lo for lo, _ in spans), min(end, max(hi for _, hi in spans))


def load_segments(path: StrPath) -> list[LoadSegment]:
    """PT_LOAD segments with file content, by load address, from an ELF file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            elf = ELFFile(handle)
            segments: list[LoadSegment] = []
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                    continue
                span = _section_span(elf, seg)
                if span is None:
                    continue
                data = seg.data()[span[0] - seg["p_offset"] : span[1] - seg["p_offset"]]
                segments.append(LoadSegment(seg["p_paddr"] + span[0] - seg["p_offset"], data))
    except FileNotFoundError:
        raise SpbError(path, "ELF file not found") from None
    except IsADirectoryError:
        raise SpbError(path, "is a directory, expected an ELF file") from None
    except OSError as exc:
        raise SpbError(path, f"cannot read: {exc.strerror or exc}") from None
    except ELFError as exc:
        raise SpbError(path, f"not a valid ELF file ({exc})") from None
    return sorted(segments, key=lambda s: s.address)


def _flatten(segments: list[LoadSegment], start: int, path: Path, region_name: str) -> bytes:
    out = bytearray()
    for seg in segments:
        offset = seg.address - start
        if offset < len(out):
            raise SpbError(path, f"segment at {seg.address:#010x} overlaps the previous one in {region_name}")
        out += b"\xff" * (offset - len(out))
        out += seg.data
    return bytes(out)


def plain_image(elf_path: StrPath, board: Board) -> PlainImage:
    path = Path(elf_path)
    segments = load_segments(path)
    start = board.app_vector_address
    end = board.slot0.address + board.slot0.size
    ext = board.slot0.external
    internal: list[LoadSegment] = []
    external: list[LoadSegment] = []
    for seg in segments:
        seg_end = seg.address + len(seg.data)
        if start <= seg.address and seg_end <= end:
            internal.append(seg)
        elif ext is not None and ext.address <= seg.address and seg_end <= ext.address + ext.size:
            external.append(seg)
        else:
            where = f"SLOT0 [{start:#010x}, {end:#010x})"
            if ext is not None:
                where += f" or its external segment [{ext.address:#010x}, {ext.address + ext.size:#010x})"
            raise SpbError(
                path,
                f"load segment [{seg.address:#010x}, {seg_end:#010x}) lies outside {where}: "
                f"was it linked with this board's ({board.name}) application linker script?",
            )
    if not internal or internal[0].address != start:
        raise SpbError(path, f"no vector table at {start:#010x} (SLOT0 + vector_size): the image must start there")
    data = _flatten(internal, start, path, "SLOT0")
    segoff = 0
    if external and ext is not None:  # `external` only fills up when SLOT0 has an external segment
        segoff = len(data)
        data += _flatten(external, ext.address, path, "the external segment")
    if len(data) % 16:
        raise SpbError(
            path,
            f"image length {len(data)} is not a multiple of 16: link with the generated "
            "application linker script, which pads the image",
        )
    if len(data) > board.slot0.size - board.vector_size + (ext.size if ext else 0):
        raise SpbError(path, f"image of {len(data)} bytes does not fit SLOT0")
    return PlainImage(data, segoff)
