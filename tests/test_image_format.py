# SPDX-License-Identifier: Apache-2.0
"""The .sfb container and the signed header: known answers for the layout, and independent
verification with `cryptography` alone (no spb code on the checking side)."""

import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from spb import image
from spb.errors import SpbError
from spb.keys import KeySet, PemSigner

# A fixed key pair and AES key, so the signature (RFC 6979) and the IV are known answers.
FIXED_SCALAR = 0x1F2E3D4C5B6A79880112233445566778899AABBCCDDEEFF00102030405060708
FIXED_AES = bytes(range(1, 17))


@pytest.fixture(scope="module")
def fixed_keys():
    private = ec.derive_private_key(FIXED_SCALAR, ec.SECP256R1())
    return KeySet(PemSigner(private), FIXED_AES)


def independent_verify(sfb: bytes, public_key: bytes, aes_key: bytes, vector_size: int):
    """Parse and check a .sfb from the format description, with `cryptography` only."""
    magic, protocol, iv, version, size, tag, segoff = struct.unpack_from("<2sH16sII32sI", sfb, 0)
    assert magic == b"SU" and protocol == 1
    r = int.from_bytes(sfb[64:96], "big")
    s = int.from_bytes(sfb[96:128], "big")
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + public_key)
    pub.verify(encode_dss_signature(r, s), sfb[:64], ec.ECDSA(hashes.SHA256()))  # raises if invalid
    assert sfb[128:vector_size] == b"\xff" * (vector_size - 128)
    assert len(sfb) == vector_size + size
    dec = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).decryptor()
    plain = dec.update(sfb[vector_size:]) + dec.finalize()
    assert hashlib.sha256(plain).digest() == tag
    return dict(version=version, size=size, tag=tag, segoff=segoff, iv=iv, plaintext=plain)


def test_header_layout_known_answer():
    h = image.Header(
        protocol=1,
        iv=bytes(range(16)),
        version=0x01020003,
        size=0x1230,
        tag=bytes([0xAA]) * 32,
        segoff=0x8D50,
        signature=bytes([0x55]) * 64,
    )
    packed = h.pack()
    assert len(packed) == 128
    assert packed[:64].hex() == ("53550100000102030405060708090a0b0c0d0e0f0300020130120000" + "aa" * 32 + "508d0000")
    assert packed[64:] == bytes([0x55]) * 64
    assert image.Header.unpack(packed) == h


def test_installed_header_layout(fixed_keys):
    h = image.image_header(bytes(32), 0x01000000, fixed_keys)
    block = image.installed_header(h, 0x200)
    assert len(block) == 0x200
    assert block[:128] == h.pack()
    assert block[0x80:0xE0] == h.signature[:32] * 3
    assert block[0xE0:] == b"\xff" * (0x200 - 0xE0)


def test_deterministic_signature_and_iv_known_answer(fixed_keys):
    plain = bytes(range(256)) * 4
    sfb = image.build_sfb(plain, 0x01040001, fixed_keys, 0x200)
    # Same inputs, same bytes: RFC 6979 signature and HMAC-derived IV.
    assert sfb == image.build_sfb(plain, 0x01040001, fixed_keys, 0x200)
    header = image.Header.unpack(sfb)
    expected_iv = (
        __import__("hmac")
        .new(
            FIXED_AES,
            b"SPB-IV" + struct.pack("<II32sI", 0x01040001, 1024, hashlib.sha256(plain).digest(), 0),
            hashlib.sha256,
        )
        .digest()[:16]
    )
    assert header.iv == expected_iv
    independent_verify(sfb, fixed_keys.public_key, FIXED_AES, 0x200)
    # A different version gives a different IV (never reuse an IV for two headers).
    other = image.Header.unpack(image.build_sfb(plain, 0x01040002, fixed_keys, 0x200))
    assert other.iv != header.iv


@pytest.mark.parametrize("size", [16, 32, 4096, 16 * 1001])
@pytest.mark.parametrize("vector_size", [0x200, 0x400])
def test_round_trip_independent(dev_keys, size, vector_size):
    import os

    plain = os.urandom(size)
    sfb = image.build_sfb(plain, 0x02000105, dev_keys, vector_size, segoff=0)
    fields = independent_verify(sfb, dev_keys.public_key, dev_keys.aes_key, vector_size)
    assert fields["plaintext"] == plain
    assert fields["version"] == 0x02000105 and fields["size"] == size
    report = image.verify_sfb(sfb, dev_keys, vector_size)
    assert report.ok and report.plaintext == plain


def test_rejects_bad_plaintext(dev_keys):
    with pytest.raises(SpbError, match="multiple of 16"):
        image.build_sfb(bytes(17), 1, dev_keys, 0x200)
    with pytest.raises(SpbError, match="empty"):
        image.build_sfb(b"", 1, dev_keys, 0x200)


def test_verify_reports_each_problem(dev_keys, tmp_path):
    import os

    plain = os.urandom(512)
    good = image.build_sfb(plain, 0x01000000, dev_keys, 0x200)
    # Header bit flips: every one breaks the signature (or the magic).
    for bit in range(0, 128 * 8, 37):
        bad = bytearray(good)
        bad[bit // 8] ^= 1 << (bit % 8)
        try:
            report = image.verify_sfb(bytes(bad), dev_keys, 0x200)
        except SpbError as error:
            assert "magic" in str(error)
            continue
        assert not report.signature_ok and not report.ok, f"bit {bit} accepted"
    body = bytearray(good)
    body[0x200 + 100] ^= 0x10
    report = image.verify_sfb(bytes(body), dev_keys, 0x200)
    assert report.signature_ok and not report.tag_ok
    assert any("tag" in p for p in report.problems)
    report = image.verify_sfb(good[:-16], dev_keys, 0x200)
    assert any("length" in p for p in report.problems)
    with pytest.raises(SpbError, match="truncated"):
        image.verify_sfb(good[:100], dev_keys, 0x200, tmp_path / "x.sfb")
    with pytest.raises(SpbError, match="magic"):
        image.verify_sfb(b"XX" + good[2:], dev_keys, 0x200)


def test_wrong_key_rejected(dev_keys, tmp_path):
    import warnings

    from spb.keys import DevKeyWarning, generate_keys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        other = generate_keys(tmp_path / "other")
    sfb = image.build_sfb(bytes(64), 1, dev_keys, 0x200)
    report = image.verify_sfb(sfb, other, 0x200)
    assert not report.signature_ok and not report.ok


def test_signer_protocol_is_pluggable(dev_keys):
    """Any object with a name, public_key and sign(digest) can sign (e.g. an HSM-backed signer)."""
    import hashlib

    calls = []

    class RecordingSigner:
        name = "recording"
        public_key = dev_keys.signer.public_key

        def sign(self, digest):
            calls.append(digest)
            return dev_keys.signer.sign(digest)

    keys = KeySet(RecordingSigner(), dev_keys.aes_key)
    sfb = image.build_sfb(bytes(48), 7, keys, 0x200)
    assert calls == [hashlib.sha256(sfb[:64]).digest()]
    independent_verify(sfb, dev_keys.public_key, dev_keys.aes_key, 0x200)


def test_pem_round_trip(tmp_path):
    private = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "k.pem"
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    signer = PemSigner.from_file(pem)
    assert (
        signer.public_key
        == private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[
            1:
        ]
    )
    rsa_like = tmp_path / "bad.pem"
    rsa_like.write_text("not a key")
    with pytest.raises(SpbError, match=r"bad\.pem"):
        PemSigner.from_file(rsa_like)
    p384 = ec.generate_private_key(ec.SECP384R1())
    pem384 = tmp_path / "p384.pem"
    pem384.write_bytes(
        p384.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(SpbError, match="P-256"):
        PemSigner.from_file(pem384)
