#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Guest instructions per ECDSA P-256 verify and per SHA-256 byte, on Cortex-M3, M4 and M0(+), under QEMU.

Builds bench/crypto_icount/main.c with the bootloader's crypto sources (bootloader/src/crypto, or --src)
into a bare-metal image per core and runs it with `qemu-system-arm -icount shift=0`, where the virtual
clock advances 1 ns per executed guest instruction. The guest reads SysTick around each call and
calibrates ticks against a loop of known length, so the counts are instructions (+- one SysTick tick:
40 instructions on MPS2, 62.5 on the micro:bit), not cycles. Results go out through semihosting.

  m3: mps2-an385 (Cortex-M3), built -mcpu=cortex-m3
  m4: mps2-an386 (Cortex-M4), built -mcpu=cortex-m4
  m0: microbit   (Cortex-M0), built -mcpu=cortex-m0plus: the same ARMv6-M instruction set as the
      STM32L0's M0+, so the instruction count is that of the L073RZ bootloader's crypto (the M0+ has a
      single-cycle multiplier in the STM32L0; cycles would differ from instructions elsewhere)

Inputs: NVEC random (seeded) key/digest/signature triples made with `cryptography`, and a SHA_MSG_LEN-byte
message; the guest checks every result. The verify count is the mean over the vectors (min and max shown).
SHA-256 per byte = (ticks for SHA_MSG_LEN bytes - ticks for 0 bytes) / SHA_MSG_LEN (aligned input; the
unaligned figure is printed too).

--ops also counts single operations (field multiply and square, additions, point doubling and mixed
addition, inversions mod n and p, wNAF recoding) through the entry points p256.c exports when built with
SPB_P256_TESTING (each figure includes a call of about 10 instructions). --sizes prints the flash of
p256.c and sha256.c (text + rodata) as the bootloader compiles them. --rev takes the crypto sources from a
git revision instead of the working tree, e.g. --rev 9074924 for the code before the speed work.

Usage: .venv/bin/python bench/crypto_icount.py [--cores m3,m4,m0] [--opt -Os] [--src DIR | --rev REV]
                                               [--ops] [--sizes] [--cflags FLAGS] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "crypto_icount"
NVEC = 8
SHA_MSG_LEN = 16384

CORES = {
    # name: (qemu machine, -mcpu, flash origin, flash size, ram origin, ram size)
    "m3": ("mps2-an385", "cortex-m3", 0x00000000, 0x400000, 0x20000000, 0x100000),
    "m4": ("mps2-an386", "cortex-m4", 0x00000000, 0x400000, 0x20000000, 0x100000),
    "m0": ("microbit", "cortex-m0plus", 0x00000000, 0x40000, 0x20000000, 0x4000),
}

LINK = """
MEMORY {{ FLASH (rx) : ORIGIN = {fo:#x}, LENGTH = {fs:#x}
         RAM (rwx)  : ORIGIN = {ro:#x}, LENGTH = {rs:#x} }}
ENTRY(reset_handler)
SECTIONS {{
  .text : {{ KEEP(*(.vectors)) *(.text*) *(.rodata*) }} > FLASH
  .data : {{ *(.data*) }} > RAM AT > FLASH
  .bss (NOLOAD) : {{ _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; }} > RAM
  _estack = ORIGIN(RAM) + LENGTH(RAM);
}}
"""


def c_bytes(b: bytes) -> str:
    return "{" + ",".join(f"0x{x:02x}" for x in b) + "}"


def vectors_h() -> str:
    rng = random.Random(0xC0FFEE)
    pks, digests, sigs = [], [], []
    for _ in range(NVEC):
        priv = ec.derive_private_key(rng.randrange(1, 2**255), ec.SECP256R1())
        nums = priv.public_key().public_numbers()
        digest = rng.randbytes(32)
        r, s = decode_dss_signature(priv.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True)))
        pks.append(nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big"))
        digests.append(digest)
        sigs.append(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    msg = bytes((k * 7 + 3) & 0xFF for k in range(SHA_MSG_LEN))
    out = [
        f"#define NVEC {NVEC}",
        f"#define SHA_MSG_LEN {SHA_MSG_LEN}",
        f"static const uint8_t msg[SHA_MSG_LEN] = {c_bytes(msg)};",  # in flash: the micro:bit has 16 KiB RAM
        f"static const uint8_t SHA_DIGEST[32] = {c_bytes(hashlib.sha256(msg).digest())};",
        f"static const uint8_t SHA_DIGEST_U[32] = {c_bytes(hashlib.sha256(msg[1:]).digest())};",
    ]
    for name, items in (("PK", pks), ("DIGEST", digests), ("SIG", sigs)):
        out.append(f"static const uint8_t {name}[NVEC][{len(items[0])}] = {{" + ",".join(map(c_bytes, items)) + "};")
    return "\n".join(out) + "\n"


def build(core: str, src: Path, opt: str, tmp: Path, defines=(), cflags=()) -> Path:
    _machine, cpu, fo, fs, ro, rs = CORES[core]
    (tmp / "link.ld").write_text(LINK.format(fo=fo, fs=fs, ro=ro, rs=rs))
    elf = tmp / f"bench-{core}.elf"
    cmd = [
        "arm-none-eabi-gcc",
        f"-mcpu={cpu}",
        "-mthumb",
        "-mfloat-abi=soft",
        opt,
        "-std=c99",
        "-g",
        "-ffunction-sections",
        "-fdata-sections",
        "-Wall",
        "-Wextra",
        "-nostartfiles",
        "--specs=nano.specs",
        *[f"-D{d}" for d in defines],
        *cflags,
        f"-I{src}",
        f"-I{tmp}",
        "-T",
        str(tmp / "link.ld"),
        "-Wl,--gc-sections",
        "-o",
        str(elf),
        str(HERE / "main.c"),
        *[str(src / f) for f in ("p256.c", "sha256.c")],
    ]
    subprocess.run(cmd, check=True)
    return elf


def run(core: str, elf: Path) -> dict:
    machine = CORES[core][0]
    res = subprocess.run(
        [
            "qemu-system-arm",
            "-M",
            machine,
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-icount",
            "shift=0,sleep=off",
            "-semihosting-config",
            "enable=on,target=native",
            "-kernel",
            str(elf),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    text = res.stdout + res.stderr
    if res.returncode != 0 or "done" not in text:
        raise RuntimeError(f"{core}: QEMU exit {res.returncode}\n{text}")
    vals = {}
    for key, val in re.findall(r"^(\w+) (\d+)$", text, re.M):
        vals.setdefault(key, []).append(int(val))
    per_tick = 2_000_000 / vals["ticks_per_2M"][0]
    bad = [k for k in ("sha_ok", "sha_u_ok", "verify_ok", "reject_ok") if not all(vals[k])]
    if bad:
        raise RuntimeError(f"{core}: wrong results {bad}\n{text}")
    verify = [t * per_tick for t in vals["verify_ticks"]]
    sha_n, sha_0, sha_u = (vals[k][0] * per_tick for k in ("sha_n_ticks", "sha_0_ticks", "sha_u_ticks"))
    ops = {
        k[3:].replace("_x100", "").replace("_x10", ""): v[0] * per_tick / (100 if k.endswith("x100") else 10)
        for k, v in vals.items()
        if k.startswith("op_")
    }
    return {
        "ops": ops,
        "instr_per_tick": per_tick,
        "verify_mean": sum(verify) / len(verify),
        "verify_min": min(verify),
        "verify_max": max(verify),
        "sha_per_byte": (sha_n - sha_0) / SHA_MSG_LEN,
        "sha_per_byte_unaligned": (sha_u - sha_0) / (SHA_MSG_LEN - 1),
        "sha_empty": sha_0,
    }


SOURCES = ("p256.c", "p256.h", "sha256.c", "sha256.h")


def sizes(src: Path, tmp: Path, cflags=()) -> dict:
    """Flash bytes (text + rodata) of p256.c and sha256.c per CPU, with the bootloader's code flags."""
    out = {}
    for cpu in ("cortex-m0plus", "cortex-m4"):
        for name in ("p256.c", "sha256.c"):
            obj = tmp / f"{cpu}-{name}.o"
            subprocess.run(
                [
                    "arm-none-eabi-gcc",
                    f"-mcpu={cpu}",
                    "-mthumb",
                    "-mfloat-abi=soft",
                    "-Os",
                    "-std=c99",
                    "-ffunction-sections",
                    "-fdata-sections",
                    *cflags,
                    f"-I{src}",
                    "-c",
                    str(src / name),
                    "-o",
                    str(obj),
                ],
                check=True,
            )
            text = (
                subprocess.run(["arm-none-eabi-size", "-B", str(obj)], capture_output=True, text=True, check=True)
                .stdout.splitlines()[1]
                .split()
            )
            out[f"{cpu} {name}"] = int(text[0]) + int(text[1])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="m3,m4,m0")
    parser.add_argument("--opt", default="-Os")
    parser.add_argument("--src", type=Path, default=REPO / "bootloader" / "src" / "crypto")
    parser.add_argument("--rev", help="take the crypto sources from this git revision")
    parser.add_argument("--sizes", action="store_true", help="also print the flash of p256.c and sha256.c")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--cflags", default="", help="extra compiler flags, e.g. -DSPB_P256_G_WINDOW=5")
    parser.add_argument(
        "--ops",
        action="store_true",
        help="also count single operations (field multiply, square, ...) through p256.c's "
        "SPB_P256_TESTING entry points",
    )
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "vectors.h").write_text(vectors_h())
        src = args.src.resolve()
        if args.rev:
            src = tmp / "src"
            src.mkdir()
            for name in SOURCES:
                text = subprocess.run(
                    ["git", "show", f"{args.rev}:bootloader/src/crypto/{name}"],
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                (src / name).write_text(text)
        if args.ops and "SPB_P256_TESTING" not in (src / "p256.c").read_text():
            parser.error("--ops needs a p256.c with the SPB_P256_TESTING entry points")
        if args.sizes:
            results["sizes"] = sizes(src, tmp, args.cflags.split())
            print("flash (text + rodata, -Os): " + ", ".join(f"{k} {v}" for k, v in results["sizes"].items()))
        for core in [c for c in args.cores.split(",") if c]:
            defines = ["SPB_P256_TESTING"] if args.ops else []
            elf = build(core, src, args.opt, tmp, defines, args.cflags.split())
            r = results[core] = run(core, elf)
            print(
                f"{core} ({CORES[core][0]}, -mcpu={CORES[core][1]}, {args.opt}): "
                f"P-256 verify {r['verify_mean'] / 1e6:.3f} M instructions "
                f"(min {r['verify_min'] / 1e6:.3f}, max {r['verify_max'] / 1e6:.3f}); "
                f"SHA-256 {r['sha_per_byte']:.1f} instructions/byte ({r['sha_per_byte_unaligned']:.1f} unaligned), "
                f"{r['sha_empty']:.0f} for an empty message",
                flush=True,
            )
            if r["ops"]:
                print("    " + ", ".join(f"{k} {v:.0f}" for k, v in r["ops"].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
