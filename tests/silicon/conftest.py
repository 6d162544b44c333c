# SPDX-License-Identifier: Apache-2.0
"""The silicon suite: real bootloader binaries on register-level STM32 models (harness/).

Every test here carries the `silicon` marker. It needs unicorn (installed by ./setup) and the cross
compiler; without them the suite is skipped with the reason. `--silicon-exhaustive` enumerates every
power-cut point of every scenario instead of the default selection (see test_powercut.py).
"""

from __future__ import annotations

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
