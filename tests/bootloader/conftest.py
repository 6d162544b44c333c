# SPDX-License-Identifier: Apache-2.0
import pytest

from support.hostboot import HostBootloader

_cache = {}


@pytest.fixture(scope="session")
def host_bootloader(dev_keys):
    """HostBootloader for a board name, built once per session with the session's keys."""

    def get(board, trial=False):
        if (board, trial) not in _cache:
            _cache[board, trial] = HostBootloader(board, dev_keys, trial)
        hb = _cache[board, trial]
        hb.erase_all()
        return hb

    return get
