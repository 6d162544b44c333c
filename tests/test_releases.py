# SPDX-License-Identifier: Apache-2.0
"""The release store's rules (spb.releases) without a build: append-only, manifests, checked references.
The build's use of it (default location, RELEASE_REPLACE=1, `scons -c`) is in tests/test_scons_build.py."""

from __future__ import annotations

import hashlib
import json

import pytest

from spb.errors import SpbError
from spb.releases import Manifest, image_path, load_reference, manifest_path, read_manifest, store_release


def _manifest(data: bytes, board: str = "NUCLEO-L452RE", commit: str | None = "ab" * 20) -> Manifest:
    return Manifest("app", "1.0.0", board, commit, hashlib.sha256(data).hexdigest(), len(data))


def test_store_is_append_only(tmp_path):
    target = image_path(tmp_path / "store", "app", "1.0.0")
    first, other = bytes(range(32)), bytes(32)
    assert store_release(first, target, _manifest(first)) == "stored"
    assert json.loads(manifest_path(target).read_text())["git_commit"] == "ab" * 20
    # The same bytes again (another commit, say): nothing changes, the first manifest stays.
    assert store_release(first, target, _manifest(first, commit="cd" * 20)) == "unchanged"
    assert read_manifest(manifest_path(target)).git_commit == "ab" * 20
    with pytest.raises(SpbError) as info:
        store_release(other, target, _manifest(other))
    message = str(info.value)
    assert str(target) in message and hashlib.sha256(first).hexdigest() in message
    assert hashlib.sha256(other).hexdigest() in message and "RELEASE_REPLACE=1" in message
    assert target.read_bytes() == first and read_manifest(manifest_path(target)).sha256 == _manifest(first).sha256
    assert store_release(other, target, _manifest(other), replace=True) == "replaced"
    assert target.read_bytes() == other and read_manifest(manifest_path(target)).sha256 == _manifest(other).sha256
    assert sorted(p.name for p in target.parent.iterdir()) == ["app_1.0.0.bin", "app_1.0.0.json"]


def test_store_writes_a_missing_manifest_for_the_same_bytes(tmp_path):
    """An image stored before manifests existed (or copied in by hand) gets one when built again."""
    target = tmp_path / "app_1.0.0.bin"
    target.write_bytes(b"\x01" * 16)
    assert store_release(b"\x01" * 16, target, _manifest(b"\x01" * 16)) == "unchanged"
    assert read_manifest(manifest_path(target)).size == 16


def test_references_are_checked_against_their_manifest(tmp_path):
    target = tmp_path / "app_1.0.0.bin"
    data = b"\x5a" * 64
    store_release(data, target, _manifest(data))
    assert load_reference(target, "NUCLEO-L452RE") == data
    with pytest.raises(SpbError, match=r"app_1\.0\.0\.json: release of board NUCLEO-L452RE, not NUCLEO-F429ZI"):
        load_reference(target, "NUCLEO-F429ZI")
    target.write_bytes(data[:-1] + b"\x00")
    with pytest.raises(SpbError, match=r"app_1\.0\.0\.bin: does not match its manifest app_1\.0\.0\.json"):
        load_reference(target)
    # Without a manifest the image is used as it is; a missing image is named.
    manifest_path(target).unlink()
    assert load_reference(target) == data[:-1] + b"\x00"
    with pytest.raises(SpbError, match=r"app_9\.9\.9\.bin: release image not found"):
        load_reference(tmp_path / "app_9.9.9.bin")


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", '{"app": "a"}', '{"app": "a", "version": "1.0.0", "board": "B", "sha256": "00", "size": "many"}'],
)
def test_a_bad_manifest_is_named(tmp_path, text):
    path = tmp_path / "app_1.0.0.json"
    path.write_text(text)
    with pytest.raises(SpbError, match=rf"{path}: not a release manifest"):
        read_manifest(path)
