#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Instructions from reset to the jump into the application, per board, on the silicon harness.

For every STM32 board: the board's real bootloader (built by `scons` with throw-away keys into
build/bench/silicon/) and a valid application image in SLOT0 (installed header + image; 128 KiB, or the
largest multiple of 16 that SLOT0 holds when it is smaller), SLOT1 empty, then power-on reset on the
register-level models (tests/silicon/harness) until the first instruction of the application. Every
executed instruction is counted exactly (a block hook adds up the Thumb instructions of each executed
block; SysTick handlers included). Also reported: the same boot with a ready-but-installed SLOT1 (the
state after every update: the bootloader checks SLOT1's header too), and the cycle count the models
derive from the port's clock set-up (the run's time base is one instruction per cycle).

Usage: .venv/bin/python bench/silicon_boot.py [--boards B ...] [--size BYTES] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "site_scons"), str(REPO / "tests")]

from silicon.harness.machine import Machine  # noqa: E402
from silicon.support import ALL_BOARDS, tiny_image  # noqa: E402
from spb import image  # noqa: E402
from spb.board import load_board  # noqa: E402
from support.scons_project import make_keys, scons  # noqa: E402

BOARDS = ALL_BOARDS  # every STM32 board the harness runs
OUT = REPO / "build" / "bench" / "silicon"


def build(board_name: str):
    keys_dir = OUT / "keys"
    if not (keys_dir / "signing_key.pem").exists():
        make_keys(keys_dir)
    from spb.keys import load_keys

    keys = load_keys(keys_dir)
    build_dir = OUT / board_name
    scons(REPO, f"BOARD={board_name}", f"BUILD_DIR={build_dir}", f"KEYS={keys_dir}", "VERSION=1.0.0", "-Q")
    return keys, build_dir


def image_of(board, size: int) -> bytes:
    limit = board.slot0.size - board.vector_size
    size = min(size, limit) // 16 * 16
    return tiny_image(board, size)


def measure(board_name: str, size: int) -> dict:
    board = load_board(REPO / "boards" / f"{board_name}.toml")
    keys, build_dir = build(board_name)
    plain = image_of(board, size)
    header = image.image_header(plain, 0x01000000, keys)
    results = {"board": board_name, "cpu": board.cpu, "image": len(plain)}
    cases = [("slot1 empty", False)] + ([("slot1 installed", True)] if board.slot1 is not None else [])
    for label, slot1 in cases:
        m = Machine(board)
        m.load_hex(build_dir / "bootloader.hex")
        m.load(board.slot0.address, image.installed_header(header, board.vector_size))
        m.load(board.app_vector_address, plain)
        if slot1:  # the state every update leaves: SLOT1 holds the installed image with READY..DONE
            sfb = bytearray(image.build_sfb(plain, 0x01000000, keys, board.vector_size))
            for offset in (0x80, 0xA0, 0xC0):
                sfb[offset : offset + 32] = sfb[0x40:0x60]
            m.load(board.slot1.address, bytes(sfb))
        m.power_on()
        m.count_instructions = True
        started = time.perf_counter()
        r = m.run()
        if r.reason != "app":
            raise SystemExit(f"{board_name} {label}: {r.reason} {r.detail}\n{m.console_text()[-800:]}")
        results[label] = {
            "instructions": r.instructions,
            "cycles": r.cycles,
            "seconds_at_sysclk": r.cycles / board.clock.sysclk_hz,
            "host_seconds": round(time.perf_counter() - started, 2),
        }
        if m.violations:
            raise SystemExit(f"{board_name}: model violations: {m.violations[:3]}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", nargs="*", default=list(BOARDS))
    parser.add_argument("--size", type=int, default=128 * 1024)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [measure(b, args.size) for b in args.boards]
    print(f"{'board':16} {'cpu':14} {'image':>8} {'reset->app (SLOT1 empty)':>26} {'(SLOT1 installed)':>18}")
    for r in rows:
        e, i = r["slot1 empty"], r.get("slot1 installed")
        installed = f"{i['instructions']:>14,} instr" if i else f"{'(no SLOT1)':>20}"
        print(
            f"{r['board']:16} {r['cpu']:14} {r['image']:8} {e['instructions']:>20,} instr "
            f"{installed}   ({e['seconds_at_sysclk'] * 1e3:.0f} ms at SYSCLK)"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
