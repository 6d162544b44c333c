# SPDX-License-Identifier: Apache-2.0
"""The update repository's manifest (docs/ota.md): what a device running version X with tag T fetches.

    manifest.json       JSON, UTF-8, keys sorted: {"format": "spb-ota-repository", "format_version": 1,
                        "public_key": hex of the 64-byte P-256 key, "applications": [Application...]}
    manifest.json.sig   ECDSA P-256 over SHA-256(manifest.json bytes), raw r||s (64 bytes), made by the same
                        key (and signing backend) as the images

An Application is one (board, app): its releases (version, encoded version, SHA-256 tag and size of the
plaintext) and its files (kind "sfb" to a version, or "sfbp" from a version and tag to one; path relative
to the repository, size and SHA-256 of the file). `resolve` is the only rule a device, a server or a CDN
edge function needs: nothing when the device is up to date, the patch from exactly its (version, tag)
when there is one, else the newest full image.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpbError, StrPath
from ..keys import verify_raw
from ..version import Version

FORMAT = "spb-ota-repository"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.json.sig"
KINDS = ("sfb", "sfbp")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


class QueryError(ValueError):
    """A device's query that cannot be answered: `status` is the HTTP status it maps to (400 or 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Release:
    version: Version
    tag: str  # SHA-256 of the plaintext image, hex
    size: int  # plaintext bytes

    def to_json(self) -> dict[str, Any]:
        return {"version": str(self.version), "encoded": self.version.encoded, "tag": self.tag, "size": self.size}


@dataclass(frozen=True)
class RepoFile:
    kind: str  # "sfb" or "sfbp"
    path: str  # relative to the repository, '/'-separated
    to: Version
    size: int
    sha256: str
    from_version: Version | None = None  # sfbp only
    from_tag: str | None = None  # sfbp only
    encoding: str | None = None  # sfbp only

    @property
    def etag(self) -> bytes:
        """The ETag a server gives this file (CoAP: 8 bytes; HTTP: their hex, quoted)."""
        return bytes.fromhex(self.sha256)[:8]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "path": self.path,
            "to": str(self.to),
            "size": self.size,
            "sha256": self.sha256,
        }
        if self.kind == "sfbp":
            out.update({"from": str(self.from_version), "from_tag": self.from_tag, "encoding": self.encoding})
        return out


@dataclass
class Application:
    board: str
    app: str
    vector_size: int
    releases: list[Release] = field(default_factory=list)
    files: list[RepoFile] = field(default_factory=list)

    @property
    def latest(self) -> Release:
        return max(self.releases, key=lambda r: r.version)

    def to_json(self) -> dict[str, Any]:
        return {
            "board": self.board,
            "app": self.app,
            "vector_size": self.vector_size,
            "latest": str(self.latest.version),
            "releases": [r.to_json() for r in sorted(self.releases, key=lambda r: r.version)],
            "files": [f.to_json() for f in sorted(self.files, key=lambda f: f.path)],
        }

    def resolve(self, version: Version, tag: str | None) -> RepoFile | None:
        """The file a device running `version` (plaintext SHA-256 `tag`, hex, if known) fetches; None when
        it runs the newest release or a newer one (the bootloader installs only a strictly newer image)."""
        latest = self.latest
        if not version < latest.version:
            return None
        if tag is not None:
            for f in self.files:
                if (
                    (f.kind, f.to.encoded, f.from_tag) == ("sfbp", latest.version.encoded, tag)
                    and f.from_version is not None
                    and f.from_version.encoded == version.encoded
                ):
                    return f
        for f in self.files:
            if f.kind == "sfb" and f.to.encoded == latest.version.encoded:
                return f
        raise QueryError(404, f"{self.board}/{self.app}: the repository has no full image of {latest.version}")


@dataclass
class Manifest:
    public_key: bytes
    applications: list[Application] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "public_key": self.public_key.hex(),
            "applications": [a.to_json() for a in sorted(self.applications, key=lambda a: (a.board, a.app))],
        }
        return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()

    def find(self, board: str, app: str) -> Application:
        for a in self.applications:
            if a.board == board and a.app == app:
                return a
        raise QueryError(404, f"no application {app!r} for board {board!r} in this repository")

    def files(self) -> list[RepoFile]:
        return [f for a in self.applications for f in a.files]

    def query(self, params: dict[str, str]) -> dict[str, Any]:
        """The answer to a device's query {b: board, a: app, v: version (x.y.z, or the encoded number as
        0x... or decimal), t: plaintext SHA-256 tag in hex (optional: without it, never a patch)}."""
        unknown = sorted(set(params) - {"b", "a", "v", "t"})
        if unknown:
            raise QueryError(400, f"unknown query parameter(s): {', '.join(unknown)} (b, a, v, t)")
        missing = [k for k in ("b", "a", "v") if not params.get(k)]
        if missing:
            raise QueryError(400, f"missing query parameter(s): {', '.join(missing)} (b=board, a=app, v=version)")
        version = parse_device_version(params["v"])
        tag = params.get("t")
        if tag is not None:
            tag = tag.lower()
            if not _HEX64.match(tag):
                raise QueryError(400, "t must be the 64 hex digits of the running image's SHA-256 tag")
        app = self.find(params["b"], params["a"])
        chosen = app.resolve(version, tag)
        latest = str(app.latest.version)
        if chosen is None:
            return {"latest": latest, "update": None}
        return {"latest": latest, "update": chosen.to_json()}


def parse_device_version(text: str) -> Version:
    """x.y.z, or the 32-bit encoded version a device reads from its header (0x01020003 or decimal)."""
    try:
        if "." in text:
            return Version.parse(text)
        return Version.decode(int(text, 0))
    except (SpbError, ValueError, OverflowError) as error:
        raise QueryError(400, f"v={text[:40]!r} is not a version (x.y.z or the encoded 0xMMmmmmpp)") from error


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _need(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SpbError(where, f"{key!r} is missing or not a {kind.__name__}")
    return value


def _tag(value: str, where: str) -> str:
    if not _HEX64.match(value):
        raise SpbError(where, f"{value[:20]!r} is not a SHA-256 in lowercase hex")
    return value


def _path(value: str, where: str) -> str:
    parts = value.split("/")
    if not all(_NAME.match(p) for p in parts) or any(p in (".", "..") for p in parts):
        raise SpbError(where, f"file path {value[:80]!r} is not a plain relative path")
    return value


def _version(value: str, where: str) -> Version:
    try:
        return Version.parse(value)
    except SpbError as error:
        raise SpbError(where, error.problem) from None


def parse_manifest(data: bytes, path: StrPath | None = MANIFEST_NAME) -> Manifest:
    """The manifest of `data`; SpbError names the first problem (format, version, a field)."""
    where = str(path)
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SpbError(where, f"not JSON: {error}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise SpbError(where, f"not an spb update repository manifest (format != {FORMAT!r})")
    version = body.get("format_version")
    if version != FORMAT_VERSION:
        raise SpbError(where, f"format_version {version!r}: this spb reads version {FORMAT_VERSION}")
    key = _need(body, "public_key", str, where)
    try:
        public_key = bytes.fromhex(key)
    except ValueError:
        public_key = b""
    if len(public_key) != 64:
        raise SpbError(where, "public_key is not 64 bytes of hex")
    manifest = Manifest(public_key)
    for entry in _need(body, "applications", list, where):
        if not isinstance(entry, dict):
            raise SpbError(where, "an application entry is not an object")
        here = f"{where}: {entry.get('board')}/{entry.get('app')}"
        app = Application(
            _path(_need(entry, "board", str, here), here),
            _path(_need(entry, "app", str, here), here),
            _need(entry, "vector_size", int, here),
        )
        for r in _need(entry, "releases", list, here):
            app.releases.append(
                Release(
                    _version(_need(r, "version", str, here), here),
                    _tag(_need(r, "tag", str, here), here),
                    _need(r, "size", int, here),
                )
            )
        if not app.releases:
            raise SpbError(here, "no releases")
        for f in _need(entry, "files", list, here):
            kind = _need(f, "kind", str, here)
            if kind not in KINDS:
                raise SpbError(here, f"file kind {kind[:10]!r} is not one of {', '.join(KINDS)}")
            patch = kind == "sfbp"
            app.files.append(
                RepoFile(
                    kind,
                    _path(_need(f, "path", str, here), here),
                    _version(_need(f, "to", str, here), here),
                    _need(f, "size", int, here),
                    _tag(_need(f, "sha256", str, here), here),
                    _version(_need(f, "from", str, here), here) if patch else None,
                    _tag(_need(f, "from_tag", str, here), here) if patch else None,
                    _need(f, "encoding", str, here) if patch else None,
                )
            )
        if str(app.latest.version) != entry.get("latest"):
            raise SpbError(here, f"latest {entry.get('latest')!r} is not the newest release {app.latest.version}")
        manifest.applications.append(app)
    return manifest


def check_signature(manifest: bytes, signature: bytes, public_key: bytes) -> bool:
    return len(signature) == 64 and verify_raw(public_key, manifest, signature)
