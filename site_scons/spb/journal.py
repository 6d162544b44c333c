# SPDX-License-Identifier: Apache-2.0
"""The install journal (mirrors bootloader/src/journal.c): the append-only log, in the last erase unit of
the bootloader's flash region, of the images the bootloader committed to install - its anti-rollback
reference (docs/update-state.md). The manufacturing image starts it with the factory image's entry, so a
new device already refuses anything older than what it was made with.

Entry, 32 bytes: kind | version u32 | ~version u32 | signature[0:16] of the image's header | FNV-1a 32
of the 28 bytes before it (all little-endian). Kinds: b"SPBJ" committed to install; with trial boot
(docs/trial-boot.md) also b"SPBC" confirmed and b"SPBR" rejected in its trial."""

from __future__ import annotations

import struct

from .image import Header

ENTRY_SIZE = 32
ID_SIZE = 16  # bytes of the image header's signature that identify the image
MAGIC = b"SPBJ"
KINDS = {b"SPBJ": "install", b"SPBC": "confirm", b"SPBR": "reject"}


def _fnv1a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def entry(header: Header, kind: str = "install") -> bytes:
    """The journal entry committing to the image `header` describes (or confirming or rejecting it)."""
    magic = {name: m for m, name in KINDS.items()}[kind]
    body = magic + struct.pack("<II", header.version, header.version ^ 0xFFFFFFFF) + header.signature[:ID_SIZE]
    return body + struct.pack("<I", _fnv1a(body))


def parse(data: bytes) -> list[tuple[int, bytes]]:
    """(version, id) of every valid install entry of a journal unit, in address order. Like the bootloader
    (journal.c), entries after an erased slot (all 0xFF or all 0x00: the residue an interrupted erase can
    leave) still count; torn or invalid entries do not."""
    return [(version, ident) for kind, version, ident in parse_entries(data) if kind == "install"]


def parse_entries(data: bytes) -> list[tuple[str, int, bytes]]:
    """(kind, version, id) of every valid entry, in address order ("install", "confirm", "reject")."""
    out = []
    for offset in range(0, len(data) - ENTRY_SIZE + 1, ENTRY_SIZE):
        e = data[offset : offset + ENTRY_SIZE]
        if e in (b"\xff" * ENTRY_SIZE, bytes(ENTRY_SIZE)):
            continue
        version, complement = struct.unpack_from("<II", e, 4)
        if (
            e[:4] in KINDS
            and version ^ complement == 0xFFFFFFFF
            and struct.unpack_from("<I", e, 28)[0] == _fnv1a(e[:28])
        ):
            out.append((KINDS[e[:4]], version, e[12 : 12 + ID_SIZE]))
    return out
