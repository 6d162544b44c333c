# SPDX-License-Identifier: Apache-2.0
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / "site_scons", REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def pytest_addoption(parser):
    parser.addoption(
        "--silicon-exhaustive",
        action="store_true",
        default=False,
        help="silicon suite: enumerate every power-cut point of every scenario and board (slow)",
    )


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


def pytest_configure(config):
    from support import covreport

    covreport.configure(config)  # coverage of site_scons/spb and of the C core when pytest-cov runs


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller, or a run without pytest-xdist
        from support import cutcounts

        cutcounts.clear()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Power cuts the silicon suite exercised (tests/silicon), summed over the workers."""
    if hasattr(config, "workerinput"):
        return
    from support import cutcounts

    totals = cutcounts.totals()
    if totals:
        terminalreporter.section("power cuts exercised (silicon harness)")
        for label in sorted(totals):
            terminalreporter.write_line(f"{label}: {totals[label]}")
        terminalreporter.write_line(f"total: {sum(totals.values())}")
