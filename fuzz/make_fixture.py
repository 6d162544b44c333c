#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate the fuzzing fixture for one board and the seed corpus.

    make_fixture.py OUT [BOARD]      (BOARD defaults to EMU-MPS2-AN385)

OUT receives spb_board.h, spb_keys.c (throw-away keys, kept in OUT/keys) and fuzz_fixture.h: SLOT0 as
manufactured (v1.0.0) and as it is once v1.1.0 is installed (from the .sfb or the patches), the .sfb of
v1.1.0 (so the fuzzer can get past authentication and reach the data, verification and install paths),
the signed headers of a .sfbp v1.0.0 -> v1.1.0 for each encoding, and a table of authentic headers with
edge-case fields (sizes, segment offsets, versions, protocols), since no fuzzer can forge a signature to
reach the checks that come after it. OUT/seeds/mode<N>/ gets seeds that reach every mode's deep paths from the start."""

from __future__ import annotations

import random
import struct
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "site_scons"))

from spb import image, patch  # noqa: E402
from spb.board import load_board  # noqa: E402
from spb.board_header import render  # noqa: E402
from spb.keys import DevKeyWarning, c_source, generate_keys, load_keys  # noqa: E402

PATCH_SIZE = 1024
IMAGE_SIZE = 1024
V1, V2 = 0x01000000, 0x01000100
MODES = 9
MARK_READY = 0x80


def c_array(name, data):
    body = ",".join(str(b) for b in data)
    return f"static const unsigned char {name}[{len(data)}] = {{{body}}};\n"


def edge_headers(keys, board, v1, v2_header):
    """Authentic headers the fuzzer cannot make: (name, header bytes). Entry 0 is v1.1.0's own header."""
    vec = board.vector_size
    slot1_room = board.slot1.size - vec
    slot0_room = board.slot0.size - vec
    tag1 = image.image_header(v1, V1, keys).tag
    tag2, iv2 = v2_header.tag, v2_header.iv
    full = image.PROTOCOL_IMAGE

    def h(protocol, version, size, tag=tag2, segoff=0, iv=iv2):
        return image.Header(protocol, iv, version, size, tag, segoff).signed(keys).pack()

    table = [
        ("v2", v2_header.pack()),
        ("size 0", h(full, V2, 0)),
        ("size 17", h(full, V2, 17)),
        ("size not /16", h(full, V2, IMAGE_SIZE + 8)),
        ("SLOT1 + 16", h(full, V2, slot1_room + 16)),
        ("SLOT1 exact", h(full, V2, slot1_room)),
        ("SLOT0 + 16", h(full, V2, slot0_room + 16)),
        ("size 2^32-16", h(full, V2, 0xFFFFFFF0)),
        ("segoff 0x100", h(full, V2, IMAGE_SIZE, segoff=0x100)),
        ("segoff 2^32-16", h(full, V2, IMAGE_SIZE, segoff=0xFFFFFFF0)),
        ("segoff = size", h(full, V2, IMAGE_SIZE, segoff=IMAGE_SIZE)),
        # v1.1.0's image (its tag and IV, so SLOT1's body verifies) under older or equal versions.
        ("rollback v0", h(full, 1, IMAGE_SIZE)),
        ("equal v1", h(full, V1, IMAGE_SIZE)),
        ("protocol 2", h(0x0002, V2, IMAGE_SIZE)),
        ("protocol ffff", h(0xFFFF, V2, IMAGE_SIZE)),
    ]
    for protocol, name in ((patch.ENCODINGS["compat"], "compat"), (patch.ENCODINGS["compact"], "compact")):
        table += [
            (f"{name} size 2^32-1", h(protocol, V1, 0xFFFFFFFF, tag1)),
            (f"{name} size 0", h(protocol, V1, 0, tag1)),
            (f"{name} size 1", h(protocol, V1, 1, tag1)),
            (f"{name} size SLOT1", h(protocol, V1, board.slot1.size, tag1)),
            (f"{name} wrong FROM version", h(protocol, V1 + 1, PATCH_SIZE, tag1)),
            (f"{name} wrong FROM tag", h(protocol, V1, PATCH_SIZE, tag2)),
        ]
    table += [
        ("TO is a patch", h(patch.ENCODINGS["compat"], V2, IMAGE_SIZE)),
        ("TO older", h(full, 1, IMAGE_SIZE)),
        ("TO size 0", h(full, V2, 0)),
        ("TO huge", h(full, V2, 0xFFFFFFF0)),
    ]
    return table


def app_image(board, data):
    """`data` under a vector table the bootloader's hand-over checks accept: initial SP at the top of RAM,
    reset handler (Thumb) just after the two vector words."""
    sp = board.ram.base + board.ram.size
    reset = board.slot0.address + board.vector_size + 8
    return struct.pack("<II", sp, reset | 1) + data[8:]


def main(out, board_name="EMU-MPS2-AN385"):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    board = load_board(REPO / "boards" / f"{board_name}.toml")
    if board.slot1 is None or board.slot0.external is not None or board.external_flash is not None:
        raise SystemExit(f"{board_name}: the fuzz target needs two slots in internal flash (no external segment)")
    vec = board.vector_size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        keys = load_keys(out / "keys") if (out / "keys").is_dir() else generate_keys(out / "keys", development=True)
    rng = random.Random(1)
    v1, v2 = app_image(board, rng.randbytes(IMAGE_SIZE)), app_image(board, rng.randbytes(IMAGE_SIZE))
    header1 = image.image_header(v1, V1, keys)
    header2 = image.image_header(v2, V2, keys)
    slot0 = image.installed_header(header1, vec) + v1
    slot0_v2 = image.installed_header(header2, vec) + v2
    sfb = image.build_sfb(v2, V2, keys, vec)
    ready = header2.signature[:32]
    # SLOT1 as the download leaves it once marked READY (header area padding erased on the board).
    erased = bytes([board.flash.erased_value])
    slot1_ready = bytearray(sfb[:128] + erased * (vec - 128) + sfb[vec:])
    slot1_ready[MARK_READY : MARK_READY + 32] = ready

    seeds = {m: {} for m in range(MODES)}
    seeds[0]["header-magic"] = b"\x00\x05SU\x01\x00"
    seeds[1]["complete-sfb"] = b"\x01\x05" + sfb[128:]
    seeds[2]["slot1-ready"] = b"\x02\x05" + bytes(slot1_ready)
    seeds[3]["markers-body"] = b"\x03\x05" + bytes(slot1_ready[128:])

    # Patch streams: authentic headers for v1 -> v2p whose raw patch is PATCH_SIZE bytes; the fuzzer
    # supplies those bytes (zero-padded), the target encrypts them. Real patches seed the corpus.
    v2p = bytearray(v1)
    v2p[100:100] = rng.randbytes(48)
    for k in range(97, 1000, 97):  # the vector table stays
        v2p[k] ^= 0x5A
    v2p = bytes(v2p[:IMAGE_SIZE])
    slot0_v2p = image.installed_header(image.image_header(v2p, V2, keys), vec) + v2p
    headers = {}
    for mode, encoding in ((4, "compat"), (5, "compact")):
        raw = patch.make_patch(v1, v2p, encoding)
        raw = raw + bytes(PATCH_SIZE - len(raw))
        sfbp = patch.build_sfbp(v1, V1, v2p, V2, keys, encoding=encoding, raw_patch=raw)
        headers[encoding] = sfbp[:256]
        seeds[mode]["real-patch"] = bytes([mode, 7]) + raw.rstrip(b"\0")

    # Mode 6 (decoders alone): [6, seed, encoding, new size (u16), old size / 8 (0: all 1024)] + raw patch.
    targets = {"v2p": v2p, "shorter": v1[:500] + v1[700:], "longer": v1 + rng.randbytes(300), "unrelated": v2}
    for name, new in targets.items():
        for enc_bit, encoding in enumerate(("compat", "compact")):
            raw = patch.make_patch(v1, new, encoding)
            seeds[6][f"{encoding}-{name}"] = bytes([6, 3, enc_bit]) + struct.pack("<HB", len(new), 0) + raw

    # Mode 7 (edge headers): [7, seed, first index, second index, variant] + the rest.
    table = edge_headers(keys, board, v1, header2)
    names = [name for name, _ in table]
    for a in range(len(names)):
        seeds[7][f"stream-{a}"] = bytes([7, 1, a, names.index("TO older"), 0]) + b"\0" * 64
        seeds[7][f"slot1-{a}"] = bytes([7, 1, a, 0, 1]) + bytes(slot1_ready[128:])
        seeds[7][f"slot0-{a}"] = bytes([7, 1, a, 0, 2])
    compat_p = names.index("compat size 1")
    seeds[7]["patch-then-v2"] = bytes([7, 1, compat_p, 0, 0]) + b"\0" * 16

    # Mode 8 (power cuts over near-valid states): [8, seed, state, counts, prefix] + cuts + damage + markers.
    # state bits 0-1 SLOT0 (v1, erased, v2, partial v2), bit 2 download, bits 3-4 READY, 5-6 APPROVED
    # (erased, full, torn, arbitrary), bit 7 the install journal from the input; counts bits 0-1 DONE,
    # bits 2-4 damage entries, bits 5-7 cuts.
    for cuts in ((), (3,), (40,), (150,), (2, 30), (160, 5, 90)):
        blob = b"".join(struct.pack("<H", c) for c in cuts)
        seeds[8][f"ready-cut{'-'.join(map(str, cuts)) or 'none'}"] = bytes([8, 1, 0x08, len(cuts) << 5, 0]) + blob
        seeds[8][f"download-cut{'-'.join(map(str, cuts)) or 'none'}"] = bytes([8, 9, 0x04, len(cuts) << 5, 0]) + blob
    seeds[8]["approved-partial"] = bytes([8, 1, 0x03 | 0x08 | 0x20, 0, 40])
    seeds[8]["torn-ready"] = bytes([8, 1, 0x10, 0, 0]) + ready[:13]

    # The overwrite install (TRIAL=0): the invariants below (a second boot writes nothing) are its own.
    (out / "spb_board.h").write_text(render(board, trial=False))
    (out / "spb_keys.c").write_text(c_source(keys))
    edge = b"".join(raw for _, raw in table)
    (out / "fuzz_fixture.h").write_text(
        "/* Generated by fuzz/make_fixture.py */\n"
        f"#define FIX_IMAGE_SIZE {IMAGE_SIZE}u\n"
        f"#define FIX_PATCH_SIZE {PATCH_SIZE}u\n"
        f"#define FIX_EDGE_COUNT {len(table)}u\n"
        + c_array("FIX_SLOT0", slot0)
        + c_array("FIX_SLOT0_V2", slot0_v2)
        + c_array("FIX_SLOT0_V2P", slot0_v2p)
        + c_array("FIX_SFB", sfb)
        + c_array("FIX_SFBP_COMPAT", headers["compat"])
        + c_array("FIX_SFBP_COMPACT", headers["compact"])
        + c_array("FIX_EDGE", edge)
        + "/* FIX_EDGE entries: "
        + "; ".join(f"{i} {name}" for i, name in enumerate(names))
        + " */\n"
    )
    for mode, named in seeds.items():
        folder = out / "seeds" / f"mode{mode}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in named.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main(*sys.argv[1:])
