# SPDX-License-Identifier: Apache-2.0
"""The CI recipe of docs/ci.md (examples/ci/pipeline.sh) on a user project of its own: two boards, two
releases, a shared SCons cache, the release store, the published files, and the size budget."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile

from support.scons_project import REPO, git, make_keys, user_project

PIPELINE = REPO / "examples" / "ci" / "pipeline.sh"
BOARDS = ("NUCLEO-L452RE", "NUCLEO-L073RZ")


def run(root, tmp_path, keys, *extra_env, boards=BOARDS):
    env = dict(os.environ)
    env.update(
        SPB_KEYS_DIR=str(keys.directory),
        SPB_CACHE_DIR=str(tmp_path / "cache"),
        SPB_RELEASES=str(tmp_path / "store"),
        SPB_DIST=str(tmp_path / "dist"),
        SCONS=f"{sys.executable} -m SCons",
        PYTHONPATH=os.pathsep.join([str(REPO / "site_scons"), env.get("PYTHONPATH", "")]),
    )
    env.update(dict(extra_env))
    env.pop("SCONSFLAGS", None)
    return subprocess.run(["bash", str(PIPELINE), *boards], cwd=root, env=env, capture_output=True, text=True)


def test_pipeline_builds_signs_keeps_the_store_and_publishes(tmp_path):
    root = user_project(tmp_path / "proj", REPO / "boards" / f"{BOARDS[0]}.toml", tag="v1.0.0")
    keys = make_keys(tmp_path / "keys")
    first = run(root, tmp_path, keys)
    assert first.returncode == 0, first.stdout + first.stderr
    dist = tmp_path / "dist"
    for board in BOARDS:
        assert (dist / board / "app.sfb").is_file()
        assert (dist / board / "factory" / "app_combined.hex").is_file()
        assert not list((dist / board).glob("*.hex")), "the manufacturing image must stay in factory/"
        assert (tmp_path / "store" / board / "app_1.0.0.bin").is_file()
    # Release 1.1.0: the same recipe now also publishes the delta patch from 1.0.0, per board.
    (root / "main.c").write_text((root / "main.c").read_text().replace("user app", "user app, release two"))
    git(root, "commit", "-qam", "two")
    git(root, "tag", "v1.1.0")
    second = run(root, tmp_path, keys)
    assert second.returncode == 0, second.stdout + second.stderr
    for board in BOARDS:
        assert (dist / board / "app_1.0.0_to_1.1.0.sfbp").is_file(), sorted(os.listdir(dist / board))
    with tarfile.open(dist / "release-store.tar.gz") as tar:
        names = tar.getnames()
    assert any(n.endswith(f"{BOARDS[1]}/app_1.1.0.bin") for n in names), names
    # The shared cache served the unchanged objects of the second run (keys never enter it).
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cached and not any(keys.aes_key in p.read_bytes() for p in cached)


def test_pipeline_fails_on_the_size_budget(tmp_path):
    root = user_project(tmp_path / "proj", REPO / "boards" / f"{BOARDS[0]}.toml", tag="v1.0.0")
    keys = make_keys(tmp_path / "keys")
    result = run(root, tmp_path, keys, ("SPB_BOOT_BUDGET", "4096"), boards=BOARDS[:1])
    assert result.returncode == 1
    assert f"{BOARDS[0]}: bootloader uses" in result.stderr and "over the budget of 4096" in result.stderr
