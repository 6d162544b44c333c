# SPDX-License-Identifier: Apache-2.0
"""Trial boot with automatic revert on the register-level models (docs/trial-boot.md), on every board whose
file has a [trial] table, built as a user builds it (TRIAL=auto).

The example application is built three times: a good 1.0.0, the deliberately broken 1.1.0
(HELLO_NEVER_CONFIRM=1: it never confirms and resets at once, as a crashing image would) and a good 1.2.0.
1.0.0 runs from its manufacturing image and receives 1.1.0 over its console; the bootloader exchanges the
slots and starts 1.1.0 in trial three times; then it rejects it and exchanges the slots back: 1.0.0 runs,
SLOT1 holds 1.1.0's .sfb again. A patch from 1.1.0 is refused as made for another image; the build's patch
1.0.0 -> 1.2.0 installs, 1.2.0 confirms itself, and later boots write nothing.

Power cuts (L4 double words with ECC: a torn unit reads as an ECC error, harness/flash_l4.py): at sampled
operations (every one with --silicon-exhaustive) of the exchange and of the revert, torn and before."""

from __future__ import annotations

import struct

import pytest

from support.cutcounts import record as record_cuts

from .harness.machine import Machine
from .harness.power import MODES, replay
from .powercut import memories
from .support import bootloader_usage, installed_ok, no_violations, send_update, tail, trial_firmware, wait_app

TRIAL_BOARDS = ("NUCLEO-L452RE", "NUCLEO-L476RG", "DISCO-L476G", "NUCLEO-L496ZG", "DISCO-L496G")
GOOD, BROKEN, NEXT = "1.0.0", "1.1.0", "1.2.0"


def slot1_holds_sfb(m: Machine, fw, version: str) -> bool:
    """SLOT1 is exactly `version`'s .sfb: its header, erased markers, its ciphertext."""
    b = fw.board
    sfb = fw.sfb(version)
    raw = m.read(b.slot1.address, len(sfb))
    erased = bytes([b.flash.erased_value]) * (b.vector_size - 128)
    return (
        raw[:128] == sfb[:128] and raw[128 : b.vector_size] == erased and raw[b.vector_size :] == sfb[b.vector_size :]
    )


def fresh(fw, seed: int = 0) -> Machine:
    m = Machine(fw.board, seed=seed)
    m.load_hex(fw.combined(GOOD))
    m.power_on()
    return m


def reverted(fw, m: Machine, context: str) -> str:
    """1.0.0 runs; it receives the broken 1.1.0, which is tried three times and rejected."""
    wait_app(m, GOOD)
    r = send_update(m, fw.sfb(BROKEN), "APP: update verified, installing at reset")
    assert r.reason == "console", f"{context}: {r.reason}\n{tail(m)}"
    mark = len(m.console)
    r = m.run(stop_at_app=False, until="APP: active firmware 1.0.0", max_resets=8, max_cycles=8_000_000_000)
    log = m.console[mark:].decode("latin-1")
    assert r.reason == "console", f"{context}: {r.reason}\n{tail(m)}"
    return log


@pytest.mark.parametrize("board_name", TRIAL_BOARDS)
def test_broken_update_is_reverted_then_a_patch_installs(board_name):
    fw = trial_firmware(board_name)
    m = fresh(fw)
    log = reverted(fw, m, board_name)
    expected = [
        "Swap slots: 1.0.0 <-> 1.1.0.",
        "1.1.0 in trial: start 1 of 3.",
        "APP: broken release: not confirming, resetting",
        "1.1.0 in trial: start 3 of 3.",
        "1.1.0 rejected: not confirmed in time.",
        "Returning to 1.0.0.",
        "Swap slots: 1.1.0 <-> 1.0.0.",
        "APP: hello version 1.0.0",
    ]
    pos = 0
    for line in expected:
        at = log.find(line, pos)
        assert at >= 0, f"{board_name}: log lacks {line!r} (in order)\n{log}"
        pos = at + len(line)
    m.run(stop_at_app=False, until="confirmed\r\n", max_cycles=200_000_000)
    assert installed_ok(m, fw, fw.plain(GOOD), GOOD), f"{board_name}: SLOT0 is not exactly 1.0.0"
    assert slot1_holds_sfb(m, fw, BROKEN), f"{board_name}: SLOT1 does not hold 1.1.0's .sfb"
    no_violations(m, board_name)

    # A patch made from the rejected 1.1.0: its source is not SLOT0's image.
    # (announced whole, sent up to its first header: the verdict comes at byte 128, nothing is left unread)
    wrong = fw.path(NEXT, f"hello_{BROKEN}_to_{NEXT}.sfbp").read_bytes()
    mark = len(m.console)
    m.feed(b"u" + struct.pack("<I", len(wrong)) + wrong[:128])
    r = m.run(stop_at_app=False, until="APP: update rejected", max_cycles=2_000_000_000)
    m.run(stop_at_app=False, until="stage=", max_cycles=200_000_000)
    said = m.console[mark:].decode("latin-1")
    assert r.reason == "console" and "status=4 (Invalid source image)" in said, said
    # The build's patch from the running 1.0.0 to 1.2.0: regenerated, exchanged, confirmed.
    m.power_on()
    assert m.run(stop_at_app=False, until="Bootloader starting up").reason == "console"  # (not the last banner)
    wait_app(m, GOOD)
    r = send_update(m, fw.path(NEXT, f"hello_{GOOD}_to_{NEXT}.sfbp").read_bytes(), "APP: update verified")
    assert r.reason == "console", tail(m)
    r = m.run(stop_at_app=False, until="APP: confirmed", max_resets=2, max_cycles=8_000_000_000)
    assert r.reason == "console", tail(m)
    assert installed_ok(m, fw, fw.plain(NEXT), NEXT)
    assert slot1_holds_sfb(m, fw, GOOD), f"{board_name}: SLOT1 does not hold 1.0.0's .sfb"
    m.power_on()
    assert m.run(stop_at_app=False, until="Bootloader starting up").reason == "console"  # (not the last banner)
    mark = len(m.console)
    r = m.run(stop_at_app=False, until="APP: active firmware 1.2.0", max_resets=1)
    assert r.reason == "console" and "1.2.0 confirmed." in m.console[mark:].decode("latin-1"), tail(m)
    m.power_on()
    m.power.arm(None)
    r = m.run()
    assert r.reason == "app" and m.power.ops == 0, f"{board_name}: a boot after the confirmation wrote flash"
    no_violations(m, board_name)


@pytest.mark.parametrize("board_name", TRIAL_BOARDS)
def test_trial_bootloader_size(board_name):
    """The trial-boot bootloader with YMODEM stays within 24 KiB of flash and its RAM reservation."""
    fw = trial_firmware(board_name)
    flash, ram = bootloader_usage(fw.bootloader_elf())
    assert flash <= 24 * 1024, f"{board_name}: trial bootloader flash {flash} bytes"
    assert ram <= fw.board.bootloader.ram_reserved


def _points(n: int, sample: int) -> list:
    if not sample or sample >= n:
        return list(range(1, n + 1))
    step = n / sample
    return sorted({1, n, *(int(1 + i * step) for i in range(sample))})


def _record(fw, state: tuple):
    m = Machine(fw.board)
    m.restore(state)
    m.power_on()
    m.power.arm(None)
    r = m.run(max_resets=1)
    assert r.reason == "app", tail(m)
    return list(m.power.trace), r


def _cut(fw, start: tuple, trace: list, k: int, mode: str) -> Machine:
    m = Machine(fw.board, seed=k)
    m.restore(start)
    replay(memories(m), trace, k, mode, k)
    m.power_on()
    return m


@pytest.mark.parametrize("board_name", ["NUCLEO-L452RE", "NUCLEO-L476RG"])
def test_power_cuts_during_exchange_and_revert(board_name, exhaustive):
    fw = trial_firmware(board_name)
    sample = 0 if exhaustive else 16
    m = fresh(fw)
    wait_app(m, GOOD)
    r = send_update(m, fw.sfb(BROKEN), "APP: update verified, installing at reset")
    assert r.reason == "console", tail(m)
    start = m.snapshot()
    # the exchange: the boot after the download, up to 1.1.0's first start in trial
    trace, _ = _record(fw, start)
    assert len(trace) > 30
    total = 0
    for k in _points(len(trace), sample):
        for mode in MODES:
            c = _cut(fw, start, trace, k, mode)
            r = c.run(max_resets=3)
            context = f"{board_name} exchange cut {mode} op {k}/{len(trace)} {trace[k - 1][:3]}"
            assert r.reason == "app", f"{context}: {r.reason}\n{tail(c)}"
            ok_new = installed_ok(c, fw, fw.plain(BROKEN), BROKEN) and slot1_holds_sfb(c, fw, GOOD)
            assert ok_new, f"{context}: not 1.1.0 in SLOT0 with 1.0.0's .sfb in SLOT1\n{tail(c)}"
            assert "in trial: start" in c.console_text(), context
            no_violations(c, context)
            total += 1
    # the revert: after three unconfirmed starts, the boot that rejects 1.1.0 and brings 1.0.0 back
    m.restore(start)
    m.power_on()
    for _ in range(3):
        assert m.run(max_resets=1).reason == "app"
        m.power_on()
    before_revert = m.snapshot()
    trace, _ = _record(fw, before_revert)
    assert len(trace) > 30
    for k in _points(len(trace), sample):
        for mode in MODES:
            c = _cut(fw, before_revert, trace, k, mode)
            r = c.run(max_resets=3)
            context = f"{board_name} revert cut {mode} op {k}/{len(trace)} {trace[k - 1][:3]}"
            assert r.reason == "app", f"{context}: {r.reason}\n{tail(c)}"
            assert installed_ok(c, fw, fw.plain(GOOD), GOOD), f"{context}: SLOT0 is not 1.0.0\n{tail(c)}"
            assert slot1_holds_sfb(c, fw, BROKEN), f"{context}: SLOT1 is not 1.1.0's .sfb"
            # settled: a further boot runs 1.0.0 and writes nothing
            c.power_on()
            c.power.arm(None)
            assert c.run(max_resets=1).reason == "app" and c.power.ops == 0, f"{context}: not settled"
            no_violations(c, context)
            total += 1
    record_cuts(f"{board_name} trial exchange + revert" + (" (sampled)" if sample else ""), total)


@pytest.mark.parametrize("board_name", ["NUCLEO-L452RE"])
def test_power_cuts_during_confirmation(board_name):
    """1.2.0 runs in trial and confirms itself; the next boot copies the confirmation into the journal and
    erases the status area. Cut at every operation of that boot (torn and before): 1.2.0 runs, confirmed,
    and the boot after settles without writing."""
    fw = trial_firmware(board_name)
    m = fresh(fw)
    wait_app(m, GOOD)
    r = send_update(m, fw.path(NEXT, f"hello_{GOOD}_to_{NEXT}.sfbp").read_bytes(), "APP: update verified")
    assert r.reason == "console", tail(m)
    r = m.run(stop_at_app=False, until="APP: confirmed", max_resets=2, max_cycles=8_000_000_000)
    assert r.reason == "console", tail(m)
    start = m.snapshot()
    trace, _ = _record(fw, start)
    assert 2 < len(trace) < 100, trace
    total = 0
    for k in range(1, len(trace) + 1):
        for mode in MODES:
            c = _cut(fw, start, trace, k, mode)
            context = f"{board_name} confirmation cut {mode} op {k}/{len(trace)} {trace[k - 1][:3]}"
            r = c.run(max_resets=3)
            assert r.reason == "app" and installed_ok(c, fw, fw.plain(NEXT), NEXT), f"{context}\n{tail(c)}"
            c.power_on()
            c.power.arm(None)
            r = c.run(max_resets=1)
            assert r.reason == "app" and c.power.ops == 0, f"{context}: not settled\n{tail(c)}"
            assert "in trial" not in c.console_text()[-600:], context
            no_violations(c, context)
            total += 1
    record_cuts(f"{board_name} trial confirmation (every operation)", total)


def test_trial_status_area_is_on_the_board_file():
    """The swap area comes from the board file: scratch then status, in free flash after SLOT1."""
    fw = trial_firmware("NUCLEO-L452RE")
    t = fw.board.trial
    assert t is not None and t.scratch == fw.board.slot1.end and t.status == t.scratch + 2 * t.unit
    header = (fw.builds[GOOD] / "gen" / "spb_board.h").read_text()
    assert f"#define SPB_SWAP_STATUS_ADDR             0x{t.status:08X}u" in header
    assert struct.calcsize("<I") == 4
