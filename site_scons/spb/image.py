# SPDX-License-Identifier: Apache-2.0
"""The signed image header and the `.sfb` container (v1.x wire format, docs/formats.md).

    header (128 B) = magic "SU" | protocol u16 | IV[16] | version u32 | size u32 | tag[32] | segoff u32
                     | signature[64]   (ECDSA P-256, raw r||s, over SHA-256 of bytes 0x00..0x3F)
    .sfb           = header | 0xFF up to vector_size | AES-128-CBC(key, IV, plaintext)
    installed hdr  = header | signature[0:32] x 3 | 0xFF up to vector_size   (at SLOT0 start)

Reproducibility: the signature is RFC 6979 deterministic and the IV is HMAC-SHA256(aes_key,
"SPB-IV" | version | size | tag | segoff)[:16], so equal inputs give a byte-identical `.sfb` while
different images never share an IV and nobody without the key can predict one.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import SpbError, StrPath
from .keys import KeySet, verify_raw

MAGIC = b"SU"
PROTOCOL_IMAGE = 0x0001
PROTOCOL_PATCH = 0x0011
HEADER_SIZE = 128
SIGNED_SIZE = 64
STATE_FIELD_SIZE = 32
STATE_FIELD_COUNT = 3
_FIELDS = struct.Struct("<2sH16sII32sI")
assert _FIELDS.size == SIGNED_SIZE


@dataclass(frozen=True)
class Header:
    protocol: int
    iv: bytes
    version: int
    size: int
    tag: bytes
    segoff: int = 0
    signature: bytes = bytes(64)
    magic: bytes = MAGIC

    def signed_bytes(self) -> bytes:
        return _FIELDS.pack(self.magic, self.protocol, self.iv, self.version, self.size, self.tag, self.segoff)

    def pack(self) -> bytes:
        return self.signed_bytes() + self.signature

    @classmethod
    def unpack(cls, data: bytes, path: StrPath | None = None) -> Header:
        if len(data) < HEADER_SIZE:
            raise SpbError(path, f"truncated: {len(data)} bytes, a header needs {HEADER_SIZE}")
        magic, protocol, iv, version, size, tag, segoff = _FIELDS.unpack_from(data, 0)
        if magic != MAGIC:
            raise SpbError(path, f"bad magic {magic!r} at offset 0 (expected {MAGIC!r}): not an spb image")
        return cls(protocol, iv, version, size, tag, segoff, bytes(data[SIGNED_SIZE:HEADER_SIZE]), magic)

    def signed(self, keys: KeySet) -> Header:
        return replace(self, signature=keys.sign(self.signed_bytes()))

    def signature_valid(self, public_key: bytes) -> bool:
        return verify_raw(public_key, self.signed_bytes(), self.signature)


def derive_iv(aes_key: bytes, version: int, size: int, tag: bytes, segoff: int) -> bytes:
    message = b"SPB-IV" + struct.pack("<II32sI", version, size, tag, segoff)
    return hmac.new(aes_key, message, hashlib.sha256).digest()[:16]


def aes_cbc(key: bytes, iv: bytes, data: bytes, decrypt: bool = False) -> bytes:
    if len(data) % 16:
        raise ValueError(f"AES-CBC data must be a multiple of 16 bytes, got {len(data)}")
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def check_plaintext(plaintext: bytes, path: StrPath | None = None) -> None:
    if not plaintext:
        raise SpbError(path, "the application image is empty")
    if len(plaintext) % 16:
        raise SpbError(
            path,
            f"image length {len(plaintext)} is not a multiple of 16 (the app linker script "
            "must end the image on a 16-byte boundary)",
        )


def image_header(plaintext: bytes, version: int, keys: KeySet, segoff: int = 0) -> Header:
    """The signed protocol-1 header of a plaintext image."""
    check_plaintext(plaintext)
    tag = hashlib.sha256(plaintext).digest()
    iv = derive_iv(keys.aes_key, version, len(plaintext), tag, segoff)
    return Header(PROTOCOL_IMAGE, iv, version, len(plaintext), tag, segoff).signed(keys)


def build_sfb(plaintext: bytes, version: int, keys: KeySet, vector_size: int, segoff: int = 0) -> bytes:
    if vector_size < HEADER_SIZE or vector_size % 16:
        raise ValueError(f"vector_size {vector_size:#x} must be a multiple of 16 and at least {HEADER_SIZE}")
    header = image_header(plaintext, version, keys, segoff)
    body = aes_cbc(keys.aes_key, header.iv, plaintext)
    return header.pack() + b"\xff" * (vector_size - HEADER_SIZE) + body


def installed_header(header: Header, vector_size: int) -> bytes:
    """What sits at SLOT0 start for an installed image: header, three state fields, 0xFF padding."""
    marks = header.signature[:STATE_FIELD_SIZE] * STATE_FIELD_COUNT
    block = header.pack() + marks
    return block + b"\xff" * (vector_size - len(block))


@dataclass
class SfbReport:
    header: Header
    signature_ok: bool
    tag_ok: bool
    plaintext: bytes | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_sfb(data: bytes, keys: KeySet, vector_size: int, path: StrPath | None = None) -> SfbReport:
    """Check a `.sfb` completely: signature, layout, decryption and SHA-256 tag. Never raises for a bad
    image (the report lists every problem); raises SpbError only when there is no header to read."""
    header = Header.unpack(data, path)
    problems: list[str] = []
    sig_ok = header.signature_valid(keys.public_key)
    if not sig_ok:
        problems.append("header signature does not verify with the public key")
    if header.protocol != PROTOCOL_IMAGE:
        problems.append(f"protocol {header.protocol:#06x} is not a full image ({PROTOCOL_IMAGE:#06x})")
    expected = vector_size + header.size
    plaintext = None
    tag_ok = False
    if len(data) != expected:
        problems.append(f"length {len(data)} != vector_size {vector_size} + image size {header.size} = {expected}")
    elif header.size % 16 or header.size == 0:
        problems.append(f"image size {header.size} is not a positive multiple of 16")
    else:
        if data[HEADER_SIZE:vector_size] != b"\xff" * (vector_size - HEADER_SIZE):
            problems.append(f"bytes {HEADER_SIZE:#x}..{vector_size:#x} are not 0xFF padding")
        plaintext = aes_cbc(keys.aes_key, header.iv, data[vector_size:], decrypt=True)
        tag_ok = hashlib.sha256(plaintext).digest() == header.tag
        if not tag_ok:
            problems.append("SHA-256 of the decrypted image does not match the header tag")
    return SfbReport(header, sig_ok, tag_ok, plaintext, problems)


def read_sfb(path: StrPath, keys: KeySet, vector_size: int) -> SfbReport:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpbError(path, "file not found") from None
    return verify_sfb(data, keys, vector_size, path)
