# SPDX-License-Identifier: Apache-2.0
"""Coverage of the Python package and of the bootloader's C core, with floors: active whenever pytest-cov
is (`./test --cov`, which the ./test script turns into `--cov --cov-report=`); plain `./test` measures
nothing and builds the C core as usual.

- Python: pytest-cov measures site_scons/spb (line and branch, [tool.coverage.*] in pyproject.toml) in
  the test processes; the Python subprocesses they start (scons, `python -m spb.cli` with the inherited
  environment) are measured through coverage's start-up hook (COVERAGE_PROCESS_START) into the same data.
- C: tests/support/cbuild.py builds the coverage variant of every host library (SPB_C_COVERAGE=1); each
  test process writes its .gcda when its tests are done (__gcov_dump, here) and executables at exit;
  gcovr then reports bootloader/src and bootloader/src/crypto (line and branch).

Reports: the terminal, build/coverage/python/ and build/coverage/c/ (HTML), build/coverage/python.txt and
c.txt (what was not run, per file), build/coverage/python.json and c.json (summaries). The run fails when
a total is below its floor in FLOORS: raise a floor when coverage improves, never lower it to make a
change pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import cbuild

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "coverage"
C_SOURCES = REPO / "bootloader" / "src"

# Floors in percent: the totals of the whole suite (`./test --cov`), rounded down to a whole percent.
# Measured 2026-11-30 (python 83.3 / 74.9, bootloader/src 83.2 / 73.2 with the new ymodem.c at 6 %,
# crypto 99.3 / 96.2; README "Coverage"). The coverage of a run does not depend on how its tests are
# spread over processes, so the floors hold on 2 cores or 16.
FLOORS = {
    ("python", "lines"): 83.0,
    ("python", "branches"): 74.0,
    ("C bootloader/src", "lines"): 82.0,
    ("C bootloader/src", "branches"): 72.0,
    ("C bootloader/src/crypto", "lines"): 99.0,
    ("C bootloader/src/crypto", "branches"): 96.0,
}


def configure(config: pytest.Config) -> None:
    """Called from tests/conftest.py: measure when pytest-cov measures."""
    cov = config.pluginmanager.getplugin("_cov")
    if cov is None or config.getoption("no_cov", default=False):
        return
    os.environ["SPB_C_COVERAGE"] = "1"  # before the xdist workers start: they and their builds inherit it
    config.pluginmanager.register(CoveragePlugin(config), "spb-coverage")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _whole_suite(config: pytest.Config) -> bool:
    """The run collects every test: no paths (the testpaths of pyproject.toml) and no selection."""
    option = config.option
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not option.keyword
        and not option.markexpr
        and not getattr(option, "deselect", None)
        and not getattr(option, "lf", False)
    )


def _percent(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


class CoveragePlugin:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.lines: list[str] = []
        self.failures: list[str] = []

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not _is_worker(self.config):
            # A fresh count: .gcda files accumulate over runs. xdist starts its workers after this hook
            # (its own is trylast), and no test has run yet.
            for gcda in cbuild.GCOV_DIR.glob("*/*.gcda"):
                gcda.unlink()
            # And no report of an earlier run left next to this one's (a run without C keeps no c.txt).
            for name in ("python", "c"):
                shutil.rmtree(OUT / name, ignore_errors=True)
                for suffix in (".json", ".txt"):
                    (OUT / f"{name}{suffix}").unlink(missing_ok=True)
            OUT.mkdir(parents=True, exist_ok=True)
        if _is_worker(self.config) or not self.config.pluginmanager.has_plugin("dsession"):
            # The processes that run tests: their Python subprocesses start coverage from the .pth file
            # coverage installs, with our configuration and an absolute data file next to pytest-cov's,
            # which pytest-cov combines. Not set in the xdist controller: its workers would inherit it.
            data_file = self._coverage().config.data_file
            os.environ["COVERAGE_PROCESS_START"] = str(REPO / "pyproject.toml")
            os.environ["COVERAGE_FILE"] = os.path.abspath(data_file)

    def _coverage(self):
        return self.config.pluginmanager.getplugin("_cov").cov_controller.cov

    # tryfirst: the outermost wrapper, so pytest-cov has combined its data when this continues.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session):
        result = yield
        dump_gcov()
        if not _is_worker(self.config):
            self._report()
            if self.failures:
                session.testsfailed += 1  # the exit status of failed tests, as pytest-cov's fail-under
        return result

    def _report(self) -> None:
        totals: dict[tuple[str, str], float] = {}
        # Python: pytest-cov's combined data (its controller's Coverage object after it combined).
        cov = self._coverage()
        data = cov.get_data()
        if data.measured_files():
            cov.json_report(outfile=str(OUT / "python.json"), ignore_errors=True)
            cov.html_report(directory=str(OUT / "python"), ignore_errors=True)
            with open(OUT / "python.txt", "w") as text:  # the lines and branches not run, per file
                cov.report(file=text, ignore_errors=True)
            summary = json.loads((OUT / "python.json").read_text())["totals"]
            totals["python", "lines"] = _percent(summary["covered_lines"], summary["num_statements"])
            totals["python", "branches"] = _percent(summary["covered_branches"], summary["num_branches"])
            self.lines.append(
                f"python site_scons/spb: lines {summary['covered_lines']}/{summary['num_statements']} "
                f"{totals['python', 'lines']:.1f} %, branches {summary['covered_branches']}/"
                f"{summary['num_branches']} {totals['python', 'branches']:.1f} % (build/coverage/python/index.html)"
            )
        # C: every directory of .gcda files this run wrote.
        dirs = sorted({p.parent for p in cbuild.GCOV_DIR.glob("*/*.gcda")})
        if dirs:
            totals.update(self._gcovr(dirs))
        # The whole suite is held to every floor; a partial run (`./test --cov tests/test_cli.py`, -k, -m)
        # only reports its figures.
        if not _whole_suite(self.config):
            self.lines.append("floors not checked: not the whole suite")
            return
        for (part, metric), floor in FLOORS.items():
            value = totals.get((part, metric))
            if value is not None and value < floor:
                self.failures.append(f"{part} {metric}: {value:.2f} % is below the floor of {floor} %")

    def _gcovr(self, dirs: list[Path]) -> dict[tuple[str, str], float]:
        html = OUT / "c"
        shutil.rmtree(html, ignore_errors=True)
        html.mkdir(parents=True)
        cmd = [
            sys.executable,
            "-m",
            "gcovr",
            "--root",
            str(REPO),
            "--filter",
            f"{C_SOURCES}/",
            "--exclude-unreachable-branches",
            # The counts are real: the P-256 inner loops run billions of times at -O0 over the suite,
            # above gcovr's guard against gcov's negative-count bug (a threshold of 2**32 hits).
            "--gcov-suspicious-hits-threshold",
            "0",
            "--merge-mode-functions",
            "separate",
            "-j",
            str(os.cpu_count() or 1),
            "--json-summary-pretty",
            "--json-summary",
            str(OUT / "c.json"),
            "--txt",
            str(OUT / "c.txt"),
            "--html-details",
            str(html / "index.html"),
            *map(str, dirs),
        ]
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if result.returncode != 0:
            self.failures.append(f"gcovr failed ({result.returncode}):\n{result.stderr}")
            return {}
        files = json.loads((OUT / "c.json").read_text())["files"]
        totals = {}
        width = max(len(f["filename"]) for f in files)
        self.lines.append(f"{'C, host build':<{width}}  {'lines':>16}  {'branches':>16}")
        for part, members in (
            ("C bootloader/src", [f for f in files if "/crypto/" not in f["filename"]]),
            ("C bootloader/src/crypto", [f for f in files if "/crypto/" in f["filename"]]),
        ):
            sums = {
                k: sum(f[k] for f in members) for k in ("line_covered", "line_total", "branch_covered", "branch_total")
            }
            for f in [*members, {"filename": f"total {part[2:]}", **sums}]:
                self.lines.append(
                    f"{f['filename']:<{width}}  "
                    f"{f['line_covered']:>5}/{f['line_total']:<5} "
                    f"{_percent(f['line_covered'], f['line_total']):5.1f} %  "
                    f"{f['branch_covered']:>5}/{f['branch_total']:<5} "
                    f"{_percent(f['branch_covered'], f['branch_total']):5.1f} %"
                )
            totals[part, "lines"] = _percent(sums["line_covered"], sums["line_total"])
            totals[part, "branches"] = _percent(sums["branch_covered"], sums["branch_total"])
        self.lines.append("(build/coverage/c/index.html; lines not run: build/coverage/c.txt)")
        return totals

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if _is_worker(self.config) or not (self.lines or self.failures):
            return
        terminalreporter.section("coverage: totals and floors (tests/support/covreport.py)")
        for line in self.lines:
            terminalreporter.write_line(line)
        for failure in self.failures:
            terminalreporter.write_line(f"FAIL {failure}", red=True, bold=True)


def dump_gcov() -> None:
    """Write the .gcda of every coverage library this process loaded, now rather than at exit: the xdist
    controller reports as soon as its workers finish, and `-n 0` reports from this very process. gcov
    marks them written, so the exit writes them no second time."""
    import ctypes

    for path in sorted(cbuild.LIBRARIES):
        try:
            lib = ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD)
        except OSError:
            continue  # built, not loaded here
        lib.__gcov_dump()
