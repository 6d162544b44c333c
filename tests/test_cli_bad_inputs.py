# SPDX-License-Identifier: Apache-2.0
"""Every `spb` command against a matrix of bad inputs: a missing file, a directory, an empty file, the
file truncated at several offsets, foreign bytes, and an output that cannot be written. Each must give
exit status 2, exactly one line on stderr naming the bad path, no traceback, and write nothing.

Runs in-process (spb.cli.main), a few hundred calls in about a second."""

import json
import os
import random
import struct
import warnings
from pathlib import Path

import pytest

from spb import cli, image
from spb.board import find_board, load_board
from spb.keys import DevKeyWarning, generate_keys
from support.scons_project import REPO

BOARD = "NUCLEO-L452RE"
EXT_BOARD = "DISCO-L4R9I"  # SLOT0 has an external segment (MultiSegment images)
FLASH = 0x08000000
APP = 0x08010200  # NUCLEO-L452RE: SLOT0 + vector_size


def tiny_elf(segments, symbols=()):
    """A minimal ARM ELF32 executable: one PT_LOAD segment and one allocated PROGBITS section per
    (address, data), and a symbol table of (name, address, size). Enough for spb's ELF readers."""
    ehsize, phentsize, shentsize = 52, 32, 40
    names = [".shstrtab", ".symtab", ".strtab"] + [f".s{i}" for i in range(len(segments))]
    shstrtab = b"\0" + b"".join(n.encode() + b"\0" for n in names)
    strtab = b"\0" + b"".join(n.encode() + b"\0" for n, _, _ in symbols)

    def name_at(table, name):
        return table.index(b"\0" + name.encode() + b"\0") + 1

    where = ehsize + phentsize * len(segments)
    body, phdrs, shdrs = b"", b"", [bytes(shentsize)]
    for i, (address, data) in enumerate(segments):
        phdrs += struct.pack("<8I", 1, where, address, address, len(data), len(data), 5, 4)
        shdrs.append(struct.pack("<10I", name_at(shstrtab, f".s{i}"), 1, 6, address, where, len(data), 0, 0, 4, 0))
        body += data
        where += len(data)
    symtab = bytes(16) + b"".join(
        struct.pack("<IIIBBH", name_at(strtab, n), a, size, 0x11, 0, 1) for n, a, size in symbols
    )
    count = 1 + len(segments)  # sections before the three tables: null, the segments' sections
    for name, table, kind, link, entsize in (
        (".symtab", symtab, 2, count + 1, 16),
        (".strtab", strtab, 3, 0, 0),
        (".shstrtab", shstrtab, 3, 0, 0),
    ):
        info = 1 if kind == 2 else 0
        shdrs.append(
            struct.pack("<10I", name_at(shstrtab, name), kind, 0, 0, where, len(table), link, info, 1, entsize)
        )
        body += table
        where += len(table)
    ident = b"\x7fELF\x01\x01\x01" + bytes(9)
    fields = (2, 40, 1, segments[0][0], ehsize, where, 0x05000000, ehsize, phentsize, len(segments), shentsize)
    header = ident + struct.pack("<HHIIIIIHHHHHH", *fields, len(shdrs), len(shdrs) - 1)  # e_shstrndx: the last
    return header + phdrs + body + b"".join(shdrs)


def boot_elf(board, keys, rng):
    """A bootloader ELF as spb's build makes it, as far as spb combine reads it: code, the public key it
    verifies with and the record of the board it was built for (spb.buildinfo)."""
    from spb import buildinfo

    code = rng.randbytes(1024)
    key_at = board.flash.base + len(code)
    info_at = key_at + len(keys.public_key)
    data = code + keys.public_key + buildinfo.record(board)
    symbols = [(buildinfo.KEY_SYMBOL, key_at, 64), (buildinfo.SYMBOL, info_at, buildinfo.RECORD_SIZE)]
    return tiny_elf([(board.flash.base, data)], symbols)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """Valid inputs of every kind, and the keys."""
    d = tmp_path_factory.mktemp("good")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        keys = generate_keys(d / "keys")
    rng = random.Random(12)
    old = rng.randbytes(4096)
    new = old[:1000] + rng.randbytes(64) + old[1064:]
    files = {"keys": d / "keys", "keyset": keys}
    for name, data in {"old.bin": old, "new.bin": new}.items():
        (d / name).write_bytes(data)
        files[name] = d / name
    (d / "old.sfb").write_bytes(image.build_sfb(old, 0x01000000, keys, 0x200))
    (d / "new.sfb").write_bytes(image.build_sfb(new, 0x01000100, keys, 0x200))
    (d / "app.elf").write_bytes(tiny_elf([(APP, new)]))
    (d / "boot.elf").write_bytes(boot_elf(load_board(find_board(BOARD, REPO / "boards")), keys, rng))
    for name in ("old.sfb", "new.sfb", "app.elf", "boot.elf"):
        files[name] = d / name
    k = str(d / "keys")
    assert cli.main(["patch", str(d / "old.sfb"), str(d / "new.sfb"), "--keys", k, "-q", "-o", str(d / "p.sfbp")]) == 0
    assert (
        cli.main(
            ["combine", str(d / "boot.elf"), str(d / "app.elf"), "--board", BOARD, "--keys", k]
            + ["--version", "1.1.0", "-o", str(d / "combined")]
        )
        == 0
    )
    assert cli.main(["keys", "export", "--keys", k, "-o", str(d / "pub.pem")]) == 0
    for name in ("p.sfbp", "combined.hex", "combined.bin", "pub.pem"):
        files[name] = d / name
    return files


# (command line with {IN} for the bad input and {OUT} for the output, kind of file the bad input replaces)
K = ["--keys", "{keys}"]
COMMANDS = {
    "sign-bin": (["sign", "{IN}", "--board", BOARD, *K, "--version", "1.0.0", "-o", "{OUT}"], "old.bin"),
    "sign-elf": (["sign", "{IN}", "--board", BOARD, *K, "--version", "1.0.0", "-o", "{OUT}"], "app.elf"),
    "inspect-sfb": (["inspect", "{IN}"], "old.sfb"),
    "inspect-sfbp": (["inspect", "{IN}", "--json"], "p.sfbp"),
    "verify-sfb": (["verify", "{IN}", *K], "old.sfb"),
    "verify-sfb-board": (["verify", "{IN}", "--board", BOARD, *K, "--json"], "old.sfb"),
    "verify-sfbp": (["verify", "{IN}", *K], "p.sfbp"),
    "verify-sfbp-from": (["verify", "{p.sfbp}", *K, "--from", "{IN}"], "old.sfb"),
    "patch-old": (["patch", "{IN}", "{new.sfb}", *K, "-q", "-o", "{OUT}"], "old.sfb"),
    "patch-new": (["patch", "{old.sfb}", "{IN}", *K, "-q", "-o", "{OUT}"], "new.sfb"),
    "patch-bin": (
        ["patch", "{IN}", "{new.bin}", "--from-version", "0.9.0", "--version", "1.0.0", *K] + ["-q", "-o", "{OUT}"],
        "old.bin",
    ),
    "apply-old": (["apply", "{IN}", "{p.sfbp}", *K, "-o", "{OUT}"], "old.sfb"),
    "apply-patch": (["apply", "{old.sfb}", "{IN}", *K, "-o", "{OUT}"], "p.sfbp"),
    "decrypt": (["decrypt", "{IN}", *K, "-o", "{OUT}"], "old.sfb"),
    "extract-hex": (["extract", "{IN}", "--board", BOARD, *K, "-o", "{OUT}"], "combined.hex"),
    "extract-bin": (["extract", "{IN}", "--board", BOARD, "-o", "{OUT}"], "combined.bin"),
    "combine-boot": (
        ["combine", "{IN}", "{app.elf}", "--board", BOARD, *K, "--version", "1.0.0", "-o", "{OUT}"],
        "boot.elf",
    ),
    "combine-app": (
        ["combine", "{boot.elf}", "{IN}", "--board", BOARD, *K, "--version", "1.0.0", "-o", "{OUT}"],
        "app.elf",
    ),
    "send": (["send", "socket://127.0.0.1:9", "{IN}", "-q", "--timeout", "0.1"], "old.sfb"),
    "board-check": (["board", "check", "{IN}"], None),
    "keys-export": (["keys", "export", "--public-key", "{IN}", "-o", "{OUT}"], None),
}
# Offsets at which each kind of file is cut, besides half of it, all but its last 16 bytes and all but its
# last byte. A plaintext .bin has no structure: a cut is only seen when the length is no longer a multiple of
# 16, and foreign bytes of such a length are a valid (if useless) image; those cases are left out for it.
CUTS = {
    ".sfb": [1, 64, 127, 128, 200, 0x200, 0x200 + 16],
    ".sfbp": [1, 127, 128, 255, 256, 272],
    ".elf": [1, 20, 52, 84],
    ".hex": [11, 100],
    "combined.bin": [100, 0x10100],
}
PLAINTEXT = ("old.bin", "new.bin")


def bad_inputs(kind):
    cases = ["missing", "directory", "empty", "foreign-random"]
    if kind in PLAINTEXT:
        return [*cases, "cut-1", "cut-100", "cut-last1"]
    cases.append("foreign-text")
    if kind is not None:
        cuts = CUTS.get(kind, CUTS.get(Path(kind).suffix, []))
        cases += [f"cut-{n}" for n in cuts] + ["cut-half", "cut-last16", "cut-last1"]
    return cases


MATRIX = [(name, case) for name, (_, kind) in COMMANDS.items() for case in bad_inputs(kind)]
MATRIX += [
    (name, "unwritable-" + how)
    for name, (argv, _) in COMMANDS.items()
    if "{OUT}" in argv
    for how in ("directory", "no-parent", "under-a-file")
]


def make_bad(tmp_path, kind, case, good_path):
    suffix = Path(kind).suffix if kind else ".bin"
    path = tmp_path / f"bad{suffix}"
    if case == "missing":
        return path
    if case == "directory":
        path.mkdir()
        return path
    if case == "empty":
        data = b""
    elif case == "foreign-random":
        data = random.Random(case).randbytes(3000)
    elif case == "foreign-text":
        data = b"<html><body>not firmware</body></html>\n" * 40
    else:
        whole = good_path.read_bytes()
        if suffix == ".hex":
            whole = whole.rstrip()  # a missing final newline is no truncation
        cut = {"half": len(whole) // 2, "last16": len(whole) - 16, "last1": len(whole) - 1}.get(case[4:])
        data = whole[: cut if cut is not None else int(case[4:])]
        if suffix == ".hex" and case == "cut-last16":  # at a line boundary: no end-of-file record
            data = whole[: whole.rstrip().rfind(b"\n") + 1]
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("command", "case"), MATRIX, ids=[f"{c}-{k}" for c, k in MATRIX])
def test_bad_input(good, tmp_path, capsys, command, case):
    argv, kind = COMMANDS[command]
    work = tmp_path / "w"
    work.mkdir()
    out = work / "out.x"
    if case.startswith("unwritable-"):
        bad_in = good[kind] if kind else good["pub.pem"]
        how = case[len("unwritable-") :]
        if how == "directory" and command.startswith("combine"):  # -o is a prefix: OUT.hex and OUT.bin
            (work / "out.x.hex").mkdir()
            out = work / "out.x"
        elif how == "directory":
            out.mkdir()
        elif how == "no-parent":
            out = work / "nowhere" / "out.x"
        else:
            (work / "file").write_text("x")
            out = work / "file" / "out.x"
        named = work / "out.x.hex" if how == "directory" and command.startswith("combine") else out
    elif kind is None:  # board files and key files
        named = bad_in = make_bad(tmp_path, kind, case, None)
    else:
        named = bad_in = make_bad(tmp_path, kind, case, good[kind])
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    values = {"IN": bad_in, "OUT": out, **good}
    args = [str(values[a[1:-1]]) if a.startswith("{") else a for a in argv]
    capsys.readouterr()
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2, (args, err)
    assert err.startswith("spb: error: ") and err.count("\n") == 1, err
    assert str(named) in err, err
    assert "Traceback" not in err
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before, "a file was written"  # no output, no partial output, no temporary file


def test_messages_say_what_is_wrong(good, tmp_path, capsys):
    """The problem, not only the file: a few representative messages."""
    sfb = good["old.sfb"].read_bytes()
    cases = {
        "trunc.sfb": (sfb[:300], ["verify", "{}", "--keys", str(good["keys"])], "truncated"),
        "trunc2.sfb": (sfb[:-16], ["inspect", "{}"], "truncated"),
        "dir.sfb": (None, ["inspect", "{}"], "is a directory"),
        "short.sfbp": (
            good["p.sfbp"].read_bytes()[:-1],
            ["apply", str(good["old.sfb"]), "{}", "--keys", str(good["keys"]), "-o", str(tmp_path / "o")],
            "truncated",
        ),
    }
    for name, (data, argv, words) in cases.items():
        path = tmp_path / name
        if data is None:
            path.mkdir()
        else:
            path.write_bytes(data)
        assert cli.main([a.replace("{}", str(path)) for a in argv]) == 2
        err = capsys.readouterr().err
        assert f"{path}: {words}" in err, err
    assert (
        cli.main(
            [
                "sign",
                str(good["old.bin"]),
                "--board",
                BOARD,
                "--keys",
                str(good["keys"]),
                "--version",
                "01.2.3",
                "-o",
                str(tmp_path / "v.sfb"),
            ]
        )
        == 2
    )
    assert "invalid version '01.2.3'" in capsys.readouterr().err and not (tmp_path / "v.sfb").exists()


def test_decrypt_and_extract(good, tmp_path, capsys):
    keys = ["--keys", str(good["keys"])]
    out = tmp_path / "plain.bin"
    assert cli.main(["decrypt", str(good["old.sfb"]), *keys, "-o", str(out)]) == 0
    assert out.read_bytes() == good["old.bin"].read_bytes()
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # written atomically, with a plain file's mode
    assert cli.main(["decrypt", str(good["old.sfb"]), "--board", BOARD, *keys, "-o", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["decrypt", str(good["old.sfb"]), "--board", "DISCO-F769I", *keys, "-o", str(out) + "x"]) == 2
    assert "not at the board's vector size 0x400: an image for another board?" in capsys.readouterr().err
    # A flipped ciphertext bit: exit 1, the problem on stderr, nothing written.
    tampered = bytearray(good["old.sfb"].read_bytes())
    tampered[-20] ^= 1
    (tmp_path / "t.sfb").write_bytes(bytes(tampered))
    capsys.readouterr()
    assert cli.main(["decrypt", str(tmp_path / "t.sfb"), *keys, "-o", str(tmp_path / "t.bin")]) == 1
    assert "tag" in capsys.readouterr().err and not (tmp_path / "t.bin").exists()
    # Another key: the signature does not verify.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        generate_keys(tmp_path / "other")
    assert cli.main(["decrypt", str(good["old.sfb"]), "--keys", str(tmp_path / "other"), "-o", str(out) + "2"]) == 1
    assert "signature" in capsys.readouterr().err

    # extract: the combined image's SLOT0 image is the application image, from the .hex and the .bin.
    for name in ("combined.hex", "combined.bin"):
        target = tmp_path / f"{name}.slot0"
        assert cli.main(["extract", str(good[name]), "--board", BOARD, *keys, "-o", str(target)]) == 0
        assert target.read_bytes() == good["new.bin"].read_bytes()
    # A changed application byte: the tag no longer matches.
    combined = bytearray(good["combined.bin"].read_bytes())
    combined[APP - FLASH + 5] ^= 0xFF
    (tmp_path / "c.bin").write_bytes(bytes(combined))
    capsys.readouterr()
    assert cli.main(["extract", str(tmp_path / "c.bin"), "--board", BOARD, "-o", str(tmp_path / "c.out")]) == 1
    assert "tag" in capsys.readouterr().err and not (tmp_path / "c.out").exists()
    # Signed by other keys: refused when keys are given.
    other = ["--keys", str(tmp_path / "other")]
    assert cli.main(["extract", str(good["combined.hex"]), "--board", BOARD, *other, "-o", str(tmp_path / "o")]) == 1


def test_extract_joins_a_multisegment_image(good, tmp_path, capsys):
    """On a board whose SLOT0 has an external segment, the image is the internal part followed by the
    external one (segoff), as the .sfb holds it; the .bin (internal flash only) cannot give it."""
    board = load_board(find_board(EXT_BOARD, REPO / "boards"))
    rng = random.Random(3)
    internal, external = rng.randbytes(2048), rng.randbytes(1024)
    ext = board.slot0.external
    app = tmp_path / "ext.elf"
    app.write_bytes(tiny_elf([(board.app_vector_address, internal), (ext.address, external)]))
    boot = tmp_path / "boot.elf"
    boot.write_bytes(boot_elf(board, good["keyset"], rng))
    keys = ["--keys", str(good["keys"])]
    base = ["--board", EXT_BOARD, *keys]
    assert cli.main(["combine", str(boot), str(app), *base, "--version", "2.0.0", "-o", str(tmp_path / "c")]) == 0
    assert cli.main(["extract", str(tmp_path / "c.hex"), *base, "-o", str(tmp_path / "slot0.bin")]) == 0
    assert (tmp_path / "slot0.bin").read_bytes() == internal + external
    # The same image signed as a .sfb decrypts to the same bytes.
    assert cli.main(["sign", str(app), *base, "--version", "2.0.0", "-o", str(tmp_path / "e.sfb")]) == 0
    assert cli.main(["decrypt", str(tmp_path / "e.sfb"), *keys, "-o", str(tmp_path / "e.bin")]) == 0
    assert (tmp_path / "e.bin").read_bytes() == internal + external
    capsys.readouterr()
    assert cli.main(["extract", str(tmp_path / "c.bin"), *base, "-o", str(tmp_path / "x.bin")]) == 2
    err = capsys.readouterr().err
    assert "c.bin: truncated" in err and "give the .hex" in err and not (tmp_path / "x.bin").exists()


def test_json_outputs(good, capsys):
    keys = ["--keys", str(good["keys"])]
    capsys.readouterr()
    assert cli.main(["inspect", str(good["p.sfbp"]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["kind"], doc["header"]["encoding"], doc["target"]["version"]) == ("patch", "compact", "1.1.0")
    assert doc["header"]["version_encoded"] == 0x01000000 and doc["bytes"] == good["p.sfbp"].stat().st_size
    # The documented keys (docs/cli.md): only ever added to.
    assert set(doc) == {"file", "bytes", "kind", "header", "target"}
    assert (
        set(doc["header"])
        == set(doc["target"])
        == {"magic", "protocol", "encoding", "iv", "version", "version_encoded", "size", "tag", "segoff", "signature"}
    )
    assert cli.main(["verify", str(good["old.sfb"]), *keys, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "file": str(good["old.sfb"]),
        "kind": "image",
        "ok": True,
        "version": "1.0.0",
        "version_encoded": 0x01000000,
        "size": 4096,
        "signature_valid": True,
        "tag_matches": True,
        "encoding": None,
        "from_version": None,
        "from_version_encoded": None,
        "patch_size": None,
        "problems": [],
    }
    assert cli.main(["verify", str(good["p.sfbp"]), *keys, "--from", str(good["old.sfb"]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["kind"], doc["ok"], doc["tag_matches"], doc["from_version"], doc["version"]) == (
        "patch",
        True,
        True,
        "1.0.0",
        "1.1.0",
    )
    assert cli.main(["boards", "--json"]) == 0
    boards = {b["name"]: b for b in json.loads(capsys.readouterr().out)}
    assert len(boards) == len(list((REPO / "boards").glob("*.toml")))
    assert boards["NUCLEO-L412KB"]["slots"] == 1 and boards["NUCLEO-L412KB"]["slot1"] is None
    keys = {"name", "family", "mcu", "flash", "slots", "slot0", "slot1", "external_flash", "file"}
    assert all(set(b) == keys for b in boards.values())
    assert boards[EXT_BOARD]["slot0"]["external"]["address"] == 0x90000000
    assert boards[EXT_BOARD]["external_flash"]["kind"] == "ospi"
    assert cli.main(["boards"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["board", "family", "flash", "slots"] and len(lines) == len(boards) + 1
    assert any(line.startswith(EXT_BOARD) and "MX25LM51245G (OSPI)" in line for line in lines)


def test_progress_is_line_based_off_a_terminal(good, tmp_path, capsys):
    """`spb patch` without -q: off a terminal (here, captured stderr) a few plain lines, never a `\\r`."""
    out = tmp_path / "p.sfbp"
    keys = ["--keys", str(good["keys"])]
    assert cli.main(["patch", str(good["old.sfb"]), str(good["new.sfb"]), *keys, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and err.splitlines()[-1].startswith("diff: 100% (")
    assert 1 <= len(err.splitlines()) <= 4


def test_progress_bar_on_a_terminal():
    """On a terminal the shared helper draws a tqdm bar in place."""
    import io

    from spb.progress import progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    show = progress("send", stream)
    for done in range(0, 4097, 1024):
        show(done, 4096)
    text = stream.getvalue()
    assert "\r" in text and "send" in text and "100%" in text and text.endswith("\n")


@pytest.mark.parametrize(
    ("argv", "named", "words"),
    [
        (["keygen", "{file}"], "{file}", "is a file"),
        (["keygen", "{file}/k"], "{file}/k", "Not a directory"),
        (["linker", "--board", BOARD, "-o", "{file}"], "{file}", "is a file"),
        (["linker", "--board", BOARD, "-o", "{file}/x"], "{file}/x", "cannot create the directory"),
        (["version", "--repo", "{missing}"], "{missing}", "not a git repository"),
        (["boards", "--boards", "{missing}"], "{missing}", "boards directory not found"),
        (["boards", "--boards", "{file}"], "{file}", "boards directory not found"),
        (["board", "table", "--boards", "{missing}"], "{missing}", "boards directory not found"),
        (["board", "table", "--write", "{missing}"], "{missing}", "No such file"),
        (["keys", "show", "--keys", "{file}"], "{file}", "not a directory"),
        (["sign", "{file}", "--board", "{missing}.toml", "--version", "1.0.0"], "{missing}.toml", "not found"),
        (["flash", "--board", BOARD, "{missing}.hex", "--dry-run"], "{missing}.hex", "file not found"),
    ],
)
def test_bad_directory_arguments(tmp_path, capsys, argv, named, words):
    """Directories given as files and files given as directories, for the commands that take directories."""
    values = {"file": str(tmp_path / "afile"), "missing": str(tmp_path / "nowhere")}
    (tmp_path / "afile").write_text("x")
    before = sorted(tmp_path.rglob("*"))
    assert cli.main([a.format(**values) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spb: error: {named.format(**values)}: ") and err.count("\n") == 1, err
    assert words in err and "Traceback" not in err
    assert sorted(tmp_path.rglob("*")) == before


def test_every_command_is_documented():
    """docs/cli.md has a section for every command of the parser (including ones added later)."""
    import argparse

    (commands,) = [a.choices for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    text = (REPO / "docs" / "cli.md").read_text()
    missing = [name for name in commands if f"\n## spb {name}\n" not in text]
    assert not missing, f"docs/cli.md lacks a section for: {', '.join(missing)}"
    assert "\n## spb --version\n" in text


def test_hex_public_key_starting_with_zero(tmp_path):
    """A hex public key whose text starts with "0" (byte 0x30, DER's first byte) is read as hex: `spb keys
    export --format hex` output is accepted by --public-key whatever the key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from spb.keys import load_public_key, raw_public_key

    raw = b""
    while not raw.hex().startswith("0"):
        raw = raw_public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
    (tmp_path / "pub.hex").write_text(raw.hex() + "\n")
    assert load_public_key(tmp_path / "pub.hex") == raw
