# SPDX-License-Identifier: Apache-2.0
"""DISCO-F769I (STM32F769NIH6) beyond the per-board scenarios every board runs (test_boot, test_update,
test_powercut.test_sampled_cuts): power cuts at every operation of a small image's download (MX25L51245G)
and, with --silicon-exhaustive, of its install (the F7 variant of the F4 flash controller, a new flash IP
variant: 142 cuts, about 2 minutes), the single-bank option check, the MX25L51245G reached from the
states an application may leave it in (QPI, 4-byte address mode), a MultiSegment application executing
from the QUADSPI window, and flash operations under an application's Cortex-M7 data cache."""

from __future__ import annotations

import pytest

from support.cutcounts import record as record_cuts

from .harness.flash_f4 import OPTCR_F7, OPTCR_NDBANK
from .harness.machine import Machine
from .harness.nor_mx25l import CR_4BYTE, QPI, SPI
from .harness.power import MODES
from .powercut import Images, boot_and_check, cut_state, record_boot, record_download, sfb_for, tiny
from .support import V1, expect_app, firmware, installed_ok, machine, manufacture, no_violations, send_update, tail
from .test_qspi_driver import _multisegment, _runs_from_the_window

BOARD = "DISCO-F769I"


def test_install_cut_at_every_operation(exhaustive):
    """A small image streamed into SLOT1 (external flash), then cut at every operation of the install (the
    F7 sector erases and word programs of SLOT0, the journal), before and torn: every recovery ends with
    the new image, exactly. About 135 s: with --silicon-exhaustive only (the default run samples these cuts
    in test_powercut.py::test_sampled_cuts)."""
    if not exhaustive:
        pytest.skip("every install operation, before and torn: --silicon-exhaustive")
    fw = firmware(BOARD)
    images = tiny(fw)
    download = record_download(fw, sfb_for(fw, images))
    install = record_boot(fw, download.end)
    kinds = {(kind, a >> 24) for kind, a, _n, _d in install.trace}
    assert ("erase", 0x08) in kinds and ("program", 0x08) in kinds, install.trace
    for k in range(1, len(install.trace) + 1):
        for mode in MODES:
            kind, address, length, _ = install.trace[k - 1]
            label = f"{BOARD} install cut {mode} op {k}/{len(install.trace)} {kind} {address:#010x}+{length}"
            boot_and_check(fw, cut_state(fw, install, k, mode, seed=k), images, label, must_be_new=True, seed=k)
    record_cuts(f"{BOARD} install (every operation)", len(MODES) * len(install.trace))


def test_download_cut_at_every_operation():
    """Cuts at every operation of a small .sfb download into SLOT1 (MX25L51245G 64 KiB block erases and page
    programs), before and torn: the old image runs until READY landed, the new one after (14 cuts, ~6 s)."""
    from .test_powercut import run_download

    fw = firmware(BOARD)
    images = tiny(fw)
    phase = record_download(fw, sfb_for(fw, images))
    assert {a >> 24 for _k, a, _n, _d in phase.trace} == {0x90}, phase.trace
    run_download(fw, phase, images, f"{BOARD} sfb download")


def test_dual_bank_option_is_refused():
    """nDBANK = 0 (dual bank): the layout's sector numbers would name other sectors. The bootloader says so
    in the original's words and stays, before any flash operation."""
    fw = firmware(BOARD)
    m = Machine(fw.board)
    m.load_hex(fw.combined(V1))
    m.soc.flash.factory_optcr = OPTCR_F7 & ~OPTCR_NDBANK
    m.power_on()
    m.power.arm(None)
    r = m.run(until="Flash Configuration KO: Dual bank mode activated.", max_cycles=400_000_000)
    assert r.reason == "console", tail(m)
    r = m.run(max_cycles=4_000_000)
    assert r.reason == "timeout" and m.app_entry is None, tail(m)
    assert not m.power.trace, m.power.trace
    no_violations(m, "dual bank")


@pytest.mark.parametrize("state", ["QPI", "4-byte", "QPI + 4-byte"])
def test_boot_with_the_chip_left_in_qpi_or_4_byte_mode(state):
    """A system reset does not reset the chip: the driver's reset framed for QPI brings it back to SPI; its
    4-byte-address opcodes do not depend on the address mode."""
    fw = firmware(BOARD)
    m = machine(fw)
    chip = m.soc.externals[0].chip
    if "QPI" in state:
        chip.protocol = QPI
    if "4-byte" in state:
        chip.cr |= CR_4BYTE
    r = m.run()
    expect_app(m, r, fw.plain(V1), state)
    assert "Slot 1 is empty." in m.console_text(), tail(m)
    assert chip.protocol == SPI and not chip.cr & CR_4BYTE
    no_violations(m, state)


def test_multisegment_application_runs_from_the_window():
    """The hand-over leaves memory-mapped mode (0C FAST_READ4B) on: code in SLOT0's external segment runs."""
    fw = firmware(BOARD)
    m = machine(fw)
    plain, segoff = _multisegment(fw, 42)
    manufacture(m, fw, plain, "3.0.0", segoff=segoff)
    m.power_on()
    r = m.run()
    assert r.reason == "app" and r.app.pc == fw.board.app_vector_address + 8, tail(m)
    _runs_from_the_window(m, fw, 42)
    no_violations(m, "MultiSegment")


def test_update_with_the_application_data_cache_on():
    """The application turns the Cortex-M7 L1 data cache on and streams an update through the API: every
    erased or programmed range (QUADSPI window) reaches the bootloader's verification without stale lines
    (the machine's stale-line check reports a read of a cached line the flash changed under)."""
    fw = firmware(BOARD)
    images = tiny(fw)
    m = machine(fw)
    r = m.run(stop_at_app=False, until=f"APP: hello version {V1}", max_cycles=3_000_000_000)
    assert r.reason == "console", tail(m)
    m.core.ccr |= 1 << 16  # SCB_CCR.DC, as SCB_EnableDCache() leaves it
    r = send_update(m, sfb_for(fw, images), "APP: update verified, installing at reset")
    assert r.reason == "console", tail(m)
    assert m.dcache_checks > 0
    no_violations(m, "update with the data cache on")
    r = m.run()
    assert r.reason == "app" and installed_ok(m, fw, images.new, images.new_version), tail(m)


def test_multisegment_install_and_images():
    """A MultiSegment image streamed into SLOT1 and installed across SLOT0's internal part (F7 sectors) and
    its second segment (MX25L51245G 64 KiB blocks); then it runs from the window."""
    from spb import image

    from .support import version_word

    fw = firmware(BOARD)
    b = fw.board
    plain, segoff = _multisegment(fw, 7)
    data = image.build_sfb(plain, version_word("3.0.0"), fw.keys, b.vector_size, segoff)
    download = record_download(fw, data)
    install = record_boot(fw, download.end)
    seg = b.slot0.external
    assert {kind for kind, a, _n, _d in install.trace if seg.address <= a < seg.end} == {"erase", "program"}
    images = Images(fw.plain(V1), V1, plain, "3.0.0")
    last = len(install.trace)
    boot_and_check(fw, cut_state(fw, install, last, "torn", seed=last), images, "last op torn", must_be_new=True)
    m = machine(fw)
    m.restore(install.end)
    m.power_on()
    assert m.run().reason == "app"
    _runs_from_the_window(m, fw, 7)
    no_violations(m, "after the MultiSegment install")
