# SPDX-License-Identifier: Apache-2.0
"""Delta patches and the `.sfbp` container (docs/formats.md). Mirrors bootloader/src/patch.c.

    .sfbp = patch header (128 B: protocol 0x0011 compat / 0x0012 compact, IV, version = FROM version,
                          size = raw patch length, tag = SHA-256 of the FROM plaintext, segoff 0, signature)
          | TO header (128 B: the .sfb header of the new image, byte-identical to it)
          | AES-128-CBC(key, patch header IV, raw patch zero-padded to a multiple of 16)

The device regenerates the TO plaintext from SLOT0 and the patch, re-encrypts it with the TO header's
IV and writes it to SLOT1 after the TO header, so SLOT1 ends byte-identical to a `.sfb` download.

IVs: a compat patch reuses the TO IV for its own body, as the original tools do (devices running the
original bootloader expect that). A compact patch gets its own IV, derived like the image IV from the
key and the patch's identity, so no two plaintexts are ever encrypted under one IV by our format.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn, Protocol

from . import compact, diffmatch, jojo
from .diffmatch import Match, Progress
from .errors import PatchFormatError, SpbError, StrPath
from .image import HEADER_SIZE, PROTOCOL_IMAGE, Header, aes_cbc, check_plaintext, image_header
from .keys import KeySet

PROTOCOL_PATCH_COMPAT = 0x0011
PROTOCOL_PATCH_COMPACT = 0x0012
ENCODINGS = {"compat": PROTOCOL_PATCH_COMPAT, "compact": PROTOCOL_PATCH_COMPACT}
DEFAULT_ENCODING = "compact"


class _Codec(Protocol):
    """What jojo.py and compact.py provide."""

    def encode(self, old: bytes, new: bytes, matches: Iterable[Match] | None = None) -> bytes: ...

    def apply(self, old: bytes, patch: bytes) -> bytes: ...


_CODECS: dict[str, _Codec] = {"compat": jojo, "compact": compact}
_TUNING = {"compat": diffmatch.COMPAT, "compact": diffmatch.COMPACT}


def encoding_of(protocol: int) -> str | None:
    return {v: k for k, v in ENCODINGS.items()}.get(protocol)


def _unknown_encoding(encoding: str) -> NoReturn:
    raise ValueError(f"unknown patch encoding {encoding!r} (choose from {', '.join(ENCODINGS)})")


def _codec(encoding: str) -> _Codec:
    codec = _CODECS.get(encoding)
    if codec is None:
        _unknown_encoding(encoding)
    return codec


def make_patch(old: bytes, new: bytes, encoding: str = DEFAULT_ENCODING, progress: Progress | None = None) -> bytes:
    """The raw (unencrypted) patch that turns old into new. progress(done, total), when given, is called
    as the new image is scanned."""
    codec = _codec(encoding)
    matches = diffmatch.find_matches(old, new, _TUNING[encoding], progress=progress)
    return codec.encode(old, new, matches)


def apply_patch(old: bytes, patch: bytes, encoding: str) -> bytes:
    """Regenerate the new image; raises PatchFormatError on a malformed patch."""
    return _codec(encoding).apply(old, patch)


def _patch_iv(aes_key: bytes, from_tag: bytes, to_tag: bytes, size: int) -> bytes:
    message = b"SPB-PATCH-IV" + struct.pack("<32s32sI", from_tag, to_tag, size)
    return hmac.new(aes_key, message, hashlib.sha256).digest()[:16]


def build_sfbp(
    old: bytes,
    old_version: int,
    new: bytes,
    new_version: int,
    keys: KeySet,
    new_segoff: int = 0,
    encoding: str = DEFAULT_ENCODING,
    raw_patch: bytes | None = None,
) -> bytes:
    check_plaintext(old)
    check_plaintext(new)
    if new_version <= old_version:
        raise ValueError(f"a patch must go to a newer version ({new_version:#010x} <= {old_version:#010x})")
    protocol = ENCODINGS.get(encoding)
    if protocol is None:
        _unknown_encoding(encoding)
    to_header = image_header(new, new_version, keys, new_segoff)
    patch = make_patch(old, new, encoding) if raw_patch is None else raw_patch
    from_tag = hashlib.sha256(old).digest()
    iv = to_header.iv if encoding == "compat" else _patch_iv(keys.aes_key, from_tag, to_header.tag, len(patch))
    header = Header(protocol, iv, old_version, len(patch), from_tag).signed(keys)
    padded = patch + bytes(-len(patch) % 16)
    return header.pack() + to_header.pack() + aes_cbc(keys.aes_key, iv, padded)


@dataclass
class SfbpReport:
    header: Header
    to_header: Header | None
    encoding: str | None
    patch: bytes | None  # raw patch, when it could be decrypted
    new_image: bytes | None  # regenerated TO image, when the FROM image was given and it applied
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_sfbp(data: bytes, keys: KeySet, old: bytes | None = None, path: StrPath | None = None) -> SfbpReport:
    """Check a `.sfbp`: both signatures, layout, decryption, and, given the FROM image, that the patch
    applies to it and yields the TO tag. Never raises for a bad patch; SpbError if there is no header."""
    header = Header.unpack(data, path)
    problems: list[str] = []
    encoding = encoding_of(header.protocol)
    if encoding is None:
        problems.append(
            f"protocol {header.protocol:#06x} is not a patch ({', '.join(f'{p:#06x}' for p in ENCODINGS.values())})"
        )
    if not header.signature_valid(keys.public_key):
        problems.append("patch header signature does not verify with the public key")
    to_header: Header | None = None
    if len(data) < 2 * HEADER_SIZE:
        problems.append(f"truncated: {len(data)} bytes, the two headers need {2 * HEADER_SIZE}")
    else:
        try:
            to_header = Header.unpack(data[HEADER_SIZE:], path)
        except SpbError as error:
            problems.append(f"TO header: {error.problem}")
    if to_header is not None:
        if not to_header.signature_valid(keys.public_key):
            problems.append("TO header signature does not verify with the public key")
        if to_header.protocol != PROTOCOL_IMAGE:
            problems.append(f"TO header protocol {to_header.protocol:#06x} is not a full image")
        if to_header.version <= header.version:
            problems.append(f"TO version {to_header.version:#010x} is not newer than FROM {header.version:#010x}")
    patch: bytes | None = None
    new_image: bytes | None = None
    expected = 2 * HEADER_SIZE + header.size + (-header.size % 16)
    if len(data) != expected:
        problems.append(f"length {len(data)} != 256 + patch size {header.size} rounded up to 16 = {expected}")
    elif not problems:
        plain = aes_cbc(keys.aes_key, header.iv, data[2 * HEADER_SIZE :], decrypt=True)
        patch = plain[: header.size]
        if any(plain[header.size :]):
            problems.append("padding after the patch is not zero (wrong key or corrupted body)")
    # A decrypted patch implies a readable TO header: any header problem above leaves patch None.
    if patch is not None and old is not None and encoding is not None and to_header is not None:
        if hashlib.sha256(old).digest() != header.tag:
            problems.append("the given FROM image does not match the patch header tag")
        else:
            try:
                new_image = apply_patch(old, patch, encoding)
            except PatchFormatError as error:
                problems.append(f"patch does not apply: {error}")
            else:
                if hashlib.sha256(new_image).digest() != to_header.tag:
                    problems.append("the regenerated image does not match the TO header tag")
                    new_image = None
    return SfbpReport(header, to_header, encoding, patch, new_image, problems)
