import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / "site_scons", REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def pytest_addoption(parser):
    parser.addoption("--silicon-exhaustive", action="store_true", default=False,
                     help="silicon suite: enumerate every power-cut point of every scenario and board (slow)")


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory):
    """A fresh key set for the session (not the repository's keys/)."""
    import warnings
    from spb.keys import DevKeyWarning, generate_keys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        return generate_keys(tmp_path_factory.mktemp("keys") / "dev", development=True)


# Power cuts exercised by the silicon suite (tests/silicon/conftest.py record_cuts), summed over the
# pytest-xdist workers: this file is the one conftest the controller process loads.
CUT_COUNTS = REPO / "build" / "silicon" / "cut-counts"


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(CUT_COUNTS, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or not CUT_COUNTS.is_dir():
        return
    totals: dict = {}
    for path in CUT_COUNTS.glob("*.json"):
        for label, count in json.loads(path.read_text()).items():
            totals[label] = totals.get(label, 0) + count
    if totals:
        terminalreporter.section("power cuts exercised (silicon harness)")
        for label in sorted(totals):
            terminalreporter.write_line(f"{label}: {totals[label]}")
        terminalreporter.write_line(f"total: {sum(totals.values())}")
