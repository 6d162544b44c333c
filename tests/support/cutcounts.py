# SPDX-License-Identifier: Apache-2.0
"""Power cuts the silicon suite exercised, summed over the pytest-xdist workers: each worker appends to
a file of its own, the controller adds them up at the end of the run (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parents[2] / "build" / "silicon" / "cut-counts"


def clear() -> None:
    shutil.rmtree(DIRECTORY, ignore_errors=True)


def record(label: str, count: int) -> None:
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    path = DIRECTORY / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[label] = data.get(label, 0) + count
    path.write_text(json.dumps(data))


def totals() -> dict:
    out: dict = {}
    if DIRECTORY.is_dir():
        for path in DIRECTORY.glob("*.json"):
            for label, count in json.loads(path.read_text()).items():
                out[label] = out.get(label, 0) + count
    return out
