# SPDX-License-Identifier: Apache-2.0
"""Key sources and signing backends without a token (docs/keys.md): the original's key folder as it is,
explicit key files, public key export, the detached two-step flow, and one clean error (exit 2, one
line naming the file, nothing written) for every bad input. PKCS#11: tests/test_signing_pkcs11.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from spb import cli, image, patch
from spb.errors import SpbError
from spb.keys import KeySet, PemSigner, load_public_key, verify_digest, verify_raw
from support.scons_project import REPO, scons

BOARD = "NUCLEO-L452RE"
VECTOR_SIZE = 0x200
P384_PEM = ec.generate_private_key(ec.SECP384R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


def pem(key, fmt=serialization.PrivateFormat.PKCS8, password=None):
    algorithm = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, algorithm)


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    """Key material in both layouts (same keys), two plaintext images."""
    root = tmp_path_factory.mktemp("signing")
    key = ec.generate_private_key(ec.SECP256R1())
    aes = os.urandom(16)
    spb_dir = root / "spb-keys"
    spb_dir.mkdir()
    (spb_dir / "signing_key.pem").write_bytes(pem(key))
    (spb_dir / "aes128_key.bin").write_bytes(aes)
    # The original's folder as its tools leave it: SEC1 "EC PRIVATE KEY" PEM (here with CRLF, as a Windows
    # checkout has it), 16 raw bytes, `echo V7M > machine.txt` from cmd.exe, the per-build iv.bin.
    original = root / "Keys"
    original.mkdir()
    (original / "Signing_PrivKey_ECC.txt").write_bytes(
        pem(key, serialization.PrivateFormat.TraditionalOpenSSL).replace(b"\n", b"\r\n")
    )
    (original / "Cipher_Key_AES_CBC.bin").write_bytes(aes)
    (original / "machine.txt").write_bytes(b"V7M \r\n")
    (original / "iv.bin").write_bytes(os.urandom(16))
    v1, v2 = os.urandom(2048), os.urandom(2048)
    (root / "v1.bin").write_bytes(v1)
    (root / "v2.bin").write_bytes(v1[:1500] + v2[1500:])
    public = key.public_key()
    (root / "pub.pem").write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {"root": root, "key": key, "aes": aes, "spb": spb_dir, "original": original, "public": public}


def spb(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def sign_args(m, out, *keys, version="1.0.0", image_name="v1.bin"):
    return ["sign", m["root"] / image_name, "--board", BOARD, "--version", version, "-o", out, *keys]


def der_sign(key, digest):
    return key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))  # random k, DER: like a cloud KMS


def test_file_signer_is_rfc6979():
    """PemSigner is RFC 6979 deterministic ECDSA: RFC 6979 A.2.5, P-256 with SHA-256, message "sample"."""
    x = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
    keys = KeySet(PemSigner(ec.derive_private_key(x, ec.SECP256R1())), bytes(range(16)))
    assert keys.sign(b"sample").hex() == (
        "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
        "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
    )


def test_original_folder_as_is(m, capsys, tmp_path):
    a, b, c = tmp_path / "a.sfb", tmp_path / "b.sfb", tmp_path / "c.sfb"
    assert spb(capsys, *sign_args(m, a, "--keys", m["spb"]))[0] == 0
    assert spb(capsys, *sign_args(m, b, "--keys", m["original"]))[0] == 0
    explicit = ["--signing-key", m["original"] / "Signing_PrivKey_ECC.txt", "--aes-key", m["spb"] / "aes128_key.bin"]
    assert spb(capsys, *sign_args(m, c, *explicit))[0] == 0
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()  # same keys, same bytes, whatever the layout
    code, out, _ = spb(capsys, "verify", b, "--board", BOARD, "--keys", m["original"])
    assert code == 0 and "signature valid" in out
    code, out, _ = spb(capsys, "keys", "show", "--keys", m["original"])
    assert code == 0 and "original layout, machine.txt V7M" in out
    assert m["aes"].hex() not in out  # show never prints a secret
    assert m["public"].public_numbers().x.to_bytes(32, "big").hex() in out


@pytest.mark.parametrize("fmt", ["pem", "der", "raw", "hex"])
def test_public_key_export(m, capsys, tmp_path, fmt):
    out = tmp_path / f"pub.{fmt}"
    assert spb(capsys, "keys", "export", "--keys", m["original"], "--format", fmt, "-o", out)[0] == 0
    expected = m["public"].public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]
    assert load_public_key(out) == expected
    data = out.read_bytes()
    if fmt == "pem":
        assert serialization.load_pem_public_key(data).public_numbers() == m["public"].public_numbers()
    elif fmt == "raw":
        assert data == expected
    # Verification needs the public key and the AES key only.
    sfb = tmp_path / "a.sfb"
    assert spb(capsys, *sign_args(m, sfb, "--keys", m["spb"]))[0] == 0
    code, text, _ = spb(
        capsys, "verify", sfb, "--board", BOARD, "--public-key", out, "--aes-key", m["spb"] / "aes128_key.bin"
    )
    assert code == 0 and "signature valid" in text


def test_export_to_stdout(m, capsys):
    code, out, _ = spb(capsys, "keys", "export", "--keys", m["spb"])
    assert code == 0 and out.startswith("-----BEGIN PUBLIC KEY-----")
    assert spb(capsys, "keys", "export", "--keys", m["spb"], "--format", "raw")[0] == 2  # binary: needs -o


def test_detached_sign(m, capsys, tmp_path):
    """Step 1 writes the digest and no image; step 2 takes a DER or raw signature back, checks it, writes."""
    reference = tmp_path / "ref.sfb"
    assert spb(capsys, *sign_args(m, reference, "--keys", m["spb"]))[0] == 0
    out = tmp_path / "app.sfb"
    detached = ["--signer", "detached", "--public-key", m["root"] / "pub.pem", "--aes-key", m["spb"] / "aes128_key.bin"]
    code, text, _ = spb(capsys, *sign_args(m, out, *detached))
    digest_file = tmp_path / "app.sfb.digest"
    assert (
        code == 0 and not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["app.sfb.digest", "ref.sfb"]
    )
    digest = digest_file.read_bytes()
    assert digest == hashlib.sha256(reference.read_bytes()[:64]).digest() and digest.hex() in text
    der = tmp_path / "sig.der"
    der.write_bytes(der_sign(m["key"], digest))
    assert spb(capsys, *sign_args(m, out, *detached, "--signature", der))[0] == 0
    signed = out.read_bytes()
    # Identical to the key file's .sfb but for the signature (its own nonce), which verifies all the same.
    assert signed[:64] == reference.read_bytes()[:64] and signed[128:] == reference.read_bytes()[128:]
    assert verify_raw(load_public_key(m["root"] / "pub.pem"), signed[:64], signed[64:128])
    r, s = decode_dss_signature(der.read_bytes())
    raw = tmp_path / "sig.raw"
    raw.write_bytes(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    again = tmp_path / "again.sfb"
    assert spb(capsys, *sign_args(m, again, *detached, "--signature", raw))[0] == 0
    assert again.read_bytes() == signed


def test_detached_patch(m, capsys, tmp_path):
    keys_dir = ["--keys", m["spb"]]
    v1, v2 = tmp_path / "v1.sfb", tmp_path / "v2.sfb"
    assert spb(capsys, *sign_args(m, v1, *keys_dir))[0] == 0
    assert spb(capsys, *sign_args(m, v2, *keys_dir, version="1.1.0", image_name="v2.bin"))[0] == 0
    detached = ["--signer", "detached", "--public-key", m["root"] / "pub.pem", "--aes-key", m["spb"] / "aes128_key.bin"]
    # From plaintext inputs: two headers to sign (the patch header and the TO header).
    plain = tmp_path / "plain.sfbp"
    args = ["patch", m["root"] / "v1.bin", m["root"] / "v2.bin", "--from-version", "1.0.0", "--version", "1.1.0", "-q"]
    assert spb(capsys, *args, *detached, "-o", plain)[0] == 0
    digests = [tmp_path / "plain.sfbp.1.digest", tmp_path / "plain.sfbp.2.digest"]
    assert all(p.exists() for p in digests) and not plain.exists()
    signatures = []
    for i, path in enumerate(reversed(digests)):  # any order
        signatures += ["--signature", tmp_path / f"s{i}.der"]
        (tmp_path / f"s{i}.der").write_bytes(der_sign(m["key"], path.read_bytes()))
    assert spb(capsys, *args, *detached, "-o", plain, *signatures[:2])[0] == 2  # one is still missing
    assert not plain.exists()
    assert spb(capsys, *args, *detached, "-o", plain, *signatures)[0] == 0
    report = patch.verify_sfbp(
        plain.read_bytes(), KeySet(PemSigner(m["key"]), m["aes"]), (m["root"] / "v1.bin").read_bytes()
    )
    assert report.ok and report.new_image == (m["root"] / "v2.bin").read_bytes()
    # From .sfb inputs: the NEW .sfb's valid signature is reused for the TO header, one digest is left.
    sfbp = tmp_path / "x.sfbp"
    assert spb(capsys, "patch", v1, v2, *detached, "-q", "-o", sfbp)[0] == 0
    digest = (tmp_path / "x.sfbp.digest").read_bytes()
    (tmp_path / "x.der").write_bytes(der_sign(m["key"], digest))
    assert spb(capsys, "patch", v1, v2, *detached, "-q", "-o", sfbp, "--signature", tmp_path / "x.der")[0] == 0
    assert sfbp.read_bytes()[128:256] == v2.read_bytes()[:128]
    assert patch.verify_sfbp(
        sfbp.read_bytes(), KeySet(PemSigner(m["key"]), m["aes"]), (m["root"] / "v1.bin").read_bytes()
    ).ok


def test_detached_refuses_bad_signatures(m, capsys, tmp_path):
    out = tmp_path / "app.sfb"
    detached = ["--signer", "detached", "--public-key", m["root"] / "pub.pem", "--aes-key", m["spb"] / "aes128_key.bin"]
    other = tmp_path / "other.der"
    other.write_bytes(der_sign(m["key"], hashlib.sha256(b"another header").digest()))
    stranger = tmp_path / "stranger.der"
    digest = hashlib.sha256(b"x").digest()
    stranger.write_bytes(der_sign(ec.generate_private_key(ec.SECP256R1()), digest))
    junk = tmp_path / "junk.sig"
    junk.write_bytes(b"\x30\x05junk!")
    for bad, words in [
        (other, "does not verify"),
        (stranger, "does not verify"),
        (junk, "not an ECDSA P-256 signature"),
    ]:
        code, _, err = spb(capsys, *sign_args(m, out, *detached, "--signature", bad))
        assert code == 2 and f"{bad}: " in err and words in err and err.count("\n") == 1, err
        assert not out.exists() and not (tmp_path / "app.sfb.digest").exists()


def test_custom_signer_is_checked(m):
    """Every backend's signature is checked against its public key before the image code uses it."""

    class Broken:
        name = "broken-hsm"
        public_key = PemSigner(m["key"]).public_key

        def sign(self, digest):
            return bytes(range(64))

    with pytest.raises(SpbError, match="broken-hsm: returned a signature that does not verify"):
        image.build_sfb(bytes(32), 1, KeySet(Broken(), m["aes"]), VECTOR_SIZE)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def both_layouts(m, directory):
    write(directory / "signing_key.pem", pem(m["key"]))
    write(directory / "Cipher_Key_AES_CBC.bin", m["aes"])
    return directory


def bad_machine(m, directory):
    write(directory / "Signing_PrivKey_ECC.txt", pem(m["key"], serialization.PrivateFormat.TraditionalOpenSSL))
    write(directory / "Cipher_Key_AES_CBC.bin", m["aes"])
    write(directory / "machine.txt", b"ARM\n")
    return directory


# name: (setup(m, d) -> extra sign args, words the error must hold, the file it must name)
BAD = {
    "missing-dir": (lambda m, d: ["--keys", d / "nope"], "does not exist", "nope"),
    "both-layouts": (lambda m, d: ["--keys", both_layouts(m, d / "k")], "holds both", "k"),
    "machine-type": (lambda m, d: ["--keys", bad_machine(m, d / "k")], "machine type 'ARM'", "machine.txt"),
    "aes-short": (
        lambda m, d: ["--keys", m["spb"], "--aes-key", write(d / "a.bin", bytes(range(15)))],
        "16 raw bytes, found 15",
        "a.bin",
    ),
    "aes-hex": (
        lambda m, d: ["--keys", m["spb"], "--aes-key", write(d / "a.bin", m["aes"].hex().encode())],
        "not hex",
        "a.bin",
    ),
    "aes-blank": (
        lambda m, d: ["--keys", m["spb"], "--aes-key", write(d / "a.bin", b"\xff" * 16)],
        "blank memory",
        "a.bin",
    ),
    "pem-garbage": (
        lambda m, d: ["--keys", m["spb"], "--signing-key", write(d / "k.pem", b"hello")],
        "not a PEM private key",
        "k.pem",
    ),
    "pem-p384": (lambda m, d: ["--keys", m["spb"], "--signing-key", write(d / "k.pem", P384_PEM)], "P-256", "k.pem"),
    "pem-encrypted": (
        lambda m, d: ["--keys", m["spb"], "--signing-key", write(d / "k.pem", pem(m["key"], password=b"pw"))],
        "encrypted",
        "k.pem",
    ),
    "pem-public": (
        lambda m, d: ["--keys", m["spb"], "--signing-key", m["root"] / "pub.pem"],
        "holds a public key",
        "pub.pem",
    ),
    "public-mismatch": (
        lambda m, d: [
            "--keys",
            m["spb"],
            "--public-key",
            write(
                d / "p.pem",
                ec.generate_private_key(ec.SECP256R1())
                .public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            ),
        ],
        "does not match the signing key",
        "p.pem",
    ),
    "public-is-private": (
        lambda m, d: ["--keys", m["spb"], "--public-key", m["spb"] / "signing_key.pem"],
        "holds a private key",
        "signing_key.pem",
    ),
    "signer-scheme": (lambda m, d: ["--keys", m["spb"], "--signer", "kms://x"], "unknown signer", "kms://x"),
    "pin-on-command-line": (
        lambda m, d: ["--keys", m["spb"], "--signer", "pkcs11:token=t;object=k?pin-value=1234"],
        "refusing pin-value",
        "pkcs11:token=t;object=k",
    ),
    "uri-typo": (
        lambda m, d: ["--keys", m["spb"], "--signer", "pkcs11:tokn=t;object=k"],
        "unknown path attribute",
        "tokn",
    ),
    "uri-no-key": (lambda m, d: ["--keys", m["spb"], "--signer", "pkcs11:token=t"], "object=", "pkcs11:token=t"),
    "no-module": (
        lambda m, d: ["--keys", m["spb"], "--signer", "pkcs11:token=t;object=k"],
        "SPB_PKCS11_MODULE",
        "pkcs11:token=t",
    ),
    "module-missing": (
        lambda m, d: ["--keys", m["spb"], "--signer", f"pkcs11:token=t;object=k?module-path={d}/nope.so"],
        "PKCS#11 module not found",
        "nope.so",
    ),
    "detached-no-public": (lambda m, d: ["--keys", m["spb"], "--signer", "detached"], "--public-key", ""),
    "signature-without-detached": (
        lambda m, d: ["--keys", m["spb"], "--signature", write(d / "s.sig", bytes(64))],
        "detached",
        "s.sig",
    ),
    "file-and-signer": (
        lambda m, d: ["--keys", m["spb"], "--signing-key", m["spb"] / "signing_key.pem", "--signer", "detached"],
        "not both",
        "signing_key.pem",
    ),
    "no-keys": (lambda m, d: [], "no AES key", ""),
    "no-signing-key": (lambda m, d: ["--aes-key", m["spb"] / "aes128_key.bin"], "no signing key", ""),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_one_line_exit_2_nothing_written(m, capsys, tmp_path, monkeypatch, case):
    monkeypatch.delenv("SPB_PKCS11_MODULE", raising=False)
    setup, words, names = BAD[case]
    bad = tmp_path / "bad"
    extra = setup(m, bad)
    out = tmp_path / "out" / "app.sfb"
    out.parent.mkdir()
    code, stdout, err = spb(capsys, *sign_args(m, out, *extra))
    assert code == 2, (stdout, err)
    assert err.startswith("spb: error: ") and err.count("\n") == 1, err
    assert words in err and names in err, err
    assert list(out.parent.iterdir()) == []


def test_exit_status_of_the_command(m, tmp_path):
    bad = write(tmp_path / "aes.bin", b"short")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "spb.cli",
            *map(str, sign_args(m, tmp_path / "x.sfb", "--keys", m["spb"], "--aes-key", bad)),
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "site_scons"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"spb: error: {bad}: AES-128 key must be 16 raw bytes, found 5\n"
    assert not (tmp_path / "x.sfb").exists()


def test_scons_refuses_bad_keys_before_building(m, tmp_path):
    aes = write(tmp_path / "aes.bin", bytes(15))
    out = tmp_path / "out"
    result = scons(REPO, f"BUILD_DIR={out}", f"KEYS={m['original']}", f"AES_KEY={aes}", "VERSION=1.0.0", check=False)
    assert result.returncode == 2 and f"{aes}: AES-128 key must be 16 raw bytes" in result.stderr
    assert not out.exists()
    result = scons(REPO, f"BUILD_DIR={out}", f"KEYS={m['spb']}", "SIGNER=detached", "VERSION=1.0.0", check=False)
    assert result.returncode == 2 and "SIGNER=detached" in result.stderr and not out.exists()


def test_digest_check_is_prehashed(m):
    digest = hashlib.sha256(b"header").digest()
    signature = PemSigner(m["key"]).sign(digest)
    public = PemSigner(m["key"]).public_key
    assert verify_digest(public, digest, signature) and verify_raw(public, b"header", signature)
    assert not verify_digest(public, hashlib.sha256(b"other").digest(), signature)
