# SPDX-License-Identifier: Apache-2.0
"""Run SCons for real on the repository or on a temporary user project."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def scons(cwd, *args, check=True, timeout=600):
    """`scons ARGS` in cwd. A build of the repository's own projects (the example, bench/fwpairs) into a
    BUILD_DIR keeps its release store there (BUILD_DIR/releases) unless RELEASES_DIR is given: the default
    store, releases/<BOARD>/ at the project top, is the repository's, and tests never write into it. That
    scratch store may outlive a change of the sources (build/silicon/...): RELEASE_REPLACE=1."""
    names = {a.split("=", 1)[0] for a in args if "=" in a}
    inside = Path(cwd).resolve().is_relative_to(REPO)
    if inside and "BUILD_DIR" in names and "RELEASES_DIR" not in names:
        build_dir = next(a.split("=", 1)[1] for a in args if a.startswith("BUILD_DIR="))
        args = (*args, f"RELEASES_DIR={build_dir}/releases", "RELEASE_REPLACE=1")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "site_scons"), env.get("PYTHONPATH", "")])
    env.pop("SCONSFLAGS", None)
    result = subprocess.run(
        [sys.executable, "-m", "SCons", "-j2", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"scons {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def make_keys(directory):
    from spb.keys import DevKeyWarning, generate_keys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        return generate_keys(directory, development=True)


def snapshot(directory):
    """mtime of every file below directory: what a build touched. SCons's signature database (in the build
    directory, rewritten by every run) is not a build output."""
    return {
        p.relative_to(directory).as_posix(): p.stat().st_mtime_ns
        for p in Path(directory).rglob("*")
        if p.is_file() and not p.name.startswith(".sconsign")
    }


def changed(before, after):
    return sorted(k for k in after if before.get(k) != after[k])


def git(cwd, *args):
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
        },
    )


USER_SCONSTRUCT = """\
import spb
env = Environment(tools=["default", "spb_firmware"], toolpath=[spb.TOOLPATH])
common = Dir({common!r})
env.SpbFirmware("app", ["main.c", common.File("startup_app.c"), common.File("bsp_" + env["SPB_BOARD"].family + ".c")],
                CPPPATH=[common])
"""

USER_MAIN = """\
#include "bsp.h"
#include "spb_version.h"
int main(void)
{
    bsp_init();
    bsp_puts("user app " APP_VERSION_STR "\\r\\n");
    for (;;) {
    }
}
"""


def user_project(root: Path, board_file: Path, tag="v1.0.0") -> Path:
    """A user's own project: its own git repository, SConstruct, source and board file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "SConstruct").write_text(USER_SCONSTRUCT.format(common=str(REPO / "examples" / "common")))
    (root / "main.c").write_text(USER_MAIN)
    (root / Path(board_file).name).write_text(Path(board_file).read_text())
    (root / ".gitignore").write_text("build/\nkeys/\n.sconsign.dblite\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    if tag:
        git(root, "tag", tag)
    return root
