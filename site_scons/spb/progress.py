# SPDX-License-Identifier: Apache-2.0
"""Progress of a long CLI operation (`spb patch`'s diff, `spb send`): one helper for every command.

On a terminal it is a tqdm bar redrawn in place. Anywhere else (a CI log, a pipe, a file) nothing is
redrawn: one plain line at each quarter of the work (`NAME: 50% (512/1024 bytes, 12.3 KiB/s)`), so a log
holds a few readable lines and never a `\\r` frame.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

#: progress(done, total): called as work advances; `done == total` ends it (the bar is closed, the last
#: line written). The same signature as diffmatch.Progress and ymodem.Progress.
Progress = Callable[[int, int], None]

#: Lines written when the stream is not a terminal: at 25 %, 50 %, 75 % and 100 %.
LOG_STEPS = 4


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def progress(name: str, stream: TextIO | None = None, unit: str = "bytes") -> Progress:
    """A progress callback named `name`, writing to `stream` (default: standard error at call time)."""
    out = sys.stderr if stream is None else stream
    if _is_terminal(out):
        return _bar(name, out, unit)
    return _lines(name, out, unit)


def _rate(done: int, start: float, unit: str) -> str:
    seconds = max(time.monotonic() - start, 1e-6)
    if unit == "bytes":
        return f"{done / 1024 / seconds:.1f} KiB/s"
    return f"{done / seconds:.0f} {unit}/s"


def _lines(name: str, out: TextIO, unit: str) -> Progress:
    start = time.monotonic()
    shown = [0]  # steps already written

    def show(done: int, total: int) -> None:
        step = LOG_STEPS if done >= total else LOG_STEPS * done // max(total, 1)
        if step <= shown[0]:
            return
        shown[0] = step
        percent = 100 if done >= total else 100 * done // max(total, 1)
        out.write(f"{name}: {percent}% ({done}/{total} {unit}, {_rate(done, start, unit)})\n")
        out.flush()

    return show


def _bar(name: str, out: TextIO, unit: str) -> Progress:
    from tqdm import tqdm  # only on a terminal: importing it costs tens of milliseconds

    state: dict[str, Any] = {"bar": None, "closed": False}

    def show(done: int, total: int) -> None:
        if state["closed"]:
            return
        if state["bar"] is None:
            scale = unit == "bytes"
            state["bar"] = tqdm(
                total=total,
                desc=name,
                file=out,
                unit="B" if scale else f" {unit}",
                unit_scale=scale,
                unit_divisor=1024,
                dynamic_ncols=True,
            )
        bar = state["bar"]
        bar.update(max(done - bar.n, 0))
        if done >= total:
            bar.close()
            state["closed"] = True

    return show
