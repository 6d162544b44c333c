# SPDX-License-Identifier: Apache-2.0
"""Trial boot with automatic revert (docs/trial-boot.md), on the real bootloader core built for the host
with the board's [trial] table (install by exchanging the slots).

The device runs v1 as manufactured; the application downloads v2 through SE_PATCH_*; the bootloader
exchanges the slots, so SLOT1 then holds v1's .sfb again (its header and the ciphertext `cryptography`
computes from v1), and v2 runs in trial. Confirmed, it stays; started 3 times without confirming, or
asking with SE_APP_Rollback(), it is rejected in the journal and v1 comes back. Power is cut at every
flash operation of the exchange, of the revert and of the confirmation: every sequence ends with an
authentic image running and the trial state it should have."""

from __future__ import annotations

import hashlib
import os
import random

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from spb import image, journal, patch
from support.hostboot import (
    DELAY_COMMAND,
    FW_CONFIRMED,
    FW_ROLLBACK,
    FW_TRIAL,
    IMAGE_VERSION_FAILURE,
    INVALID_STATE,
    app_image,
)

V1, V2, V3 = 0x01000000, 0x01010000, 0x01020000
INVALID_SOURCE_IMAGE = 4
BOARDS = ["EMU-MPS2-AN385", "NUCLEO-L476RG"]
counted = {"exchange": 0, "revert": 0, "confirm": 0, "second": 0}


@pytest.fixture(scope="module", autouse=True)
def report_cut_points():
    yield
    print(f"\ntrial-boot power-cut sequences exercised: {counted}")


def aes_cbc(key, iv, data):
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


class Device:
    def __init__(self, hb, keys, n1=5 * 1024, n2=7 * 1024 + 512, seed=1):
        self.hb, self.keys = hb, keys
        rng = random.Random(seed)
        self.v1 = app_image(hb.board, rng.randbytes(n1))
        self.v2 = app_image(hb.board, rng.randbytes(n2))
        self.h1 = hb.manufacture(self.v1, V1)
        self.sfb2 = image.build_sfb(self.v2, V2, keys, hb.board.vector_size)
        self.h2 = image.Header.unpack(self.sfb2[:128])

    def download(self, data, **kw):
        self.hb.power_on()  # a fresh update engine, as after the reset that follows a refused download
        return self.hb.update(data, delay=DELAY_COMMAND, **kw)

    def runs(self, plain, version, context=""):
        hb = self.hb
        cut, vector, log = hb.boot()
        assert not cut
        assert vector == hb.board.app_vector_address, f"{context}: nothing bootable\n{log}"
        assert hb.slot0_valid_as(plain, version), f"{context}: SLOT0 is not exactly {version:#x}\n{log}"
        assert hb.violations == 0, f"{context}: flash rule violated"
        return log

    def slot1_holds(self, header, plain) -> bool:
        """SLOT1 is exactly the .sfb of `header` (its header, erased markers, the ciphertext)."""
        b = self.hb.board
        erased = bytes([b.flash.erased_value])
        raw = self.hb.read(b.slot1.address, b.vector_size + len(plain))
        return (
            raw[:128] == header.pack()
            and raw[128 : b.vector_size] == erased * (b.vector_size - 128)
            and raw[b.vector_size :] == aes_cbc(self.keys.aes_key, header.iv, plain)
        )

    def journal(self):
        b = self.hb.board.bootloader
        return journal.parse_entries(self.hb.read(b.journal_address, b.journal_size))

    def state(self):
        info = self.hb.fw_info()
        return info.state, info.trial_boots


@pytest.fixture(params=BOARDS)
def dev(request, host_bootloader, dev_keys):
    return Device(host_bootloader(request.param, trial=True), dev_keys)


def installed_in_trial(dev):
    assert dev.download(dev.sfb2).failed_call == 0
    log = dev.runs(dev.v2, V2, "install")
    assert "Swap slots" in log and "in trial: start 1 of 3" in log, log
    return log


def test_exchange_keeps_the_previous_sfb(dev):
    installed_in_trial(dev)
    assert dev.slot1_holds(dev.h1, dev.v1), "SLOT1 does not hold v1's .sfb after the exchange"
    assert dev.state() == (FW_TRIAL, 1)
    kinds = [k for k, _v, _i in dev.journal()]
    assert kinds[-2:] == ["confirm", "install"]  # v1 confirmed as the revert target, then v2 committed


def test_confirmed_image_stays_and_boots_write_nothing(dev):
    installed_in_trial(dev)
    cut, result, status, _ = dev.hb.confirm()
    assert not cut and result == 1 and status == 0
    assert dev.state() == (FW_CONFIRMED, 0)
    log = dev.runs(dev.v2, V2, "boot after confirm")
    assert "confirmed." in log
    assert dev.journal()[-1] == ("confirm", V2, dev.h2.signature[:16])
    dev.hb.reset_ops()
    for _ in range(5):
        dev.runs(dev.v2, V2, "later boots")
    assert dev.hb.ops == 0
    # confirmed: no way back
    assert dev.hb.rollback()[1] == 0
    assert dev.state() == (FW_CONFIRMED, 0)
    # SLOT1 (v1) is free for the next download, and v3 is installed in trial with v2 kept
    v3 = app_image(dev.hb.board, os.urandom(4096))
    assert dev.download(image.build_sfb(v3, V3, dev.keys, dev.hb.board.vector_size)).failed_call == 0
    dev.runs(v3, V3, "v3")
    assert dev.slot1_holds(dev.h2, dev.v2)


def test_unconfirmed_image_is_reverted_after_n_starts(dev):
    installed_in_trial(dev)
    for start in (2, 3):
        log = dev.runs(dev.v2, V2, f"trial start {start}")
        assert f"start {start} of 3" in log
        assert dev.state() == (FW_TRIAL, start)
    log = dev.runs(dev.v1, V1, "revert")
    assert "rejected: not confirmed in time" in log and "Returning to" in log, log
    assert dev.slot1_holds(dev.h2, dev.v2), "SLOT1 must hold the rejected v2, re-encrypted"
    assert dev.state() == (FW_CONFIRMED, 0)
    assert dev.journal()[-1] == ("reject", V2, dev.h2.signature[:16])
    dev.hb.reset_ops()
    dev.runs(dev.v1, V1, "after revert")
    assert dev.hb.ops == 0, "a boot after the revert wrote flash"
    # the rejected version is never retried, in any form
    assert dev.download(dev.sfb2).status.status == IMAGE_VERSION_FAILURE
    p12 = patch.build_sfbp(dev.v1, V1, dev.v2, V2, dev.keys)
    assert dev.download(p12).status.status == IMAGE_VERSION_FAILURE
    v3 = bytearray(dev.v2)
    v3[100:110] = os.urandom(10)
    p23 = patch.build_sfbp(dev.v2, V2, bytes(v3), V3, dev.keys)
    assert dev.download(p23).status.status == INVALID_SOURCE_IMAGE, "a patch from the reverted-from version"
    # a patch from the running v1 to a newer v3 is installed (SLOT0's tag is v1's again)
    p13 = patch.build_sfbp(dev.v1, V1, bytes(v3), V3, dev.keys)
    assert dev.download(p13).failed_call == 0
    dev.runs(bytes(v3), V3, "patch after revert")
    assert dev.slot1_holds(dev.h1, dev.v1)


def test_rollback_request_and_refusals(dev):
    installed_in_trial(dev)
    # no download while the previous image is what SLOT1 keeps
    assert dev.download(dev.sfb2).status.status == INVALID_STATE
    cut, result, status, _ = dev.hb.rollback()
    assert not cut and result == 1 and status == 0
    assert dev.state() == (FW_ROLLBACK, 1)
    log = dev.runs(dev.v1, V1, "rollback")
    assert "rollback asked" in log
    assert dev.slot1_holds(dev.h2, dev.v2)
    # v1 is confirmed: rollback refused, and the reverted v2 in SLOT1 is never installed
    assert dev.hb.rollback()[1] == 0
    dev.runs(dev.v1, V1, "after rollback")


def test_forged_status_area_is_not_obeyed(dev):
    """An application writes the swap status area (it is not protected): an exchange the journal did not
    commit to is cleared, not run; a forged trial of a confirmed image does not make it revertible."""
    hb, t = dev.hb, dev.hb.board.trial
    installed_in_trial(dev)
    hb.confirm()
    dev.runs(dev.v2, V2, "confirmed")
    status = hb.read(t.status, 512)
    # a revert descriptor bringing v1 back, as the bootloader would write it (check included)
    for kind in (1, 2):
        desc = bytearray(dev.h1.pack() + dev.h2.pack() + b"SPBX" + bytes([kind, 0, 5, 0]) + bytes(4))
        desc += journal._fnv1a(bytes(desc)).to_bytes(4, "little")
        hb.write(t.status, bytes(desc))
        log = dev.runs(dev.v2, V2, f"forged kind {kind}")
        assert "Swap status refused." in log, log
        assert hb.read(t.status, 512) == status
    # a forged "exchange complete" trial of the confirmed v2 with the rollback record
    assert dev.state() == (FW_CONFIRMED, 0)


def _cut_everywhere(dev, action, check, label, sample=1):
    """Snapshot, run `action` once to count its flash operations, then for every n (or every `sample`th):
    restore, cut at operation n during `action`, then boot until settled and `check`."""
    hb = dev.hb
    hb.snapshot()
    hb.reset_ops()
    assert not action(0)
    total = hb.ops
    points = sorted(n for n in {*range(1, total + 1, sample), total, 1, 2, total - 1} if 1 <= n <= total)
    for n in points:
        hb.restore()
        hb.reset_ops()
        assert action(n), (label, n, total)
        check(n, total)
        counted[label] += 1
    hb.restore()
    return total


def _boot_action(dev):
    def action(cut):
        return dev.hb.boot(cut=cut)[0]

    return action


def test_power_cut_during_exchange(dev, request):
    sample = 1
    assert dev.download(dev.sfb2).failed_call == 0

    def check(n, total):
        log = dev.runs(dev.v2, V2, f"exchange cut {n}/{total}")
        assert dev.slot1_holds(dev.h1, dev.v1), f"cut {n}: SLOT1 lost v1"
        st, boots = dev.state()
        assert st == FW_TRIAL and boots >= 1, (n, st, boots, log)

    total = _cut_everywhere(dev, _boot_action(dev), check, "exchange", sample)
    assert total > 3 * 4  # at least the erases of 4 units' steps


def test_power_cut_during_revert(dev, request):
    sample = 1
    installed_in_trial(dev)
    dev.hb.rollback()

    def check(n, total):
        log = dev.runs(dev.v1, V1, f"revert cut {n}/{total}")
        assert dev.slot1_holds(dev.h2, dev.v2), f"cut {n}: SLOT1 does not hold v2"
        assert dev.state() == (FW_CONFIRMED, 0), (n, log)
        assert dev.journal()[-1][0] == "reject"

    _cut_everywhere(dev, _boot_action(dev), check, "revert", sample)


def test_power_cut_during_confirm(dev):
    installed_in_trial(dev)

    def confirm_action(cut):
        return dev.hb.confirm(cut=cut)[0]

    def check_app(n, total):
        # the application's write was cut: still in trial (then confirmed again) or confirmed
        st, _ = dev.state()
        assert st in (FW_TRIAL, FW_CONFIRMED), (n, st)

    _cut_everywhere(dev, confirm_action, check_app, "confirm")
    # the boot that records the confirmation in the journal and clears the status area, cut everywhere
    dev.hb.confirm()

    def check_boot(n, total):
        dev.runs(dev.v2, V2, f"confirm boot cut {n}/{total}")
        assert dev.state() == (FW_CONFIRMED, 0)
        dev.hb.reset_ops()
        dev.runs(dev.v2, V2, "settled")
        assert dev.hb.ops == 0

    _cut_everywhere(dev, _boot_action(dev), check_boot, "confirm")


def test_second_cut_during_resumed_exchange(dev):
    """A cut during the exchange, then cuts during the boot that resumes it."""
    hb = dev.hb
    assert dev.download(dev.sfb2).failed_call == 0
    hb.snapshot()
    hb.reset_ops()
    hb.boot()
    total = hb.ops
    for n in (total // 3, 2 * total // 3):
        hb.restore()
        hb.reset_ops()
        assert hb.boot(cut=n)[0]
        saved = hb.save_state()
        hb.reset_ops()
        hb.boot()
        recovery = hb.ops
        for m in range(1, recovery + 1, max(1, recovery // 40)):
            hb.load_state(saved)
            hb.reset_ops()
            assert hb.boot(cut=m)[0]
            dev.runs(dev.v2, V2, f"cut {n} then {m}/{recovery}")
            assert dev.slot1_holds(dev.h1, dev.v1)
            counted["second"] += 1


def test_journal_wrap_keeps_the_trial_state(host_bootloader, dev_keys):
    """Updates until the journal unit is full, then a rejected trial: the wrap carries the confirmed image
    (the revert target) and the install over, and the revert still finds v(n-1)."""
    hb = host_bootloader("EMU-MPS2-AN385", trial=True)
    rng = random.Random(7)
    plain = app_image(hb.board, rng.randbytes(2048))
    header = hb.manufacture(plain, 0x01000000)
    slots = hb.board.bootloader.journal_size // 32
    version = 0x01000000
    for i in range(slots // 2 + 2):
        version += 0x100
        new = app_image(hb.board, rng.randbytes(2048 + 16 * (i % 5)))
        assert hb.update(image.build_sfb(new, version, dev_keys, hb.board.vector_size)).failed_call == 0
        hb.boot()
        assert hb.slot0_valid_as(new, version)
        hb.confirm()
        hb.boot()
        plain, header = new, hb.slot0_header()
    entries = journal.parse_entries(hb.read(hb.board.bootloader.journal_address, hb.board.bootloader.journal_size))
    assert len(entries) < slots, "the journal did not wrap"
    # one more, rejected: v(n) comes back
    version += 0x100
    new = app_image(hb.board, rng.randbytes(2048))
    assert hb.update(image.build_sfb(new, version, dev_keys, hb.board.vector_size)).failed_call == 0
    hb.boot()
    hb.rollback()
    hb.boot()
    assert hb.slot0_valid_as(plain, header.version)
    assert hashlib.sha256(plain).digest() == header.tag


def _fnv(h, data):
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def _forged_area(rng, headers, units_max):
    """A status area an application could write: a descriptor with a valid check (or not), then records
    with valid checks of random types, steps and units, some torn."""
    desc = bytearray(rng.choice(headers) + rng.choice(headers))
    desc += b"SPBX" + bytes([rng.choice((1, 2, 3, 0)), 0]) + rng.randrange(units_max + 2).to_bytes(2, "little")
    desc += bytes(4)
    salt = _fnv(0x811C9DC5, desc)
    if rng.random() < 0.1:
        salt ^= 1  # a torn descriptor
    area = bytes(desc) + salt.to_bytes(4, "little")
    for _ in range(rng.randrange(0, 3 * units_max + 8)):
        rec = bytes([rng.choice((0x51, 0x51, 0x51, 0x5D, 0xB0, 0xC3, 0xBA, 0x00)), rng.randrange(4)])
        rec += rng.randrange(units_max + 1).to_bytes(2, "little")
        check = _fnv(salt, rec)
        if rng.random() < 0.05:
            check ^= 0x100
        area += rec + check.to_bytes(4, "little")
    return area


@pytest.mark.parametrize("confirmed", [False, True], ids=["v2-in-trial", "v2-confirmed"])
def test_random_status_areas_never_run_anything_else(host_bootloader, dev_keys, confirmed):
    """The swap status area is application-writable: 300 areas written with valid checks (descriptors of
    the real headers in any order and kind, records of every type), over v2 in trial or confirmed. Every
    boot runs v1 or v2 exactly, a confirmed v2 is never replaced, and the device settles (a boot writes
    nothing) within a few boots."""
    hb = host_bootloader("EMU-MPS2-AN385", trial=True)
    dev = Device(hb, dev_keys, n1=3 * 1024, n2=4 * 1024, seed=3)
    installed_in_trial(dev)
    if confirmed:
        hb.confirm()
        dev.runs(dev.v2, V2, "confirm")
    hb.snapshot()
    t = hb.board.trial
    rng = random.Random(11 + confirmed)
    headers = [dev.h1.pack(), dev.h2.pack(), bytes(rng.randbytes(128))]
    units = (hb.board.vector_size + len(dev.v2)) // t.unit + 1
    outcomes = {"v1": 0, "v2": 0}
    for case in range(300):
        hb.restore()
        area = _forged_area(rng, headers, units)
        hb.write(t.status, area[: t.status_size])
        for n in range(6):
            cut, vector, log = hb.boot()
            assert not cut and vector == hb.board.app_vector_address, f"case {case} boot {n}: nothing runs\n{log}"
            v2 = hb.slot0_valid_as(dev.v2, V2)
            assert v2 or hb.slot0_valid_as(dev.v1, V1), f"case {case}: SLOT0 is neither image\n{log}"
            assert not (confirmed and not v2), f"case {case}: the confirmed v2 was replaced\n{log}"
            assert hb.violations == 0
            hb.reset_ops()
            cut, vector, _ = hb.boot()
            if hb.ops == 0:
                break
        else:
            raise AssertionError(f"case {case}: still writing flash after 6 boots")
        outcomes["v2" if hb.slot0_valid_as(dev.v2, V2) else "v1"] += 1
    print(f"\nforged status areas ({'confirmed' if confirmed else 'trial'}): {outcomes}")
