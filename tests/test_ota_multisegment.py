# SPDX-License-Identifier: Apache-2.0
"""A MultiSegment board's releases, as the build stores them, published into an update repository: the
store's manifest keeps the segment offset, so the repository's .sfb is byte for byte the build's own and
its .sfbp regenerates it (spb.releases, spb.ota.repo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from spb.cli import main as spb_main
from spb.image import Header
from support.scons_project import REPO

BOARD = "DISCO-L4R9I"  # SLOT0 = internal flash + OCTOSPI NOR


def test_multisegment_releases_publish_with_their_segment_offset(tmp_path):
    project = tmp_path / "proj"
    assert spb_main(["init", str(project), "--board", BOARD]) == 0
    # Something in the external segment, so that the image has one (segoff != 0).
    (project / "src" / "ext.c").write_text(
        '__attribute__((section(".ExtFlashSection"), used)) const char ext_table[64] = "in the NOR";\n'
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "site_scons")}
    env.pop("SCONSFLAGS", None)
    sfbs = {}
    for version in ("1.0.0", "1.1.0"):
        subprocess.run([sys.executable, "-m", "SCons", "-Q", f"VERSION={version}"], cwd=project, env=env, check=True)
        sfbs[version] = (project / "build" / BOARD / "app.sfb").read_bytes()
    store = project / "releases" / BOARD
    manifest = json.loads((store / "app_1.1.0.json").read_text())
    segoff = Header.unpack(sfbs["1.1.0"]).segoff
    assert segoff != 0 and manifest["segoff"] == segoff, (manifest, segoff)

    out = tmp_path / "repo"
    keys = str(project / "keys")
    assert (
        spb_main(["repo", "publish", "--board", BOARD, "--store", str(store), "-q", "-o", str(out), "--keys", keys])
        == 0
    )
    published = out / BOARD / "app"
    assert (published / "app_1.1.0.sfb").read_bytes() == sfbs["1.1.0"]
    assert (published / "app_1.0.0.sfb").read_bytes() == sfbs["1.0.0"]
    assert (published / "app_1.0.0_to_1.1.0.sfbp").is_file()
    assert spb_main(["repo", "verify", str(out), "--keys", keys]) == 0
