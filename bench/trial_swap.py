#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of trial boot's install by exchange against the overwrite install, per flash IP, on the silicon
harness (docs/trial-boot.md).

For each flash IP generation with uniform pages, a board of that IP gets a variant board file - the
shipped file with both slots resized to hold the image (a full 128 KiB image where the part's flash
allows two such slots, else the largest power-of-two-KiB image that fits) and a [trial] table in the free
flash after SLOT1: a TOML file and no code. Its bootloader is built twice by `scons` (TRIAL=auto and
TRIAL=0). SLOT0 holds an installed image (journal entry included), SLOT1 a READY .sfb of another image of
the same size; then power-on reset until the first instruction of the new application. Reported: flash
operations (erases; programming units), executed instructions (exact: block hook), the cycles the models
derive (flash busy times included) at the board's SYSCLK, and the bootloader's flash size in both modes.

Usage: .venv/bin/python bench/trial_swap.py [--boards B ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "site_scons"), str(REPO / "tests")]

from silicon.harness.machine import Machine  # noqa: E402
from silicon.support import bootloader_usage, tiny_image  # noqa: E402
from spb import image, journal  # noqa: E402
from spb.board import load_board  # noqa: E402
from support.scons_project import make_keys, scons  # noqa: E402

OUT = REPO / "build" / "bench" / "trial"
#: flash IP -> a board of that IP (docs/boards.md): every generation with uniform pages
BOARDS = {
    "L4 (double word, ECC)": "NUCLEO-L452RE",
    "G0 (double word, ECC, Cortex-M0+)": "NUCLEO-G0B1RE",
    "G4 (double word, ECC)": "NUCLEO-G474RE",
    "WL (double word, ECC)": "NUCLEO-WL55JC",
    "L5 (double word, ECC, non-secure registers)": "DISCO-L562E",
    "L0 (PECR, words, erased 0x00)": "NUCLEO-L073RZ",
}
UNIT = 0x800


def variant(board_name: str, directory: Path) -> tuple[str, int]:
    """A variant board file with both slots resized and a [trial] area; returns (name, image size)."""
    path = REPO / "boards" / f"{board_name}.toml"
    text = path.read_text()
    data = tomllib.loads(text)
    flash_end = data["flash"]["base"] + data["flash"]["size"]
    slot0 = data["slot0"]["address"]
    vector = data["vector_size"]
    size = 128 * 1024
    while True:
        slot = -(-(vector + size) // UNIT) * UNIT
        area = slot0 + 2 * slot
        if area + 4 * UNIT <= flash_end:
            break
        size //= 2
    name = f"{board_name}-TRIAL{size // 1024}K"
    text = text.replace(f'name = "{board_name}"', f'name = "{name}"')

    def section(title: str, address: int) -> None:
        nonlocal text
        pattern = re.compile(rf"(\[{title}\][^\[]*?)address = 0x[0-9A-Fa-f_]+([^\[]*?)size = 0x[0-9A-Fa-f_]+", re.S)
        text, n = pattern.subn(rf"\g<1>address = {address:#010x}\g<2>size = {slot:#x}", text, count=1)
        assert n == 1, (board_name, title)

    section("slot0", slot0)
    section("slot1", slot0 + slot)
    text = re.sub(r"\n\[trial\][^\[]*", "\n", text)
    text = text.replace("\n[clock]", f"\n[trial]\narea = {area:#010x}\nboots = 3\n\n[clock]", 1)
    (directory / f"{name}.toml").write_text(text)
    return name, size


def install(board, build_dir: Path, keys, size: int) -> dict:
    old = tiny_image(board, size, fill=1)
    new = tiny_image(board, size, fill=2)
    h_old = image.image_header(old, 0x01000000, keys)
    m = Machine(board)
    m.load_hex(build_dir / "bootloader.hex")
    m.load(board.bootloader.journal_address, journal.entry(h_old))
    m.load(board.slot0.address, image.installed_header(h_old, board.vector_size))
    m.load(board.app_vector_address, old)
    sfb = bytearray(image.build_sfb(new, 0x02000000, keys, board.vector_size))
    erased = bytes([board.flash.erased_value])
    sfb[0x80 : board.vector_size] = erased * (board.vector_size - 0x80)
    sfb[0x80:0xA0] = sfb[0x40:0x60]  # READY
    m.load(board.slot1.address, bytes(sfb))
    m.power_on()
    m.count_instructions = True
    m.power.arm(None)
    r = m.run(max_resets=4, max_cycles=400_000_000_000)  # the L0 programs a word at a time: minutes
    if r.reason != "app":
        raise SystemExit(f"{board.name}: {r.reason} {r.detail}\n{m.console_text()[-1500:]}")
    if m.violations:
        raise SystemExit(f"{board.name}: model violations: {m.violations[:3]}")
    kinds = [op[0] for op in m.power.trace]
    return {
        "erases": kinds.count("erase"),
        "programs": len(kinds) - kinds.count("erase"),
        "instructions": r.instructions,
        "cycles": r.cycles,
        "ms_at_sysclk": round(r.cycles / board.clock.sysclk_hz * 1e3, 1),
    }


def measure(ip: str, board_name: str) -> dict:
    boards = OUT / "boards"
    boards.mkdir(parents=True, exist_ok=True)
    keys_dir = OUT / "keys"
    if not (keys_dir / "signing_key.pem").exists():
        make_keys(keys_dir)
    from spb.keys import load_keys

    keys = load_keys(keys_dir)
    name, size = variant(board_name, boards)
    board = load_board(boards / f"{name}.toml")
    row = {"ip": ip, "board": name, "image": size}
    for mode, trial in (("exchange", "auto"), ("overwrite", "0")):
        build_dir = OUT / name / mode
        scons(
            REPO,
            f"BOARD={name}",
            f"BOARDS_DIR={boards}",
            f"BUILD_DIR={build_dir}",
            f"KEYS={keys_dir}",
            "VERSION=1.0.0",
            f"TRIAL={trial}",
            "-Q",
        )
        row[mode] = install(board, build_dir, keys, size)
        row[mode]["bootloader_flash"] = bootloader_usage(build_dir / "bootloader.elf")[0]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", nargs="*", default=list(BOARDS.values()))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for ip, b in BOARDS.items():
        if b in args.boards:
            rows.append(measure(ip, b))
            print(f"measured {ip}: {rows[-1]}", file=sys.stderr, flush=True)
    print(
        f"{'flash IP':44} {'image':>6}  {'exchange: erases/programs':>26} {'instructions':>13} {'ms':>7}"
        f"  {'overwrite: erases/programs':>27} {'instructions':>13} {'ms':>7}  {'boot flash +':>12}"
    )
    for r in rows:
        e, o = r["exchange"], r["overwrite"]
        print(
            f"{r['ip']:44} {r['image'] // 1024:>5}K  {e['erases']:>12,} / {e['programs']:>11,} {e['instructions']:>13,}"
            f" {e['ms_at_sysclk']:>7}  {o['erases']:>13,} / {o['programs']:>11,} {o['instructions']:>13,}"
            f" {o['ms_at_sysclk']:>7}  {e['bootloader_flash'] - o['bootloader_flash']:>+12,}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
