# SPDX-License-Identifier: Apache-2.0
"""Simulated devices for the OTA tests (tests/bootloader/test_ota*.py): the real bootloader core built for
the host (support.hostboot) as the spb.ota.client.Engine, the release store and repository they update from,
an `spb serve` process, and a lossy UDP proxy between them."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from spb.ota.client import EngineError

from .cbuild import REPO
from .hostboot import STAGE_ERROR, HostBootloader, StartInfo, Status, app_image

SE_SUCCESS = 1
DELAY_COMMAND = 0xFFFF
TYPE_NONE = 0  # the stream says .sfb or .sfbp


class ActiveFwInfo(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("size", ctypes.c_uint32), ("tag", ctypes.c_uint8 * 32)]


class HostEngine:
    """spb.ota.client.Engine on the host build of the bootloader core: SE_PATCH_* as the application calls
    them, and a reboot that runs the real boot sequence (verify, install from SLOT1, verify SLOT0)."""

    def __init__(self, hb: HostBootloader) -> None:
        self.hb = hb
        lib = hb.lib
        self._info = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ActiveFwInfo))(
            ("SE_APP_GetActiveFwInfo", lib)
        )
        self._init_status = ctypes.CFUNCTYPE(None, ctypes.POINTER(Status))(("SE_PATCH_InitStatus", lib))
        self.status = Status()
        self.chunks = 0

    def identity(self) -> tuple[int, bytes]:
        status, info = ctypes.c_uint32(), ActiveFwInfo()
        if self._info(ctypes.byref(status), ctypes.byref(info)) != SE_SUCCESS:
            return 0, bytes(32)
        return info.version, bytes(info.tag)

    def _check(self, ok: int, call: str) -> None:
        if ok != SE_SUCCESS or self.status.stage == STAGE_ERROR:
            raise EngineError(f"{call}: status {self.status.status}, stage {self.status.stage}")

    def begin(self, total: int) -> None:
        self._init_status(ctypes.byref(self.status))
        info = StartInfo(TYPE_NONE, 0, DELAY_COMMAND, total)
        self._check(self.hb.lib.SE_PATCH_Init(ctypes.byref(self.status), ctypes.byref(info)), "SE_PATCH_Init")

    def write(self, data: bytes) -> None:
        self.chunks += 1
        self._check(self.hb.lib.SE_PATCH_Data(ctypes.byref(self.status), data, len(data)), "SE_PATCH_Data")

    def install(self) -> None:
        lib = self.hb.lib
        self._check(lib.SE_PATCH_InstallAtNextReset(ctypes.byref(self.status)), "SE_PATCH_InstallAtNextReset")

    def abort(self) -> None:
        self.hb.lib.SE_PATCH_Abort(ctypes.byref(self.status))

    def reboot(self) -> tuple[int, bytes]:
        _cut, vector, _log = self.hb.boot()
        if not vector:
            return 0, bytes(32)
        return self.identity()


@dataclass
class DeferredEngine:
    """A device of a crowd (the load tests): one C core per process can hold one update session, so the
    blocks each device receives are kept, in the order and sizes they arrived, and fed to the real engine
    (HostEngine, SE_PATCH_Data once per block) when the device reboots; the reboot then runs the real boot.
    Every check the engine makes still decides what is installed."""

    hb: HostBootloader
    plain: bytes
    version: int
    blocks: list[bytes] = field(default_factory=list)
    total: int = 0
    installed: bool = False
    final: tuple[int, bytes] | None = None
    slot0_ok: bool = False

    def identity(self) -> tuple[int, bytes]:
        import hashlib

        return self.version, hashlib.sha256(self.plain).digest()

    def begin(self, total: int) -> None:
        self.blocks, self.total = [], total

    def write(self, data: bytes) -> None:
        self.blocks.append(bytes(data))

    def install(self) -> None:
        self.installed = True

    def abort(self) -> None:
        self.blocks, self.installed = [], False

    def reboot(self) -> tuple[int, bytes]:
        hb = self.hb
        hb.erase_all()
        hb.manufacture(self.plain, self.version)
        hb.power_on()
        engine = HostEngine(hb)
        try:
            engine.begin(self.total)
            for block in self.blocks:
                engine.write(block)
            engine.install()
        except EngineError:
            engine.abort()
        self.final = engine.reboot()
        return self.final


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def release_store(directory: Path, board, images: dict[str, bytes], app: str = "hello") -> Path:
    """A release store holding `images` {version: plaintext}, vector tables made bootable for `board`."""
    from spb.releases import Manifest, image_path, sha256, store_release

    for version, data in images.items():
        image = app_image(board, data)
        manifest = Manifest(app, version, board.name, None, sha256(image), len(image))
        store_release(image, image_path(directory, app, version), manifest)
    return directory


class Server:
    """`spb serve REPO` in its own process (CoAP and HTTP on free loopback ports)."""

    def __init__(self, repo: Path, coap_port: int | None = None, http_port: int | None = None, args=()) -> None:
        self.repo = repo
        self.args = list(args)
        self.coap_port = coap_port or free_port()
        self.http_port = http_port or free_port(socket.SOCK_STREAM)
        self.process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def start(self, timeout: float = 20.0) -> Server:
        env = dict(os.environ, PYTHONPATH=str(REPO / "site_scons"))
        argv = [sys.executable, "-m", "spb.cli", "serve", str(self.repo), "--coap-port", str(self.coap_port)]
        argv += ["--http-port", str(self.http_port), *self.args]
        # stderr goes to a file, never to a pipe nobody drains: a server that logs more than a pipe holds
        # would block in the middle of a test.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (lives as long as the server; closed in stop)
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline()  # the start-up line, once both sockets are bound
        if not line.startswith("spb serve:") or time.monotonic() > deadline:
            err = self.stop()
            raise RuntimeError(f"spb serve did not start: {line!r} {err}")
        return self

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the server process, KiB."""
        assert self.process is not None
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _sep, value = line.partition(":")
            fields[key] = value.strip()
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def stop(self) -> str:
        if self.process is None:
            return ""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
        self.process = None
        text = self.stderr()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return text

    def stderr(self) -> str:
        """What the server has written to stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def grow_buffer(transport) -> None:
    """4 MiB of receive buffer (the kernel caps it at net.core.rmem_max): the proxy stands for the network,
    whose losses are the ones it makes on purpose, not a full socket buffer's."""
    sock = transport.get_extra_info("socket")
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)


class LossyProxy(asyncio.DatagramProtocol):
    """A UDP proxy on loopback between CoAP clients and a server: drops, duplicates, delays (so reorders) and
    optionally corrupts datagrams in both directions, with a seeded RNG."""

    def __init__(self, target, seed, drop=0.0, duplicate=0.0, reorder=0.0, corrupt=0.0, corrupt_limit=1 << 30):
        self.target = target
        self.corrupt_limit = corrupt_limit
        self.rng = random.Random(seed)
        self.drop, self.duplicate, self.reorder, self.corrupt = drop, duplicate, reorder, corrupt
        self.transport: asyncio.DatagramTransport | None = None
        self.upstream: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        self.counts = {"forwarded": 0, "dropped": 0, "duplicated": 0, "delayed": 0, "corrupted": 0}

    @classmethod
    async def start(cls, target: tuple[str, int], **kwargs) -> tuple[LossyProxy, int]:
        loop = asyncio.get_running_loop()
        proxy = cls(target, **kwargs)
        await loop.create_datagram_endpoint(lambda: proxy, local_addr=("127.0.0.1", 0))
        assert proxy.transport is not None
        return proxy, proxy.transport.get_extra_info("sockname")[1]

    def connection_made(self, transport) -> None:
        self.transport = transport
        grow_buffer(transport)

    def close(self) -> None:
        for t in self.upstream.values():
            t.close()
        if self.transport is not None:
            self.transport.close()

    def _emit(self, send, data: bytes, response: bool = False) -> None:
        rng = self.rng
        if rng.random() < self.drop:
            self.counts["dropped"] += 1
            return
        corrupt = self.counts["corrupted"] < self.corrupt_limit and rng.random() < self.corrupt
        if response and len(data) > 8 and corrupt:  # answers only: a request's bytes
            # would make a (legitimate) 4.xx that ends the update
            self.counts["corrupted"] += 1
            at = rng.randrange(len(data) - 4, len(data))  # the payload end: a valid CoAP message, wrong bytes
            data = data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]
        copies = 2 if rng.random() < self.duplicate else 1
        self.counts["duplicated"] += copies - 1
        loop = asyncio.get_running_loop()
        for _ in range(copies):
            self.counts["forwarded"] += 1
            if rng.random() < self.reorder:
                self.counts["delayed"] += 1
                loop.call_later(rng.uniform(0.002, 0.03), send, data)
            else:
                send(data)

    def datagram_received(self, data: bytes, addr) -> None:
        up = self.upstream.get(addr)
        if up is None:
            asyncio.get_running_loop().create_task(self._open(addr, data))
            return
        self._emit(up.sendto, data)

    async def _open(self, client, first: bytes) -> None:
        loop = asyncio.get_running_loop()
        proxy = self

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr) -> None:
                assert proxy.transport is not None
                proxy._emit(lambda d: proxy.transport.sendto(d, client), data, response=True)

        if client not in self.upstream:
            transport, _ = await loop.create_datagram_endpoint(Back, remote_addr=self.target)
            grow_buffer(transport)
            self.upstream[client] = transport
        self._emit(self.upstream[client].sendto, first)
