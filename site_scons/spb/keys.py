# SPDX-License-Identifier: Apache-2.0
"""Keys: the signer protocol, key files and folders, and the AES-128 image key (docs/keys.md).

Signing sits behind a small protocol (`Signer`: a name for logs, the 64-byte public key, and
sign(digest) -> raw r||s) so that a key in a PKCS#11 token or a signature made on another machine
(spb.signing) replaces the PEM file without touching the image code. `KeySet.sign` hashes the signed
bytes, asks the signer, and checks the signature against the signer's public key before the image code
uses it, whatever the backend.

A keys directory has one of two layouts, told apart by its file names:

    spb       signing_key.pem          ECDSA P-256 private key, PEM (PKCS#8 or SEC1)
              aes128_key.bin           16 raw bytes (compiled into the bootloader: a device secret)
              DEVELOPMENT_KEYS_DO_NOT_SHIP   marker of the keys a first build generates
    original  Signing_PrivKey_ECC.txt  ECDSA P-256 private key, SEC1 PEM ("EC PRIVATE KEY")
              Cipher_Key_AES_CBC.bin   16 raw bytes
              machine.txt              V7M or V6M: checked, not needed (the bootloader is compiled for the
                                       board's core instead of patched with key-loading instructions)
              iv.bin                   ignored (spb derives every IV, docs/formats.md)

Where the keys come from is a `KeySource` (the CLI's --keys/--signing-key/--aes-key/--signer/
--public-key, the SCons build's KEYS=/SIGNING_KEY=/AES_KEY=/SIGNER=).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature

from .errors import SpbError, StrPath

SIGNING_KEY_FILE = "signing_key.pem"
AES_KEY_FILE = "aes128_key.bin"
DEV_KEY_MARKER = "DEVELOPMENT_KEYS_DO_NOT_SHIP"
ORIGINAL_SIGNING_KEY_FILE = "Signing_PrivKey_ECC.txt"
ORIGINAL_AES_KEY_FILE = "Cipher_Key_AES_CBC.bin"
ORIGINAL_MACHINE_FILE = "machine.txt"
MACHINE_TYPES = ("V7M", "V6M")
#: The order of the P-256 group: r and s of a signature lie in [1, N-1].
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
PUBLIC_KEY_FORMATS = ("pem", "der", "raw", "hex")


class Signer(Protocol):
    """What signs image headers. Implementations: PemSigner (a key file), spb.signing.pkcs11.Pkcs11Signer
    (a PKCS#11 token), spb.signing.detached.DetachedSigner (signatures made elsewhere)."""

    @property
    def name(self) -> str:
        """Where the key is, for logs and error messages (never a secret)."""

    @property
    def public_key(self) -> bytes:
        """The uncompressed public point X||Y, 64 bytes."""

    def sign(self, digest: bytes) -> bytes:
        """ECDSA P-256 over a SHA-256 digest (32 bytes, already hashed); raw r||s, 64 bytes."""


class DevKeyWarning(UserWarning):
    pass


# --------------------------------------------------------------------------------------------------
# Raw encodings and verification (cryptography only)


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


def verify_digest(public_key: bytes, digest: bytes, signature: bytes) -> bool:
    """Check a raw r||s ECDSA P-256 signature over a SHA-256 digest with `cryptography` alone."""
    if len(signature) != 64 or len(digest) != 32:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < P256_N and 0 < s < P256_N):
        return False
    try:
        public_key_from_raw(public_key).verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return True
    except (InvalidSignature, ValueError):
        return False


def verify_raw(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Check a raw r||s ECDSA P-256/SHA-256 signature over `message`."""
    return verify_digest(public_key, hashlib.sha256(message).digest(), signature)


# --------------------------------------------------------------------------------------------------
# Signers held on this machine


class PemSigner:
    """A P-256 private key in memory (from a PEM file). Deterministic: RFC 6979 nonces (cryptography's
    `deterministic_signing=True`), so equal inputs give equal signatures."""

    def __init__(self, private_key: PrivateKeyTypes, name: str = "private key") -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
            raise ValueError("the signing key must be an ECDSA P-256 (secp256r1) key")
        self._key: ec.EllipticCurvePrivateKey = private_key
        self._name = name

    @classmethod
    def from_file(cls, path: StrPath) -> PemSigner:
        path = Path(path)
        data = _read_key_file(path, "signing key")
        if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
            raise SpbError(path, "holds a public key; signing needs the private key")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError:
            raise SpbError(
                path, "the private key is encrypted (password-protected): spb reads unencrypted PEM only"
            ) from None
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise SpbError(path, f"not a PEM private key ({_first_line(exc)})") from None
        try:
            return cls(key, f"key file {path}")
        except ValueError as exc:
            raise SpbError(path, str(exc)) from None

    @property
    def name(self) -> str:
        return self._name

    @property
    def public_key(self) -> bytes:
        return raw_public_key(self._key.public_key())

    def sign(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise ValueError("sign() takes a 32-byte SHA-256 digest")
        der = self._key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True))
        return signature_to_raw(der)

    def private_pem(self) -> bytes:
        """The key as PKCS#8 PEM (what a PKCS#11 token's import tools take, docs/keys.md)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


class PublicKeyOnly:
    """Verification without the private key (--public-key): signing is refused."""

    def __init__(self, public_key: bytes, name: str) -> None:
        self._public_key = public_key
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def sign(self, digest: bytes) -> bytes:
        raise SpbError(self._name, "is a public key only: signing needs --keys, --signing-key or --signer")


@dataclass(frozen=True)
class KeySet:
    """What the image code needs: a signer, the matching public key and the AES key.

    `check_signatures=False` is only for the detached flow's first step, whose signer returns
    placeholders for the digests still to be signed elsewhere (the file is not written then)."""

    signer: Signer
    aes_key: bytes
    directory: Path | None = None
    check_signatures: bool = True

    @property
    def public_key(self) -> bytes:
        return self.signer.public_key

    @property
    def is_development(self) -> bool:
        return self.directory is not None and (self.directory / DEV_KEY_MARKER).exists()

    def sign(self, message: bytes) -> bytes:
        """Raw r||s over SHA-256(message), checked against the public key before anyone uses it."""
        digest = hashlib.sha256(message).digest()
        signature = bytes(self.signer.sign(digest))
        if self.check_signatures and not verify_digest(self.public_key, digest, signature):
            raise SpbError(
                self.signer.name,
                "returned a signature that does not verify with its public key (wrong key object, or not "
                "ECDSA P-256 over the SHA-256 digest)",
            )
        return signature


# --------------------------------------------------------------------------------------------------
# Key files


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SpbError(path, f"{what} not found") from None
    except IsADirectoryError:
        raise SpbError(path, f"is a directory, not a {what} file") from None
    except OSError as exc:
        raise SpbError(path, f"cannot read the {what} ({exc.strerror})") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_aes_key(path: StrPath) -> bytes:
    path = Path(path)
    key = _read_key_file(path, "AES key")
    if len(key) != 16:
        hint = " (a text file? the key is 16 raw bytes, not hex)" if len(key) in (32, 33, 34) else ""
        raise SpbError(path, f"AES-128 key must be 16 raw bytes, found {len(key)}{hint}")
    if key in (bytes(16), b"\xff" * 16):
        raise SpbError(path, "AES key is all 0x00 or all 0xFF: refusing a key that looks like blank memory")
    return key


def load_public_key(path: StrPath) -> bytes:
    """A P-256 public key as 64 raw bytes, from PEM or DER (SubjectPublicKeyInfo), raw X||Y (64 bytes),
    an uncompressed point 04||X||Y (65 bytes) or either of those in hex: what `spb keys export` writes."""
    path = Path(path)
    data = _read_key_file(path, "public key")
    if b"PRIVATE KEY-----" in data:
        raise SpbError(path, "holds a private key; give the public half (`spb keys export`)")
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_public_key(data)
        elif len(data) in (64, 65):
            raw = data if len(data) == 64 else _uncompressed(data)
            return raw_public_key(public_key_from_raw(raw))
        elif data[:1] == b"\x30" and data.strip().strip(b"0123456789abcdefABCDEF"):  # hex text may start with "0"
            key = serialization.load_der_public_key(data)
        else:
            raw = bytes.fromhex(data.decode("ascii").strip())
            if len(raw) not in (64, 65):
                raise ValueError(f"{len(raw)} bytes of hex; a public key is 64 (X||Y) or 65 (04||X||Y)")
            return raw_public_key(public_key_from_raw(raw if len(raw) == 64 else _uncompressed(raw)))
    except (ValueError, UnicodeDecodeError, UnsupportedAlgorithm) as exc:
        raise SpbError(path, f"not a P-256 public key (PEM, DER, raw or hex): {_first_line(exc)}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise SpbError(path, "not an ECDSA P-256 (secp256r1) public key")
    return raw_public_key(key)


def _uncompressed(point: bytes) -> bytes:
    if point[0] != 4:
        raise ValueError("not an uncompressed point (04||X||Y)")
    return point[1:]


def export_public_key(public_key: bytes, fmt: str) -> bytes:
    """The public key in one of PUBLIC_KEY_FORMATS: pem/der (SubjectPublicKeyInfo, what openssl and
    cloud KMSs use), raw (X||Y, 64 bytes: what the bootloader holds), hex (of raw, one line)."""
    key = public_key_from_raw(public_key)
    if fmt == "pem":
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if fmt == "der":
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if fmt == "raw":
        return public_key
    if fmt == "hex":
        return public_key.hex().encode() + b"\n"
    raise ValueError(f"unknown public key format {fmt!r} (choose from {', '.join(PUBLIC_KEY_FORMATS)})")


def read_machine_type(path: StrPath) -> str:
    """The original's machine.txt: V7M or V6M (whitespace and CRLF tolerated, as `echo V7M > f` writes)."""
    path = Path(path)
    text = _read_key_file(path, "machine type file").decode("ascii", errors="replace").strip().upper()
    if text not in MACHINE_TYPES:
        shown = text[:20] or "empty"
        raise SpbError(path, f"machine type {shown!r}: expected V7M (Cortex-M3/M4/M7/M33) or V6M (Cortex-M0/M0+)")
    return text


@dataclass(frozen=True)
class KeyFiles:
    """The key files of a keys directory: `layout` is "spb" or "original"; a path may not exist."""

    directory: Path
    layout: str
    signing_key: Path
    aes_key: Path
    machine: str | None = None


def key_files(directory: StrPath) -> KeyFiles:
    """Which layout `directory` has and where its key files are (they may be missing: a directory can
    hold only the AES key when the signing key is in a token). Checks machine.txt when there is one."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SpbError(directory, "keys directory does not exist" if not directory.exists() else "not a directory")
    spb = [directory / SIGNING_KEY_FILE, directory / AES_KEY_FILE]
    original = [directory / ORIGINAL_SIGNING_KEY_FILE, directory / ORIGINAL_AES_KEY_FILE]
    has_spb, has_original = any(p.exists() for p in spb), any(p.exists() for p in original)
    if has_spb and has_original:
        raise SpbError(
            directory,
            f"holds both spb key files ({SIGNING_KEY_FILE}, {AES_KEY_FILE}) and the original's "
            f"({ORIGINAL_SIGNING_KEY_FILE}, {ORIGINAL_AES_KEY_FILE}): keep one set, or name the files with "
            "--signing-key/--aes-key",
        )
    if has_original:
        machine_file = directory / ORIGINAL_MACHINE_FILE
        machine = read_machine_type(machine_file) if machine_file.exists() else None
        return KeyFiles(directory, "original", original[0], original[1], machine)
    return KeyFiles(directory, "spb", spb[0], spb[1])


def load_keys(directory: StrPath) -> KeySet:
    """The key set of a keys directory (either layout)."""
    files = key_files(directory)
    return KeySet(PemSigner.from_file(files.signing_key), load_aes_key(files.aes_key), files.directory)


@dataclass(frozen=True)
class KeySource:
    """Where the keys come from. Each explicit option overrides the matching file of `keys`:

    keys          a keys directory, either layout
    signing_key   a private key file (PEM)
    aes_key       the AES key file (16 raw bytes)
    signer        a signing backend instead of a key file: "pkcs11:..." (RFC 7512 URI) or "detached"
    public_key    a public key file: verification without the private key, the detached flow's
                  checks, and an assertion about which key a signer holds (must match)
    signatures    detached flow, second step: the signatures made elsewhere (raw r||s or DER)
    """

    keys: str | None = None
    signing_key: str | None = None
    aes_key: str | None = None
    signer: str | None = None
    public_key: str | None = None
    signatures: tuple[str, ...] = ()

    def files(self) -> KeyFiles | None:
        return key_files(self.keys) if self.keys else None

    def aes_path(self) -> Path | None:
        if self.aes_key:
            return Path(self.aes_key)
        files = self.files()
        return files.aes_key if files else None

    def signing_path(self) -> Path | None:
        """The private key file that signs, when a file does (no signer backend)."""
        if self.signer:
            return None
        if self.signing_key:
            return Path(self.signing_key)
        files = self.files()
        return files.signing_key if files else None

    def load_signer(self, signing: bool = True) -> Signer:
        """The signer; with signing=False a public key is enough (verification)."""
        if self.signer and self.signing_key:
            raise SpbError(self.signing_key, "give either a signing key file or a signer backend, not both")
        if self.signatures and not (self.signer or "").startswith("detached"):
            raise SpbError(self.signatures[0], "signature files are for the detached flow (--signer detached)")
        expected = load_public_key(self.public_key) if self.public_key else None
        signer: Signer
        if self.signer:
            from .signing import open_signer

            signer = open_signer(self.signer, expected, self.public_key, self.signatures)
        else:
            path = self.signing_path()
            if path is not None and (path.exists() or signing or expected is None):
                signer = PemSigner.from_file(path)
            elif expected is not None and self.public_key:
                if signing:
                    raise SpbError(self.public_key, "is a public key: signing needs --keys, --signing-key or --signer")
                signer = PublicKeyOnly(expected, f"public key {self.public_key}")
            else:
                raise SpbError(
                    None,
                    "no signing key: give --keys DIR, --signing-key FILE or --signer URI (SCons: KEYS=, SIGNING_KEY=, "
                    "SIGNER=)"
                    if signing
                    else "no public key: give --keys DIR, --public-key FILE, --signing-key FILE or --signer URI",
                )
        if expected is not None and self.public_key and signer.public_key != expected:
            raise SpbError(self.public_key, f"does not match the signing key ({signer.name})")
        return signer

    def load_aes_key(self) -> bytes:
        path = self.aes_path()
        if path is None:
            raise SpbError(None, "no AES key: give --keys DIR or --aes-key FILE (SCons: KEYS= or AES_KEY=)")
        return load_aes_key(path)

    def load(self, signing: bool = True) -> KeySet:
        """The key set: AES key and signer (with signing=False, a public key is enough)."""
        aes = self.load_aes_key()
        signer = self.load_signer(signing)
        files = self.files()
        # The detached signer checks every signature it returns itself, and returns placeholders for the
        # digests still to be signed elsewhere (then the command writes the digests, not its output).
        return KeySet(signer, aes, files.directory if files else None, check_signatures=self.signer != "detached")


def generate_keys(directory: StrPath, development: bool = True) -> KeySet:
    """Create a new key pair and AES key in `directory`; refuses to overwrite existing keys."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in (SIGNING_KEY_FILE, AES_KEY_FILE, ORIGINAL_SIGNING_KEY_FILE, ORIGINAL_AES_KEY_FILE):
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
