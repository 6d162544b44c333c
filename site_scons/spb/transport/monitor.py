# SPDX-License-Identifier: Apache-2.0
"""`spb monitor PORT`: the device's console. On a terminal it is pyserial's miniterm (Ctrl-] quits, keys go
to the device); otherwise (a script, a CI log) it copies the device's output to stdout and stdin's bytes
to the device, for `--for` seconds or until the line closes."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import BinaryIO

from .serial_link import SerialLink


def interactive(link: SerialLink) -> None:
    from serial.tools.miniterm import Miniterm

    term = Miniterm(link.port, echo=False, eol="cr", filters=["direct"])
    term.exit_character = chr(0x1D)  # Ctrl-]
    term.menu_character = chr(0x14)  # Ctrl-T
    term.set_rx_encoding("latin-1")
    term.set_tx_encoding("latin-1")
    sys.stderr.write(f"--- spb monitor on {link.name}: Ctrl-] quits ---\n")
    term.start()
    with contextlib.suppress(KeyboardInterrupt):
        term.join(True)
    term.join()


def passthrough(link: SerialLink, seconds: float | None, out: BinaryIO, inp: BinaryIO | None) -> None:
    if inp is not None:

        def forward() -> None:
            while True:
                data = inp.read1(4096) if hasattr(inp, "read1") else inp.read(1)
                if not data:
                    return
                link.write(data)

        threading.Thread(target=forward, daemon=True).start()
    deadline = None if seconds is None else time.monotonic() + seconds
    while deadline is None or time.monotonic() < deadline:
        left = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
        data = link.read(left)
        if data:
            out.write(data)
            out.flush()


def monitor(port: str, baud: int, seconds: float | None) -> None:
    with SerialLink(port, baud) as link:
        if seconds is None and sys.stdin.isatty() and sys.stdout.isatty():
            interactive(link)
        else:
            passthrough(link, seconds, sys.stdout.buffer, None if sys.stdin.isatty() else sys.stdin.buffer)
