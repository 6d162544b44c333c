# SPDX-License-Identifier: Apache-2.0
"""The bootloader's YMODEM loader on the register-level models (one board per flash IP): `load` in the boot
window or the user button held at reset starts it; spb's sender (site_scons/spb/transport/ymodem.py)
sends v1.1.0 through the modelled U(S)ART, the loader streams it into the update engine, resets into
the install and v1.1.0 runs; a file for other keys is refused with SLOT1 left as it was."""

from __future__ import annotations

import pytest

from spb.image import build_sfb
from spb.transport.ymodem import ReceiverCancelled, Sender

from .support import (
    BOARDS,
    V2,
    firmware,
    installed_ok,
    machine,
    no_violations,
    other_keys,
    tail,
    version_word,
    wait_app,
)


class MachineLink:
    """The modelled console as a YMODEM link: reading runs the machine (timeouts in guest seconds)."""

    def __init__(self, m):
        self.m = m
        self.pos = len(m.console)

    def write(self, data):
        self.m.feed(bytes(data))

    def read(self, timeout):
        m = self.m
        budget = int(timeout * m.hclk_hz)
        start = m.cycles
        while len(m.console) == self.pos and m.cycles - start < budget:
            m.run(stop_at_app=False, max_cycles=max(1, min(budget, m.hclk_hz // 500)), max_resets=20)
        out = bytes(m.console[self.pos :])
        self.pos = len(m.console)
        return out


def loader(board_name, *, button=False):
    fw = firmware(board_name)
    m = machine(fw)
    if button:
        m.press_button()
    else:
        m.feed(b"load")
    r = m.run(until="YMODEM loader ready.", max_cycles=400_000_000)
    assert r.reason == "console", f"{board_name}: {r.reason}\n{tail(m)}"
    if button:
        m.press_button(False)
    return fw, m


@pytest.mark.parametrize("board_name", BOARDS)
def test_load_then_sfb_installs(board_name):
    fw, m = loader(board_name)
    Sender(MachineLink(m)).send("hello.sfb", fw.sfb(V2))
    wait_app(m, V2)
    assert "YMODEM: ready" in m.console_text()
    assert installed_ok(m, fw, fw.plain(V2), V2)
    no_violations(m, board_name)


@pytest.mark.parametrize("board_name", [b for b in BOARDS if firmware(b).board.button is not None])
def test_button_held_at_reset_starts_the_loader(board_name):
    _, m = loader(board_name, button=True)  # nothing typed: the button alone
    no_violations(m, board_name)


@pytest.mark.parametrize("board_name", BOARDS[:1])
def test_file_for_other_keys_refused(board_name):
    fw, m = loader(board_name)
    b = fw.board
    slot1 = m.read(b.slot1.address, 0x1000)
    wrong = build_sfb(fw.plain(V2), version_word(V2), other_keys(), b.vector_size)
    with pytest.raises(ReceiverCancelled, match="status 3"):
        Sender(MachineLink(m)).send("wrong.sfb", wrong)
    assert m.read(b.slot1.address, 0x1000) == slot1
    no_violations(m, board_name)
