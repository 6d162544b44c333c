# SPDX-License-Identifier: Apache-2.0
"""Power cuts at every erase and every programming unit, inside the flash models, on the real binaries.

For each board (one per flash IP generation: L4 double words with ECC, F4 words in sectors, L0 words in
128-byte pages erased to zero), with a small new image (16 bytes: every header, marker and journal
write is still there, the image body is short): every cut point of the download (the application
streams the .sfb into SLOT1), of the install at boot, and of a delta-patch download is enumerated, each
both just before the operation and torn in its middle (ECC double error on L4), then the board boots
again. `--silicon-exhaustive` also enumerates the example application's own 1.1.0 update (every
programming unit of a 2 KiB image) and cuts again at every point of each recovery; by default those are
sampled.
"""

from __future__ import annotations

import random

import pytest

from support.cutcounts import record as record_cuts

from . import powercut
from .harness.machine import Machine
from .harness.power import MODES
from .powercut import Images, boot_and_check, cut_state, record_boot, record_download, sfb_for, sfbp_for, tiny
from .support import MORE_DUAL_SLOT, V1, V2, firmware

BOARDS = ("NUCLEO-L452RE", "NUCLEO-F429ZI", "NUCLEO-L073RZ", "DISCO-L4R9I")
#: the small-image enumerations (every operation of the .sfb download and of the install) also run on the
#: L5, whose flash is the L4 IP behind other registers (non-secure NSSR/NSCR, its own page numbering)
ENUMERATED = (*BOARDS, "DISCO-L562E")
# The WL/G0/G4 boards drive the same double-word driver as the L4 (port/common/stm32_flash_dw.h; only the
# register base, page-number field and busy flags differ, which their sampled cuts and model tests cover):
# with --silicon-exhaustive, test_sampled_cuts cuts them at every operation (178 points each, all passed).


def points(n: int, sample: int = 0, seed: int = 0) -> list:
    """Every operation 1..n, or a sample of them (first and last always included)."""
    if not sample or sample >= n:
        return list(range(1, n + 1))
    rng = random.Random(seed)
    return sorted({1, n, *rng.sample(range(2, n), sample - 2)})


def first_op_at(phase, address: int, length: int) -> int:
    return next(i for i, (_k, a, n, _d) in enumerate(phase.trace, start=1) if address <= a < address + length)


def describe(phase, k: int) -> str:
    kind, address, length, _ = phase.trace[k - 1]
    return f"op {k}/{len(phase.trace)} {kind} {address:#010x}+{length}"


def run_download(fw, phase, images, label):
    b = fw.board
    ready = first_op_at(phase, b.slot1.address + 0x80, 32)
    for k in points(len(phase.trace)):
        for mode in MODES:
            state = cut_state(fw, phase, k, mode, seed=k)
            which = boot_and_check(fw, state, images, f"{label} cut {mode} {describe(phase, k)}", seed=k)
            if k < ready or (k == ready and mode == "before"):
                assert which == "old", f"{label}: a cut before READY ({describe(phase, k)}) installed the image"
    record_cuts(label, 2 * len(phase.trace))


@pytest.mark.parametrize(
    ("board_name", "kind"),
    [(b, k) for b in BOARDS for k in ("sfb", "sfbp")]
    + [("DISCO-L562E", "sfb")]
    # every download operation of the F469 lands in its QUADSPI external flash (SLOT1): enumerated (its
    # .sfbp download and install are sampled in test_sampled_cuts)
    + [("DISCO-F469I", "sfb")],
)
def test_download_cut_at_every_operation(board_name, kind):
    """Cuts while the application streams a .sfb (or a .sfbp, which the bootloader's engine turns into
    SLOT1's image): SLOT0 is never touched; the old image runs until READY landed (a torn READY counts
    as set, and then the verified image installs)."""
    fw = firmware(board_name)
    images = tiny(fw)
    phase = record_download(fw, sfb_for(fw, images) if kind == "sfb" else sfbp_for(fw, images))
    run_download(fw, phase, images, f"{board_name} {kind} download")


@pytest.mark.parametrize("board_name", ENUMERATED)
def test_install_cut_at_every_operation(board_name):
    """Cuts during the install at boot: once it began, every recovery ends with the new image, exactly."""
    fw = firmware(board_name)
    images = tiny(fw)
    download = record_download(fw, sfb_for(fw, images))
    install = record_boot(fw, download.end)
    assert len(install.trace) > 4
    for k in points(len(install.trace)):
        for mode in MODES:
            state = cut_state(fw, install, k, mode, seed=k)
            boot_and_check(
                fw, state, images, f"{board_name} install cut {mode} {describe(install, k)}", must_be_new=True, seed=k
            )
    record_cuts(f"{board_name} install", 2 * len(install.trace))


@pytest.mark.parametrize("board_name", BOARDS)
def test_second_cut_during_recovery(board_name, exhaustive):
    """A cut during the install, then another during the recovery boot: still the new image."""
    fw = firmware(board_name)
    images = tiny(fw)
    download = record_download(fw, sfb_for(fw, images))
    install = record_boot(fw, download.end)
    total = 0
    for k in points(len(install.trace), 0 if exhaustive else 4, seed=1):
        first = cut_state(fw, install, k, "torn", seed=k)
        recovery = record_boot(fw, first, seed=k)
        for j in points(len(recovery.trace), 0 if exhaustive else 4, seed=k):
            state = cut_state(fw, recovery, j, "torn", seed=1000 + j)
            boot_and_check(
                fw,
                state,
                images,
                f"{board_name} cut {describe(install, k)} then {describe(recovery, j)}",
                must_be_new=True,
                seed=j,
            )
            total += 1
    record_cuts(f"{board_name} double", total)


@pytest.mark.parametrize("board_name", BOARDS)
def test_full_size_update_cuts(board_name, exhaustive):
    """The example application's real 1.1.0 update (.sfb and .sfbp), cut at sampled operations (every
    one with --silicon-exhaustive) of the download and of the install."""
    fw = firmware(board_name)
    images = Images(fw.plain(V1), V1, fw.plain(V2), V2)
    sample = 0 if exhaustive else 6
    total = 0
    for label, data in (("sfb", fw.sfb(V2)), ("sfbp", fw.sfbp())):
        download = record_download(fw, data)
        for k in points(len(download.trace), sample, seed=len(label)):
            boot_and_check(
                fw,
                cut_state(fw, download, k, "torn", seed=k),
                images,
                f"{board_name} {label} download cut {describe(download, k)}",
                seed=k,
            )
            total += 1
    install = record_boot(fw, download.end)
    for k in points(len(install.trace), sample, seed=7):
        boot_and_check(
            fw,
            cut_state(fw, install, k, "torn", seed=k),
            images,
            f"{board_name} install cut {describe(install, k)}",
            must_be_new=True,
            seed=k,
        )
        total += 1
    record_cuts(f"{board_name} full-size" + (" (sampled)" if sample else ""), total)


@pytest.mark.parametrize("board_name", BOARDS)
def test_replayed_cut_equals_live_cut(board_name):
    """The enumeration reaches cut k by replaying the clean run's operations; a live cut inside the model
    at the same operation leaves byte-identical flash (and the same ECC state)."""
    fw = firmware(board_name)
    images = tiny(fw)
    data = sfb_for(fw, images)
    download = record_download(fw, data)
    for k in points(len(download.trace), 5, seed=3):
        for mode in MODES:
            m = powercut.machine(fw, seed=k)
            powercut.wait_app(m, V1)
            m.power.arm(k, mode, seed=k)
            r = powercut.send_update(m, data, "APP: update verified, installing at reset")
            assert r.reason == "cut", r.reason
            assert m.snapshot() == cut_state(fw, download, k, mode, seed=k), f"download op {k} {mode}"
    install = record_boot(fw, download.end)
    for k in points(len(install.trace), 5, seed=4):
        m = Machine(fw.board, seed=k)
        m.restore(download.end)
        m.power_on()
        m.power.arm(k, "torn", seed=k)
        assert m.run().reason == "cut"
        assert m.snapshot() == cut_state(fw, install, k, "torn", seed=k), f"install op {k}"


@pytest.mark.parametrize("board_name", MORE_DUAL_SLOT)
def test_sampled_cuts(board_name, exhaustive):
    """The other boards of the flash IPs enumerated above, with their own geometry (page size, bank 2 and
    its page numbering, slot addresses): cuts at a sample of the operations of the .sfb download (the
    READY write and its neighbours always among them; before and torn), of the .sfbp download (torn) and
    of the install (before and torn), with the checks of the enumerations. --silicon-exhaustive cuts at
    every operation in both modes."""
    fw = firmware(board_name)
    images = tiny(fw)
    total = 0
    phases = {}
    for kind, data in (("sfb", sfb_for(fw, images)), ("sfbp", sfbp_for(fw, images))):
        phase = phases[kind] = record_download(fw, data)
        n = len(phase.trace)
        ready = first_op_at(phase, fw.board.slot1.address + 0x80, 32)
        chosen = set(points(n, 0 if exhaustive else 4, seed=n))
        if kind == "sfb":
            chosen |= {k for k in (ready - 1, ready, ready + 1) if 1 <= k <= n}
        modes = MODES if exhaustive or kind == "sfb" else ("torn",)
        for k in sorted(chosen):
            for mode in modes:
                state = cut_state(fw, phase, k, mode, seed=k)
                label = f"{board_name} {kind} download cut {mode} {describe(phase, k)}"
                which = boot_and_check(fw, state, images, label, seed=k)
                if k < ready or (k == ready and mode == "before"):
                    assert which == "old", f"{label}: a cut before READY installed the image"
                total += 1
    install = record_boot(fw, phases["sfb"].end)
    for k in points(len(install.trace), 0 if exhaustive else 5, seed=len(install.trace)):
        for mode in MODES:
            state = cut_state(fw, install, k, mode, seed=k)
            label = f"{board_name} install cut {mode} {describe(install, k)}"
            boot_and_check(fw, state, images, label, must_be_new=True, seed=k)
            total += 1
    record_cuts(f"{board_name} " + ("every operation" if exhaustive else "sampled"), total)
