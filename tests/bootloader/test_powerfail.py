# SPDX-License-Identifier: Apache-2.0
"""Power cuts at every flash operation, on the real bootloader core built for the host.

For each board: SLOT0 holds v1 as manufactured; the application streams v2 into SLOT1 through the
SE_PATCH_* API; the bootloader installs it at the next boot. The flash simulator (bootloader/port/host)
counts every page/sector erase and every programming unit as one operation, as the register-level models
of tests/silicon do, and tears operation N (each bit it had to move moved or not; on the ECC board
DISCO-L4R9I the torn unit then reads as an ECC error) and stops everything, for every N of the download
and of the install, then boots again; for a sample of N it cuts again during the recovery boot. After
each sequence a valid image must run (v1 or v2, exactly, with an authentic installed header), the end
state must be v2 once the install had begun, DONE must be set, a further boot must not touch flash, and
no flash rule may ever have been broken."""

from __future__ import annotations

import os
import random

import pytest

from spb import image
from support.hostboot import DELAY_COMMAND, MARK_DONE, MARK_READY, app_image

pytestmark = pytest.mark.powerfail

V1, V2 = 0x01000000, 0x01010000
# board, v1 size, v2 size, segoff of v1 and v2 (MultiSegment: the image continues in external flash)
CASES = [
    ("EMU-MPS2-AN385", 2048, 3072, 0, 0),  # 2 KiB pages, 8-byte programming, erased 0xFF
    ("NUCLEO-L073RZ", 1536, 1024, 0, 0),  # 128-byte pages, 4-byte programming, erased 0x00
    ("DISCO-L4R9I", 2048, 2560, 1024, 2048),  # SLOT0 internal + OSPI segment, SLOT1 in OSPI
]
counted = {"download": 0, "install": 0, "double": 0}


@pytest.fixture(scope="module", autouse=True)
def report_cut_points():
    """Prints how many cut sequences ran (visible with -s or -rA)."""
    yield
    print(f"\npower-cut sequences exercised: {counted}")


def images(board, n1, n2, seed):
    rng = random.Random(seed)
    return app_image(board, rng.randbytes(n1)), app_image(board, rng.randbytes(n2))


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def scenario(request, host_bootloader):
    board, n1, n2, seg1, seg2 = request.param
    hb = host_bootloader(board)
    v1, v2 = images(hb.board, n1, n2, seed=n1 * 7 + n2)
    hb.manufacture(v1, V1, seg1)
    sfb = image.build_sfb(v2, V2, hb.keys, hb.board.vector_size, seg2)
    return hb, v1, v2, sfb


def ready_unit(hb):
    """Programming unit of SLOT1's header area (external flash on MultiSegment boards)."""
    ext = hb.board.external_flash
    return ext.write_size if ext is not None and ext.contains(hb.board.slot1.address) else hb.board.flash.write_size


def slot0_region(hb):
    return hb.read(hb.board.slot0.address, hb.board.vector_size + 4096)


def assert_runs(hb, plain, version, context):
    cut, vector, log = hb.boot()
    assert not cut
    assert vector == hb.board.app_vector_address, f"{context}: nothing bootable\n{log}"
    assert hb.slot0_valid_as(plain, version), f"{context}: SLOT0 is not exactly {version:#x}\n{log}"
    assert hb.violations == 0, f"{context}: flash rule violated"
    return log


def test_download_cut_never_touches_slot0(scenario):
    hb, v1, v2, sfb = scenario
    hb.snapshot()
    before = slot0_region(hb)
    hb.reset_ops()
    result = hb.update(sfb, chunk=48)
    assert not result.cut and result.failed_call == 0 and result.status.stage == 4  # READY
    total = hb.ops
    assert total > 4
    first_ready = total - 32 // ready_unit(hb) + 1
    for n in range(1, total + 1):
        hb.restore()
        hb.power_on()
        hb.reset_ops()
        result = hb.update(sfb, chunk=48, cut=n)
        assert result.cut, n
        assert slot0_region(hb) == before, f"cut {n}: SLOT0 changed during a download"
        # The READY marker is the last write (one operation per programming unit): only a cut during
        # it may lead to the install.
        if n < first_ready:
            assert_runs(hb, v1, V1, f"download cut {n}/{total}")
        else:
            _cut, vector, _ = hb.boot()
            assert vector and (hb.slot0_valid_as(v1, V1) or hb.slot0_valid_as(v2, V2))
        counted["download"] += 1
    assert hb.violations == 0


def install_ready(hb, sfb):
    result = hb.update(sfb, chunk=64, delay=DELAY_COMMAND)
    assert result.failed_call == 0 and hb.marker(MARK_READY)
    hb.snapshot()


def test_install_survives_a_cut_at_every_operation(scenario):
    hb, _v1, v2, sfb = scenario
    install_ready(hb, sfb)
    hb.reset_ops()
    log = assert_runs(hb, v2, V2, "uncut install")
    total = hb.ops
    assert "Copy slot 1 to slot 0." in log and hb.marker(MARK_DONE)
    hb.reset_ops()
    log = assert_runs(hb, v2, V2, "boot after install")
    assert hb.ops == 0 and "Copy slot 1" not in log  # never installed twice
    for n in range(1, total + 1):
        hb.restore()
        hb.reset_ops()
        cut, _, _ = hb.boot(cut=n)
        assert cut, n
        # From the first operation on (APPROVED), the install is committed: recovery ends with v2.
        assert_runs(hb, v2, V2, f"install cut {n}/{total}")
        assert hb.marker(MARK_DONE)
        hb.reset_ops()
        assert_runs(hb, v2, V2, f"boot after recovery from cut {n}")
        assert hb.ops == 0, f"cut {n}: a third boot still wrote flash"
        counted["install"] += 1


def test_second_cut_during_recovery(scenario):
    hb, _v1, v2, sfb = scenario
    install_ready(hb, sfb)
    hb.reset_ops()
    hb.boot()
    total = hb.ops
    hb.restore()
    # Cut points spread over the install, including the first and the last operations.
    firsts = sorted({1, 2, 3, total // 4, total // 2, 3 * total // 4, total - 2, total - 1, total} - {0})
    for n in firsts:
        hb.restore()
        hb.reset_ops()
        assert hb.boot(cut=n)[0]
        saved = hb.save_state()
        hb.reset_ops()
        hb.boot()
        recovery = hb.ops
        # Every operation of the recovery for the first cut points; for the others every 7th plus the
        # first and last 8 (each programming unit is an operation: a recovery has hundreds).
        seconds = (
            range(1, recovery + 1)
            if n <= 2
            else sorted(
                {
                    *range(1, min(9, recovery + 1)),
                    *range(1, recovery + 1, 7),
                    *range(max(1, recovery - 7), recovery + 1),
                }
            )
        )
        for m in seconds:
            hb.load_state(saved)
            hb.reset_ops()
            assert hb.boot(cut=m)[0], (n, m)
            assert_runs(hb, v2, V2, f"cut {n} then recovery cut {m}/{recovery}")
            counted["double"] += 1


def test_refused_update_writes_nothing(host_bootloader, dev_keys):
    """A ready SLOT1 that is not newer is refused at boot without a single flash operation."""
    hb = host_bootloader("EMU-MPS2-AN385")
    v1 = app_image(hb.board, os.urandom(1024))
    for version in (V1, V1 - 1):
        hb.erase_all()
        hb.manufacture(v1, V1)
        sfb = bytearray(image.build_sfb(os.urandom(1024), version, dev_keys, hb.board.vector_size))
        sfb[0x80:0xA0] = sfb[0x40:0x60]  # READY, as if written by an older bootloader's app
        hb.write(hb.board.slot1.address, bytes(sfb))
        hb.reset_ops()
        log = assert_runs(hb, v1, V1, f"refuse {version:#x}")
        assert "is not newer" in log and hb.ops == 0


@pytest.mark.parametrize("encoding", ["compat", "compact"])
def test_patch_download_cut_never_touches_slot0(scenario, encoding):
    """A .sfbp regenerating v2 into SLOT1 (reading v1 from SLOT0, across the MultiSegment boundary on
    DISCO-L4R9I), cut at every flash operation: SLOT0 never changes and v1 keeps running; a sample of
    the cuts is followed by a complete retry that installs v2."""
    from spb import patch

    hb, v1, _, _ = scenario
    segoff = hb.slot0_header().segoff
    rng = random.Random(len(v1))
    v2 = bytearray(v1)
    for _ in range(16):
        k = rng.randrange(len(v2))
        v2[k] ^= 0x21
    v2[300:300] = rng.randbytes(160)
    v2 = bytes(v2)
    sfbp = patch.build_sfbp(v1, V1, v2, V2, hb.keys, new_segoff=segoff, encoding=encoding)
    hb.snapshot()
    before = slot0_region(hb)
    hb.reset_ops()
    result = hb.update(sfbp, chunk=29)
    assert not result.cut and result.failed_call == 0 and result.status.stage == 4, result  # READY
    total = hb.ops
    first_ready = total - 32 // ready_unit(hb) + 1  # READY: the last write, one operation per unit
    for n in range(1, total + 1):
        hb.restore()
        hb.power_on()
        hb.reset_ops()
        assert hb.update(sfbp, chunk=29, cut=n).cut, n
        assert slot0_region(hb) == before, f"cut {n}: SLOT0 changed while patching"
        if n < first_ready:
            assert_runs(hb, v1, V1, f"patch cut {n}/{total}")
            if n % 25 == 1:
                hb.power_on()
                retry = hb.update(sfbp, chunk=29)
                assert retry.failed_call == 0 and retry.status.stage == 4, (n, retry)
                assert_runs(hb, v2, V2, f"retry after patch cut {n}")
        counted["patch"] = counted.get("patch", 0) + 1
    assert hb.violations == 0
