# SPDX-License-Identifier: Apache-2.0
"""What every `spb` command does with its files: read inputs, check that a container is whole before
using it, write outputs atomically, and describe headers as JSON (docs/cli.md).

Every failure is an SpbError naming the file and the problem (the CLI prints it on one line and exits 2):
a missing file, a directory where a file is expected, an unreadable file, a truncated or foreign
container, an output that cannot be written. An output is written to a temporary file beside it and
renamed into place, so a failed command never leaves a partial output behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpbError, StrPath
from .image import HEADER_SIZE, PROTOCOL_IMAGE, STATE_FIELD_COUNT, STATE_FIELD_SIZE, Header
from .patch import encoding_of
from .version import Version


def _os_problem(error: OSError, doing: str) -> str:
    if isinstance(error, FileNotFoundError):
        return "file not found" if doing == "read" else "its directory does not exist"
    if isinstance(error, IsADirectoryError):
        return "is a directory, expected a file"
    if isinstance(error, NotADirectoryError):
        return "a part of the path is a file, not a directory"
    if isinstance(error, PermissionError):
        return f"cannot {doing}: permission denied"
    return f"cannot {doing}: {error.strerror or error}"


def read_input(path: StrPath) -> bytes:
    """The bytes of an input file."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise SpbError(path, _os_problem(error, "read")) from None


def check_output(path: StrPath) -> Path:
    """Refuse an output path that cannot be written, before any work is done."""
    out = Path(path)
    if out.is_dir():
        raise SpbError(out, "is a directory: give a file name for the output")
    parent = out.parent
    if not parent.exists():
        raise SpbError(out, f"cannot write: directory {parent} does not exist")
    if not parent.is_dir():
        raise SpbError(out, f"cannot write: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SpbError(out, f"cannot write: directory {parent} is not writable")
    return out


@contextlib.contextmanager
def staged(*paths: StrPath) -> Iterator[list[Path]]:
    """Temporary paths beside each output; on success they replace the outputs, on any failure they
    are removed and no output is touched."""
    outs = [check_output(p) for p in paths]
    temps: list[Path] = []
    try:
        for out in outs:
            temp = out.parent / f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            try:  # mode 0666 less the umask, as a plainly created output (mkstemp's would be 0600)
                os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except OSError as error:
                raise SpbError(out, _os_problem(error, "write")) from None
            temps.append(temp)
        yield temps
        for temp, out in zip(temps, outs):
            try:
                os.replace(temp, out)
            except OSError as error:
                raise SpbError(out, _os_problem(error, "write")) from None
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def write_output(path: StrPath, data: bytes | str) -> None:
    """Write one output file atomically."""
    with staged(path) as (temp,):
        try:
            if isinstance(data, str):
                temp.write_text(data)
            else:
                temp.write_bytes(data)
        except OSError as error:
            raise SpbError(path, _os_problem(error, "write")) from None


# ---- containers


@dataclass(frozen=True)
class Container:
    """A checked `.sfb`, `.sfbp` or installed header: its kind, its header and, for a `.sfb`, where the
    ciphertext starts (the board's vector size)."""

    kind: str  # "image" (.sfb), "patch" (.sfbp) or "installed-header" (a SLOT0 dump)
    header: Header
    vector_size: int = 0
    target: Header | None = None  # a patch's TO header


def _ff_padding_end(data: bytes) -> int:
    """Where the 0xFF padding after a `.sfb` header ends (16-byte steps): the ciphertext's start."""
    pos = HEADER_SIZE
    while pos + 16 <= len(data) and data[pos : pos + 16] == b"\xff" * 16:
        pos += 16
    return pos


def _is_installed(data: bytes, header: Header) -> bool:
    end = HEADER_SIZE + STATE_FIELD_SIZE * STATE_FIELD_COUNT
    return len(data) >= end and data[HEADER_SIZE:end] == header.signature[:STATE_FIELD_SIZE] * STATE_FIELD_COUNT


def check_container(data: bytes, path: StrPath, vector_size: int | None = None, installed: bool = False) -> Container:
    """The container in `data`, checked to be whole: a header with the magic and a known protocol, and
    at least the bytes the header announces. `vector_size` (from --board) fixes where a `.sfb`'s
    ciphertext starts; without it, that is where the 0xFF padding ends. `installed`: also accept an
    installed header (header, state fields, then anything)."""
    header = Header.unpack(data, path)
    if header.protocol == PROTOCOL_IMAGE:
        if installed and _is_installed(data, header):
            return Container("installed-header", header)
        start = _ff_padding_end(data) if vector_size is None else vector_size
        need = start + header.size
        padding_end = _ff_padding_end(data) if vector_size is not None else start
        if len(data) < need and padding_end + header.size == len(data):
            raise SpbError(
                path,
                f"the padding after the header ends at {padding_end:#x}, not at the board's vector size "
                f"{start:#x}: an image for another board?",
            )
        if len(data) < need:
            raise SpbError(
                path,
                f"truncated: {len(data)} bytes, the header announces a {header.size}-byte image after "
                f"{start} bytes of header and padding ({need} bytes)",
            )
        return Container("image", header, start)
    if encoding_of(header.protocol) is not None:
        need = 2 * HEADER_SIZE + header.size + (-header.size % 16)
        if len(data) < need:
            raise SpbError(
                path,
                f"truncated: {len(data)} bytes, the patch header announces {need} "
                f"(two headers and a {header.size}-byte patch)",
            )
        try:
            target = Header.unpack(data[HEADER_SIZE:], path)
        except SpbError as error:
            raise SpbError(path, f"TO header at offset {HEADER_SIZE:#x}: {error.problem}") from None
        return Container("patch", header, 0, target)
    raise SpbError(path, f"unknown protocol {header.protocol:#06x}: not an spb image or patch")


# ---- JSON (keys documented in docs/cli.md; only ever added to)


def header_json(header: Header) -> dict[str, Any]:
    return {
        "magic": header.magic.decode("ascii", errors="replace"),
        "protocol": header.protocol,
        "encoding": encoding_of(header.protocol),
        "iv": header.iv.hex(),
        "version": str(Version.decode(header.version)),
        "version_encoded": header.version,
        "size": header.size,
        "tag": header.tag.hex(),
        "segoff": header.segoff,
        "signature": header.signature.hex(),
    }
