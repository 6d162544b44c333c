# SPDX-License-Identifier: Apache-2.0
"""The reference device client (docs/ota.md, "How a device updates"): what firmware does, in Python.

    1. ask the repository which file to fetch: q?b=BOARD&a=APP&v=<running version>&t=<running tag>
    2. fetch it block by block (CoAP Block2, or HTTP Range requests), checking that every block carries
       the ETag of the first, and feed each block to the update engine (SE_PATCH_Init, SE_PATCH_Data...)
       as it arrives: no buffer for the whole file
    3. check the SHA-256 and size the query gave, then SE_PATCH_InstallAtNextReset and reboot

The client keeps nothing but (file, ETag, next block): a timeout retries the same block (backoff, a
bounded number of times), a server that restarted serves the same block again, an ETag that changed
(the repository was republished) or a stream the engine refuses starts over with a new query. The engine
authenticates what it installs: the client's checks only save a device the work of a bad download.
The engine is a `Engine`: the tests drive the real C bootloader core (tests/support/otadevice.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

DEFAULT_SZX = 6  # 1024-byte blocks
MIN_SZX, MAX_SZX = 0, 6


class TransportError(Exception):
    """A request that failed: `retry` says whether asking again may help (timeouts, 5.xx)."""

    def __init__(self, message: str, retry: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.status = status


class EngineError(Exception):
    """The update engine refused the stream (its status code in the message)."""


@dataclass(frozen=True)
class Block:
    payload: bytes
    more: bool
    etag: bytes | None
    num: int
    szx: int


class Transport(Protocol):
    """How a device talks to the repository; `timeout`: seconds to wait for this request's answer."""

    async def query(self, query: str, timeout: float) -> bytes: ...

    async def block(self, path: str, num: int, szx: int, timeout: float) -> Block: ...


class Engine(Protocol):
    """The device's update engine (the bootloader's SE_PATCH_* API) and its reboot."""

    def identity(self) -> tuple[int, bytes]:
        """(encoded version, SHA-256 tag) of the running image (SE_APP_GetActiveFwInfo)."""
        ...

    def begin(self, total: int) -> None: ...

    def write(self, data: bytes) -> None: ...

    def install(self) -> None: ...

    def abort(self) -> None: ...

    def reboot(self) -> tuple[int, bytes]:
        """Reset: the bootloader verifies and installs; returns the identity of what runs after."""
        ...


@dataclass
class Outcome:
    updated: bool
    from_version: int
    to_version: int
    kind: str | None = None  # "sfb" / "sfbp" of the file that was installed
    path: str | None = None
    bytes: int = 0  # payload bytes received (retransmissions included)
    requests: int = 0
    retries: int = 0
    restarts: int = 0  # downloads started over (changed ETag, bad hash, engine refusal)
    seconds: float = 0.0  # query to installation mark (the network part)
    pending: bool = False  # marked for installation, not rebooted yet (update(..., reboot=False))
    log: list[str] = field(default_factory=list)


@dataclass
class Policy:
    szx: int = DEFAULT_SZX
    attempts: int = 6  # tries per request before the update fails (a timeout, a 5.xx)
    timeout: float = 2.0  # wait for the first try's answer; doubling with each retry (RFC 7252's ACK_TIMEOUT)
    max_timeout: float = 16.0
    backoff: float = 0.05  # pause before a retry: random up to this (spreads a crowd), doubling, capped
    max_backoff: float = 1.0
    restarts: int = 3  # downloads started over before the update fails


class UpdateFailed(Exception):
    def __init__(self, message: str, outcome: Outcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def device_query(board: str, app: str, version: int, tag: bytes | None) -> str:
    params = {"b": board, "a": app, "v": f"0x{version:08x}"}
    if tag is not None:
        params["t"] = tag.hex()
    return urlencode(params)


async def _retrying(outcome: Outcome, policy: Policy, call: Any) -> Any:
    delay, timeout = policy.backoff, policy.timeout
    for attempt in range(policy.attempts):
        outcome.requests += 1
        try:
            return await call(timeout)
        except TransportError as error:
            if not error.retry or attempt == policy.attempts - 1:
                raise
            outcome.retries += 1
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay, timeout = min(delay * 2, policy.max_backoff), min(timeout * 2, policy.max_timeout)
    raise AssertionError("unreachable")


class _Restart(Exception):
    pass


async def _ask(transport: Transport, query: str, timeout: float) -> dict[str, Any]:
    raw = await transport.query(query, timeout)
    try:
        answer = json.loads(raw)
        chosen = answer["update"]
        if chosen is not None:
            str(chosen["path"]), int(chosen["size"]), str(chosen["sha256"]), str(chosen["kind"])
    except (ValueError, KeyError, TypeError) as error:
        raise TransportError(f"malformed answer to the query: {error}", retry=True) from None
    if not isinstance(answer, dict):
        raise TransportError("malformed answer to the query", retry=True)
    return answer


async def _download(
    transport: Transport, engine: Engine, update: dict[str, Any], outcome: Outcome, policy: Policy
) -> None:
    path, size, digest = update["path"], int(update["size"]), str(update["sha256"])
    engine.begin(size)
    hasher = hashlib.sha256()
    received = 0
    etag: bytes | None = None
    num, szx = 0, policy.szx
    while True:
        block: Block = await _retrying(outcome, policy, lambda t, num=num, szx=szx: transport.block(path, num, szx, t))
        outcome.bytes += len(block.payload)
        if num == 0:
            etag = block.etag
            if block.szx < szx:  # the server may answer with smaller blocks (RFC 7959 2.4): follow it
                szx = block.szx
        elif block.etag != etag:
            raise _Restart(f"{path}: ETag changed at block {num} (republished): starting over")
        if block.num != num or block.szx != szx or (block.more and len(block.payload) != 1 << (szx + 4)):
            raise _Restart(f"{path}: block {num}: the answer is block {block.num} of size exponent {block.szx}")
        if received + len(block.payload) > size:
            raise _Restart(f"{path}: longer than the {size} bytes the query announced")
        hasher.update(block.payload)
        engine.write(block.payload)
        received += len(block.payload)
        if not block.more:
            break
        num += 1
    if received != size or hasher.hexdigest() != digest:
        raise _Restart(f"{path}: {received} bytes with another SHA-256 than the query announced")


async def update(
    transport: Transport, engine: Engine, board: str, app: str, policy: Policy | None = None, reboot: bool = True
) -> Outcome:
    """Run one update to the newest release; raises UpdateFailed when it cannot (nothing installed). With
    reboot=False it stops once the update is marked for installation (outcome.pending): `reboot_into` later."""
    policy = policy or Policy()
    start = time.monotonic()
    version, tag = engine.identity()
    outcome = Outcome(False, version, version)
    while True:
        try:
            answer = await _retrying(
                outcome, policy, lambda t: _ask(transport, device_query(board, app, version, tag), t)
            )
            chosen = answer.get("update")
            if chosen is None:
                outcome.seconds = time.monotonic() - start
                return outcome
            outcome.kind, outcome.path = str(chosen["kind"]), str(chosen["path"])
            try:
                await _download(transport, engine, chosen, outcome, policy)
                engine.install()  # SE_PATCH_InstallAtNextReset: refused unless the engine verified the image
            except TransportError as error:
                engine.abort()
                if error.retry:
                    raise
                raise _Restart(f"{outcome.path}: {error}") from None  # e.g. a path garbled on the way
            except (_Restart, EngineError):
                engine.abort()
                raise
            break
        except (_Restart, EngineError) as error:
            outcome.log.append(str(error))
            outcome.restarts += 1
            if outcome.restarts > policy.restarts:
                raise UpdateFailed(f"gave up after {outcome.restarts} restarts: {error}", outcome) from None
        except TransportError as error:
            outcome.log.append(str(error))
            raise UpdateFailed(f"update failed: {error}", outcome) from None
    outcome.seconds = time.monotonic() - start
    outcome.pending = True
    return reboot_into(engine, outcome) if reboot else outcome


def reboot_into(engine: Engine, outcome: Outcome) -> Outcome:
    """Reboot a device whose update is marked for installation; UpdateFailed if it still runs the old image."""
    new_version, _new_tag = engine.reboot()
    outcome.pending = False
    outcome.to_version = new_version
    outcome.updated = new_version != outcome.from_version
    if not outcome.updated:
        raise UpdateFailed("the bootloader did not install the update", outcome)
    return outcome


class HttpTransport:
    """spb.ota.client.Transport over HTTP: the query, and each block as a Range request, so that the same
    client and the same block sizes work against `spb serve` and any static server that honours Range
    (the query then comes from the manifest: `query_from_manifest`)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/") + "/"

    def _fetch(self, url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes, dict[str, str]]:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status), response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            raise TransportError(
                f"HTTP {error.code}: {body.strip()}", retry=error.code >= 500, status=error.code
            ) from None
        except (urllib.error.URLError, OSError) as error:
            raise TransportError(f"HTTP: {error}", retry=True) from None

    async def query(self, query: str, timeout: float) -> bytes:
        _status, body, _headers = await asyncio.to_thread(self._fetch, f"{self.base}q?{query}", {}, timeout)
        return body

    async def block(self, path: str, num: int, szx: int, timeout: float) -> Block:
        size = 1 << (szx + 4)
        headers = {"Range": f"bytes={num * size}-{(num + 1) * size - 1}"}
        status, body, got = await asyncio.to_thread(self._fetch, self.base + path, headers, timeout)
        if status != 206:
            raise TransportError(f"HTTP {status}: the server ignored the Range request", retry=False)
        total = int(got.get("Content-Range", "/0").rpartition("/")[2] or 0)
        etag = got.get("ETag", "")
        return Block(body, (num + 1) * size < total, etag.encode() if etag else None, num, szx)
