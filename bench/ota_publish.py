#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Update repository publish time (spb repo publish, docs/ota.md): N releases of one application for every
shipped board, each release a plausible successor of the previous (tweaked bytes, code inserted and
removed), firmware-like bytes from newlib's Thumb-2 archive. Reports the first publish (every .sfb and every
patch to the newest made) and a republish of the same store (nothing to make), then `spb repo verify`.
MultiSegment boards are skipped (the store keeps no segment offset: docs/ota.md, limitations).

Usage: .venv/bin/python bench/ota_publish.py [--releases 10] [--size 32768] [--encoding compact]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "site_scons"), str(REPO / "tests"), str(REPO / "tests" / "bootloader")]

from test_patch_engine import firmware_like, release  # noqa: E402

from spb.board import load_board  # noqa: E402
from spb.keys import DevKeyWarning, generate_keys  # noqa: E402
from spb.ota import repo  # noqa: E402
from support.hostboot import app_image  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--releases", type=int, default=10)
    ap.add_argument("--size", type=int, default=32768, help="first release's image size, bytes")
    ap.add_argument("--encoding", default="compact", choices=("compact", "compat"))
    args = ap.parse_args()
    boards = [load_board(p) for p in sorted((REPO / "boards").glob("*.toml"))]
    single = [b for b in boards if b.slot0.external is None]
    skipped = [b.name for b in boards if b.slot0.external is not None]
    rng = random.Random(2026)
    series = [firmware_like(rng, args.size)]
    for _ in range(args.releases - 1):
        series.append(release(rng, series[-1]))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DevKeyWarning)
            keys = generate_keys(base / "keys")
        targets = []
        for board in single:
            store = base / "store" / board.name
            store.mkdir(parents=True)
            for i, data in enumerate(series):
                (store / f"hello_1.{i}.0.bin").write_bytes(app_image(board, data))
            targets.append((board, store))
        first = repo.publish(base / "repo", targets, keys, encoding=args.encoding)
        again = repo.publish(base / "repo", targets, keys, encoding=args.encoding)
        start = time.monotonic()
        problems = repo.verify(base / "repo", keys)
        verify_s = time.monotonic() - start
        total = sum(f.size for f in first.manifest.files())
        patches = [f for f in first.manifest.files() if f.kind == "sfbp"]
    print(f"boards: {len(single)} published, skipped (MultiSegment): {', '.join(skipped) or 'none'}")
    print(f"releases per board: {args.releases}, first image {args.size} bytes, encoding {args.encoding}")
    print(
        f"files: {len(first.written)} ({len(patches)} patches, mean {sum(p.size for p in patches) // len(patches)} B)"
    )
    print(f"repository: {total / 2**20:.2f} MiB")
    print(f"publish: {first.seconds:.1f} s; republish (nothing new): {again.seconds:.2f} s; verify: {verify_s:.1f} s")
    print("verify: OK" if not problems else f"verify: {len(problems)} problems: {problems[:3]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
