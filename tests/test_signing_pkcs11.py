# SPDX-License-Identifier: Apache-2.0
"""Signing through PKCS#11, for real, against SoftHSM2 (Debian package softhsm2, installed by ./setup):
tokens in a temporary SOFTHSM2_CONF directory, an imported key and a key generated on the token, `spb
sign`/`patch`/`keys export` and the SCons build with SIGNER=, signatures checked with `cryptography`, and
PKCS#11-signed images installed by the real bootloader core built for the host."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from spb import cli, image
from spb.keys import P256_N, KeySet, KeySource, PemSigner, load_public_key, verify_raw
from support.scons_project import REPO, scons, user_project

MODULES = [Path("/usr/lib/softhsm/libsofthsm2.so"), Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")]
MODULE = next((m for m in MODULES if m.exists()), None)
pytestmark = [
    pytest.mark.skipif(
        MODULE is None or shutil.which("softhsm2-util") is None,
        reason="SoftHSM2 is not installed (Debian package softhsm2; ./setup installs it)",
    ),
]
PyKCS11 = pytest.importorskip("PyKCS11", reason="PyKCS11 is not installed (pip install -e '.[test]')")

PIN, SO_PIN = "2718", "31415"
URI = "pkcs11:token=spb-ci;object=firmware"
GENERATED_URI = "pkcs11:token=spb-gen;id=%02"
BOARD = "EMU-MPS2-AN385"  # the host build of the core (tests/support/hostboot.py)
V1, V2, V3 = 0x01000000, 0x01000100, 0x01000200  # 1.0.0, 1.1.0, 1.2.0
# A fixed key and AES key: the host bootloader library built with them is cached between runs.
KEY = ec.derive_private_key(
    int.from_bytes(hashlib.sha256(b"spb pkcs11 test key").digest(), "big") % P256_N, ec.SECP256R1()
)
AES = hashlib.sha256(b"spb pkcs11 test aes").digest()[:16]
GENERATE = """
import sys, PyKCS11 as P
module, pin = sys.argv[1:3]
lib = P.PyKCS11Lib(); lib.load(module)
slot = [s for s in lib.getSlotList(tokenPresent=True) if lib.getTokenInfo(s).label.strip() == "spb-gen"][0]
session = lib.openSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION)
session.login(pin)
p256 = bytes.fromhex("06082a8648ce3d030107")
common = [(P.CKA_TOKEN, True), (P.CKA_KEY_TYPE, P.CKK_EC), (P.CKA_LABEL, "generated"), (P.CKA_ID, (2,))]
public = common + [(P.CKA_CLASS, P.CKO_PUBLIC_KEY), (P.CKA_EC_PARAMS, p256), (P.CKA_VERIFY, True)]
private = common + [(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_SIGN, True), (P.CKA_PRIVATE, True),
                    (P.CKA_SENSITIVE, True), (P.CKA_EXTRACTABLE, False)]
session.generateKeyPair(public, private, mecha=P.MechanismECGENERATEKEYPAIR)
"""


@pytest.fixture(scope="session")
def hsm(tmp_path_factory):
    """SoftHSM2 tokens for this test process: spb-ci holds KEY (imported, as one migrates the original's
    Signing_PrivKey_ECC.txt), spb-gen a key generated on the token (never leaves it)."""
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    patcher = pytest.MonkeyPatch()
    patcher.setenv("SOFTHSM2_CONF", str(conf))
    patcher.setenv("SPB_PKCS11_MODULE", str(MODULE))
    patcher.setenv("SPB_PKCS11_PIN", PIN)

    def util(*args):
        subprocess.run(["softhsm2-util", *args], check=True, capture_output=True)

    for label in ("spb-ci", "spb-gen"):
        util("--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", PIN)
    pem = root / "firmware.pem"
    pem.write_bytes(PemSigner(KEY).private_pem())
    util("--import", str(pem), "--token", "spb-ci", "--label", "firmware", "--id", "01", "--pin", PIN)
    pem.unlink()
    subprocess.run([sys.executable, "-c", GENERATE, str(MODULE), PIN], check=True, capture_output=True)
    # The original's key folder once the signing key went into the token: the AES key stays a file.
    keys = root / "Keys"
    keys.mkdir()
    (keys / "Cipher_Key_AES_CBC.bin").write_bytes(AES)
    (keys / "machine.txt").write_text("V7M\n")
    yield {"root": root, "keys": keys, "aes": keys / "Cipher_Key_AES_CBC.bin"}
    patcher.undo()


def raw_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]


def spb(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def sign(capsys, hsm, plain: Path, version: str, out: Path, signer=URI):
    code, text, err = spb(
        capsys,
        "sign",
        plain,
        "--board",
        BOARD,
        "--version",
        version,
        "--signer",
        signer,
        "--aes-key",
        hsm["aes"],
        "-o",
        out,
    )
    assert code == 0, err
    assert f"signed by {signer}" in text
    return out.read_bytes()


def test_sign_verifies_like_a_key_file(hsm, capsys, tmp_path):
    plain = tmp_path / "app.bin"
    plain.write_bytes(random.Random(1).randbytes(4096))
    sfb = sign(capsys, hsm, plain, "1.2.3", tmp_path / "hsm.sfb")
    reference = image.build_sfb(plain.read_bytes(), 0x01000203, KeySet(PemSigner(KEY), AES), 0x200)
    # The token signs the same header bytes as the key file; its nonce is its own (SoftHSM2 draws it at
    # random), and the signature checks out with cryptography alone.
    assert sfb[:64] == reference[:64] and sfb[128:] == reference[128:]
    assert verify_raw(raw_public(KEY), sfb[:64], sfb[64:128])
    code, out, _ = spb(
        capsys, "verify", tmp_path / "hsm.sfb", "--board", BOARD, "--signer", URI, "--aes-key", hsm["aes"]
    )
    assert code == 0 and "signature valid" in out and "tag       matches" in out


def test_host_bootloader_installs_pkcs11_signed_updates(hsm, capsys, tmp_path):
    """The real C core (host build) installs a .sfbp and a .sfb that only the token signed."""
    from support.hostboot import COMPLETED, HostBootloader, app_image

    keys = KeySource(signer=URI, aes_key=str(hsm["aes"])).load()
    hb = HostBootloader(BOARD, keys)
    rng = random.Random(7)
    v1 = app_image(hb.board, rng.randbytes(1536))
    v2 = v1[:1000] + rng.randbytes(536)
    v3 = app_image(hb.board, rng.randbytes(2048))
    hb.manufacture(v1, V1)  # the factory image's installed header, signed by the token too
    _cut, vector, log = hb.boot()
    assert vector == hb.board.app_vector_address and hb.slot0_valid_as(v1, V1), log
    files = {}
    for name, data in (("v1", v1), ("v2", v2), ("v3", v3)):
        (tmp_path / f"{name}.bin").write_bytes(data)
    for name, version in (("v1", "1.0.0"), ("v2", "1.1.0"), ("v3", "1.2.0")):
        files[name] = sign(capsys, hsm, tmp_path / f"{name}.bin", version, tmp_path / f"{name}.sfb")
    code, _, err = spb(
        capsys, "patch", tmp_path / "v1.sfb", tmp_path / "v2.sfb", "--signer", URI, "--aes-key", hsm["aes"], "-q", "-o",
        tmp_path / "p.sfbp",
    )  # fmt: skip
    assert code == 0, err
    sfbp = (tmp_path / "p.sfbp").read_bytes()
    assert verify_raw(raw_public(KEY), sfbp[:64], sfbp[64:128]) and verify_raw(
        raw_public(KEY), sfbp[128:192], sfbp[192:256]
    )
    for data, plain, version in ((sfbp, v2, V2), (files["v3"], v3, V3)):
        result = hb.update(data)
        assert result.failed_call == 0 and result.status.status == COMPLETED, result
        _cut, vector, log = hb.boot()
        assert vector == hb.board.app_vector_address and hb.slot0_valid_as(plain, version), log
        assert hb.violations == 0


def test_key_generated_on_the_token(hsm, capsys, tmp_path):
    """A key that never left the token: export its public half, sign, check with cryptography."""
    pub = tmp_path / "pub.pem"
    assert spb(capsys, "keys", "export", "--signer", GENERATED_URI, "-o", pub)[0] == 0
    public = serialization.load_pem_public_key(pub.read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    plain = tmp_path / "app.bin"
    plain.write_bytes(bytes(range(256)) * 4)
    sfb = sign(capsys, hsm, plain, "2.0.0", tmp_path / "app.sfb", signer=GENERATED_URI)
    assert verify_raw(load_public_key(pub), sfb[:64], sfb[64:128])
    assert not verify_raw(raw_public(KEY), sfb[:64], sfb[64:128])
    code, out, _ = spb(capsys, "keys", "show", "--signer", GENERATED_URI, "--keys", hsm["keys"])
    assert code == 0 and "original layout, machine.txt V7M" in out and load_public_key(pub).hex() in out


def test_sign_time_per_image(hsm, capsys):
    """The token's cost per image (one signature per .sfb, two per .sfbp): a fraction of a millisecond
    on SoftHSM2; printed with -s."""
    keys = KeySource(signer=URI, aes_key=str(hsm["aes"])).load()
    files = KeySet(PemSigner(KEY), AES)
    plain = bytes(1024)
    timings = {}
    for name, ks in (("pkcs11", keys), ("file", files)):
        ks.sign(b"warm-up")  # login, key lookup
        start = time.perf_counter()
        for version in range(1, 101):
            image.build_sfb(plain, version, ks, 0x200)
        timings[name] = (time.perf_counter() - start) / 100
    with capsys.disabled():
        print(
            f"\n.sfb of 1 KiB, mean of 100: PKCS#11 (SoftHSM2) {timings['pkcs11'] * 1e3:.2f} ms, "
            f"key file {timings['file'] * 1e3:.2f} ms"
        )
    assert timings["pkcs11"] < 0.05


def child(hsm, *args, **env):
    base = {
        "PYTHONPATH": str(REPO / "site_scons"),
        "PATH": "/usr/bin:/bin",
        "SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"],
        "SPB_PKCS11_MODULE": str(MODULE),
    }
    return subprocess.run(
        [sys.executable, "-m", "spb.cli", *map(str, args)], capture_output=True, text=True, env={**base, **env}
    )


@pytest.mark.parametrize(
    ("signer", "env", "words"),
    [
        (URI, {"SPB_PKCS11_PIN": "0000"}, "PIN rejected"),
        (URI, {}, "needs a PIN: set SPB_PKCS11_PIN"),
        (
            "pkcs11:token=nope;object=firmware",
            {"SPB_PKCS11_PIN": PIN},
            "no such token (tokens present: 'spb-ci', 'spb-gen'",
        ),
        ("pkcs11:token=spb-ci;object=nope", {"SPB_PKCS11_PIN": PIN}, "no such key on the token"),
        ("pkcs11:token=spb-ci;object=firmware?pin-source=/nonexistent/pin", {}, "cannot read the PIN file"),
        (
            URI,
            {"SPB_PKCS11_MODULE": "/usr/lib/nope.so", "SPB_PKCS11_PIN": PIN},
            "/usr/lib/nope.so: PKCS#11 module not found",
        ),
    ],
)
def test_token_errors(hsm, tmp_path, signer, env, words):
    plain = tmp_path / "app.bin"
    plain.write_bytes(bytes(64))
    out = tmp_path / "app.sfb"
    result = child(
        hsm,
        "sign",
        plain,
        "--board",
        BOARD,
        "--version",
        "1.0.0",
        "--signer",
        signer,
        "--aes-key",
        hsm["aes"],
        "-o",
        out,
        **env,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert not out.exists()


def test_pin_from_a_file(hsm, tmp_path):
    pin = tmp_path / "pin"
    pin.write_text(PIN + "\n")
    plain = tmp_path / "app.bin"
    plain.write_bytes(bytes(64))
    result = child(
        hsm,
        "sign",
        plain,
        "--board",
        BOARD,
        "--version",
        "1.0.0",
        "--signer",
        f"{URI}?pin-source=file:{pin}",
        "--aes-key",
        hsm["aes"],
        "-o",
        tmp_path / "a.sfb",
    )
    assert result.returncode == 0, result.stderr
    assert verify_raw(
        raw_public(KEY), (tmp_path / "a.sfb").read_bytes()[:64], (tmp_path / "a.sfb").read_bytes()[64:128]
    )


def test_scons_build_signs_with_the_token(hsm, tmp_path):
    """SIGNER= with the original's key folder (AES key only, the signing key is in the token)."""
    root = user_project(tmp_path / "proj", REPO / "boards" / "NUCLEO-L452RE.toml")
    args = ["BOARD=NUCLEO-L452RE", f"KEYS={hsm['keys']}", f"SIGNER={URI}", "VERSION=1.0.0"]
    result = scons(root, *args)
    build = root / "build" / "NUCLEO-L452RE"
    sfb = (build / "app.sfb").read_bytes()
    assert verify_raw(raw_public(KEY), sfb[:64], sfb[64:128])
    keys_c = (build / "gen" / "spb_keys.c").read_text()
    assert ",".join(f"0x{b:02X}" for b in raw_public(KEY)) in keys_c
    assert ",".join(f"0x{b:02X}" for b in AES) in keys_c
    report = image.verify_sfb(sfb, KeySet(PemSigner(KEY), AES), 0x200)
    assert report.ok, report.problems
    # Up to date on a second run: the signer enters the build as its name and public key, not a nonce.
    again = scons(root, *args)
    assert "SIGN" not in again.stdout and (build / "app.sfb").read_bytes() == sfb, result.stdout
    # A wrong PIN stops the build before anything is made.
    env_pin = os.environ["SPB_PKCS11_PIN"]
    os.environ["SPB_PKCS11_PIN"] = "0000"
    try:
        failed = scons(root, *args, "BUILD_DIR=build/other", check=False)
    finally:
        os.environ["SPB_PKCS11_PIN"] = env_pin
    assert failed.returncode == 2 and "PIN rejected" in failed.stderr and not (root / "build" / "other").exists()
