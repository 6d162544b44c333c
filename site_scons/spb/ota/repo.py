# SPDX-License-Identifier: Apache-2.0
"""Publish and verify an update repository (docs/ota.md): static files any web server, object store or CDN
can serve, and the signed manifest that tells each device which one to fetch.

    REPO/manifest.json                       the manifest (spb.ota.manifest, format_version 1)
    REPO/manifest.json.sig                   its detached ECDSA P-256 signature, raw r||s
    REPO/<board>/<app>/<app>_<v>.sfb         the full image of every release in the store
    REPO/<board>/<app>/<app>_<u>_to_<v>.sfbp the patch to the newest release v from every older release u

The files are made by spb.image.build_sfb and spb.patch.build_sfbp from the release store's plaintext
images, so they are byte-identical to what the build writes for the same keys; a file already in REPO
that is that exact output is kept (republishing costs only the new patches). The manifest is written last,
through a rename, so a server or a mirror never sees a manifest naming files that are not there yet.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..board import Board
from ..errors import SpbError, StrPath
from ..image import HEADER_SIZE, Header, build_sfb, image_header, verify_sfb
from ..keys import KeySet
from ..patch import DEFAULT_ENCODING, build_sfbp, verify_sfbp
from ..releases import load_reference, reference_segoff
from ..version import Version
from .manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    Application,
    Manifest,
    Release,
    RepoFile,
    check_signature,
    parse_manifest,
    sha256_hex,
)


def store_releases(store: StrPath) -> dict[str, dict[Version, Path]]:
    """{app: {Version: plaintext image}} of a release store directory (spb.releases: `<app>_<x.y.z>.bin`
    beside its manifest `<app>_<x.y.z>.json`; other files are ignored, as the build ignores them). The images
    are read through spb.releases.load_reference, which checks them against their manifests."""
    found: dict[str, dict[Version, Path]] = {}
    directory = Path(store)
    if not directory.is_dir():
        raise SpbError(directory, "release store not found (build a release first: a clean tree or VERSION=)")
    for path in sorted(directory.glob("*_*.bin")):
        app, _sep, text = path.stem.rpartition("_")
        try:
            version = Version.parse(text)
        except SpbError:
            continue
        found.setdefault(app, {})[version] = path
    return found


@dataclass
class PublishReport:
    manifest: Manifest
    written: list[Path] = field(default_factory=list)  # files made by this run
    kept: list[Path] = field(default_factory=list)  # files already there and identical to what we would make
    seconds: float = 0.0


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _same_patch(existing: Path, old: bytes, old_version: int, to_header: Header, encoding_protocol: int) -> bool:
    """Whether `existing` is the patch build_sfbp would make: same FROM (version, tag), same TO header, same
    encoding. Everything else in it is derived deterministically from those and the keys."""
    try:
        with existing.open("rb") as handle:
            head = handle.read(2 * HEADER_SIZE)
        header = Header.unpack(head)
    except (OSError, SpbError):
        return False
    return (
        len(head) == 2 * HEADER_SIZE
        and header.protocol == encoding_protocol
        and header.version == old_version
        and header.tag == hashlib.sha256(old).digest()
        and head[HEADER_SIZE:] == to_header.pack()
    )


def publish_application(
    out: Path,
    board: Board,
    app: str,
    releases: dict[Version, Path],
    keys: KeySet,
    report: PublishReport,
    encoding: str = DEFAULT_ENCODING,
    progress: Callable[[str], None] | None = None,
) -> Application:
    from ..patch import ENCODINGS

    if not releases:
        raise SpbError(board.name, f"no release of {app!r} in the store")
    directory = out / board.name / app
    directory.mkdir(parents=True, exist_ok=True)
    entry = Application(board.name, app, board.vector_size)
    images = {v: load_reference(path, board.name) for v, path in releases.items()}  # checked: its manifest
    segoffs = {v: reference_segoff(path) for v, path in releases.items()}  # MultiSegment images: not 0
    latest = max(images)
    latest_header = image_header(images[latest], latest.encoded, keys, segoffs[latest])

    def emit(name: str, make: Callable[[], bytes], reuse: Callable[[Path], bool]) -> tuple[str, int, str]:
        path = directory / name
        if path.exists() and reuse(path):
            data = path.read_bytes()
            report.kept.append(path)
        else:
            if progress:
                progress(f"{board.name}/{app}/{name}")
            data = make()
            _write_atomic(path, data)
            report.written.append(path)
        return f"{board.name}/{app}/{name}", len(data), sha256_hex(data)

    for version, plain in sorted(images.items()):
        entry.releases.append(Release(version, sha256_hex(plain), len(plain)))
        header = latest_header if version == latest else image_header(plain, version.encoded, keys, segoffs[version])

        def same_sfb(path: Path, header: Header = header, size: int = len(plain)) -> bool:
            try:
                with path.open("rb") as handle:
                    head = handle.read(HEADER_SIZE)
            except OSError:
                return False
            return head == header.pack() and path.stat().st_size == board.vector_size + size

        def make_sfb(plain: bytes = plain, version: Version = version) -> bytes:
            return build_sfb(plain, version.encoded, keys, board.vector_size, segoffs[version])

        rel, size, digest = emit(f"{app}_{version}.sfb", make_sfb, same_sfb)
        entry.files.append(RepoFile("sfb", rel, version, size, digest))
    for version, plain in sorted(images.items()):
        if not version < latest:
            continue

        def make_sfbp(plain: bytes = plain, version: Version = version) -> bytes:
            return build_sfbp(
                plain, version.encoded, images[latest], latest.encoded, keys, segoffs[latest], encoding=encoding
            )

        def same_sfbp(path: Path, plain: bytes = plain, version: Version = version) -> bool:
            return _same_patch(path, plain, version.encoded, latest_header, ENCODINGS[encoding])

        rel, size, digest = emit(f"{app}_{version}_to_{latest}.sfbp", make_sfbp, same_sfbp)
        entry.files.append(RepoFile("sfbp", rel, latest, size, digest, version, sha256_hex(plain), encoding))
    return entry


def publish(
    out: StrPath,
    targets: Iterable[tuple[Board, StrPath]],
    keys: KeySet,
    apps: Iterable[str] = (),
    encoding: str = DEFAULT_ENCODING,
    progress: Callable[[str], None] | None = None,
) -> PublishReport:
    """Publish every application (or those in `apps`) of each (board, release store) into `out`."""
    start = time.monotonic()
    root = Path(out)
    wanted = set(apps)
    report = PublishReport(Manifest(keys.public_key))
    stores = [(board, store, store_releases(store)) for board, store in targets]  # every store read first
    root.mkdir(parents=True, exist_ok=True)
    for board, store, stored in stores:
        names = sorted(wanted) if wanted else sorted(stored)
        if not names:
            raise SpbError(store, f"no releases in the store for {board.name}")
        for app in names:
            if app not in stored:
                raise SpbError(store, f"no release of {app!r} in this store (found: {', '.join(stored) or 'none'})")
            entry = publish_application(root, board, app, stored[app], keys, report, encoding, progress)
            report.manifest.applications.append(entry)
    body = report.manifest.to_bytes()
    signature = keys.sign(body)
    _write_atomic(root / SIGNATURE_NAME, signature)
    _write_atomic(root / MANIFEST_NAME, body)
    report.seconds = time.monotonic() - start
    return report


def load_manifest(root: StrPath, public_key: bytes | None = None) -> Manifest:
    """The repository's manifest, its signature checked against `public_key` (default: the key it names,
    which proves only integrity: give the key you trust)."""
    root = Path(root)
    try:
        body = (root / MANIFEST_NAME).read_bytes()
        signature = (root / SIGNATURE_NAME).read_bytes()
    except FileNotFoundError as error:
        raise SpbError(error.filename, "not found: not an update repository (spb repo publish)") from None
    if public_key is not None and not check_signature(body, signature, public_key):  # before reading a byte of it
        raise SpbError(root / SIGNATURE_NAME, "the manifest signature does not verify with the public key")
    manifest = parse_manifest(body, root / MANIFEST_NAME)
    if public_key is None and not check_signature(body, signature, manifest.public_key):
        raise SpbError(root / SIGNATURE_NAME, "the manifest signature does not verify with the public key it names")
    return manifest


def verify(root: StrPath, keys: KeySet) -> list[str]:
    """Every problem of the repository: manifest signature (with the keys' public key), each file's size and
    SHA-256, each .sfb and .sfbp verified with the keys (signatures, decryption, tag; a patch's FROM tag and
    TO header against the manifest's releases and full images). Empty when the repository is sound."""
    root = Path(root)
    try:
        manifest = load_manifest(root, keys.public_key)
    except SpbError as error:
        return [str(error)]
    problems: list[str] = []
    if manifest.public_key != keys.public_key:
        problems.append(f"{MANIFEST_NAME}: names a public key that is not the given one")
    for app in manifest.applications:
        tags = {r.version.encoded: r.tag for r in app.releases}
        headers: dict[int, bytes] = {}
        for f in sorted(app.files, key=lambda f: f.kind):  # .sfb first: the patches' TO headers are checked
            path = root / f.path
            try:
                data = path.read_bytes()
            except OSError as error:
                problems.append(f"{f.path}: cannot read ({error.strerror})")
                continue
            if len(data) != f.size or sha256_hex(data) != f.sha256:
                problems.append(f"{f.path}: size or SHA-256 differs from the manifest")
                continue
            if f.kind == "sfb":
                sfb = verify_sfb(data, keys, app.vector_size, path)
                problems += [f"{f.path}: {p}" for p in sfb.problems]
                if sfb.header.version != f.to.encoded or sfb.header.tag.hex() != tags.get(f.to.encoded):
                    problems.append(f"{f.path}: header is not release {f.to} of the manifest")
                headers[f.to.encoded] = data[:HEADER_SIZE]
            else:
                sfbp = verify_sfbp(data, keys, None, path)
                problems += [f"{f.path}: {p}" for p in sfbp.problems]
                assert f.from_version is not None
                if sfbp.header.version != f.from_version.encoded or sfbp.header.tag.hex() != f.from_tag:
                    problems.append(f"{f.path}: FROM header is not the manifest's {f.from_version}")
                if f.from_tag != tags.get(f.from_version.encoded):
                    problems.append(f"{f.path}: FROM tag is not that of release {f.from_version}")
                if data[HEADER_SIZE : 2 * HEADER_SIZE] != headers.get(f.to.encoded):
                    problems.append(f"{f.path}: TO header is not that of the full image of {f.to}")
    return problems
