# SPDX-License-Identifier: Apache-2.0
"""spb as an installed package, the way a user gets it: a wheel built from the checkout, installed (not
editable) into a fresh virtual environment, gives the `spb` command and the SCons tool with the bootloader
sources, the shipped boards and the example startup pieces inside the package; `spb init` then writes a
project outside the repository that builds the bootloader, the application, its .sfb and the combined
image with `scons`, for a shipped board and for a board file of the project's own boards/.

No network: the wheel is built with .venv's setuptools (no build isolation, ./setup installs it) and the
new environment sees .venv's site-packages for the dependencies (scons, cryptography, ...) through a .pth
file; spb itself comes from the wheel only."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from spb.cli import main as spb_main
from spb.errors import SpbError
from spb.project import board_dirs, find_project_board
from support.scons_project import REPO

#: What a source distribution holds (MANIFEST.in); the wheel is built from a copy of just this, so a file
#: the build needs but the sdist would not carry fails here.
SDIST_PARTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE")
SDIST_TREES = ("bootloader", "boards", "examples/common", "site_scons/spb", "site_scons/site_tools")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCONSFLAGS", "VIRTUAL_ENV")}
    return env


def _run(argv: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv directory, wheel path): the wheel installed into a fresh venv under a temporary directory."""
    from importlib.metadata import version  # not `import setuptools`: it would replace distutils in this process

    if int(version("setuptools").split(".")[0]) < 77:
        pytest.fail(f"setuptools {version('setuptools')} in .venv cannot build the wheel (>= 77): run ./setup")
    tmp = tmp_path_factory.mktemp("package")
    src = _mkdir(tmp / "src")
    for part in SDIST_PARTS:
        shutil.copy2(REPO / part, src / part)
    for tree in SDIST_TREES:
        shutil.copytree(REPO / tree, src / tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(src), "-w", "dist"], tmp)
    (wheel,) = (tmp / "dist").glob("stm32_secure_patch-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp).stdout.strip())
    (site / "dependencies_from_dotvenv.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp)
    return venv, wheel


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_wheel_carries_the_shipped_files(installed):
    _venv, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "spb/_data/site_tools/spb_firmware.py",
        "spb/_data/bootloader/src/boot.c",
        "spb/_data/bootloader/include/se_interface.h",
        "spb/_data/boards/NUCLEO-L452RE.toml",
        "spb/_data/examples/common/startup_app.c",
        "spb/py.typed",
    ):
        assert name in names, name
    assert not [n for n in names if "/port/host/" in n or "__pycache__" in n]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "spb = spb.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_package_builds_a_project_outside_the_repository(installed, tmp_path):
    """spb init + scons with nothing of the checkout on the path: bootloader, app, .sfb, combined hex."""
    venv, _wheel = installed
    python, spb = venv / "bin" / "python", venv / "bin" / "spb"
    where = _run([str(python), "-c", "import spb; print(spb.__file__, spb.INSTALLED, spb.TOOLPATH)"], tmp_path)
    module, flag, toolpath = where.stdout.split()
    assert module.startswith(str(venv)) and flag == "True" and toolpath.startswith(str(venv)), where.stdout
    _run([str(spb), "init", "proj", "--board", "NUCLEO-L452RE"], tmp_path)
    project = tmp_path / "proj"
    assert len((project / "SConstruct").read_text().splitlines()) <= 3
    build = _run([str(python), "-m", "SCons", "-j2", "VERSION=1.0.0", "SPB_VERBOSE=1"], project)
    out = project / "build" / "NUCLEO-L452RE"
    for name in ("bootloader.elf", "bootloader.hex", "app.elf", "app.sfb", "app_combined.hex", "app_combined.bin"):
        assert (out / name).is_file(), name
    assert (project / "releases" / "NUCLEO-L452RE" / "app_1.0.0.bin").is_file()
    # Built from the package's copies, not the checkout.
    assert f"{venv}/lib/" in build.stdout and "/_data/bootloader/src/" in build.stdout
    assert str(REPO) not in build.stdout + build.stderr
    # The installed CLI verifies what the build signed.
    _run([str(spb), "verify", "--board", "NUCLEO-L452RE", "--keys", "keys", str(out / "app.sfb")], project)


def test_installed_package_builds_with_the_projects_own_board(installed, tmp_path):
    venv, _wheel = installed
    python, spb = venv / "bin" / "python", venv / "bin" / "spb"
    project = tmp_path / "own"
    text = (REPO / "boards" / "NUCLEO-L412KB.toml").read_text()
    (_mkdir(project / "boards") / "MY-L412.toml").write_text(text.replace('name = "NUCLEO-L412KB"', 'name = "MY-L412"'))
    _run([str(spb), "init", str(project), "--board", "MY-L412"], tmp_path)
    assert 'SPB_DEFAULT_BOARD="MY-L412"' in (project / "SConstruct").read_text()
    _run([str(python), "-m", "SCons", "-j2", "-Q", "VERSION=2.0.0"], project)
    out = project / "build" / "MY-L412"
    for name in ("bootloader.elf", "app.sfb", "app_combined.hex"):
        assert (out / name).is_file(), name
    assert '"MY-L412"' in (project / "releases" / "MY-L412" / "app_2.0.0.json").read_text()


def test_project_boards_are_searched_before_the_shipped_ones(tmp_path):
    own = _mkdir(tmp_path / "boards")
    (own / "NUCLEO-L452RE.toml").write_text("# the project's own variant\n")
    dirs = board_dirs(tmp_path)
    assert find_project_board("NUCLEO-L452RE", dirs) == own / "NUCLEO-L452RE.toml"
    assert find_project_board("NUCLEO-F429ZI", dirs) == REPO / "boards" / "NUCLEO-F429ZI.toml"
    with pytest.raises(SpbError, match=r"unknown board 'NOPE' \(searched .*boards.*\); available boards: .*NUCLEO"):
        find_project_board("NOPE", dirs)
    assert board_dirs(tmp_path, tmp_path / "elsewhere") == [tmp_path / "elsewhere"]


def test_init_refuses_bad_input_and_writes_nothing(tmp_path, capsys):
    assert spb_main(["init", str(tmp_path / "p1"), "--board", "NO-SUCH-BOARD"]) == 2
    assert "unknown board 'NO-SUCH-BOARD'" in capsys.readouterr().err
    assert not (tmp_path / "p1").exists()
    assert spb_main(["init", str(tmp_path / "p2"), "--name", "bad name"]) == 2
    assert "--name 'bad name'" in capsys.readouterr().err
    assert not (tmp_path / "p2").exists()
    (tmp_path / "p3" / "src").mkdir(parents=True)
    (tmp_path / "p3" / "src" / "main.c").write_text("mine\n")
    assert spb_main(["init", str(tmp_path / "p3")]) == 2
    err = capsys.readouterr().err
    assert re.search(r"spb: error: .*p3/src/main\.c: already exists", err) and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in (tmp_path / "p3").rglob("*")) == ["main.c", "src"]
    (tmp_path / "file").write_text("x")
    assert spb_main(["init", str(tmp_path / "file")]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


def test_init_inlines_a_bsp_that_includes_another(tmp_path, capsys):
    """STM32L5's example BSP includes the L4's: the project gets one self-contained src/bsp.c."""
    assert spb_main(["init", str(tmp_path / "l5"), "--board", "DISCO-L562E"]) == 0
    bsp = (tmp_path / "l5" / "src" / "bsp.c").read_text()
    assert "#define BSP_STM32L5 1" in bsp and '#include "bsp_stm32l4.c"' not in bsp and "void bsp_init(void)" in bsp
    assert sorted(p.name for p in (tmp_path / "l5" / "src").iterdir()) == ["bsp.c", "bsp.h", "main.c", "startup_app.c"]


# --------------------------------------------------------------------------------------------------
# Older Pythons than pyproject.toml claims (requires-python >= 3.11, what CI runs): 3.9 and 3.10 have no
# tomllib; board.py still falls back to tomli there, and these tests check that where the interpreters exist.

_VENDORED_TOMLI = Path(__import__("pip._vendor.tomli", fromlist=["_"]).__file__).parent
_PROBE = """
import sys
from pathlib import Path
for path in sorted(Path(sys.argv[1], "spb").rglob("*.py")):
    compile(path.read_text(), str(path), "exec")          # syntax of every module, nothing written
import spb.board
assert spb.board.tomllib.__name__ in ("tomli", "pip._vendor.tomli"), spb.board.tomllib
boards = [spb.board.load_board(p).name for p in sorted(Path(sys.argv[2]).glob("*.toml"))]
print(sys.version_info[:2], len(boards))
"""


def test_board_module_falls_back_to_tomli_without_tomllib():
    """This interpreter with tomllib hidden, as on 3.9/3.10: board.py takes the same parser from tomli."""
    hide = "import sys, pip._vendor.tomli as t; sys.modules['tomllib'] = None; sys.modules['tomli'] = t\n"
    result = subprocess.run(
        [sys.executable, "-c", hide + _PROBE, str(REPO / "site_scons"), str(REPO / "boards")],
        cwd=REPO / "site_scons",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == str(len(list((REPO / "boards").glob("*.toml"))))


def _python(minor: int) -> str | None:
    found = shutil.which(f"python3.{minor}")
    if found and subprocess.run([found, "-c", "1"], capture_output=True).returncode == 0:
        return found
    pyenv = sorted(Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/python3"))
    return str(pyenv[-1]) if pyenv else None


@pytest.mark.parametrize("minor", [9, 10])
def test_older_pythons_import_the_board_module(minor, tmp_path):
    """Where python3.9 / 3.10 exist (pyenv or the PATH; not on Debian 12's CI): every module compiles and
    spb.board loads every shipped board with tomli (not claimed: requires-python is 3.11)."""
    python = _python(minor)
    if python is None:
        pytest.skip(f"no python3.{minor} on this machine")
    shutil.copytree(_VENDORED_TOMLI, tmp_path / "tomli", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**_clean_env(), "PYTHONPATH": os.pathsep.join([str(REPO / "site_scons"), str(tmp_path)])}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [python, "-c", _PROBE, str(REPO / "site_scons"), str(REPO / "boards")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"(3, {minor})"), result.stdout
