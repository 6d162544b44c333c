# SPDX-License-Identifier: Apache-2.0
"""Static analysis of the bootloader C code, over the board configurations that select different code:

* GCC's -fanalyzer on the host build (bootloader/src, src/crypto, port/host; the flags of
  tests/support/cbuild.py at -O2) for boards with ECC detection (NUCLEO-L452RE), external flash and a
  MultiSegment SLOT0 (DISCO-L4R9I), plain flash (EMU-MPS2-AN385) and 0x00-erased flash in 4-byte units
  (NUCLEO-L073RZ), plus the crypto built as on Cortex-M0+ (SPB_P256_MUL16, SPB_SHA256_SMALL);
* GCC's -fanalyzer on the firmware build (arm-none-eabi-gcc, -Os, the board's CPU flags) of every board,
  with its port (bootloader/port/common and port/<family>);
* cppcheck (--enable=warning,style,performance,portability) over the same two builds of every board.

Any finding not accepted in bootloader/static-analysis.supp (its format and the reason for each entry
are there) fails, and so does an entry that no longer matches a finding when the tools are the versions
the list was made for (GCC 12, cppcheck 2.10). Findings are printed with `pytest -s` as well.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from spb.board import load_board
from spb.board_header import render
from spb.keys import c_source

REPO = Path(__file__).resolve().parents[2]
BOOT = "bootloader"
SUPPRESSIONS = REPO / BOOT / "static-analysis.supp"
TOOLS = ("cppcheck", "gcc-analyzer-host", "gcc-analyzer-arm")
GCC_VERSION = 12  # the versions the suppression list was made for
CPPCHECK_VERSION = "2.10"
ARM_GCC = "arm-none-eabi-gcc"
BOARDS = (
    "NUCLEO-L452RE",
    "DISCO-L4R9I",
    "NUCLEO-F429ZI",
    "DISCO-F469I",
    "NUCLEO-L073RZ",
    "EMU-MPS2-AN385",
    "DISCO-L562E",
    "NUCLEO-G474RE",
    "NUCLEO-G0B1RE",
    "NUCLEO-WL55JC",
    "DISCO-H745I",
    "DISCO-F769I",
)
HOST_BOARDS = ("NUCLEO-L452RE", "DISCO-L4R9I", "EMU-MPS2-AN385", "NUCLEO-L073RZ")
# The host build of tests/support/cbuild.py (BASE_FLAGS) without -Werror (a warning is a finding here) and -g.
HOST_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-fPIC", "-fno-strict-aliasing"]
# The firmware build of site_scons/spb/sconstool.py (default OPT=-Os) without -Werror and -g.
ARM_FLAGS = ["-Os", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra", "-std=gnu11"]
BOOT_DEFINES = ["SPB_BOOTLOADER_BUILD", 'SPB_BOOT_VERSION_STR="vcheck"']
CRYPTO_VARIANT = ["SPB_P256_MUL16", "SPB_SHA256_SMALL", "SPB_P256_TESTING"]  # tests/crypto builds these too
CPPCHECK_ARGS = ["--enable=warning,style,performance,portability", "--std=c11", "-q", "--xml", "--xml-version=2"]


# -- findings and the suppression list ---------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    tool: str
    id: str
    file: str  # from the repository root
    line: int
    text: str  # cppcheck: the message; GCC: "FUNCTION: message"

    def __str__(self):
        return f"{self.file}:{self.line}: [{self.tool} {self.id}] {self.text}"


@dataclass(frozen=True)
class Suppression:
    tool: str
    id: str
    file: str
    text: str
    line: int  # in the suppression file
    reason: str

    def matches(self, f: Finding) -> bool:
        return (self.tool, self.id, self.file) == (f.tool, f.id, f.file) and self.text in f.text


def load_suppressions(path=SUPPRESSIONS) -> list:
    """Entries of the suppression file; raises ValueError on an entry without a reason or a bad field."""
    entries, comment, in_group = [], [], False
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line:
            comment, in_group = [], False
        elif line.startswith("#"):
            if in_group:  # a comment after entries starts the next group
                comment, in_group = [], False
            comment.append(line.lstrip("# ").strip())
        else:
            fields = line.split(None, 3)
            if len(fields) != 4 or fields[0] not in TOOLS:
                raise ValueError(f"{path.name}:{number}: expected 'TOOL ID FILE TEXT' with TOOL in {TOOLS}")
            reason = " ".join(c for c in comment if c)
            if not reason:
                raise ValueError(f"{path.name}:{number}: no comment above the entry saying why it is accepted")
            if not (REPO / fields[2]).is_file():
                raise ValueError(f"{path.name}:{number}: no file {fields[2]}")
            entries.append(Suppression(*fields, line=number, reason=reason))
            in_group = True
    return entries


def check(tool: str, findings: list, versions_match: bool):
    """Fail on findings that no entry accepts, and (same tool versions) on entries that match nothing."""
    findings = sorted(set(findings), key=lambda f: (f.file, f.line, f.id, f.text))
    entries = [s for s in load_suppressions() if s.tool == tool]
    print(f"\n{tool}: {len(findings)} findings")
    for f in findings:
        print(f"  {f}")
    new = [f for f in findings if not any(s.matches(f) for s in entries)]
    stale = [s for s in entries if not any(s.matches(f) for f in findings)]
    problems = []
    if new:
        problems.append(
            f"{len(new)} finding(s) not in {SUPPRESSIONS.relative_to(REPO)} (fix the code, or add an entry with "
            "the reason it is a false positive or accepted):\n" + "\n".join(f"  {f}" for f in new)
        )
    if stale and versions_match:
        problems.append(
            f"{len(stale)} stale entries in {SUPPRESSIONS.relative_to(REPO)}, matching no finding (remove them):\n"
            + "\n".join(f"  line {s.line}: {s.tool} {s.id} {s.file} {s.text}" for s in stale)
        )
    assert not problems, "\n".join(problems)


def _relative(path: str) -> str:
    p = Path(os.path.normpath(REPO / path))
    try:
        return p.relative_to(REPO).as_posix()
    except ValueError:
        return p.as_posix()  # a generated file


def _parallel(function, jobs):
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return [item for result in pool.map(function, jobs) for item in result]


# -- configurations -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory, dev_keys):
    """{board name: directory with its spb_board.h and spb_keys.c}."""
    root = tmp_path_factory.mktemp("c-analysis")
    dirs = {}
    for name in BOARDS:
        d = root / name
        d.mkdir()
        (d / "spb_board.h").write_text(render(load_board(REPO / "boards" / f"{name}.toml")))
        (d / "spb_keys.c").write_text(c_source(dev_keys))
        dirs[name] = d
    return dirs


def _sources(*subdirs) -> list:
    return [p.relative_to(REPO).as_posix() for sub in subdirs for p in sorted((REPO / BOOT / sub).glob("*.c"))]


def _includes(gen: Path, port: str) -> list:
    dirs = [str(gen)] + [f"{BOOT}/{d}" for d in ("include", "src", "src/crypto", "port", "port/common", f"port/{port}")]
    return [f"-I{d}" for d in dirs]


def host_configs(generated) -> list:
    """(label, defines, includes, sources) of the host builds."""
    configs = [
        (
            f"host {name}",
            ["SPB_HOST", *BOOT_DEFINES],
            _includes(generated[name], "host"),
            [*_sources("src", "src/crypto", "port/host"), str(generated[name] / "spb_keys.c")],
        )
        for name in HOST_BOARDS
    ]
    gen = generated["NUCLEO-L073RZ"]
    configs.append(
        ("host crypto M0 variant", ["SPB_HOST", *CRYPTO_VARIANT], _includes(gen, "host"), _sources("src/crypto"))
    )
    return configs


def arm_configs(generated) -> list:
    """(label, board, defines, includes, sources) of the firmware builds."""
    configs = []
    for name in BOARDS:
        board = load_board(REPO / "boards" / f"{name}.toml")
        sources = [
            *_sources("src", "src/crypto", "port/common", f"port/{board.family}"),
            str(generated[name] / "spb_keys.c"),
        ]
        configs.append((name, board, BOOT_DEFINES, _includes(generated[name], board.family), sources))
    return configs


# -- GCC -fanalyzer -----------------------------------------------------------------------------------


def _gcc_major(gcc: str) -> int:
    out = subprocess.run([gcc, "-dumpversion"], capture_output=True, text=True, check=True).stdout
    return int(out.split(".")[0])


def run_analyzer(tool: str, gcc: str, flags: list, defines: list, includes: list, source: str) -> list:
    """-fanalyzer over one translation unit (compiled to /dev/null); every diagnostic is a finding."""
    cmd = [gcc, *flags, "-fanalyzer", "-fdiagnostics-format=json", *[f"-D{d}" for d in defines], *includes]
    cmd += ["-c", source, "-o", os.devnull]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    try:
        diagnostics = json.loads(result.stderr) if result.stderr.strip() else []
    except json.JSONDecodeError:
        diagnostics = None
    if result.returncode != 0 or diagnostics is None:
        pytest.fail(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    findings = []
    for d in diagnostics:
        if d.get("kind") == "note":
            continue
        caret = d["locations"][0]["caret"] if d.get("locations") else {"file": source, "line": 0}
        path = d.get("path") or []
        function = path[-1].get("function", "") if path else ""
        text = f"{function}: {d['message']}" if function else d["message"]
        option = d.get("option") or d.get("kind", "error")
        findings.append(Finding(tool, option, _relative(caret["file"]), caret["line"], text))
    return findings


@pytest.mark.slow
def test_gcc_analyzer_host(generated):
    jobs = [
        (defines, includes, source)
        for _label, defines, includes, sources in host_configs(generated)
        for source in sources
    ]
    findings = _parallel(lambda job: run_analyzer("gcc-analyzer-host", "gcc", HOST_FLAGS, *job), jobs)
    check("gcc-analyzer-host", findings, _gcc_major("gcc") == GCC_VERSION)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which(ARM_GCC) is None, reason=f"{ARM_GCC} is not installed (./setup)")
def test_gcc_analyzer_arm(generated):
    jobs = [
        (board.boot_flags() + ARM_FLAGS, defines, includes, source)
        for _name, board, defines, includes, sources in arm_configs(generated)
        for source in sources
    ]
    findings = _parallel(lambda job: run_analyzer("gcc-analyzer-arm", ARM_GCC, *job), jobs)
    check("gcc-analyzer-arm", findings, _gcc_major(ARM_GCC) == GCC_VERSION)


# -- cppcheck -----------------------------------------------------------------------------------------


def _cppcheck_version() -> str:
    out = subprocess.run(["cppcheck", "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+\.\d+)", out)
    return match.group(1) if match else out.strip()


def run_cppcheck(platform: str, defines: list, includes: list, sources: list) -> list:
    """One configuration (all its translation units at once, so cppcheck's whole-program checks see them)."""
    cmd = ["cppcheck", *CPPCHECK_ARGS, f"--platform={platform}", *[f"-D{d}" for d in defines], *includes, *sources]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    findings = []
    for error in ElementTree.fromstring(result.stderr).iter("error"):
        location = error.find("location")
        file, line = (location.get("file"), int(location.get("line"))) if location is not None else ("", 0)
        findings.append(Finding("cppcheck", error.get("id"), _relative(file), line, error.get("msg")))
    return findings


@pytest.mark.skipif(
    shutil.which("cppcheck") is None, reason="cppcheck is not installed (Debian package cppcheck; ./setup installs it)"
)
def test_cppcheck(generated):
    jobs = []
    for _name, board, defines, includes, sources in arm_configs(generated):
        # The compiler's predefined macros that select code: GCC, and Thumb-1 (P256_M0, the rolled SHA-256).
        arch = ["__ARM_ARCH_6M__"] if board.cpu == "cortex-m0plus" else []
        jobs.append(("unix32", ["__GNUC__", *arch, *defines], includes, sources))
    for _label, defines, includes, sources in host_configs(generated):
        jobs.append(("unix64", ["__GNUC__", *defines], includes, sources))
    findings = _parallel(lambda job: run_cppcheck(*job), jobs)
    check("cppcheck", findings, _cppcheck_version() == CPPCHECK_VERSION)


def test_suppression_list_is_well_formed():
    """Every entry has a reason, a known tool and an existing file (load_suppressions raises otherwise)."""
    entries = load_suppressions()
    assert entries, "empty suppression list"
    assert len({(s.tool, s.id, s.file, s.text) for s in entries}) == len(entries), "duplicate entries"
