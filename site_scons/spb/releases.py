# SPDX-License-Identifier: Apache-2.0
"""The release store: the plaintext image of every release built, the reference every later delta patch is
made from (docs/versioning.md, "The release store").

A release is two files in the store directory (RELEASES_DIR, default `releases/<BOARD>/` at the top of the
project, meant to be committed or archived):

    <app>_<version>.bin    the plaintext image, exactly what SLOT0 holds after the installed header
    <app>_<version>.json   its manifest: app, version, board, git commit, SHA-256 and size

The store is append-only: storing a version again with the same bytes changes nothing; with other bytes
(another compiler, other options, other sources under the same version) it is an error naming both hashes,
because the devices in the field run the stored bytes and patches made from anything else would not apply.
RELEASE_REPLACE=1 (scons) replaces a release on purpose. Patches are made from the store only, and a
reference whose bytes no longer match its manifest is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SpbError, StrPath

if TYPE_CHECKING:
    from .version import Version

MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Manifest:
    app: str
    version: str
    board: str
    git_commit: str | None  # None outside a git work tree; "<sha>-dirty" when tracked files differed
    sha256: str
    size: int
    segoff: int = 0  # MultiSegment image: offset of the external segment in the plaintext (0: one segment)

    def to_json(self) -> str:
        data: dict[str, Any] = {"format": MANIFEST_FORMAT, **self.__dict__}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def image_path(store: StrPath, app: str, version: Version | str) -> Path:
    return Path(store) / f"{app}_{version}.bin"


def manifest_path(image: StrPath) -> Path:
    return Path(image).with_suffix(".json")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_commit(project: StrPath) -> str | None:
    """The commit checked out at `project` ("<sha>-dirty" when tracked files differ), None outside git."""
    import git

    try:
        repo = git.Repo(project, search_parent_directories=True)
        if not repo.head.is_valid():
            return None
        sha: str = repo.head.commit.hexsha
        return sha + ("-dirty" if repo.is_dirty(untracked_files=False) else "")
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return None


def read_manifest(path: StrPath) -> Manifest:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        return Manifest(
            app=str(data["app"]),
            version=str(data["version"]),
            board=str(data["board"]),
            git_commit=None if data.get("git_commit") is None else str(data["git_commit"]),
            sha256=str(data["sha256"]),
            size=int(data["size"]),
            segoff=int(data.get("segoff", 0)),
        )
    except FileNotFoundError:
        raise SpbError(path, "release manifest not found") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SpbError(path, f"not a release manifest ({error.__class__.__name__}: {error})") from None


def store_release(image: bytes, target: StrPath, manifest: Manifest, replace: bool = False) -> str:
    """Store a release image and its manifest at `target` (<app>_<version>.bin). Returns what happened:
    "stored", "unchanged" (the same bytes were stored already; the first manifest is kept) or "replaced"."""
    target = Path(target)
    new_hash = sha256(image)
    outcome = "stored"
    if target.exists():
        old = target.read_bytes()
        if old == image:
            if not manifest_path(target).exists():
                _write_atomic(manifest_path(target), manifest.to_json().encode())
            return "unchanged"
        if not replace:
            raise SpbError(
                target,
                f"release {manifest.version} is already stored with other bytes (stored sha256 {sha256(old)}, "
                f"this build sha256 {new_hash}): devices run the stored image and patches are made from it; "
                "rebuild it from its tag with the same toolchain and options, or give a new version "
                "(RELEASE_REPLACE=1 replaces the stored release)",
            )
        outcome = "replaced"
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(target, image)
    _write_atomic(manifest_path(target), manifest.to_json().encode())
    return outcome


def reference_segoff(path: StrPath) -> int:
    """The segment offset a stored release was built with (its manifest; 0 without one)."""
    mpath = manifest_path(path)
    return read_manifest(mpath).segoff if mpath.exists() else 0


def load_reference(path: StrPath, board: str | None = None) -> bytes:
    """A stored release's image, checked against its manifest (SHA-256, size, board) when there is one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpbError(path, "release image not found in the store") from None
    mpath = manifest_path(path)
    if mpath.exists():
        manifest = read_manifest(mpath)
        if sha256(data) != manifest.sha256 or len(data) != manifest.size:
            raise SpbError(
                path,
                f"does not match its manifest {mpath.name} (sha256 {sha256(data)}, manifest {manifest.sha256}): "
                "the stored release was modified",
            )
        if board is not None and manifest.board != board:
            raise SpbError(mpath, f"release of board {manifest.board}, not {board}: wrong store (RELEASES_DIR)")
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # a reader never sees half a file
    tmp.write_bytes(data)
    os.replace(tmp, path)
