#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Worst-case stack of the bootloader's entry points, from GCC's call graph (-fcallgraph-info=su).

Cross-compiles the bootloader core, crypto and the board's port with the build's optimisation, reads the
per-function frame sizes and call edges GCC reports, and prints the deepest path from main() (boot
stack) and from each application API entry (which run on the application's stack). Functions GCC
cannot size (dynamic frames) or calls through pointers are reported; the core has neither.

Usage: .venv/bin/python bench/stack_usage.py [--board NUCLEO-L452RE]
       .venv/bin/python bench/stack_usage.py --write-table   # every board in boards/ -> spb/apistack.py

The build's default application stack guard (STACK_SIZE) comes from the table --write-table writes:
the deepest of the application API entries (SE_PATCH_*, SE_APP_*) per board;
tests/test_stack_guard.py checks that the table still matches this measurement.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "site_scons"))

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
API_ENTRIES = [
    "SE_PATCH_Init",
    "SE_PATCH_Data",
    "SE_PATCH_InstallAtNextReset",
    "SE_PATCH_Abort",
    "SE_PATCH_Poll",
    "SE_APP_GetActiveFwInfo",
    "SE_APP_GetBootVer",
    "SE_APP_GetActiveFwInfo2",
    "SE_APP_Confirm",
    "SE_APP_Rollback",
]
ENTRIES = ["main", *API_ENTRIES]
TABLE = REPO / "site_scons" / "spb" / "apistack.py"


def measure(board):
    """{entry: (worst-case bytes, call path)} for ENTRIES, and the functions with non-static frames."""
    from spb.board_header import render

    root = REPO / "bootloader"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "spb_board.h").write_text(render(board))
        includes = [
            tmp,
            root / "include",
            root / "src",
            root / "src/crypto",
            root / "port",
            root / "port/common",
            root / "port" / board.family,
        ]
        sources = [
            *sorted((root / "src").glob("*.c")),
            *sorted((root / "src/crypto").glob("*.c")),
            *sorted((root / "port/common").glob("*.c")),
            *sorted((root / "port" / board.family).glob("*.c")),
        ]
        for src in sources:
            cmd = [
                "arm-none-eabi-gcc",
                *board.boot_flags(),
                "-Os",
                "-ffunction-sections",
                "-std=gnu11",
                "-DSPB_BOOTLOADER_BUILD",
                '-DSPB_BOOT_VERSION_STR="v0"',
                *[f"-I{i}" for i in includes],
                "-fcallgraph-info=su",
                "-c",
                str(src),
                "-o",
                str(tmp / (src.stem + ".o")),
            ]
            subprocess.run(cmd, check=True, cwd=tmp)
        frames, calls, names = {}, {}, {}
        for ci in tmp.glob("*.ci"):
            for line in ci.read_text().splitlines():
                m = NODE.match(line)
                if m:
                    title, label = m.groups()
                    size = re.search(r"(\d+) bytes \((static|dynamic[^)]*)\)", label)
                    if size:
                        frames[title] = (int(size.group(1)), size.group(2))
                        names[title.split(":")[-1]] = title
                    continue
                m = EDGE.match(line)
                if m:
                    calls.setdefault(m.group(1), set()).add(m.group(2))

    def resolve(title):
        return title if title in frames else names.get(title.split(":")[-1], title)

    @cache
    def worst(title):
        title = resolve(title)
        own = frames.get(title, (0, "unknown"))[0]
        best, path = 0, []
        for callee in calls.get(title, ()):
            depth, sub = worst(callee)
            if depth > best:
                best, path = depth, sub
        return own + best, [title.split(":")[-1]] + path

    dynamic = [t for t, (_, kind) in frames.items() if kind != "static"]
    return {entry: worst(entry) for entry in ENTRIES}, dynamic


def api_need(board):
    """The deepest stack of the application API entries on this board, in bytes."""
    result, _dynamic = measure(board)
    return max(result[entry][0] for entry in API_ENTRIES)


def write_table(path=TABLE):
    from spb.board import load_board

    rows = []
    for board_file in sorted((REPO / "boards").glob("*.toml")):
        board = load_board(board_file)
        rows.append((board.name, board.cpu, api_need(board)))
        print(f"  {board.name:20s} {board.cpu:14s} {rows[-1][2]:5d} bytes")
    lines = "".join(f'    "{name}": ({cpu!r}, {need}),\n'.replace("'", '"') for name, cpu, need in rows)
    path.write_text(
        "# SPDX-License-Identifier: Apache-2.0\n"
        '"""Worst-case stack of the bootloader API (SE_PATCH_*, SE_APP_*) on each shipped board, in bytes: the\n'
        "deepest call path from an entry, from GCC's call graph at -Os. Generated by `bench/stack_usage.py\n"
        '--write-table`; tests/test_stack_guard.py checks it against the measurement. Do not edit."""\n\n'
        "from __future__ import annotations\n\n"
        "#: board name -> (cpu, bytes)\n"
        f"API_STACK: dict[str, tuple[str, int]] = {{\n{lines}}}\n"
    )
    print(f"wrote {path}")


def main():
    from spb.board import load_board

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="NUCLEO-L452RE")
    parser.add_argument("--write-table", action="store_true", help=f"measure every board, write {TABLE}")
    args = parser.parse_args()
    if args.write_table:
        write_table()
        return
    board = load_board(REPO / "boards" / f"{args.board}.toml")
    result, dynamic = measure(board)
    print(f"{args.board} ({board.cpu}), -Os; frame sizes from GCC -fcallgraph-info=su")
    for entry in ENTRIES:
        depth, path = result[entry]
        print(f"  {entry:30s} {depth:5d} bytes  via {' > '.join(path)}")
    print("  functions with non-static frames:", ", ".join(dynamic) or "none")


if __name__ == "__main__":
    main()
