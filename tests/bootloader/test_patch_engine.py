# SPDX-License-Identifier: Apache-2.0
"""The device's patch engine (bootloader/src/patch*.c), built for the host, against the Python reference
(spb.patch): a .sfbp fed through SE_PATCH_* in any chunking must leave SLOT1 byte-identical to the
matching .sfb and install like it; a wrong FROM image, version, key or a corrupted/truncated patch is
refused with its status and SLOT0 stays untouched; malformed patch streams are judged exactly as the
Python decoders judge them. Both encodings."""

from __future__ import annotations

import glob
import hashlib
import random
from pathlib import Path

import pytest

from spb import compact, image, jojo, patch
from spb.image import HEADER_SIZE, Header, aes_cbc
from support.hostboot import (
    COMPLETED,
    IMAGE_VERSION_FAILURE,
    INVALID_PATCH_IMAGE,
    MARK_READY,
    PARSER_ERROR,
    STAGE_VERIFIED,
)

BOARD = "EMU-MPS2-AN385"
V1, V2, V3 = 0x01000000, 0x01000100, 0x01000200
INVALID_SOURCE_IMAGE, INVALID_TARGET_IMAGE, INVALID_PATCH_TAG = 4, 5, 6
ENCODINGS = ["compat", "compact"]


def firmware_like(rng: random.Random, size: int) -> bytes:
    """Real Thumb-2 code bytes (newlib's archives) when installed, else random bytes."""
    files = sorted(glob.glob("/usr/lib/arm-none-eabi/newlib/thumb/v7-m/nofp/libc_nano.a"))
    if files:
        data = Path(files[0]).read_bytes()
        start = rng.randrange(0, len(data) - size)
        return data[start : start + size]
    return rng.randbytes(size)


def release(rng: random.Random, old: bytes) -> bytes:
    """A plausible next release: tweaked constants, a function inserted, one removed; 16-byte multiple."""
    new = bytearray(old)
    for _ in range(12):
        k = rng.randrange(len(new))
        new[k] = (new[k] + rng.randrange(1, 8)) & 0xFF
    at = rng.randrange(len(new))
    new[at:at] = firmware_like(rng, 200)
    at = rng.randrange(len(new) - 100)
    del new[at : at + 90]
    new += bytes(-len(new) % 16)
    return bytes(new)


@pytest.fixture(scope="module")
def images():
    rng = random.Random(0x5EB)
    v1 = firmware_like(rng, 6144)
    return v1, release(rng, v1)


@pytest.fixture
def hb(host_bootloader, images, dev_keys):
    hb = host_bootloader(BOARD)
    hb.manufacture(images[0], V1)
    hb.snapshot()
    return hb


def slot1_matches_sfb(hb, sfb: bytes) -> bool:
    vs = hb.board.vector_size
    base = hb.board.slot1.address
    return hb.read(base, HEADER_SIZE) == sfb[:HEADER_SIZE] and hb.read(base + vs, len(sfb) - vs) == sfb[vs:]


def slot0_bytes(hb):
    return hb.read(hb.board.slot0.address, hb.board.slot0.size)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_patch_regenerates_the_sfb_in_slot1_and_installs(hb, images, dev_keys, encoding):
    v1, v2 = images
    sfbp = patch.build_sfbp(v1, V1, v2, V2, dev_keys, encoding=encoding)
    sfb = image.build_sfb(v2, V2, dev_keys, hb.board.vector_size)
    assert len(sfbp) < len(sfb) // 2
    hb.power_on()
    result = hb.update(sfbp, chunk=97)
    assert result.failed_call == 0 and result.status.status == COMPLETED, result
    assert slot1_matches_sfb(hb, sfb)
    assert hb.marker(MARK_READY)
    _cut, _vector, log = hb.boot()
    assert "Slot 0 validated." in log and hb.slot0_valid_as(v2, V2), log
    assert hb.violations == 0


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_chunk_size_gives_the_same_slot1(hb, dev_keys, encoding):
    """Chunk sizes 1..300 and some larger ones, on a patch of a few hundred bytes."""
    rng = random.Random(7)
    v1 = firmware_like(rng, 2048)
    v2 = release(rng, v1)
    hb.manufacture(v1, V1)
    hb.snapshot()
    sfbp = patch.build_sfbp(v1, V1, v2, V2, dev_keys, encoding=encoding)
    sfb = image.build_sfb(v2, V2, dev_keys, hb.board.vector_size)
    sizes = list(range(1, 301)) + [511, 512, 1024, len(sfbp) - 1, len(sfbp)]
    for chunk in sizes:
        hb.restore()
        hb.power_on()
        result = hb.update(sfbp, chunk=chunk, install=False)
        assert result.status.status == COMPLETED and result.status.stage == STAGE_VERIFIED, (chunk, result)
        assert slot1_matches_sfb(hb, sfb), chunk
    assert hb.violations == 0


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    "case", ["empty-change", "totally-different", "one-byte-differs", "grown", "shrunk", "rewritten-in-place"]
)
def test_edge_pairs(hb, dev_keys, encoding, case):
    rng = random.Random(case)
    v1 = firmware_like(rng, 1024)
    v2 = {
        "empty-change": v1,
        "totally-different": rng.randbytes(1024),
        "one-byte-differs": v1[:500] + bytes([v1[500] ^ 0x5A]) + v1[501:],
        "grown": v1 + rng.randbytes(4096),
        "shrunk": v1[:16],
        # literals between two copies at one displacement (compact: not merged into differences)
        "rewritten-in-place": v1[:300] + bytes(b ^ 0xA5 for b in v1[300:500]) + v1[500:],
    }[case]
    hb.manufacture(v1, V1)
    sfbp = patch.build_sfbp(v1, V1, v2, V2, dev_keys, encoding=encoding)
    assert patch.verify_sfbp(sfbp, dev_keys, v1).new_image == v2
    result = hb.update(sfbp, chunk=1 if len(sfbp) < 2000 else 33)
    assert result.status.status == COMPLETED, result
    assert slot1_matches_sfb(hb, image.build_sfb(v2, V2, dev_keys, hb.board.vector_size))


def refused(hb, data, expected, chunk=64):
    hb.restore()
    hb.power_on()
    before = slot0_bytes(hb)
    result = hb.update(data, chunk=chunk)
    assert result.failed_call in (1, 2), result
    assert result.status.status == expected, (result.status.status, expected)
    assert slot0_bytes(hb) == before
    assert not hb.marker(MARK_READY)
    return result


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_wrong_source_version_key_and_target(hb, images, dev_keys, encoding, tmp_path):
    v1, v2 = images
    # Made from another image with the same version: SLOT0's SHA-256 does not match.
    other = bytes([v1[0] ^ 1]) + v1[1:]
    refused(hb, patch.build_sfbp(other, V1, v2, V2, dev_keys, encoding=encoding), INVALID_SOURCE_IMAGE)
    # Made from the same bytes but labelled with another FROM version.
    refused(hb, patch.build_sfbp(v1, V1 + 1, v2, V2, dev_keys, encoding=encoding), INVALID_SOURCE_IMAGE)
    # Going nowhere newer than what runs.
    hb.restore()
    hb.manufacture(v1, V2)
    hb.snapshot()
    refused(hb, _with_to_version(v1, V2, v2, V2, dev_keys, encoding), IMAGE_VERSION_FAILURE)
    hb.restore()
    hb.manufacture(v1, V1)
    hb.snapshot()
    # Signed with another key.
    import warnings

    from spb.keys import generate_keys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other_keys = generate_keys(tmp_path / "other", development=True)
    refused(hb, patch.build_sfbp(v1, V1, v2, V2, other_keys, encoding=encoding), INVALID_PATCH_IMAGE)
    # Our patch header, but the TO header signed by another key / tampered / not a full image.
    good = patch.build_sfbp(v1, V1, v2, V2, dev_keys, encoding=encoding)
    foreign = patch.build_sfbp(v1, V1, v2, V2, other_keys, encoding=encoding)
    refused(hb, good[:HEADER_SIZE] + foreign[HEADER_SIZE:], INVALID_TARGET_IMAGE)
    for bit in (0, 8 * 0x14, 8 * 0x18 + 3, 8 * 0x1C + 100, 8 * 0x50):
        bad = bytearray(good)
        bad[HEADER_SIZE + bit // 8] ^= 1 << (bit % 8)
        refused(hb, bytes(bad), INVALID_TARGET_IMAGE)
    for bit in (0, 8 * 0x14, 8 * 0x1C + 7, 8 * 0x45):
        bad = bytearray(good)
        bad[bit // 8] ^= 1 << (bit % 8)
        refused(hb, bytes(bad), INVALID_PATCH_IMAGE)
    assert hb.violations == 0


def _with_to_version(v1, from_version, v2, to_version, keys, encoding):
    """A .sfbp whose TO version equals the running version (build_sfbp refuses to make one)."""
    raw = patch.make_patch(v1, v2, encoding)
    to = image.image_header(v2, to_version, keys)
    iv = to.iv
    ph = Header(patch.ENCODINGS[encoding], iv, from_version, len(raw), hashlib.sha256(v1).digest()).signed(keys)
    return ph.pack() + to.pack() + aes_cbc(keys.aes_key, iv, raw + bytes(-len(raw) % 16))


def _resigned(keys, sfbp: bytes, raw: bytes) -> bytes:
    """Replace the raw patch of a .sfbp and re-sign, so the engine gets past authentication."""
    ph = Header.unpack(sfbp)
    ph = Header(ph.protocol, ph.iv, ph.version, len(raw), ph.tag).signed(keys)
    return ph.pack() + sfbp[HEADER_SIZE : 2 * HEADER_SIZE] + aes_cbc(keys.aes_key, ph.iv, raw + bytes(-len(raw) % 16))


def _python_verdict(v1, raw, encoding, v2):
    try:
        out = patch.apply_patch(v1, raw, encoding)
    except patch.PatchFormatError:
        return PARSER_ERROR, None
    if len(out) != len(v2):
        return PARSER_ERROR, None
    return (COMPLETED if out == v2 else INVALID_PATCH_TAG), out


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_mutated_patches_are_judged_like_the_reference(hb, images, dev_keys, encoding):
    """300 authentic but corrupted patches per encoding (more, up to 1200, until both a refused stream
    and one that decodes to a wrong image were among them): the device's verdict equals the Python
    decoder's, SLOT1 holds exactly the reference's output when both decode to the end, and SLOT0 is
    never touched."""
    v1, v2 = images
    good = patch.build_sfbp(v1, V1, v2, V2, dev_keys, encoding=encoding)
    raw = patch.make_patch(v1, v2, encoding)
    rng = random.Random(encoding)
    vs = hb.board.vector_size
    seen = set()
    for trial in range(1200):
        if trial >= 300 and PARSER_ERROR in seen and INVALID_PATCH_TAG in seen:
            break
        bad = bytearray(raw)
        kind = trial % 3
        if kind == 0:
            for _ in range(rng.randrange(1, 4)):
                k = rng.randrange(len(bad))
                bad[k] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del bad[rng.randrange(len(bad)) :]
        else:
            k = rng.randrange(len(bad))
            bad[k:k] = rng.randbytes(rng.randrange(1, 5))
        bad = bytes(bad)
        if not bad:
            continue
        expected, out = _python_verdict(v1, bad, encoding, v2)
        seen.add(expected)
        data = _resigned(dev_keys, good, bad)
        hb.restore()
        hb.power_on()
        before = slot0_bytes(hb)
        result = hb.update(data, chunk=rng.choice([1, 7, 16, 64, 1000]))
        assert result.status.status == expected, (trial, kind, result.status.status, expected)
        assert slot0_bytes(hb) == before
        if expected == INVALID_PATCH_TAG:
            to = Header.unpack(good[HEADER_SIZE:])
            written = hb.read(hb.board.slot1.address + vs, len(v2))
            assert aes_cbc(dev_keys.aes_key, to.iv, written, decrypt=True) == out
    assert PARSER_ERROR in seen and INVALID_PATCH_TAG in seen, seen
    assert hb.violations == 0


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_truncated_or_padded_wrong_never_completes(hb, images, dev_keys, encoding):
    v1, v2 = images
    good = patch.build_sfbp(v1, V1, v2, V2, dev_keys, encoding=encoding)
    for cut in (HEADER_SIZE, 2 * HEADER_SIZE, 2 * HEADER_SIZE + 16, len(good) - 16, len(good) - 1):
        hb.restore()
        hb.power_on()
        result = hb.update(good[:cut], declared=0, chunk=50)
        assert result.failed_call == 3 and result.status.status != COMPLETED, (cut, result)
        _cut, _vector, log = hb.boot()
        assert hb.slot0_valid_as(v1, V1) and "Copy slot 1" not in log
    # Non-zero padding after the raw patch (a corrupted last block) is refused.
    ph = Header.unpack(good)
    if ph.size % 16:
        plain = aes_cbc(dev_keys.aes_key, ph.iv, good[2 * HEADER_SIZE :], decrypt=True)
        plain = plain[:-1] + b"\x01"
        refused(hb, good[: 2 * HEADER_SIZE] + aes_cbc(dev_keys.aes_key, ph.iv, plain), PARSER_ERROR)


def test_python_decoders_reject_what_the_device_rejects():
    """Spot checks of the reference decoders' own error handling."""
    with pytest.raises(jojo.PatchFormatError):
        jojo.apply(b"abc", b"\x00")  # literal before any operation
    with pytest.raises(jojo.PatchFormatError):
        jojo.apply(b"abc", b"\xa7\xa3\x05")  # EQL past the old image
    with pytest.raises(jojo.PatchFormatError):
        jojo.apply(b"abc", b"\xa7\x10")  # unsupported operator
    assert jojo.apply(b"abc", b"\xa7\xa6\xa7\xa7\xa7\x01") == b"\xa7\xa7\x01"
    good = compact.encode(b"abcdefgh" * 4, b"abcdefgh" * 5)
    assert compact.apply(b"abcdefgh" * 4, good) == b"abcdefgh" * 5
    with pytest.raises(compact.PatchFormatError):
        compact.apply(b"abcdefgh", good)  # copies run past a shorter old image
