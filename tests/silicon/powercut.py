# SPDX-License-Identifier: Apache-2.0
"""Power-cut scenarios on the register-level models.

A phase (a download streamed by the running application, or the install at boot) is first run cleanly
with the flash models recording every operation. A cut at operation k is then produced by replaying
operations 1..k-1 on the flash state the phase started from and cutting operation k ("before" it, or
"torn" in the middle: harness/power.py) - the same state a live cut leaves, which
test_powercut.py::test_replayed_cut_equals_live_cut checks - and the real bootloader boots from it.

Every boot after a cut must end in one of the two authentic images running, exactly installed, with no
model violation and no reset loop, and a further boot must neither install again nor write flash.
"""

from __future__ import annotations

from dataclasses import dataclass

from spb import image, patch

from .harness.machine import Machine
from .harness.power import replay
from .support import (
    V1,
    Firmware,
    app_vector,
    installed_ok,
    machine,
    no_violations,
    send_update,
    tail,
    tiny_image,
    version_word,
    wait_app,
)

TINY = "2.0.0"  # version of the small image the enumerations install


@dataclass
class Phase:
    name: str
    start: tuple  # non-volatile state the phase starts from (Machine.snapshot())
    trace: list  # the operations of a clean run
    end: tuple  # the state after a clean run


@dataclass
class Images:
    """The old image (the running example application) and the new one."""

    old: bytes
    old_version: str
    new: bytes
    new_version: str


def memories(m: Machine) -> list:
    """What a replayed trace may touch: the flash array, external chips and the option bytes' store."""
    options = getattr(m.soc.flash, "options", None)
    return [m.soc.cells, *m.soc.externals, *([options] if options is not None else [])]


def tiny(fw: Firmware, size: int = 16) -> Images:
    return Images(fw.plain(V1), V1, tiny_image(fw.board, size), TINY)


def record_download(fw: Firmware, data: bytes, seed: int = 0) -> Phase:
    """The running 1.0.0 application streams `data` (a .sfb or .sfbp) and marks it for install."""
    m = machine(fw, seed=seed)
    wait_app(m, V1)
    start = m.snapshot()
    m.power.arm(None)
    r = send_update(m, data, "APP: update verified, installing at reset")
    assert r.reason == "console", f"clean download failed: {r.reason}\n{tail(m)}"
    no_violations(m, "clean download")
    return Phase("download", start, list(m.power.trace), m.snapshot())


def record_boot(fw: Firmware, state: tuple, seed: int = 0) -> Phase:
    """A boot from `state` (an install or a recovery), up to the application."""
    m = Machine(fw.board, seed=seed)
    m.restore(state)
    m.power_on()
    r = m.run()
    assert r.reason == "app", f"clean boot failed: {r.reason}\n{tail(m)}"
    return Phase("boot", state, list(m.power.trace), m.snapshot())


def cut_state(fw: Firmware, phase: Phase, k: int, mode: str, seed: int = 0) -> tuple:
    m = Machine(fw.board, seed=seed)
    m.restore(phase.start)
    replay(memories(m), phase.trace, k, mode, seed)
    return m.snapshot()


def sfb_for(fw: Firmware, images: Images) -> bytes:
    return image.build_sfb(images.new, version_word(images.new_version), fw.keys, fw.board.vector_size)


def sfbp_for(fw: Firmware, images: Images, encoding: str = "compact") -> bytes:
    return patch.build_sfbp(
        images.old,
        version_word(images.old_version),
        images.new,
        version_word(images.new_version),
        fw.keys,
        encoding=encoding,
    )


def boot_and_check(
    fw: Firmware, state: tuple, images: Images, context: str, *, must_be_new: bool = False, seed: int = 0
) -> str:
    """Boot from `state`: one of the two images must run, exactly installed; a second boot must run the
    same image without writing flash. Returns "old" or "new"."""
    m = Machine(fw.board, seed=seed)
    m.restore(state)
    m.power_on()
    r = m.run(max_resets=3)
    assert r.reason == "app", f"{context}: {r.reason} {r.detail}\n{tail(m)}"
    # Which image is installed (their vector tables may be identical), then: it is the one that runs.
    which = next(
        (
            name
            for name, plain, version in (
                ("new", images.new, images.new_version),
                ("old", images.old, images.old_version),
            )
            if installed_ok(m, fw, plain, version)
        ),
        None,
    )
    assert which is not None, f"{context}: SLOT0 holds neither image exactly\n{tail(m)}"
    sp, reset = app_vector(fw.board, images.new if which == "new" else images.old)
    assert (r.app.pc, r.app.msp) == (reset, sp), (
        f"{context}: entered {r.app.pc:#x} (MSP {r.app.msp:#x}), not the installed {which} image\n{tail(m)}"
    )
    assert not (must_be_new and which == "old"), f"{context}: the old image runs after the install began\n{tail(m)}"
    no_violations(m, context)
    # A further boot: same image, nothing written.
    m.power_on()
    m.power.arm(None)
    r2 = m.run(max_resets=1)
    assert r2.reason == "app" and (r2.app.pc, r2.app.msp) == (r.app.pc, r.app.msp), (
        f"{context}: second boot {r2.reason}\n{tail(m)}"
    )
    assert m.power.ops == 0, f"{context}: the second boot wrote flash: {m.power.trace[:4]}"
    no_violations(m, context + " (second boot)")
    return which
