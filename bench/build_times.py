#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Full build and no-op rebuild times of the example (default board unless --board), median of N runs.

Each full build starts from an empty BUILD_DIR (keys are kept, as for a developer); each no-op rebuild
runs `scons` again on the finished tree and must report that nothing was built.

Usage: .venv/bin/python bench/build_times.py [--board NUCLEO-L452RE] [--runs 5] [-j 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def scons(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO / "site_scons"))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "SCons", *args], cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"scons failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="NUCLEO-L452RE")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("-j", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "site_scons"))
    import warnings

    from spb.keys import DevKeyWarning, generate_keys

    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DevKeyWarning)
            generate_keys(Path(tmp) / "keys", development=True)
        common = [f"-j{args.j}", f"BOARD={args.board}", f"BUILD_DIR={build}", f"KEYS={Path(tmp) / 'keys'}"]
        full, noop = [], []
        for _ in range(args.runs):
            shutil.rmtree(build, ignore_errors=True)
            full.append(scons(*common)[0])
            elapsed, out = scons(*common)
            built = [
                line
                for line in out.splitlines()
                if line[:8].strip() in ("CC", "LINK", "GEN", "SIGN", "IMAGE", "COMBINE", "SIZE", "OBJCOPY")
            ]
            if built:
                sys.exit(f"no-op rebuild ran actions: {built}")
            noop.append(elapsed)
    print(f"{args.board}, -j{args.j}, {args.runs} runs")
    print(f"  full build:      median {statistics.median(full):.2f} s  (min {min(full):.2f}, max {max(full):.2f})")
    print(f"  no-op rebuild:   median {statistics.median(noop):.2f} s  (min {min(noop):.2f}, max {max(noop):.2f})")


if __name__ == "__main__":
    main()
