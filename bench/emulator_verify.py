#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Measure how many guest instructions the real bootloader needs to verify a 128 KiB image.

Builds the bootloader for EMU-MPS2-AN385 (Cortex-M3) with throw-away keys, writes a 128 KiB random image
into SLOT0 (installed header) and the same image as a ready .sfb into SLOT1 with a lower version (so the
bootloader refuses it after the version check, without installing), boots QEMU with `-icount shift=0`
(1 guest ns per instruction, so 1 ms of the bootloader's log clock = 1,000,000 instructions) and reads the
timestamps of the boot log:

  "Verify slot 0 header."    -> "Verify slot 0 signature."  header: SHA-256 of 64 bytes + one ECDSA P-256 verify
  "Verify slot 0 signature." -> "Verify slot 0 ready."      SHA-256 over the 128 KiB plaintext in SLOT0

A second run puts a newer image in SLOT1 and times "Verify slot 1 signature." -> "Erase slot 0."
(AES-128-CBC decrypt + SHA-256 over 128 KiB). Resolution: 1 ms = 1 M instructions.

Usage: .venv/bin/python bench/emulator_verify.py [--size 131072]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "site_scons"), str(REPO / "tests")]

from spb import image  # noqa: E402
from spb.board import load_board  # noqa: E402
from support.qemu import Emulator, create_flash_file, write_flash  # noqa: E402
from support.scons_project import make_keys, scons  # noqa: E402

STAMP = re.compile(r"\[\s*(\d+)\.(\d{3})\] (.*)")


def stamps(log):
    out = {}
    for line in log.splitlines():
        m = STAMP.match(line.strip())
        if m:
            out.setdefault(m.group(3), int(m.group(1)) * 1000 + int(m.group(2)))
    return out


def run(flash, until):
    with Emulator(flash, icount=0) as emu:
        emu.read_until(until, timeout=600)
        return stamps(emu.log)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128 * 1024)
    args = parser.parse_args()
    board = load_board(REPO / "boards" / "EMU-MPS2-AN385.toml")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        keys = make_keys(tmp / "keys")
        scons(REPO, "BOARD=EMU-MPS2-AN385", f"BUILD_DIR={tmp / 'build'}", f"KEYS={keys.directory}", "VERSION=1.0.0")
        boot = (tmp / "build" / "bootloader.bin").read_bytes()
        plain = os.urandom(args.size)
        v1, v2 = 0x01000000, 0x02000000
        header = image.image_header(plain, v1, keys)
        results = {}
        for label, slot1_version, until in (("slot0", v1, "refused"), ("slot1", v2, "Erase slot 0.")):
            flash = create_flash_file(tmp / f"{label}.img", [(board.flash.base, boot)])
            write_flash(flash, board.slot0.address, image.installed_header(header, board.vector_size))
            write_flash(flash, board.app_vector_address, plain)
            sfb = bytearray(image.build_sfb(plain, slot1_version, keys, board.vector_size))
            ready = image.Header.unpack(bytes(sfb[:128])).signature[:32]
            sfb[0x80:0xA0] = ready  # READY marker, as SE_PATCH_InstallAtNextReset writes it
            write_flash(flash, board.slot1.address, bytes(sfb))
            results[label] = run(flash, until)
        s0, s1 = results["slot0"], results["slot1"]
        header_ms = s0["Verify slot 0 signature."] - s0["Verify slot 0 header."]
        hash_ms = s0["Verify slot 0 ready."] - s0["Verify slot 0 signature."]
        dec_ms = s1["Erase slot 0."] - s1["Verify slot 1 signature."]
        kib = args.size // 1024
        print(f"EMU-MPS2-AN385 (Cortex-M3, QEMU -icount shift=0: 1 ms = 1M instructions), image {kib} KiB")
        print(f"  header check (SHA-256 + ECDSA P-256 verify):    {header_ms:6d} M instructions")
        print(f"  SLOT0 verify (SHA-256 of {kib} KiB):            {hash_ms:6d} M instructions")
        print(f"  SLOT1 verify (AES-CBC decrypt + SHA-256):       {dec_ms:6d} M instructions")
        print(
            f"  at 80 MHz, 1 instruction/cycle: SLOT0 {hash_ms / 80 * 1000:.0f} ms, SLOT1 {dec_ms / 80 * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
