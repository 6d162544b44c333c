"""The silicon suite: real bootloader binaries on register-level STM32 models (harness/).

Every test here carries the `silicon` marker. It needs unicorn (installed by ./setup) and the cross
compiler; without them the suite is skipped with the reason. `--silicon-exhaustive` enumerates every
power-cut point of every scenario instead of the default selection (see test_powercut.py).
"""
from __future__ import annotations

import json
import os
import shutil

import pytest

try:
    import unicorn  # noqa: F401
    HAVE_UNICORN = True
except ImportError:  # pragma: no cover
    HAVE_UNICORN = False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/silicon/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.silicon)
            if not HAVE_UNICORN:
                item.add_marker(pytest.mark.skip(reason="needs the unicorn package (./setup installs it)"))
            elif shutil.which("arm-none-eabi-gcc") is None:
                item.add_marker(pytest.mark.skip(reason="needs arm-none-eabi-gcc"))


@pytest.fixture(scope="session")
def exhaustive(request):
    return request.config.getoption("--silicon-exhaustive")



def record_cuts(label: str, count: int) -> None:
    """Power cuts a test exercised; tests/conftest.py sums them over every pytest-xdist worker and prints
    them at the end of the run."""
    from conftest import CUT_COUNTS
    CUT_COUNTS.mkdir(parents=True, exist_ok=True)
    path = CUT_COUNTS / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[label] = data.get(label, 0) + count
    path.write_text(json.dumps(data))
