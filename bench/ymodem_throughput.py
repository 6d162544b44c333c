#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Measure YMODEM throughput into the bootloader's loader on the emulator board (QEMU mps2-an385).

Builds EMU-MPS2-AN385 v1.0.0 with throw-away keys, signs a v1.1.0 image padded to --size KiB, and for each
sender boots the manufacturing image, types `load`, sends the .sfb and times the transfer (the loader's
verdict must be "ready"): lrzsz `sb -k` (1024-byte blocks) and `sb` (128), `spb send` over a
socket:// URL (1024) and `spb send --block-128`. Under QEMU the guest UART takes one byte per main-loop
turn, so the figures follow the host's load; compare senders within one run.

Usage: .venv/bin/python bench/ymodem_throughput.py [--size 128]
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


def send(emu, how, path):
    if how.startswith("sb"):
        run = emu.bridge(["sb", "--ymodem", *(["-k"] if how == "sb -k" else []), str(path)], timeout=900)
        return run.returncode
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    thread = threading.Thread(target=relay, args=(emu, listener), daemon=True)
    thread.start()
    url = f"socket://127.0.0.1:{listener.getsockname()[1]}"
    extra = ["--block-128"] if how.endswith("128") else []
    env = {**os.environ, "PYTHONPATH": str(REPO / "site_scons")}
    run = subprocess.run([sys.executable, "-m", "spb.cli", "send", url, str(path), "-q", *extra], env=env)
    with emu._cond:
        emu._sink = None
    listener.close()
    return run.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="image size in KiB (default 128)")
    args = parser.parse_args()
    board = load_board(REPO / "boards" / "EMU-MPS2-AN385.toml")
    senders = (["sb -k", "sb"] if shutil.which("sb") else []) + ["spb send", "spb send --block-128"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        keys = make_keys(tmp / "keys")
        scons(REPO, "BOARD=EMU-MPS2-AN385", f"BUILD_DIR={tmp / 'build'}", f"KEYS={keys.directory}", "VERSION=1.0.0")
        plain = (tmp / "build" / "hello.bin").read_bytes()
        plain += bytes(-len(plain) % 16) + bytes(args.size * 1024 - len(plain) - len(plain) % 16)
        sfb = tmp / "big.sfb"
        sfb.write_bytes(image.build_sfb(plain, 0x01000100, keys, board.vector_size))
        size = sfb.stat().st_size
        print(f"{size} bytes (.sfb of a {len(plain)}-byte image)")
        for how in senders:
            flash = flash_file_from_hex(tmp / "flash.img", tmp / "build" / "hello_combined.hex")
            with Emulator(flash) as emu:
                emu.read_until("UART loader check trigger.", timeout=30)
                emu.write(b"load")
                emu.read_until("YMODEM loader ready.", timeout=10)
                start = time.monotonic()
                rc = send(emu, how, sfb)
                seconds = time.monotonic() - start
                emu.read_until("APP: active firmware 1.1.0", timeout=120)
                ok = rc == 0 and f"YMODEM: ready, {size} bytes" in emu.log
            print(f"{how:22} {seconds:6.1f} s {size / 1024 / seconds:6.1f} KiB/s {'ok' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()
