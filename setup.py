# SPDX-License-Identifier: Apache-2.0
"""Packaging step that pyproject.toml cannot express: the installed `spb` package carries the files the
SCons tool builds from, which live at the top of the repository (bootloader/, boards/, examples/common/,
site_scons/site_tools/). A wheel (`pip install <checkout>`, `pip wheel`, `python -m build`) gets a copy of
them under spb/_data/, laid out as in the repository, so spb.REPO_ROOT and spb.TOOLPATH point there.
An editable install (./setup's `pip install -e`) copies nothing: spb then uses the checkout itself.
Everything else is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SOURCE_SUFFIXES = (".c", ".h", ".s", ".S", ".inc")
#: (directory in the repository, directory under spb/_data, suffixes copied, sub-directories left out)
SHIPPED = (
    ("bootloader", "bootloader", SOURCE_SUFFIXES, ("port/host",)),  # port/host: the test flash simulator
    ("boards", "boards", (".toml",), ()),
    ("examples/common", "examples/common", SOURCE_SUFFIXES, ()),
    ("site_scons/site_tools", "site_tools", (".py",), ()),
)


def shipped_files() -> list[tuple[Path, str]]:
    """(file in the repository, its path under spb/_data) for every shipped file, sorted."""
    files: list[tuple[Path, str]] = []
    for source, target, suffixes, excluded in SHIPPED:
        base = ROOT / source
        if not base.is_dir():
            raise SystemExit(f"setup.py: {base}: directory not found (build from a complete checkout or sdist)")
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base).as_posix()
            if path.is_file() and path.suffix in suffixes and not any(rel.startswith(x + "/") for x in excluded):
                files.append((path, f"{target}/{rel}"))
    return files


class BuildPyWithData(build_py):
    """build_py plus the shipped files under spb/_data/ (wheels only)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        data = Path(self.build_lib) / "spb" / "_data"
        if data.exists():
            shutil.rmtree(data)
        for path, rel in shipped_files():
            out = data / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)


setup(cmdclass={"build_py": BuildPyWithData})
