# SPDX-License-Identifier: Apache-2.0
"""The application's stack guard (STACK_SIZE) and heap (HEAP_SIZE): the default guard comes from the
bootloader API's worst-case stack per board as bench/stack_usage.py measures it (spb/apistack.py, checked
here against a new measurement), a smaller STACK_SIZE is refused, a larger one reaches the linker script and
the size report, and `scons --help` shows the board's default."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys

import pytest

from spb import linker
from spb.apistack import API_STACK
from spb.board import load_board
from support.scons_project import REPO, make_keys, scons

needs_gcc = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")


def _bench():
    spec = importlib.util.spec_from_file_location("stack_usage", REPO / "bench" / "stack_usage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("stack_usage", module)
    spec.loader.exec_module(module)
    return module


def test_every_shipped_board_is_in_the_table():
    shipped = {load_board(path).name: load_board(path).cpu for path in (REPO / "boards").glob("*.toml")}
    assert {name: cpu for name, (cpu, _need) in API_STACK.items()} == shipped


@needs_gcc
@pytest.mark.parametrize("board", ["NUCLEO-L452RE", "NUCLEO-L073RZ"])  # Cortex-M4 and M0+; all: --write-table
def test_table_matches_the_measurement(board):
    """When this fails, the bootloader's stack changed: run `bench/stack_usage.py --write-table`."""
    measured = _bench().api_need(load_board(REPO / "boards" / f"{board}.toml"))
    assert API_STACK[board][1] == measured, "spb/apistack.py is stale: run bench/stack_usage.py --write-table"


def test_default_guard_covers_the_api_with_margin():
    for name in API_STACK:
        board = load_board(REPO / "boards" / f"{name}.toml")
        need, guard = linker.api_stack_need(board), linker.default_stack_size(board)
        assert guard % 256 == 0 and guard >= need + linker.STACK_MARGIN
        script = linker.application_script(board)
        assert f"_Min_Stack_Size = {guard:#x};" in script
        assert f"_Min_Heap_Size = {linker.DEFAULT_HEAP_SIZE:#x};" in script


def test_a_board_not_in_the_table_gets_its_cpus_worst_case(tmp_path):
    text = (REPO / "boards" / "NUCLEO-L073RZ.toml").read_text()
    own = tmp_path / "MY-L0-BOARD.toml"
    own.write_text(re.sub(r'(?m)^name = ".*"', 'name = "MY-L0-BOARD"', text))
    board = load_board(own)
    worst_m0 = max(need for cpu, need in API_STACK.values() if cpu == "cortex-m0plus")
    assert linker.api_stack_need(board) == worst_m0


def test_help_shows_the_options_and_the_boards_default():
    result = scons(REPO, "--help", "-Q", "BOARD=NUCLEO-L073RZ")
    assert re.search(r"^STACK_SIZE:", result.stdout, re.M) and re.search(r"^HEAP_SIZE:", result.stdout, re.M)
    need = API_STACK["NUCLEO-L073RZ"][1]
    assert f"STACK_SIZE default {linker.default_stack_size(load_board(REPO / 'boards' / 'NUCLEO-L073RZ.toml'))}" in (
        result.stdout
    )
    assert f"the bootloader API needs {need}" in result.stdout


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "STACK_SIZE=1024",
            f"STACK_SIZE=1024: below the {API_STACK['NUCLEO-L452RE'][1]} bytes the bootloader API needs on "
            "NUCLEO-L452RE",
        ),
        ("STACK_SIZE=0x1001", "STACK_SIZE=0x1001: must be a non-negative multiple of 8"),
        ("HEAP_SIZE=lots", "HEAP_SIZE=lots: not a number of bytes"),
    ],
)
def test_bad_sizes_are_one_line_errors(tmp_path, option, message):
    keys = make_keys(tmp_path / "keys")
    result = scons(REPO, option, f"BUILD_DIR={tmp_path / 'out'}", f"KEYS={keys.directory}", check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"scons: *** {message}"), result.stderr
    assert not (tmp_path / "out").exists()


def test_raised_sizes_reach_the_linker_script(tmp_path):
    """Only the generated script is built (no compiler run)."""
    keys = make_keys(tmp_path / "keys")
    out = tmp_path / "out"
    args = [f"BUILD_DIR={out}", f"KEYS={keys.directory}", "STACK_SIZE=0x1800", "HEAP_SIZE=4096"]
    scons(REPO, *args, str(out / "gen" / "application.ld"))
    script = (out / "gen" / "application.ld").read_text()
    assert "_Min_Stack_Size = 0x1800;" in script and "_Min_Heap_Size = 0x1000;" in script


@needs_gcc
def test_heap_and_stack_that_do_not_fit_fail_the_link(tmp_path):
    """Only the example application is built (hello.elf, no bootloader). (Every other build shows that the
    defaults fit: tests/test_scons_build.py links the example for every shipped board.)"""
    keys = make_keys(tmp_path / "keys")
    out = tmp_path / "out"
    args = [f"BUILD_DIR={out}", f"KEYS={keys.directory}", "BOARD=EMU-MPS2-AN385", "VERSION=1.0.0"]
    ram = load_board(REPO / "boards" / "EMU-MPS2-AN385.toml").app_ram_size
    result = scons(REPO, *args, f"HEAP_SIZE={ram - 2048}", str(out / "hello.elf"), check=False)
    assert result.returncode != 0
    assert "spb: RAM too small for .data + .bss + HEAP_SIZE + STACK_SIZE" in result.stdout + result.stderr
