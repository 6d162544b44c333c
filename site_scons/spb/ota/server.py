# SPDX-License-Identifier: Apache-2.0
"""`spb serve REPO`: an update repository over HTTP (standard library) and CoAP (aiocoap, RFC 7252 with
Block2 blockwise transfer, RFC 7959), docs/ota.md.

Both protocols serve the same resources, read once from REPO at start (restart to publish):

    manifest.json, manifest.json.sig, <board>/<app>/<file>     the repository's files, with ETags
    q?b=BOARD&a=APP&v=VERSION[&t=TAG]                          which file a device fetches (JSON)

No state per device or per transfer: CoAP blocks are sliced from the file for each request by its Block2
option (block number and size 16..1024), so a device may resume at any block, after any time, from any
server process serving the same repository; the ETag (first 8 bytes of the file's SHA-256) tells it that the
file did not change in between. Errors: a malformed query 4.00 / 400, an unknown board, app or file
4.04 / 404, a block past the end 4.02 (Bad Option) / 416, another method 4.05 / 405.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import SpbError, StrPath
from .manifest import MANIFEST_NAME, SIGNATURE_NAME, Manifest, QueryError, sha256_hex
from .repo import load_manifest

QUERY_PATH = "q"
MAX_SZX = 6  # 1024-byte blocks; 7 is BERT (RFC 8323), only over reliable transports


@dataclass(frozen=True)
class Entry:
    data: bytes
    etag: bytes  # 8 bytes
    content_type: str


class Repository:
    """The files of a repository in memory, by their '/'-separated path, and its manifest."""

    def __init__(self, root: StrPath, public_key: bytes | None = None) -> None:
        root = Path(root)
        self.manifest: Manifest = load_manifest(root, public_key)
        self.files: dict[str, Entry] = {}
        for name, kind in ((MANIFEST_NAME, "application/json"), (SIGNATURE_NAME, "application/octet-stream")):
            data = (root / name).read_bytes()
            self.files[name] = Entry(data, bytes.fromhex(sha256_hex(data))[:8], kind)
        for f in self.manifest.files():
            try:
                data = (root / f.path).read_bytes()
            except OSError as error:
                raise SpbError(root / f.path, f"cannot read a file the manifest names ({error.strerror})") from None
            if len(data) != f.size or sha256_hex(data) != f.sha256:
                raise SpbError(root / f.path, "size or SHA-256 differs from the manifest: republish")
            self.files[f.path] = Entry(data, f.etag, "application/octet-stream")

    @property
    def size(self) -> int:
        return sum(len(e.data) for e in self.files.values())

    def query(self, params: list[tuple[str, str]]) -> bytes:
        """The JSON answer to a device's query; QueryError for a bad one."""
        seen: dict[str, str] = {}
        for key, value in params:
            if key in seen:
                raise QueryError(400, f"query parameter {key[:10]!r} given twice")
            seen[key] = value
        return json.dumps(self.manifest.query(seen), sort_keys=True, separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------------
# HTTP


def _http_handler(repo: Repository) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "spb-serve"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _error(self, status: int, message: str, head: bool = False) -> None:
            self._send(status, (message + "\n").encode(), {"Content-Type": "text/plain; charset=utf-8"}, head)

        def _get(self, head: bool) -> None:
            url = urlsplit(self.path)
            path = unquote(url.path).lstrip("/")
            if path == QUERY_PATH:
                try:
                    body = repo.query(parse_qsl(url.query, keep_blank_values=True))
                except QueryError as error:
                    self._error(error.status, str(error), head)
                    return
                self._send(200, body, {"Content-Type": "application/json", "Cache-Control": "no-cache"}, head)
                return
            entry = repo.files.get(path)
            if entry is None:
                self._error(404, f"no such file: {path[:200]}", head)
                return
            etag = f'"{entry.etag.hex()}"'
            headers = {"ETag": etag, "Content-Type": entry.content_type, "Accept-Ranges": "bytes"}
            if etag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
                self._send(304, b"", {"ETag": etag}, True)
                return
            wanted = self.headers.get("Range")
            if wanted is None:
                self._send(200, entry.data, headers, head)
                return
            span = _byte_range(wanted, len(entry.data))
            if span is None:
                self._send(416, b"", {"Content-Range": f"bytes */{len(entry.data)}"}, head)
                return
            start, end = span
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(entry.data)}"
            self._send(206, entry.data[start:end], headers, head)

        def do_GET(self) -> None:
            self._get(head=False)

        def do_HEAD(self) -> None:
            self._get(head=True)

        def _not_allowed(self) -> None:
            self.send_response(405)
            self.send_header("Allow", "GET, HEAD")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed

    return Handler


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range inside `size`; None if not."""
    unit, _eq, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            n = int(last)
            return (size - min(n, size), size) if n > 0 else None
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        return None
    if start < 0 or start >= size or end <= start:
        return None
    return start, min(end, size)


def http_server(repo: Repository, host: str, port: int) -> ThreadingHTTPServer:
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    try:
        server = Server((host, port), _http_handler(repo))
    except OSError as error:
        raise SpbError(f"{host}:{port}", f"cannot serve HTTP there ({error.strerror or error})") from None
    server.daemon_threads = True
    return server


# --------------------------------------------------------------------------------------------------
# CoAP


@contextlib.contextmanager
def http_in_thread(repo: Repository, host: str, port: int) -> Iterator[ThreadingHTTPServer]:
    server = http_server(repo, host, port)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="spb-http", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def serve(
    root: StrPath,
    host: str,
    coap_port: int | None,
    http_port: int | None,
    quiet: bool = False,
    public_key: bytes | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; with `public_key`, only a repository whose manifest it signed."""
    import asyncio
    import signal

    repo = Repository(root, public_key)
    if coap_port is None and http_port is None:
        raise SpbError(None, "nothing to serve: both CoAP and HTTP are disabled")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        shown = f"[{host}]" if ":" in host else host
        with contextlib.ExitStack() as stack:
            urls = []
            if http_port is not None:
                server = stack.enter_context(http_in_thread(repo, host, http_port))
                urls.append(f"http://{shown}:{server.server_address[1]}/")
            context = None
            malformed = None
            if coap_port is not None:
                from .coap import MalformedDatagrams, start_server

                malformed = MalformedDatagrams(emit=(lambda _line: None) if quiet else None)
                context = await start_server(repo, host, coap_port, malformed)
                urls.append(f"coap://{shown}:{coap_port}/")
            if not quiet:
                apps = len(repo.manifest.applications)
                print(
                    f"spb serve: {len(repo.files)} files, {repo.size} bytes, {apps} application(s): {' '.join(urls)}",
                    flush=True,
                )
            await stop.wait()
            if context is not None:
                await context.shutdown()
            if malformed is not None:
                malformed.flush()

    asyncio.run(main())
