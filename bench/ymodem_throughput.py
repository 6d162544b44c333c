#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Measure YMODEM throughput on the emulator board (QEMU mps2-an385): into the bootloader's loader and into
the example application's receiver (examples/common/ymodem_rx.c), optionally through a noisy line.

Builds EMU-MPS2-AN385 v1.0.0 with throw-away keys, signs a v1.1.0 image padded to --size KiB, and for each
receiver and sender boots the manufacturing image, starts the receiver (`load` in the boot window for the
loader; `load` CR to the running app), sends the .sfb over a TCP console and times the transfer (the
verdict must be "ready" and v1.1.0 must run afterwards): lrzsz `sb -k` (1024-byte blocks) and `sb` (128),
`spb send` over a socket:// URL (1024) and `spb send --block-128`. With --noise RATE the line drops, flips
and duplicates that share of the bytes, and delays as many, in both directions (tests/support/noisyline.py).
Under QEMU the guest UART takes one byte per main-loop turn, so the figures follow the host's load;
compare within one run.

Usage: .venv/bin/python bench/ymodem_throughput.py [--size 128] [--receiver loader|app|both] [--noise 0.001]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "site_scons"), str(REPO / "tests")]

from spb import image  # noqa: E402
from spb.board import load_board  # noqa: E402
from support.noisyline import Noise, NoisyLine  # noqa: E402
from support.qemu import Emulator, flash_file_from_hex  # noqa: E402
from support.scons_project import make_keys, scons  # noqa: E402


def relay(emu, listener):
    """Serve the emulator's UART to one TCP client (what QEMU's -serial tcp:... does)."""
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def forward(data):
        with contextlib.suppress(OSError):
            conn.sendall(data)

    with emu._cond:
        emu._sink = forward
    with contextlib.suppress(OSError):
        while data := conn.recv(4096):
            emu.write(data)


def send(emu, how, path, noise, seed):
    """One transfer over a TCP console (through a NoisyLine when noise > 0); True if the sender succeeded."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    thread = threading.Thread(target=relay, args=(emu, listener), daemon=True)
    thread.start()
    line = NoisyLine(listener.getsockname(), Noise(noise, noise), Noise(noise, noise), seed=seed)
    try:
        if how.startswith("sb"):
            with socket.create_connection(("127.0.0.1", line.port)) as sock:
                argv = ["sb", "--ymodem", *(["-k"] if how == "sb -k" else []), str(path)]
                rc = subprocess.run(
                    argv, stdin=sock.fileno(), stdout=sock.fileno(), stderr=subprocess.DEVNULL
                ).returncode
        else:
            url = f"socket://127.0.0.1:{line.port}"
            extra = ["--block-128"] if how.endswith("128") else []
            env = {**os.environ, "PYTHONPATH": str(REPO / "site_scons")}
            run = subprocess.run([sys.executable, "-m", "spb.cli", "send", url, str(path), "-q", *extra], env=env)
            rc = run.returncode
    finally:
        line.close()
        with emu._cond:
            emu._sink = None
        listener.close()
    return rc == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="image size in KiB (default 128)")
    parser.add_argument("--receiver", choices=("loader", "app", "both"), default="both")
    parser.add_argument("--noise", type=float, default=0.0, help="fault rate per byte and direction (default 0)")
    parser.add_argument("--seed", type=int, default=1, help="noise seed (default 1)")
    args = parser.parse_args()
    board = load_board(REPO / "boards" / "EMU-MPS2-AN385.toml")
    senders = (["sb -k", "sb"] if shutil.which("sb") else []) + ["spb send", "spb send --block-128"]
    receivers = ["loader", "app"] if args.receiver == "both" else [args.receiver]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        keys = make_keys(tmp / "keys")
        scons(REPO, "BOARD=EMU-MPS2-AN385", f"BUILD_DIR={tmp / 'build'}", f"KEYS={keys.directory}", "VERSION=1.0.0")
        plain = (tmp / "build" / "hello.bin").read_bytes()
        plain += bytes(-len(plain) % 16) + bytes(args.size * 1024 - len(plain) - len(plain) % 16)
        sfb = tmp / "big.sfb"
        sfb.write_bytes(image.build_sfb(plain, 0x01000100, keys, board.vector_size))
        size = sfb.stat().st_size
        print(f"{size} bytes (.sfb of a {len(plain)}-byte image), noise {args.noise:g} per byte and direction")
        for receiver in receivers:
            for how in senders:
                flash = flash_file_from_hex(tmp / "flash.img", tmp / "build" / "hello_combined.hex")
                with Emulator(flash) as emu:
                    if receiver == "loader":
                        emu.read_until("UART loader check trigger.", timeout=30)
                        emu.write(b"load")
                        emu.read_until("YMODEM loader ready.", timeout=10)
                        verdict = f"] YMODEM: ready, {size} bytes"
                    else:
                        emu.read_until("APP: hello version", timeout=30)
                        emu.write(b"load\r")
                        emu.read_until("APP: YMODEM receiver ready.", timeout=10)
                        verdict = f"APP: YMODEM: ready, {size} bytes"
                    start = time.monotonic()
                    sent = send(emu, how, sfb, args.noise, args.seed)
                    seconds = time.monotonic() - start
                    with contextlib.suppress(Exception):
                        emu.read_until("APP: active firmware 1.1.0", timeout=120)
                    ok = sent and verdict in emu.log and "APP: active firmware 1.1.0" in emu.log
                print(
                    f"{receiver:7} {how:22} {seconds:6.1f} s {size / 1024 / seconds:6.1f} KiB/s "
                    f"{'ok' if ok else 'FAILED'}"
                )


if __name__ == "__main__":
    main()
