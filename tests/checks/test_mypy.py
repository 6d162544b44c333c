# SPDX-License-Identifier: Apache-2.0
"""The Python package type-checks: mypy, strict, over site_scons/spb and the SCons tool in
site_scons/site_tools (configuration and the few relaxations, with their reasons: pyproject.toml
[tool.mypy])."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKED = ("site_scons/spb", "site_scons/site_tools")


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (./setup)")
def test_mypy(tmp_path):
    result = subprocess.run(
        # A fresh cache: the result never depends on an earlier run, and nothing is written to the tree.
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--cache-dir", str(tmp_path), *CHECKED],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"
