# SPDX-License-Identifier: Apache-2.0
"""Key material and plaintext do not outlive the call that used them (docs/security.md, "Key handling").

The host build of the core is linked with tests/bootloader/key_probe.c, which runs the harness's update
and boot entry points on a stack it owns (filled with a pattern first). After each call the test reads
that whole stack and every writable byte of the library - the core's static state (.data/.bss: the update
and patch engines' state, the log) - and looks for

- the AES key and its expanded schedules (any two consecutive words of either, in the layout
  spb_aes128_init leaves them, computed by the library itself), and
- the plaintext of the new image that has not been installed (any of its 16-byte blocks, and any 16-byte
  block of AES decryption output before the CBC XOR, which is plaintext ^ public ciphertext).

The simulated flash is heap memory and is not scanned; the key itself is const (flash on the target).
The scan is shown to find the schedule while a .sfbp session is open (the schedule must live in the
patch engine between calls), so an empty result means wiped, not missed."""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

import pytest
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile

import support.hostboot as hostboot
from spb import image, patch
from support.hostboot import DELAY_COMMAND, STAGE_DATA, HostBootloader, Status, app_image

PROBE = Path(__file__).with_name("key_probe.c")
V1, V2 = 0x01000000, 0x02000000
_libs: dict[tuple[str, str], HostBootloader] = {}


def _probe_device(board, keys, monkeypatch, opt="-O2") -> HostBootloader:
    """A HostBootloader whose library also contains key_probe.c (built once per board, optimisation level
    and session). -O0 keeps every local in memory, as a small target's register pressure does."""
    if (board, opt) not in _libs:
        real = hostboot.build

        def build_with_probe(name, sources, *args, **kwargs):
            flags = [*kwargs.pop("extra_flags", ()), opt]
            return real(f"{name}-keyprobe{opt}", [*sources, PROBE], *args, extra_flags=flags, **kwargs)

        with monkeypatch.context() as m:
            m.setattr(hostboot, "build", build_with_probe)
            hb = HostBootloader(board, keys)
        L = hb.lib
        L.probe_boot.restype = ctypes.c_int
        L.probe_boot.argtypes = [ctypes.POINTER(ctypes.c_uint32)]
        L.probe_update.restype = ctypes.c_int
        L.probe_update.argtypes = [
            ctypes.c_char_p,
            ctypes.c_uint32,
            ctypes.c_uint32,
            ctypes.c_uint16,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.POINTER(Status),
            ctypes.POINTER(ctypes.c_uint32),
        ]
        L.probe_stack_base.restype = ctypes.c_void_p
        L.probe_stack_size.restype = ctypes.c_uint32
        L.spb_aes128_init.restype = None
        L.spb_aes128_init.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        _libs[board, opt] = hb
    hb = _libs[board, opt]
    hb.erase_all()
    return hb


def _update(hb, data, declared=None, install=True):
    status, failed = Status(), ctypes.c_uint32()
    cut = hb.lib.probe_update(
        bytes(data),
        len(data),
        64,
        DELAY_COMMAND,
        len(data) if declared is None else declared,
        int(install),
        ctypes.byref(status),
        ctypes.byref(failed),
    )
    assert cut == 0
    return failed.value, status


def _boot(hb):
    vector = ctypes.c_uint32()
    assert hb.lib.probe_boot(ctypes.byref(vector)) == 0
    return vector.value, hb.console()


def _writable_regions(lib_path: str):
    """(start, end) of the library's writable PT_LOAD segments (.data, .bss, ...) where they are mapped."""
    base = None
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[5] == lib_path and int(fields[2], 16) == 0:
            base = int(fields[0].split("-")[0], 16)
            break
    assert base is not None, f"{lib_path} is not mapped"
    with open(lib_path, "rb") as f:
        segments = [
            (base + seg["p_vaddr"], base + seg["p_vaddr"] + seg["p_memsz"])
            for seg in ELFFile(f).iter_segments()
            if seg["p_type"] == "PT_LOAD" and seg["p_flags"] & P_FLAGS.PF_W
        ]
    assert segments, f"no writable segment in {lib_path}"
    return segments


def _memory(hb) -> bytes:
    return b"".join(ctypes.string_at(s, e - s) for s, e in _writable_regions(hb.lib._name))


def _stack(hb) -> bytes:
    return ctypes.string_at(hb.lib.probe_stack_base(), hb.lib.probe_stack_size())


def _schedule(hb, key: bytes) -> bytes:
    ctx = ctypes.create_string_buffer(2 * 44 * 4)
    hb.lib.spb_aes128_init(ctx, key)
    return ctx.raw


def _key_needles(hb, key: bytes) -> list[bytes]:
    schedule = _schedule(hb, key)
    return [key] + [schedule[i : i + 8] for i in range(0, len(schedule) - 4, 4)]


def _plaintext_needles(keys, sfb: bytes, vector_size: int, plaintext: bytes) -> list[bytes]:
    """Every 16-byte block of the plaintext, and of the block decryption output before the CBC XOR."""
    iv, body = sfb[4:20], sfb[vector_size:]
    chain = iv + body
    blocks = [plaintext[i : i + 16] for i in range(0, len(plaintext), 16)]
    raw = [bytes(a ^ b for a, b in zip(blocks[i], chain[16 * i : 16 * i + 16])) for i in range(len(blocks))]
    return blocks + raw


def _found(memory: bytes, needles) -> list[str]:
    hits = []
    for needle in needles:
        for m in re.finditer(re.escape(needle), memory):
            hits.append(f"{needle.hex()} at +{m.start():#x}")
    return hits


def _assert_clean(hb, keys, what, extra_needles=()):
    memory = _memory(hb)
    hits = _found(memory, _key_needles(hb, keys.aes_key))
    assert not hits, f"{what}: key schedule left in RAM: {hits[:5]} ({len(hits)} hits)"
    hits = _found(memory, extra_needles)
    assert not hits, f"{what}: plaintext left in RAM: {hits[:5]} ({len(hits)} hits)"


def _used_stack(hb) -> int:
    stack = _stack(hb)
    return len(stack) - len(stack.lstrip(b"\xa5"))


BOARDS = ["EMU-MPS2-AN385", "NUCLEO-L073RZ", "DISCO-L4R9I"]


@pytest.mark.parametrize(("board", "opt"), [(b, "-O2") for b in BOARDS] + [("NUCLEO-L073RZ", "-O0")])
def test_streamed_update_and_install_leave_no_key_or_plaintext(board, opt, dev_keys, monkeypatch):
    hb = _probe_device(board, dev_keys, monkeypatch, opt)
    vs = hb.board.vector_size
    hb.manufacture(app_image(hb.board, os.urandom(1024)), V1)
    new = app_image(hb.board, os.urandom(4096 + 48))  # a partial last chunk and hash block
    sfb = image.build_sfb(new, V2, dev_keys, vs)
    failed, status = _update(hb, sfb)
    assert failed == 0, status.status
    assert _used_stack(hb) > 1024  # the verification ran on the probe's stack
    _assert_clean(hb, dev_keys, "after the streamed download", _plaintext_needles(dev_keys, sfb, vs, new))
    vector, log = _boot(hb)
    assert vector and hb.slot0_valid_as(new, V2), log
    _assert_clean(hb, dev_keys, "after the install at boot")


@pytest.mark.parametrize(("board", "opt"), [(b, "-O2") for b in BOARDS] + [("NUCLEO-L073RZ", "-O0")])
def test_refused_images_leave_no_key_or_plaintext(board, opt, dev_keys, monkeypatch):
    """A download whose last block is damaged fails its tag after the whole image was decrypted."""
    hb = _probe_device(board, dev_keys, monkeypatch, opt)
    vs = hb.board.vector_size
    hb.manufacture(app_image(hb.board, os.urandom(1024)), V1)
    new = app_image(hb.board, os.urandom(2048))
    sfb = bytearray(image.build_sfb(new, V2, dev_keys, vs))
    sfb[-1] ^= 1
    failed, _ = _update(hb, sfb)
    assert failed != 0
    _assert_clean(hb, dev_keys, "after a tag failure", _plaintext_needles(dev_keys, bytes(sfb), vs, new[:-16]))


def test_a_read_error_during_verification_leaves_no_plaintext(dev_keys, monkeypatch):
    """NUCLEO-L476RG (ECC flash, SLOT1 internal): an ECC error in SLOT1's body makes the boot-time
    verification stop in the middle, with earlier chunks decrypted; nothing of them may stay in the RAM
    the application then runs with."""
    hb = _probe_device("NUCLEO-L476RG", dev_keys, monkeypatch)
    vs = hb.board.vector_size
    old = app_image(hb.board, os.urandom(1024))
    hb.manufacture(old, V1)
    new = app_image(hb.board, os.urandom(2048))
    sfb = image.build_sfb(new, V2, dev_keys, vs)
    failed, _ = _update(hb, sfb)
    assert failed == 0
    unit = (hb.board.slot1.address + vs + 1500 - hb.board.flash.base) // hb.board.flash.write_size
    ctypes.memset(hb.lib.host_ecc() + unit, 1, 1)
    vector, log = _boot(hb)
    assert vector and hb.slot0_valid_as(old, V1) and "rejected" in log, log
    _assert_clean(hb, dev_keys, "after a read error", _plaintext_needles(dev_keys, sfb, vs, new[:1024]))


@pytest.mark.parametrize("board", ["NUCLEO-L073RZ", "DISCO-L4R9I"])
def test_a_patch_session_holds_the_schedule_only_while_open(board, dev_keys, monkeypatch):
    """Positive control and the static state: while a .sfbp download is open the patch engine must keep
    the key schedule between calls, and the scan finds it there; abort, completion and failure wipe it."""
    hb = _probe_device(board, dev_keys, monkeypatch)
    old = app_image(hb.board, os.urandom(2048))
    new = bytearray(old)
    new[100:200] = os.urandom(100)
    new = app_image(hb.board, bytes(new[: len(old)]))
    sfbp = patch.build_sfbp(old, V1, new, V2, dev_keys)

    hb.manufacture(old, V1)
    failed, status = _update(hb, sfbp[: len(sfbp) - 32], declared=len(sfbp), install=False)
    assert failed == 0 and status.stage == STAGE_DATA
    assert _found(_memory(hb), _key_needles(hb, dev_keys.aes_key)), "the scan does not see the open session"
    hb.lib.SE_PATCH_Abort(ctypes.byref(Status()))
    _assert_clean(hb, dev_keys, "after SE_PATCH_Abort")

    hb.erase_all()
    hb.manufacture(old, V1)
    failed, status = _update(hb, sfbp)
    assert failed == 0, status.status
    _assert_clean(hb, dev_keys, "after a completed patch")

    hb.erase_all()
    hb.manufacture(old, V1)
    damaged = bytearray(sfbp)
    damaged[-1] ^= 1
    failed, _ = _update(hb, damaged)
    assert failed != 0
    _assert_clean(hb, dev_keys, "after a failed patch")
