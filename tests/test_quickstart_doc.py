# SPDX-License-Identifier: Apache-2.0
"""docs/quickstart.md cannot drift: its build and update commands run here, verbatim, in a fresh clone.

The clone is the working tree as it is (HEAD plus uncommitted changes) copied without build outputs, keys,
caches or a release store, made a git repository of one commit (no tags, like the repository today), with
the existing .venv linked in: the state `git clone` + `./setup` leaves, minus what setup installs. setup's
own build commands (its `scons` runs: the default board, the 1.0.0 -> 1.1.0 demo pair) run first, taken
from the setup script. Then every shell block the doc marks with `<!-- doc-test: ... -->` runs in order
(sections 3, 4 and 5: the ones that need no board and no terminal), each with bash -e, and what the doc
says happens is checked: versions, the release store, patches, the demo pair of section 4, the CLI's
outputs. Blocks that need a board, a programmer or an interactive emulator (sections 2 and 6) are not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from spb import image, patch
from support.scons_project import REPO, git

DOC = REPO / "docs" / "quickstart.md"
MARK = "<!-- doc-test:"
BOARD = "NUCLEO-L452RE"
TOP_EXCLUDED = {"build", ".venv", "keys", "releases", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
#: The sections whose shell blocks must all be marked (and so run): no hardware, no interactive terminal.
RUN_SECTIONS = ("3.", "4.", "5.")

pytestmark = [
    pytest.mark.skipif(
        shutil.which("arm-none-eabi-gcc") is None or shutil.which("git") is None, reason="needs arm-none-eabi-gcc, git"
    ),
    pytest.mark.skipif(not (REPO / ".venv" / "bin" / "scons").exists(), reason="needs ./setup's .venv"),
]


def doc_blocks(text: str) -> list[tuple[str, bool, str]]:
    """(section title, marked, code) of every ```sh block, in order."""
    blocks = []
    section = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip() == "```sh":
            end = lines.index("```", i + 1)
            marked = i > 0 and lines[i - 1].startswith(MARK)
            blocks.append((section, marked, "\n".join(lines[i + 1 : end]) + "\n"))
            i = end
        i += 1
    return blocks


def section_one_outputs(text: str) -> list[str]:
    """The files section 1 says ./setup leaves in build/<BOARD>/ ("Outputs in ...: `a.{x,y}`, `*.z`")."""
    match = re.search(rf"Outputs in `build/{BOARD}/`:(.*?)\n\n", text, re.S)
    assert match, "section 1: no 'Outputs in build/<BOARD>/:' paragraph"
    names = []
    for item in re.findall(r"`([^`]+)`", match.group(1)):
        brace = re.fullmatch(r"(.*)\{(.*)\}(.*)", item)
        names += [f"{brace[1]}{alt}{brace[3]}" for alt in brace[2].split(",")] if brace else [item]
    return names


def setup_build_commands() -> str:
    """The build part of ./setup (everything it runs unless SPB_SETUP_ONLY=1)."""
    text = (REPO / "setup").read_text()
    match = re.search(r'^if \[ "\$\{SPB_SETUP_ONLY:-0\}" != "1" \]; then\n(.*?)^fi$', text, re.M | re.S)
    assert match, "setup: the build part (if SPB_SETUP_ONLY != 1 ... fi) was not found"
    return match.group(1)


def _ignore(directory: str, names: list[str]) -> set[str]:
    top = os.path.samefile(directory, REPO)
    return {
        n
        for n in names
        if (top and n in TOP_EXCLUDED)
        or n in ("__pycache__", ".pytest_cache")
        or n.endswith((".pyc", ".egg-info"))
        or n.startswith(".sconsign")
    }


def fresh_clone(dest):
    shutil.copytree(REPO, dest, ignore=_ignore, symlinks=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "clone of the working tree")
    git(dest, "clean", "-fdXq")  # what .gitignore leaves out of a clone
    (dest / ".venv").symlink_to(REPO / ".venv")
    return dest


def run(clone, script: str, what: str) -> str:
    env = {
        **os.environ,
        "PATH": f"{clone / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    env.pop("SCONSFLAGS", None)
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script, "setup"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{script}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def sfb_version(path) -> int:
    return image.Header.unpack(path.read_bytes()[: image.HEADER_SIZE]).version


def test_every_block_of_the_build_sections_is_marked():
    blocks = doc_blocks(DOC.read_text())
    in_run = [(s, marked) for s, marked, _ in blocks if s.startswith(RUN_SECTIONS)]
    assert in_run and all(marked for _, marked in in_run), in_run
    assert {s.split()[0] for s, marked, _ in blocks if marked} == set(RUN_SECTIONS)


def test_quickstart_commands_do_what_the_doc_says(tmp_path):
    clone = fresh_clone(tmp_path / "spb")
    build = clone / "build" / BOARD
    store = clone / "releases" / BOARD
    # Section 1, ./setup: the default board, then the demo pair.
    out = run(clone, setup_build_commands(), "setup's build")
    assert "generated DEVELOPMENT keys" in out
    listed = section_one_outputs(DOC.read_text())
    assert "hello_combined.hex" in listed and "bootloader.elf" in listed
    for pattern in listed:
        assert list(build.glob(pattern)), f"section 1 lists {pattern}, ./setup's build did not make it"
    assert sfb_version(build / "hello.sfb") == 0  # no tag in a fresh clone: 0.0.0-untagged, not a release
    demo = clone / "build" / "demo" / BOARD
    # Section 4: "./setup builds such a pair": the files it names exist and belong together.
    assert (demo / "v1.0.0" / "hello_combined.hex").is_file()
    demo_patch = demo / "v1.1.0" / "hello_1.0.0_to_1.1.0.sfbp"
    assert _applied(clone, demo / "v1.0.0" / "hello.bin", demo_patch) == (demo / "v1.1.0" / "hello.bin").read_bytes()

    blocks = [(s, code) for s, marked, code in doc_blocks(DOC.read_text()) if marked]
    sections = [s.split()[0] for s, _ in blocks]
    assert sections == ["3.", "4.", "5."]

    # Section 3: a change, a commit and a tag: the build is release 1.1.0, kept in the store.
    run(clone, blocks[0][1], "section 3")
    assert sfb_version(build / "hello.sfb") == 0x01000100
    assert (store / "hello_1.1.0.bin").read_bytes() == (build / "hello.bin").read_bytes()
    assert b"running, with a new feature" in (build / "hello.bin").read_bytes()

    # Section 4: the next release, with its patch from the stored 1.1.0 that regenerates it exactly.
    run(clone, blocks[1][1], "section 4")
    assert sfb_version(build / "hello.sfb") == 0x01000200
    new = (build / "hello.bin").read_bytes()
    assert (store / "hello_1.2.0.bin").read_bytes() == new
    sfbp = build / "hello_1.1.0_to_1.2.0.sfbp"
    assert _applied(clone, store / "hello_1.1.0.bin", sfbp) == new

    # Section 5: the CLI on what section 4 built.
    out = run(clone, blocks[2][1], "section 5")
    assert sfb_version(clone / "app-1.3.0.sfb") == 0x01000300
    assert (clone / "factory.hex").is_file()
    assert (clone / "app-1.3.0.bin").read_bytes() == new
    assert "1.3.0" in out


def _applied(clone, old, sfbp) -> bytes | None:
    """The image a .sfbp regenerates from `old`, checked with the clone's keys (None if it does not)."""
    from spb.keys import KeySource

    report = patch.verify_sfbp(sfbp.read_bytes(), KeySource(keys=str(clone / "keys")).load(), old.read_bytes())
    assert report.ok, report.problems
    return report.new_image
