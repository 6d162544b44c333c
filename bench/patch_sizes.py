#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Delta-patch sizes and creation times: spb's patch encodings against JojoDiff, bsdiff4, detools and
hdiffpatch on real Cortex-M firmware pairs.

The firmware is bench/fwpairs (a ~45-60 KiB measurement application with a shell, DSP, CRC/SHA-256,
a state machine, tables and newlib-nano printf with floats), built by the project's own SCons plugin
in release variants. Each pair diffs the base release against one variant:

  small  1.4.0 -> 1.4.1: version string, one constant, one line in a function body
  func   1.4.0 -> 1.5.0: a new function in the middle of dsp.c, called from sensor.c
  large  1.4.0 -> 2.0.0: several modules changed, pid.c added, ring buffer/parameter refactor
  opt    same source, -Os -> -O2 (all of the application's own code differs)

The images are the plaintext <BUILD_DIR>/meter_<variant>.bin a patch works on. Builds go to
build/bench/fwpairs/<BOARD>/ and are incremental (SCons decides), so a second run only diffs.

The corpus (bench/corpus/build.py, skipped by --quick and --no-corpus): consecutive release tags of
MicroPython (bare-arm port), littlefs, Mbed TLS and the FreeRTOS kernel, fetched at pinned commits and
cross-compiled here; the "board" column is the project there.

Every patch is applied again and compared with the new image (ours with spb.patch.apply_patch, the
peers with their own apply functions); a failed round trip is reported and makes the exit status 1.
Creation time is wall time of one call on one core (the process is pinned to one CPU where the OS
allows it), the best of --repeat runs.

Peers are benchmark-only dependencies, not dependencies of spb:

    .venv/bin/python -m pip install bsdiff4 detools hdiffpatch
    sh bench/build_jdiff.sh      # JojoDiff 0.8.5 from source into build/bench/jdiff (run automatically)

Columns and settings (RAM = what the device needs to apply the patch; ">8K" = more than 8 KiB):
  bsdiff4    bsdiff4.diff: BSDIFF40, three bzip2 streams read in parallel (random access into the
             patch); bzip2 -9 decompression needs ~3.7 MB per stream (~2.3 MB in small mode).  >8K
  dt-seq-hs  detools create_patch(compression='heatshrink', patch_type='sequential'), heatshrink
             window 2^8 / lookahead 2^7 (detools' defaults): a few hundred bytes of decoder state,
             patch streamed, old image read with seeks.                                       <=8K
  dt-seq-lz  detools sequential, compression='lzma' (Python lzma FORMAT_ALONE, preset 6: the header
             asks for an 8 MiB dictionary; the LZMA probability tables alone are ~16 KB).      >8K
  dt-ip-hs   detools patch_type='in-place', heatshrink: rewrites the single slot segment by segment
             (resumable); memory_size = the board's SLOT0 size less the header, rounded down to
             the segment, segment_size = 2 KiB (an L4 page; 16 L0 pages: 128-byte segments
             make the patches 10-90 % larger).                                                <=8K
  dt-ip-lz   detools in-place with lzma.                                                       >8K
             (The corpus pairs, which are not built for a board, use NUCLEO-L452RE's SLOT0.)
  hd-tuz     hdiffpatch.diff_lite (HPatchLite format, the one HDiffPatch's tiny device applier
             reads) with TuzConfig(dict_size=4096, literal_line=True): tinyuz needs its dictionary
             plus small caches. The best of its codecs that fits the budget (lite+tamp is larger).
                                                                                              <=8K
  hd-lzma    hdiffpatch.diff_lite with 'lzma' (its smallest codec; LZMA RAM as above).         >8K
  jdiff      JojoDiff 0.8.5 `jdiff -j old new patch`, checked with `jdiff -u`. Its stream leaves out
             the ESC+MOD after an operation (literals that follow EQL/DEL/BKT directly are MODs):
             the compat decoder (ours, bootloader/src/patch_jojo.c) refuses it.                  n/a
  jdiff-x    the same stream with the implied ESC+MOD written out (2 bytes each), nothing else
             changed: JojoDiff 0.8.5's operations in the form a compat device applies.          <=8K
  compat, compact   spb.patch.make_patch(old, new, encoding) (skipped if spb.patch is missing).

Every compat patch (ours and jdiff-x) is also applied by the device's own decoder,
bootloader/src/patch_jojo.c built for the host with bench/jojo_apply.c (fed in 1..61-byte pieces).

Ratios are ours / best peer (< 1.0: ours is smaller), against all peers and against the peers that
fit 8 KiB of device RAM.

Usage:
  .venv/bin/python bench/patch_sizes.py [--quick] [--json FILE] [--boards B1,B2] [--pairs P1,P2]
                                        [--repeat N] [--no-corpus] [--scale] [--dense] [--site-scons DIR]
  --quick: NUCLEO-L452RE only, pairs small and large, no corpus.
  --scale: also creation time and peak memory (ru_maxrss of a fresh process) of compat and compact
           patches of 1 MiB and 16 MiB images (random bytes with an edit every 4 KiB: every index key
           unique), and of the worst case, a 1 MiB image with every 8th byte changed (131 k matches).
  --dense: only that worst case (best of 3 fresh processes), nothing else is built or measured.
  --site-scons DIR: measure the spb package found in DIR (e.g. an older checkout's site_scons).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FWPAIRS = REPO / "bench" / "fwpairs"
BUILD_ROOT = REPO / "build" / "bench" / "fwpairs"
JDIFF = REPO / "build" / "bench" / "jdiff" / "jdiff"
JOJO_APPLY = REPO / "build" / "bench" / "jojo_apply" / "jojo_apply"
if "--site-scons" in sys.argv:
    SITE_SCONS = str(Path(sys.argv[sys.argv.index("--site-scons") + 1]).resolve())
else:
    SITE_SCONS = str(REPO / "site_scons")
sys.path.insert(0, SITE_SCONS)

DEFAULT_BOARDS = ["NUCLEO-L452RE", "NUCLEO-L073RZ"]
CORPUS_BOARD = "NUCLEO-L452RE"  # the in-place memory region the corpus pairs are measured with
PAIRS = ["small", "func", "large", "opt"]
BASE = "base"
DETOOLS_SEGMENT = 2048
RAM_BUDGET = 8 * 1024

# name, whether it applies in <= 8 KiB of device RAM, note
PEERS = [
    ("jdiff", False, "JojoDiff 0.8.5 stream: implied MODs, refused by compat decoders"),
    ("jdiff-x", True, "JojoDiff 0.8.5 operations, MODs written out: compat decoder"),
    ("bsdiff4", False, "bzip2 x3 streams, random patch access"),
    ("dt-seq-hs", True, "heatshrink 2^8/2^7"),
    ("dt-seq-lz", False, "LZMA, 8 MiB dict in header"),
    ("dt-ip-hs", True, f"in-place, {DETOOLS_SEGMENT // 1024} KiB segments"),
    ("dt-ip-lz", False, "in-place, LZMA"),
    ("hd-tuz", True, "HPatchLite + tinyuz 4 KiB dict"),
    ("hd-lzma", False, "HPatchLite + LZMA"),
]
OURS = ["compat", "compact"]
# The LZMA-class peers (entropy coders with a large window / LZMA models, > 8 KiB of RAM to apply) and
# "large-change" pairs: the best of them needs more than this share of the new image.
LZMA_CLASS = ["bsdiff4", "dt-seq-lz", "dt-ip-lz", "hd-lzma"]
LARGE_CHANGE = 0.05


@dataclass
class Result:
    board: str
    pair: str
    tool: str
    old_size: int
    new_size: int
    size: int | None = None
    create_s: float | None = None
    verified: bool | None = None
    fits_8k: bool | None = None
    error: str | None = None


@dataclass
class Pair:
    board: str
    name: str
    old: bytes
    new: bytes
    results: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Building the firmware pairs


def ensure_keys(directory: Path) -> Path:
    if not (directory / "signing_key.pem").exists():
        from spb.keys import DevKeyWarning, generate_keys

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DevKeyWarning)
            generate_keys(directory, development=True)
    return directory


def build(board: str, keys: Path) -> Path:
    out = BUILD_ROOT / board
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "site_scons"), env.get("PYTHONPATH", "")])
    env.pop("SCONSFLAGS", None)
    cmd = [
        sys.executable,
        "-m",
        "SCons",
        "-j2",
        "-Q",
        "-C",
        str(FWPAIRS),
        f"BOARD={board}",
        f"BUILD_DIR={out}",
        f"KEYS={keys}",
        "VERSION=1.4.0",
        f"RELEASES_DIR={out}/releases",  # not bench/fwpairs/releases: the pairs are measured, not released
        "RELEASE_REPLACE=1",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"building the bench firmware for {board} failed:\n{result.stdout}\n{result.stderr}")
    return out


def size_line(out: Path, variant: str) -> str:
    """The SLOT0 line of the plugin's size report."""
    report = out / f"meter_{variant}.size.txt"
    for line in report.read_text().splitlines():
        if line.strip().startswith("SLOT0"):
            return line.split("]", 1)[-1].strip()
    return "?"


# --------------------------------------------------------------------------------------------------
# Tools: each returns (patch, verified)


def timed(function, repeat):
    best = None
    value = None
    for _i in range(repeat):
        start = time.perf_counter()
        value = function()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        if elapsed > 2.0:  # slow tools: one run is precise enough
            break
    return value, best


ESC, MOD, INS, DEL, EQL, BKT = 0xA7, 0xA6, 0xA5, 0xA4, 0xA3, 0xA2


def jdiff_explicit(stream: bytes) -> bytes:
    """JojoDiff 0.8.5 writes the literals that follow EQL/DEL/BKT without ESC MOD (MOD is implied);
    the compat format needs it written: insert ESC MOD there, change nothing else."""
    out = bytearray()
    i, n, literal = 0, len(stream), False
    while i < n:
        if stream[i] == ESC and i + 1 < n and stream[i + 1] in (MOD, INS, DEL, EQL, BKT):
            op = stream[i + 1]
            out += stream[i : i + 2]
            i += 2
            literal = op in (MOD, INS)
            if not literal:
                size = {252: 2, 253: 3, 254: 5}.get(stream[i], 1)
                out += stream[i : i + size]
                i += size
            continue
        if not literal:
            out += bytes([ESC, MOD])
            literal = True
        size = 2 if stream[i] == ESC else 1  # A7 + non-opcode: a literal pair, kept as it is
        out += stream[i : i + size]
        i += size
    return bytes(out)


def c_apply(old: bytes, patch: bytes) -> bytes | None:
    """The device's compat decoder (bootloader/src/patch_jojo.c via bench/jojo_apply.c); None if refused."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / name for name in ("old", "patch", "new")]
        paths[0].write_bytes(old)
        paths[1].write_bytes(patch)
        if subprocess.run([str(JOJO_APPLY), *map(str, paths)], capture_output=True).returncode != 0:
            return None
        return paths[2].read_bytes()


def build_c_decoder() -> bool:
    """bench/jojo_apply.c + bootloader/src/patch_jojo.c for the host (a board header for its includes)."""
    from spb.board import load_board
    from spb.board_header import render

    gen = JOJO_APPLY.parent
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "spb_board.h").write_text(render(load_board(REPO / "boards" / "EMU-MPS2-AN385.toml")))
    boot = REPO / "bootloader"
    includes = [gen, boot / "include", boot / "src", boot / "port", boot / "port" / "common", boot / "port" / "host"]
    cmd = ["cc", "-O2", "-DSPB_HOST", *[f"-I{d}" for d in includes], str(REPO / "bench" / "jojo_apply.c")]
    cmd += [str(boot / "src" / "patch_jojo.c"), "-o", str(JOJO_APPLY)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"the host build of the compat decoder failed (compat patches checked in Python only):\n{result.stderr}")
    return result.returncode == 0


def jdiff_tools():
    if not JDIFF.exists():
        result = subprocess.run(["sh", str(REPO / "bench" / "build_jdiff.sh")], capture_output=True, text=True)
        if result.returncode != 0:
            return None, f"bench/build_jdiff.sh failed: {result.stderr[-2000:]}"

    def run_jdiff(args):
        result = subprocess.run([str(JDIFF), *args], capture_output=True)
        if result.returncode > 1:  # jdiff exits 1 when the files differ
            raise RuntimeError(f"jdiff {' '.join(args)}: status {result.returncode}")

    def create(old, new, board):
        with tempfile.TemporaryDirectory() as tmp:
            o, n, p = Path(tmp) / "old", Path(tmp) / "new", Path(tmp) / "patch"
            o.write_bytes(old)
            n.write_bytes(new)
            run_jdiff(["-j", str(o), str(n), str(p)])
            return p.read_bytes()

    def verify(old, patch, new, board):
        with tempfile.TemporaryDirectory() as tmp:
            o, p, n = Path(tmp) / "old", Path(tmp) / "patch", Path(tmp) / "new"
            o.write_bytes(old)
            p.write_bytes(patch)
            run_jdiff(["-u", str(o), str(p), str(n)])
            return n.read_bytes() == new

    def verify_explicit(old, patch, new, board):
        from spb import jojo

        return jojo.apply(old, patch) == new and (C_DECODER is None or C_DECODER(old, patch) == new)

    return {
        "jdiff": (create, verify),
        "jdiff-x": (lambda old, new, board: jdiff_explicit(create(old, new, board)), verify_explicit),
    }, None


C_DECODER = None  # c_apply once the host decoder is built


def load_peers():
    peers, missing = {}, []
    jd, why = jdiff_tools()
    if jd is None:
        print(why)
        missing.append("jdiff")
    else:
        peers.update(jd)
    try:
        import bsdiff4

        peers["bsdiff4"] = (
            lambda old, new, board: bsdiff4.diff(old, new),
            lambda old, patch, new, board: bsdiff4.patch(old, patch) == new,
        )
    except ImportError:
        missing.append("bsdiff4")
    try:
        import detools

        def dt_create(compression, patch_type):
            def create(old, new, board):
                kwargs = {}
                if patch_type == "in-place":
                    kwargs = {"memory_size": detools_memory_size(board), "segment_size": DETOOLS_SEGMENT}
                out = io.BytesIO()
                detools.create_patch(
                    io.BytesIO(old), io.BytesIO(new), out, compression=compression, patch_type=patch_type, **kwargs
                )
                return out.getvalue()

            return create

        def dt_apply_sequential(old, patch, new, board):
            to = io.BytesIO()
            detools.apply_patch(io.BytesIO(old), io.BytesIO(patch), to)
            return to.getvalue() == new

        def dt_apply_in_place(old, patch, new, board):
            size = detools_memory_size(board)
            memory = io.BytesIO(old + b"\xff" * (size - len(old)))
            n = detools.apply_patch_in_place(memory, io.BytesIO(patch))
            return memory.getvalue()[:n] == new

        peers["dt-seq-hs"] = (dt_create("heatshrink", "sequential"), dt_apply_sequential)
        peers["dt-seq-lz"] = (dt_create("lzma", "sequential"), dt_apply_sequential)
        peers["dt-ip-hs"] = (dt_create("heatshrink", "in-place"), dt_apply_in_place)
        peers["dt-ip-lz"] = (dt_create("lzma", "in-place"), dt_apply_in_place)
    except ImportError:
        missing.append("detools")
    try:
        import hdiffpatch

        def hd_create(compression):
            def create(old, new, board):
                config = (
                    hdiffpatch.TuzConfig(dict_size=4096, literal_line=True) if compression == "tuz" else compression
                )
                return hdiffpatch.diff_lite(old, new, compression=config, validate=False)

            return create

        def hd_apply(old, patch, new, board):
            return hdiffpatch.apply_lite(old, patch) == new

        peers["hd-tuz"] = (hd_create("tuz"), hd_apply)
        peers["hd-lzma"] = (hd_create("lzma"), hd_apply)
    except ImportError:
        missing.append("hdiffpatch")
    return peers, missing


_BOARDS = {}


def board_info(name):
    if name not in _BOARDS:
        from spb.board import find_board, load_board

        _BOARDS[name] = load_board(find_board(name, REPO / "boards"))
    return _BOARDS[name]


def detools_memory_size(board_name: str) -> int:
    """The in-place memory region: SLOT0 after the installed header, in whole segments. The corpus
    projects are not boards: they get NUCLEO-L452RE's region (Cortex-M4 like them, 127.5 KiB)."""
    board = board_info(CORPUS_BOARD if board_name.islower() else board_name)  # board names are upper case
    return (board.slot0.size - board.vector_size) // DETOOLS_SEGMENT * DETOOLS_SEGMENT


def load_ours():
    try:
        from spb.patch import apply_patch, make_patch
    except Exception as exc:  # ImportError, or a half-written module
        return None, f"{type(exc).__name__}: {exc}"

    def verify(old, patch, new, encoding):
        if apply_patch(old, patch, encoding) != new:
            return False
        return encoding != "compat" or C_DECODER is None or C_DECODER(old, patch) == new

    tools = {}
    for encoding in OURS:
        tools[encoding] = (
            lambda old, new, board, e=encoding: make_patch(old, new, encoding=e),
            lambda old, patch, new, board, e=encoding: verify(old, patch, new, e),
        )
    return tools, None


def run_tool(pair: Pair, tool: str, create, verify, repeat: int, fits):
    result = Result(pair.board, pair.name, tool, len(pair.old), len(pair.new), fits_8k=fits)
    try:
        patch, elapsed = timed(lambda: create(pair.old, pair.new, pair.board), repeat)
        result.size, result.create_s = len(patch), elapsed
    except Exception as exc:
        result.error = f"create: {type(exc).__name__}: {exc}"
        return result
    try:
        result.verified = bool(verify(pair.old, patch, pair.new, pair.board))
        if not result.verified:
            result.error = "round trip produced a different image"
    except Exception as exc:
        result.verified = False
        result.error = f"apply: {type(exc).__name__}: {exc}"
    return result


# --------------------------------------------------------------------------------------------------
# Report


def fmt_size(r: Result | None) -> str:
    if r is None:
        return "-"
    if r.size is None:
        return "ERR"
    return f"{r.size}" + ("" if r.verified else "!")


def best(results, only_fitting):
    good = [r for r in results if r.size is not None and r.verified and (r.fits_8k or not only_fitting)]
    return min(good, key=lambda r: r.size) if good else None


def table(headers, rows, right_from=1):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]

    def line(cells):
        return "  ".join(
            str(c).ljust(w) if i < right_from else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def report(pairs, peer_names, our_names):
    tools = peer_names + our_names
    rows = []
    for p in pairs:
        rows.append([p.board, p.name, len(p.old), len(p.new)] + [fmt_size(p.results.get(t)) for t in tools])
    print("\nPatch size in bytes (! = failed round trip, ERR = creation failed, - = not run)")
    print(table(["board", "pair", "old", "new"] + tools, rows, right_from=2))

    if our_names:
        rows = []
        for p in pairs:
            peers = [p.results[t] for t in peer_names if t in p.results]
            b_all, b_fit = best(peers, False), best(peers, True)
            row = [
                p.board,
                p.name,
                f"{b_all.tool} {b_all.size}" if b_all else "-",
                f"{b_fit.tool} {b_fit.size}" if b_fit else "-",
            ]
            for t in our_names:
                r = p.results.get(t)
                for ref in (b_all, b_fit):
                    row.append(f"{r.size / ref.size:.2f}" if r and r.size and r.verified and ref else "-")
            rows.append(row)
        headers = ["board", "pair", "best peer", "best peer <=8K"]
        for t in our_names:
            headers += [f"{t}/best", f"{t}/best8K"]
        print("\nOurs / best peer (< 1.00: ours is smaller)")
        print(table(headers, rows, right_from=2))

    if our_names:
        rows = []
        for ours in our_names:
            row = [ours]
            for t in tools:
                ratios = [
                    p.results[ours].size / p.results[t].size
                    for p in pairs
                    if all(x in p.results and p.results[x].size and p.results[x].verified for x in (ours, t))
                ]
                row.append(f"{math.exp(sum(map(math.log, ratios)) / len(ratios)):.3f}" if ratios else "-")
            rows.append(row)
        print("\nGeo-mean over the pairs of ours / each tool (< 1: ours is smaller)")
        print(table(["ours"] + tools, rows, right_from=1))

    lz_names = [t for t in LZMA_CLASS if t in peer_names]
    if lz_names and "compact" in our_names:
        rows, logs, large_logs = [], [], []
        for p in pairs:
            r, b = p.results.get("compact"), best([p.results[t] for t in lz_names if t in p.results], False)
            if not (r and r.size and r.verified and b):
                continue
            large = b.size > LARGE_CHANGE * len(p.new)
            ratio = r.size / b.size
            logs.append(math.log(ratio))
            if large:
                large_logs.append(math.log(ratio))
            rows.append([p.board, p.name, "yes" if large else "", f"{b.tool} {b.size}", r.size, f"{ratio:.3f}"])
        print(f"\ncompact / best LZMA-class peer ({', '.join(lz_names)})")
        print(f"(large change: that peer's patch is more than {LARGE_CHANGE:.0%} of the new image)")
        print(table(["board", "pair", "large", "best LZMA-class", "compact", "ratio"], rows, right_from=3))
        for label, values in (("all pairs", logs), ("large-change pairs", large_logs)):
            if values:
                print(
                    f"  {label}: geo-mean {math.exp(sum(values) / len(values)):.3f}, "
                    f"worst {math.exp(max(values)):.3f} ({len(values)} pairs)"
                )

    rows = []
    for p in pairs:
        rows.append(
            [p.board, p.name]
            + [
                f"{p.results[t].create_s * 1000:.0f}" if t in p.results and p.results[t].create_s is not None else "-"
                for t in tools
            ]
        )
    print("\nCreation time in ms (wall, one core, best of --repeat)")
    print(table(["board", "pair"] + tools, rows, right_from=2))

    print("\nDevice RAM to apply (from the tools' documentation; n/a: no compat device applies it):")
    for name, fits, note in PEERS:
        if name in peer_names:
            print(f"  {name:<10} {'<=8K' if fits else 'n/a ' if name == 'jdiff' else '>8K ':<5} {note}")


SCALE_CHILD = """
import json, random, resource, sys, time
sys.path.insert(0, sys.argv[3])
from spb.patch import apply_patch, make_patch
size, encoding, scenario = int(sys.argv[1]) << 20, sys.argv[2], sys.argv[4]
rng = random.Random(size)
old = rng.randbytes(size)
new = bytearray(old)
if scenario == "dense":  # the worst case: one changed byte in every 8 (131 k matches per MiB)
    for at in range(0, size, 8):
        new[at] ^= 0x55
else:
    for _ in range(size // 4096):
        at, kind = rng.randrange(len(new)), rng.randrange(3)
        if kind == 0:
            new[at] ^= 0x55
        elif kind == 1:
            new[at:at] = rng.randbytes(rng.randrange(1, 40))
        else:
            del new[at : at + rng.randrange(1, 40)]
new = bytes(new)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
patch = make_patch(old, new, encoding)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ok = apply_patch(old, patch, encoding) == new
print(json.dumps({"size": size, "patch": len(patch), "s": elapsed, "peak_kib": peak, "before_kib": before, "ok": ok}))
"""


SCENARIOS = {
    "edits": "random bytes with one edit (flip, insert or delete 1-39 bytes) per 4 KiB",
    "dense": "random bytes with every 8th byte flipped (the worst case: 131 k matches per MiB)",
}


def scale(encodings, sizes_mib, scenario="edits", repeat=1):
    """Creation time and memory of large patches, each in a fresh process (ru_maxrss is a peak); the
    best time of `repeat` processes."""
    print(f"\nLarge images ({scenario}): {SCENARIOS[scenario]}")
    rows, failed = [], False
    for encoding in encodings:
        for mib in sizes_mib:
            runs = []
            for _ in range(repeat):
                result = subprocess.run(
                    [sys.executable, "-c", SCALE_CHILD, str(mib), encoding, SITE_SCONS, scenario],
                    capture_output=True,
                    text=True,
                )
                if result.returncode != 0:
                    break
                runs.append(json.loads(result.stdout))
            if result.returncode != 0:
                print(f"  {encoding} {mib} MiB failed: {result.stderr[-2000:]}")
                failed = True
                continue
            r = min(runs, key=lambda run: run["s"])
            failed |= not all(run["ok"] for run in runs)
            n = r["size"]
            rows.append(
                [
                    encoding,
                    f"{mib} MiB",
                    r["patch"],
                    f"{r['s']:.2f}",
                    f"{r['s'] / mib:.3f}",
                    f"{r['peak_kib'] * 1024 / n:.1f}",
                    f"{(r['peak_kib'] - r['before_kib']) * 1024 / n:.1f}",
                    "yes" if r["ok"] else "NO",
                ]
            )
    headers = ["encoding", "image", "patch", "create s", "s/MiB", "peak B/byte", "growth B/byte", "round trip"]
    print(table(headers, rows, right_from=2))
    print("  peak: the process's ru_maxrss (interpreter, both images and the patch included);")
    print("  growth: ru_maxrss after creating the patch less before (the encoder's own memory).")
    return failed


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one board (NUCLEO-L452RE), pairs small and large")
    parser.add_argument("--boards", help=f"comma-separated board names (default {','.join(DEFAULT_BOARDS)})")
    parser.add_argument("--pairs", help=f"comma-separated pairs out of {','.join(PAIRS)}")
    parser.add_argument("--repeat", type=int, default=3, help="creation runs per patch; the best counts (default 3)")
    parser.add_argument("--json", metavar="FILE", help="write the raw results as JSON")
    parser.add_argument("--no-corpus", action="store_true", help="only bench/fwpairs, not bench/corpus")
    parser.add_argument("--no-fwpairs", action="store_true", help="only the corpus, not bench/fwpairs")
    parser.add_argument("--scale", action="store_true", help="also creation time/memory at 1 and 16 MiB")
    parser.add_argument(
        "--dense",
        action="store_true",
        help="only creation time/memory of 1 MiB images with every 8th byte changed (the worst case), best of 3",
    )
    parser.add_argument("--site-scons", metavar="DIR", help="take spb from DIR instead of site_scons/")
    args = parser.parse_args()

    boards = args.boards.split(",") if args.boards else (["NUCLEO-L452RE"] if args.quick else DEFAULT_BOARDS)
    pair_names = args.pairs.split(",") if args.pairs else (["small", "large"] if args.quick else PAIRS)
    unknown = [p for p in pair_names if p not in PAIRS]
    if unknown:
        sys.exit(f"unknown pair(s) {unknown}; choose from {PAIRS}")

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    if args.dense:
        ours, why_not = load_ours()
        if ours is None:
            sys.exit(f"spb.patch is not importable ({why_not})")
        return 1 if scale(list(ours), [1], "dense", repeat=3) else 0

    global C_DECODER
    if build_c_decoder():
        C_DECODER = c_apply
    peers, missing = load_peers()
    if missing:
        print(
            f"peers not installed, skipped: {', '.join(missing)} "
            f"(.venv/bin/python -m pip install bsdiff4 detools hdiffpatch)"
        )
    ours, why_not = load_ours()
    if ours is None:
        print(f"spb.patch is not importable ({why_not}): our rows are skipped")
        ours = {}
    peer_names = [name for name, _, _ in PEERS if name in peers]
    our_names = list(ours)

    keys = ensure_keys(REPO / "build" / "bench" / "keys")
    pairs = []
    print("Firmware images (plaintext .bin, SLOT0 use from the plugin's size report):")
    for board in [] if args.no_fwpairs else boards:
        out = build(board, keys)
        for variant in [BASE] + pair_names:
            print(f"  {board:<14} meter_{variant:<6} {size_line(out, variant)}")
        old = (out / f"meter_{BASE}.bin").read_bytes()
        for name in pair_names:
            pairs.append(Pair(board, name, old, (out / f"meter_{name}.bin").read_bytes()))
    if not (args.quick or args.no_corpus):
        import importlib.util

        spec = importlib.util.spec_from_file_location("corpus_build", REPO / "bench" / "corpus" / "build.py")
        corpus = importlib.util.module_from_spec(spec)
        sys.modules["corpus_build"] = corpus  # dataclasses look their module up
        spec.loader.exec_module(corpus)

        print("Corpus (bench/corpus/build.py):")
        for name, old_path, new_path in corpus.build_all(jobs=2):
            project, tags = name.split(" ", 1)
            print(f"  {name:<32} {old_path.stat().st_size:>8} -> {new_path.stat().st_size:>8} bytes")
            pairs.append(Pair(project, tags, old_path.read_bytes(), new_path.read_bytes()))

    failures = []
    for pair in pairs:
        fits = {name: fit for name, fit, _ in PEERS}
        for name in peer_names:
            create, verify = peers[name]
            pair.results[name] = run_tool(pair, name, create, verify, args.repeat, fits[name])
        for name in our_names:
            create, verify = ours[name]
            pair.results[name] = run_tool(pair, name, create, verify, args.repeat, None)
        failures += [r for r in pair.results.values() if r.error]
        print(f"  done {pair.board} {pair.name}", file=sys.stderr)

    report(pairs, peer_names, our_names)
    if args.scale and our_names and (scale(our_names, [1, 16]) | scale(our_names, [1], "dense")):
        failures.append(Result("-", "scale", "/".join(our_names), 0, 0, error="large-image round trip failed"))
    for r in failures:
        print(f"FAILED {r.board} {r.pair} {r.tool}: {r.error}")

    if args.json:
        data = {
            "host": {"python": platform.python_version(), "machine": platform.machine()},
            "peers": {name: {"fits_8k": fit, "note": note} for name, fit, note in PEERS},
            "ours_skipped": why_not,
            "results": [asdict(r) for p in pairs for r in p.results.values()],
        }
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n")
        print(f"\nraw results: {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
