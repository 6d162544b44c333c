# SPDX-License-Identifier: Apache-2.0
"""Fuzz smoke run (fuzz/README.md): the libFuzzer target still builds against the current core and each of
its modes runs for a couple of seconds from its seeds without a crash, a sanitizer report or a broken
invariant. Long runs are fuzz/run.sh; this only keeps the target alive. About 45 s on two cores: one build
(clang, ASan + UBSan) and nine short runs, one after the other."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from support.cbuild import REPO

MODES = 9  # MODES in fuzz/fuzz_target.c
SECONDS_PER_MODE = 2
BOARD = "EMU-MPS2-AN385"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("clang") is None,
        reason="clang is not installed: the fuzz target needs clang and libFuzzer "
        "(Debian: clang, libclang-rt-14-dev; ./setup installs both)",
    ),
]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz") / BOARD
    env = {**os.environ, "PYTHON": str(REPO / ".venv" / "bin" / "python")}
    if not os.access(env["PYTHON"], os.X_OK):
        env["PYTHON"] = shutil.which("python3") or "python3"
    result = subprocess.run(
        ["bash", str(REPO / "fuzz" / "build.sh"), str(out), BOARD], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode != 0 and "libclang_rt.fuzzer" in result.stderr:
        pytest.skip("clang's libFuzzer runtime is missing (Debian: libclang-rt-14-dev; ./setup installs it)")
    assert result.returncode == 0, f"fuzz/build.sh failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.mark.parametrize("mode", range(MODES))
def test_fuzz_mode_runs_clean(fuzz_target, mode, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = fuzz_target / "gen" / "seeds" / f"mode{mode}"
    assert seeds.is_dir() and any(seeds.iterdir()), f"no seeds for mode {mode}"
    result = subprocess.run(
        [
            str(fuzz_target / "fuzz_target"),
            f"-max_total_time={SECONDS_PER_MODE}",
            "-max_len=4096",
            "-print_final_stats=1",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
            str(seeds),
        ],
        cwd=tmp_path,
        env={**os.environ, "SPB_FUZZ_MODE": str(mode)},
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_MODE + 60,
    )
    log = result.stderr[-4000:]
    assert result.returncode == 0, f"mode {mode} found a failure (artifacts in {tmp_path}):\n{log}"
    assert "ERROR: AddressSanitizer" not in result.stderr and "runtime error:" not in result.stderr, log
    executed = re.search(r"stat::number_of_executed_units:\s*(\d+)", result.stderr)
    rate = re.search(r"stat::average_exec_per_sec:\s*(\d+)", result.stderr)
    assert executed and rate, log
    print(f"fuzz mode {mode}: {executed.group(1)} executions, {rate.group(1)}/s")
    assert int(executed.group(1)) >= 100, f"mode {mode} barely ran:\n{log}"
