# SPDX-License-Identifier: Apache-2.0
"""Keys: the ECDSA P-256 signer and the AES-128 image key.

Signing sits behind a two-method protocol (`Signer`) so a key held in an HSM or a KMS can replace the
PEM file without touching the image code. Files in a keys directory:

    signing_key.pem   ECDSA P-256 private key, PKCS#8 PEM (never leaves the build host)
    aes128_key.bin    16 raw bytes (compiled into the bootloader, so it is a device secret)
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .errors import SpbError, StrPath

SIGNING_KEY_FILE = "signing_key.pem"
AES_KEY_FILE = "aes128_key.bin"
DEV_KEY_MARKER = "DEVELOPMENT_KEYS_DO_NOT_SHIP"


class Signer(Protocol):
    def public_key_bytes(self) -> bytes:
        """Uncompressed public point X||Y, 64 bytes."""

    def sign(self, message: bytes) -> bytes:
        """ECDSA P-256 over SHA-256(message); raw r||s, 64 bytes."""


class DevKeyWarning(UserWarning):
    pass


def raw_public_key(public_key: ec.EllipticCurvePublicKey) -> bytes:
    point = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return point[1:]


def public_key_from_raw(raw: bytes) -> ec.EllipticCurvePublicKey:
    if len(raw) != 64:
        raise ValueError("a raw P-256 public key is 64 bytes")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)


def signature_to_raw(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_raw(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Check a raw r||s ECDSA P-256/SHA-256 signature with `cryptography` alone."""
    if len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    try:
        public_key_from_raw(public_key).verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


class PemSigner:
    """Deterministic (RFC 6979) ECDSA P-256 signer from a PEM private key: equal inputs, equal bytes."""

    def __init__(self, private_key: PrivateKeyTypes) -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
            raise ValueError("the signing key must be an ECDSA P-256 (secp256r1) key")
        self._key: ec.EllipticCurvePrivateKey = private_key

    @classmethod
    def from_file(cls, path: StrPath) -> PemSigner:
        path = Path(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise SpbError(path, "signing key not found") from None
        except (ValueError, TypeError) as exc:
            raise SpbError(path, f"not an unencrypted PEM private key ({exc})") from None
        try:
            return cls(key)
        except ValueError as exc:
            raise SpbError(path, str(exc)) from None

    def public_key_bytes(self) -> bytes:
        return raw_public_key(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        der = self._key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return signature_to_raw(der)


@dataclass(frozen=True)
class KeySet:
    """What the image code needs: a signer, the matching public key and the AES key."""

    signer: Signer
    aes_key: bytes
    directory: Path | None = None

    @property
    def public_key(self) -> bytes:
        return self.signer.public_key_bytes()

    @property
    def is_development(self) -> bool:
        return self.directory is not None and (self.directory / DEV_KEY_MARKER).exists()


def load_aes_key(path: StrPath) -> bytes:
    path = Path(path)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise SpbError(path, "AES key not found") from None
    if len(key) != 16:
        raise SpbError(path, f"AES-128 key must be 16 raw bytes, found {len(key)}")
    if key in (bytes(16), b"\xff" * 16):
        raise SpbError(path, "AES key is all 0x00 or all 0xFF: refusing a key that looks like blank memory")
    return key


def load_keys(directory: StrPath) -> KeySet:
    directory = Path(directory)
    if not directory.is_dir():
        raise SpbError(directory, "keys directory does not exist")
    return KeySet(PemSigner.from_file(directory / SIGNING_KEY_FILE), load_aes_key(directory / AES_KEY_FILE), directory)


def generate_keys(directory: StrPath, development: bool = True) -> KeySet:
    """Create a new key pair and AES key in `directory`; refuses to overwrite existing keys."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in (SIGNING_KEY_FILE, AES_KEY_FILE):
        if (directory / name).exists():
            raise SpbError(directory / name, "already exists; refusing to overwrite a key")
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_secret(directory / SIGNING_KEY_FILE, pem)
    _write_secret(directory / AES_KEY_FILE, os.urandom(16))
    if development:
        (directory / DEV_KEY_MARKER).write_text(
            "These keys were generated automatically by the build for development.\n"
            "Anyone with this directory can sign and decrypt firmware for your devices.\n"
            "Generate production keys with `spb keygen` on a secure machine and point KEYS= at them.\n"
        )
        warnings.warn(
            f"generated DEVELOPMENT keys in {directory}: for development only, never ship them",
            DevKeyWarning,
            stacklevel=2,
        )
    return load_keys(directory)


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def c_source(keys: KeySet) -> str:
    """The C definitions the bootloader links with (bootloader/src/keys.h). Generated into the build,
    never committed: it holds the AES key."""

    def c_bytes(data: bytes) -> str:
        return ",".join(f"0x{b:02X}" for b in data)

    banner = "DEVELOPMENT KEYS: never ship this bootloader" if keys.is_development else "production keys"
    return (
        "/* Generated by spb from the keys directory; do not edit, never commit. */\n"
        f'/* {banner} */\n#include <stdint.h>\n#include "keys.h"\n'
        f"const uint8_t spb_public_key[64] = {{{c_bytes(keys.public_key)}}};\n"
        f"const uint8_t spb_aes_key[16] = {{{c_bytes(keys.aes_key)}}};\n"
        f"const uint8_t spb_keys_are_development = {1 if keys.is_development else 0};\n"
    )
