# SPDX-License-Identifier: Apache-2.0
"""A noisy serial line for tests: a TCP proxy between a sender and a TCP console (QEMU's `-serial tcp:...`,
or the emulator relay of tests/emulator) that drops, flips, duplicates and delays bytes.

    with NoisyLine(("127.0.0.1", console_port), Noise(0.001), Noise(0.001), seed=7) as line:
        spb send socket://127.0.0.1:{line.port} hello.sfb

Each direction has its own seeded random stream (`seed`, direction), so a run is reproducible for the
same byte sequence (timing on the other side may still change which bytes a fault hits). `rate` is the
probability that a byte suffers a fault, shared equally between drop, flip (one random bit) and
duplicate; independently, with probability `delay_rate` per byte, the stream stops for up to
`max_delay` seconds before that byte (order is kept, as on a UART). The counts of what was done are in
`stats` for the report. One client at a time; a new client replaces the old one.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Noise:
    rate: float = 0.0  # per byte: drop, flip or duplicate (one third each)
    delay_rate: float = 0.0  # per byte: a pause before it
    max_delay: float = 0.05  # seconds


@dataclass
class Stats:
    bytes: int = 0
    dropped: int = 0
    flipped: int = 0
    duplicated: int = 0
    delayed: int = 0

    @property
    def faults(self) -> int:
        return self.dropped + self.flipped + self.duplicated

    def __str__(self) -> str:
        return (
            f"{self.bytes} bytes: {self.dropped} dropped, {self.flipped} flipped, {self.duplicated} duplicated, "
            f"{self.delayed} delayed"
        )


def garble(data: bytes, noise: Noise, rng: random.Random, stats: Stats) -> list[tuple[float, bytes]]:
    """`data` after the noise: pieces to send, each after a pause of so many seconds."""
    out: list[tuple[float, bytes]] = []
    piece = bytearray()
    pause = 0.0
    for byte in data:
        stats.bytes += 1
        if noise.delay_rate and rng.random() < noise.delay_rate:
            if piece or pause:
                out.append((pause, bytes(piece)))
            piece, pause = bytearray(), rng.uniform(0, noise.max_delay)
            stats.delayed += 1
        if noise.rate and rng.random() < noise.rate:
            kind = rng.randrange(3)
            if kind == 0:
                stats.dropped += 1
                continue
            if kind == 1:
                stats.flipped += 1
                piece.append(byte ^ (1 << rng.randrange(8)))
                continue
            stats.duplicated += 1
            piece.append(byte)
        piece.append(byte)
    if piece or pause:
        out.append((pause, bytes(piece)))
    return out


@dataclass
class NoisyLine:
    """Listens on 127.0.0.1:`port` (chosen by the system); each client is connected to `upstream`."""

    upstream: tuple[str, int]
    to_device: Noise = field(default_factory=Noise)  # sender -> console
    to_host: Noise = field(default_factory=Noise)  # console -> sender
    seed: int = 0
    port: int = 0
    down: Stats = field(default_factory=Stats)
    up: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._accept = threading.Thread(target=self._serve, name="noisyline", daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                device = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            for sock in (client, device):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
            self._socks += [client, device]
            for src, dst, noise, stats, name in (
                (client, device, self.to_device, self.down, "down"),
                (device, client, self.to_host, self.up, "up"),
            ):
                rng = random.Random(f"{self.seed}-{name}")
                t = threading.Thread(target=self._pump, args=(src, dst, noise, rng, stats), daemon=True)
                t.start()
                self._threads.append(t)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, noise: Noise, rng: random.Random, stats: Stats) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(4096):
                for pause, piece in garble(data, noise, rng, stats):
                    if pause:
                        time.sleep(pause)
                    if piece:
                        dst.sendall(piece)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.close()
        self._accept.join(timeout=2)
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self) -> NoisyLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
