# SPDX-License-Identifier: Apache-2.0
import pytest

from support.hostboot import HostBootloader

_cache = {}


@pytest.fixture(scope="session")
def host_bootloader(dev_keys):
    """HostBootloader for a board name, built once per session with the session's keys."""

    def get(board):
        if board not in _cache:
            _cache[board] = HostBootloader(board, dev_keys)
        hb = _cache[board]
        hb.erase_all()
        return hb

    return get
