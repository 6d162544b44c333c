# SPDX-License-Identifier: Apache-2.0
"""Repository hygiene that CI enforces: every source file carries its licence identifier, and the Python
sources pass ruff's lint rules and its formatter (configuration: pyproject.toml [tool.ruff])."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPDX = "SPDX-License-Identifier: Apache-2.0"
SOURCE_SUFFIXES = (".c", ".h", ".py", ".sh", ".s", ".S", ".ld", ".yml")
SOURCE_NAMES = ("SConstruct", "SConscript", "setup", "test", "run")


def tracked_sources() -> list:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO / f for f in listed if f.endswith(SOURCE_SUFFIXES) or Path(f).name in SOURCE_NAMES]


def test_every_source_file_names_its_licence():
    missing = [
        str(p.relative_to(REPO))
        for p in tracked_sources()
        if p.exists() and SPDX not in "\n".join(p.read_text(errors="replace").splitlines()[:3])
    ]
    assert not missing, f"no '{SPDX}' in the first three lines of: {', '.join(missing)}"


RUFF = Path(sys.executable).with_name("ruff")


@pytest.mark.skipif(not RUFF.exists() and shutil.which("ruff") is None, reason="ruff is not installed (./setup)")
@pytest.mark.parametrize(
    "command", [["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]], ids=["lint", "format"]
)
def test_ruff(command):
    ruff = str(RUFF) if RUFF.exists() else "ruff"
    result = subprocess.run([ruff, *command], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
