# SPDX-License-Identifier: Apache-2.0
"""`spb`: the same operations as the SCons builders, for projects that do not use SCons.

    spb keygen DIR                         new signing key + AES key (refuses to overwrite)
    spb sign --board B --keys DIR --version 1.2.3 app.elf -o app.sfb
    spb inspect FILE [--json]              print header fields (.sfb, .sfbp, installed header .bin)
    spb verify --board B --keys DIR FILE   signature + decryption + SHA-256 tag (.sfb; .sfbp: add
                                           --from OLD to check that the patch applies and hits the tag)
    spb patch OLD NEW --keys DIR -o X.sfbp delta patch; OLD/NEW are .sfb files (versions from their headers)
                                           or .bin/.elf with --board and --from-version/--version
    spb apply OLD X.sfbp --keys DIR -o NEW.bin   regenerate the new plaintext image on the host
    spb decrypt FILE.sfb --keys DIR -o OUT.bin   the plaintext image, once signature and tag verify
    spb extract COMBINED.hex --board B -o OUT.bin  the SLOT0 image of a manufacturing image
    spb boards [--json]                    every board: family, flash, slots, external flash
    spb version [DIR]                      the version the build would use
    spb board check FILE...                validate board files
    spb linker --board B -o DIR            write bootloader.ld, application.ld, spb_api.ld
    spb combine --board B --keys DIR --version V boot.elf app.elf -o name   manufacturing hex/bin
    spb keys export --keys DIR [--format pem|der|raw|hex] [-o FILE]   the public key
    spb keys show --keys DIR               where the keys come from (never prints a secret)
    spb send PORT FILE [--load]            send a .sfb/.sfbp over YMODEM (serial device or socket://host:port)
    spb monitor PORT                       the device's console (Ctrl-] quits)
    spb flash --board B [IMAGE] [--tool pyocd|openocd|stflash|gdb] [--dry-run]   program the manufacturing
                                           image (default build/<B>/hello_combined.hex; docs/flashing.md)

Keys (sign, verify, patch, apply, combine; docs/keys.md): --keys DIR (spb's layout or the original's
folder as it is), or/and --signing-key PEM, --aes-key BIN, --signer pkcs11:token=T;object=K (module and PIN
from SPB_PKCS11_MODULE / SPB_PKCS11_PIN), --public-key FILE (verification without the private key), and
the detached flow: --signer detached --public-key PUB writes OUT.digest; then --signature SIG.

Exit status: 0 success, 1 verification failed, 2 bad input (one line naming the file and the problem;
nothing is written). Every command: docs/cli.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SpbError, StrPath

if TYPE_CHECKING:
    from .board import Board
    from .elfimage import PlainImage
    from .image import Header
    from .keys import KeySet
    from .version import Version


def _board(arg: str) -> Board:
    from . import REPO_ROOT
    from .board import find_board, load_board

    path = Path(arg)
    if path.suffix == ".toml" or path.exists():
        return load_board(path)
    return load_board(find_board(arg, Path(REPO_ROOT) / "boards"))


def _version(args: argparse.Namespace) -> Version:
    from .version import resolve_version

    return resolve_version(args.repo, args.version)


def _keys(args: argparse.Namespace) -> KeySet:
    """The command's key set, loaded once (the detached signer collects across the whole command).
    Commands that sign need a private key or a signer; the others a public key."""
    from .keys import KeySource

    cached: KeySet | None = getattr(args, "_spb_keys", None)
    if cached is None:
        source = KeySource(
            keys=args.keys,
            signing_key=args.signing_key,
            aes_key=args.aes_key,
            signer=args.signer,
            public_key=args.public_key,
            signatures=tuple(getattr(args, "signature", None) or ()),
        )
        cached = source.load(signing=args.signs)
        args._spb_keys = cached
    return cached


def _complete(keys: KeySet, output: StrPath) -> bool:
    """Whether every signature of the output is there: always, except in the first step of the detached
    flow, which writes the digests to sign instead of the output."""
    from .signing.detached import DetachedSigner, finish

    if not isinstance(keys.signer, DetachedSigner):
        return True
    paths = finish(keys.signer, output)
    if not paths:
        return True
    for path in paths:
        print(f"wrote {path}: SHA-256 digest to sign {path.read_bytes().hex()}")
    print(
        f"sign each digest (ECDSA P-256 over the prehashed digest) with the key of {keys.signer.public_key_path}, "
        "then run the same command again adding --signature FILE for each signature (raw r||s or DER)"
    )
    return False


def cmd_keygen(args: argparse.Namespace) -> int:
    from .keys import generate_keys

    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        raise SpbError(directory, "is a file: give a directory for the keys")
    try:
        keys = generate_keys(directory, development=False)
    except OSError as error:
        raise SpbError(directory, f"cannot create the keys: {error.strerror or error}") from None
    print(f"wrote {keys.directory}/signing_key.pem and aes128_key.bin")
    print(f"public key: {keys.public_key.hex()}")
    return 0


def _plain_from(path: Path, board: Board | None) -> PlainImage:
    """The plaintext image of a .bin (as is) or of an ELF (which needs the board)."""
    from .elfimage import PlainImage, plain_image

    if path.suffix == ".bin":
        from .cliutil import read_input
        from .image import check_plaintext

        data = read_input(path)
        check_plaintext(data, path)
        return PlainImage(data, 0)
    if board is None:
        raise SpbError(path, "an ELF input needs --board")
    return plain_image(path, board)


def cmd_sign(args: argparse.Namespace) -> int:
    from .cliutil import check_output, write_output
    from .image import build_sfb

    out = check_output(args.output or Path(args.image).with_suffix(".sfb"))
    board = _board(args.board)
    version = _version(args)
    image = _plain_from(Path(args.image), board)
    keys = _keys(args)
    data = build_sfb(image.data, version.encoded, keys, board.vector_size, image.segoff)
    if not _complete(keys, out):
        return 0
    write_output(out, data)
    print(
        f"wrote {out}: version {version}, image {len(image.data)} bytes, file {len(data)} bytes, "
        f"signed by {keys.signer.name}"
    )
    return 0


def _describe_header(header: Header, offset: int = 0) -> str:
    from .image import PROTOCOL_IMAGE
    from .patch import encoding_of
    from .version import Version

    kind = (
        "full image"
        if header.protocol == PROTOCOL_IMAGE
        else (f"patch, {encoding_of(header.protocol)} encoding" if encoding_of(header.protocol) else "unknown")
    )
    v = Version.decode(header.version)
    return "\n".join(
        [
            f"  at offset     {offset:#x}",
            f"  magic         {header.magic.decode(errors='replace')}",
            f"  protocol      {header.protocol:#06x} ({kind})",
            f"  iv            {header.iv.hex()}",
            f"  version       {v} ({header.version:#010x})",
            f"  size          {header.size}",
            f"  tag (sha256)  {header.tag.hex()}",
            f"  segoff        {header.segoff:#x}",
            f"  signature     {header.signature.hex()}",
        ]
    )


def cmd_inspect(args: argparse.Namespace) -> int:
    from .cliutil import check_container, header_json
    from .image import HEADER_SIZE

    path = Path(args.file)
    data = _read(path)
    # A whole .sfb, .sfbp or installed header (SLOT0 dump); a truncated or foreign file is an error.
    box = check_container(data, path, installed=True)
    if args.json:
        target = header_json(box.target) if box.target else None
        doc = {"file": str(path), "bytes": len(data), "kind": box.kind, "header": header_json(box.header)}
        _print_json({**doc, "target": target})
        return 0
    print(f"{path}: {len(data)} bytes, {box.kind}")
    print(_describe_header(box.header))
    if box.target is not None:
        print("  target header:")
        print(_describe_header(box.target, HEADER_SIZE))
    return 0


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2))


def _read(path: StrPath) -> bytes:
    from .cliutil import read_input

    return read_input(path)


def _verify_json(
    path: StrPath,
    kind: str,
    ok: bool,
    image: Header | None,
    signature_valid: bool,
    tag_matches: bool | None,
    problems: list[str],
    patch: Header | None,
) -> dict[str, Any]:
    """`spb verify --json`: the same keys for a .sfb and a .sfbp (docs/cli.md); what does not apply is null."""
    from .patch import encoding_of
    from .version import Version

    return {
        "file": str(path),
        "kind": kind,
        "ok": ok,
        "version": str(Version.decode(image.version)) if image else None,
        "version_encoded": image.version if image else None,
        "size": image.size if image else None,
        "signature_valid": signature_valid,
        "tag_matches": tag_matches,
        "encoding": encoding_of(patch.protocol) if patch else None,
        "from_version": str(Version.decode(patch.version)) if patch else None,
        "from_version_encoded": patch.version if patch else None,
        "patch_size": patch.size if patch else None,
        "problems": problems,
    }


def cmd_verify(args: argparse.Namespace) -> int:
    from .cliutil import check_container
    from .image import verify_sfb
    from .patch import verify_sfbp

    data = _read(args.file)
    vector_size = _board(args.board).vector_size if args.board else None
    box = check_container(data, args.file, vector_size)  # truncated or foreign: exit 2
    if box.kind == "patch":
        old = _source_image(args.from_image, args).data if args.from_image else None
        report = verify_sfbp(data, _keys(args), old, args.file)
        to = report.to_header
        if args.json:
            public_key = _keys(args).public_key
            signed = report.header.signature_valid(public_key) and to is not None and to.signature_valid(public_key)
            applies = (report.new_image is not None) if old is not None else None
            _print_json(
                _verify_json(args.file, "patch", report.ok, to, signed, applies, report.problems, report.header)
            )
            return 0 if report.ok else 1
        target = f"{to.version:#010x}" if to else "?"
        print(
            f"{args.file}: {report.encoding} patch {report.header.version:#010x} -> {target}, "
            f"patch {report.header.size} bytes"
        )
        if old is not None and report.new_image is not None:
            print(
                f"  applies to {args.from_image} and regenerates the target image "
                f"({len(report.new_image)} bytes, tag matches)"
            )
        elif old is None and report.ok:
            print("  signatures valid, decrypts cleanly (give --from OLD to check that it applies)")
        for problem in report.problems:
            print(f"  problem: {problem}")
        return 0 if report.ok else 1
    # Without a board, the ciphertext starts where the 0xFF padding after the header ends.
    sfb = verify_sfb(data, _keys(args), box.vector_size, args.file)
    if args.json:
        _print_json(
            _verify_json(args.file, "image", sfb.ok, sfb.header, sfb.signature_ok, sfb.tag_ok, sfb.problems, None)
        )
        return 0 if sfb.ok else 1
    print(f"{args.file}: version {sfb.header.version:#010x}, {sfb.header.size} bytes")
    print(f"  signature {'valid' if sfb.signature_ok else 'INVALID'}")
    print(f"  tag       {'matches' if sfb.tag_ok else 'DOES NOT MATCH'}")
    for problem in sfb.problems:
        print(f"  problem: {problem}")
    return 0 if sfb.ok else 1


@dataclass
class _Source:
    """A plaintext image, its encoded version (None when unknown) and segoff."""

    data: bytes
    version: int | None
    segoff: int


def _source_image(path: StrPath, args: argparse.Namespace, version_arg: str | None = None) -> _Source:
    """A plaintext image with its version and segoff, from a .sfb (decrypted and verified) or a .bin/.elf."""
    from .cliutil import check_container
    from .image import verify_sfb
    from .signing.detached import DetachedSigner
    from .version import Version

    path = Path(path)
    if path.suffix == ".sfb":
        data = _read(path)
        box = check_container(data, path)
        header = box.header
        if box.kind != "image":
            raise SpbError(path, f"a {box.kind}, not a .sfb image")
        # The vector size is wherever the ciphertext starts: the file is header + padding + image.
        keys = _keys(args)
        report = verify_sfb(data, keys, box.vector_size, path)
        if not report.ok or report.plaintext is None:
            raise SpbError(path, "; ".join(report.problems))
        if isinstance(keys.signer, DetachedSigner):  # its header may be a patch's TO header: no new signature
            keys.signer.offer(hashlib.sha256(header.signed_bytes()).digest(), header.signature)
        return _Source(report.plaintext, header.version, header.segoff)
    board = _board(args.board) if getattr(args, "board", None) else None
    image = _plain_from(path, board)  # an ELF without --board: SpbError
    version = Version.parse(version_arg).encoded if version_arg else None
    return _Source(image.data, version, image.segoff)


def _known_version(source: _Source, name: str, flag: str) -> int:
    if source.version is None:
        raise SpbError(name, f"no version: give {flag} (or use .sfb inputs, which carry theirs)")
    return source.version


def cmd_patch(args: argparse.Namespace) -> int:
    from .cliutil import check_output, write_output
    from .patch import build_sfbp, make_patch
    from .progress import progress

    out = check_output(args.output)
    old = _source_image(args.old, args, args.from_version)
    new = _source_image(args.new, args, args.version)
    old_version = _known_version(old, args.old, "--from-version")
    new_version = _known_version(new, args.new, "--version")
    if new_version <= old_version:
        raise SpbError(args.new, f"version {new_version:#010x} is not newer than {args.old}'s {old_version:#010x}")
    start = time.perf_counter()
    raw = make_patch(old.data, new.data, args.encoding, progress=None if args.quiet else progress("diff"))
    keys = _keys(args)
    data = build_sfbp(old.data, old_version, new.data, new_version, keys, new.segoff, args.encoding, raw_patch=raw)
    if not _complete(keys, out):
        return 0
    write_output(out, data)
    print(
        f"wrote {out}: {args.encoding} patch of {len(raw)} bytes ({len(data)} with headers) for an image of "
        f"{len(new.data)} bytes, {time.perf_counter() - start:.2f} s, signed by {keys.signer.name}"
    )
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    from .cliutil import check_container, check_output, write_output
    from .patch import verify_sfbp

    check_output(args.output)
    data = _read(args.patch)
    if check_container(data, args.patch).kind != "patch":
        raise SpbError(args.patch, "a full image, not a .sfbp patch")
    old = _source_image(args.old, args)
    report = verify_sfbp(data, _keys(args), old.data, args.patch)
    to = report.to_header  # never None when new_image is set
    if not report.ok or report.new_image is None or to is None:
        raise SpbError(args.patch, "; ".join(report.problems) or "does not apply")
    write_output(args.output, report.new_image)
    print(f"wrote {args.output}: {len(report.new_image)} bytes, version {to.version:#010x}, tag matches")
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    version = _version(args)
    print(f"{version} {version.encoded:#010x} {version.label}")
    return 0


def cmd_board(args: argparse.Namespace) -> int:
    from .board import load_board

    for name in args.files:
        board = load_board(name)
        slot1 = f"SLOT1 {board.slot1.address:#010x}+{board.slot1.size:#x}" if board.slot1 else "single slot"
        print(
            f"{name}: OK ({board.name}, {board.family}, SLOT0 {board.slot0.address:#010x}+"
            f"{board.slot0.size:#x}, {slot1})"
        )
    return 0


def cmd_board_table(args: argparse.Namespace) -> int:
    from . import REPO_ROOT
    from .boardtable import render, update

    boards = Path(args.boards) if args.boards else Path(REPO_ROOT) / "boards"
    if args.write:
        doc = Path(args.write)
        changed = update(doc, boards)
        print(f"{doc}: board table {'updated' if changed else 'up to date'}")
    else:
        print(render(boards))
    return 0


def cmd_linker(args: argparse.Namespace) -> int:
    from .cliutil import write_output
    from .linker import api_include, application_script, bootloader_script

    board = _board(args.board)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise SpbError(out, "is a file: -o names the directory for the linker scripts")
    scripts = {
        "bootloader.ld": bootloader_script(board),
        "application.ld": application_script(board),
        "spb_api.ld": api_include(board),
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SpbError(out, f"cannot create the directory: {error.strerror or error}") from None
    for name, text in scripts.items():
        write_output(out / name, text)
    print(f"wrote bootloader.ld, application.ld, spb_api.ld in {out}")
    return 0


def cmd_combine(args: argparse.Namespace) -> int:
    from .cliutil import check_output, staged
    from .manufacturing import combined_image, write_combined

    for suffix in (".hex", ".bin"):
        check_output(f"{args.output}{suffix}")
    board = _board(args.board)
    version = _version(args)
    keys = _keys(args)
    ihex = combined_image(args.bootloader, args.application, board, version.encoded, keys)
    if not _complete(keys, args.output):
        return 0
    with staged(f"{args.output}.hex", f"{args.output}.bin") as (hex_path, bin_path):
        write_combined(ihex, board, hex_path, bin_path)
    print(f"wrote {args.output}.hex and {args.output}.bin")
    return 0


def cmd_keys_export(args: argparse.Namespace) -> int:
    from .keys import KeySource, export_public_key

    source = KeySource(args.keys, args.signing_key, None, args.signer, args.public_key)
    data = export_public_key(source.load_signer(signing=False).public_key, args.format)
    if args.output:
        from .cliutil import write_output

        write_output(args.output, data)
        print(f"wrote {args.output}: public key, {args.format}")
    elif args.format in ("raw", "der"):
        raise SpbError(None, f"--format {args.format} is binary: give -o FILE")
    else:
        sys.stdout.write(data.decode())
    return 0


def cmd_keys_show(args: argparse.Namespace) -> int:
    from .keys import KeySource

    source = KeySource(args.keys, args.signing_key, args.aes_key, args.signer, args.public_key)
    files = source.files()
    if files is not None:
        machine = f", machine.txt {files.machine}" if files.machine else ""
        print(f"keys directory  {files.directory} ({files.layout} layout{machine})")
    signer = source.load_signer(signing=False)
    print(f"signer          {signer.name}")
    print(f"public key      {signer.public_key.hex()}")
    aes_path = source.aes_path()
    if aes_path is not None:
        fingerprint = hashlib.sha256(source.load_aes_key()).hexdigest()[:16]
        print(f"AES key         {aes_path} (SHA-256 {fingerprint}...)")
    else:
        print("AES key         none given")
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    from .cliutil import check_container
    from .progress import progress
    from .transport.serial_link import SerialLink
    from .transport.ymodem import Sender, YmodemError

    path = Path(args.file)
    data = _read(path)
    if not data:
        raise SpbError(path, "empty file: nothing to send")
    if path.suffix in (".sfb", ".sfbp"):  # refused before the device sees it: a truncated or foreign file
        check_container(data, path)  # (other files go as they are: spb send is also a plain YMODEM sender)
    start = time.monotonic()
    with SerialLink(args.port, args.baud) as link:
        sender = Sender(
            link,
            block_size=128 if args.block_128 else 1024,
            start_timeout=args.timeout,
            progress=None if args.quiet else progress(path.name),
        )
        try:
            if args.load:
                print(
                    f"spb: {args.port}: sending 'load': a running example app starts its receiver, "
                    "else reset the board to start its loader",
                    file=sys.stderr,
                )
                sender.trigger_loader(args.timeout)
            sender.send(path.name, data)
        except YmodemError as error:
            raise SpbError(args.port, f"{path.name}: {error}") from None
        except KeyboardInterrupt:
            print(f"spb: {args.port}: {path.name}: cancelled (CAN CAN sent)", file=sys.stderr)
            return 130
        with contextlib.suppress(SpbError):  # the receiver may close the line once done (rb over a socket)
            sender.collect_text(until=b"YMODEM:", timeout=3.0)
    seconds = time.monotonic() - start
    said = sender.device_said()
    print(
        f"sent {path.name}: {len(data)} bytes in {seconds:.1f} s ({len(data) / 1024 / seconds:.1f} KiB/s)"
        + (f", {sender.resent} blocks sent again" if sender.resent else "")
        + (f"; device: {said}" if said else "")
    )
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from .transport.monitor import monitor

    with contextlib.suppress(KeyboardInterrupt):
        monitor(args.port, args.baud, args.seconds)
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from . import REPO_ROOT
    from .board import list_boards
    from .transport.flash import Options, plan, render_table, update_table

    if args.table:
        boards_dir = Path(REPO_ROOT) / "boards"
        boards = [_board(str(boards_dir / f"{name}.toml")) for name in list_boards(boards_dir)]
        if args.write:
            changed = update_table(Path(args.write), boards)
            print(f"{args.write}: flash table {'updated' if changed else 'up to date'}")
        else:
            print(render_table(boards))
        return 0
    if not args.board:
        raise SpbError(None, "spb flash needs --board NAME (or --table)")
    board = _board(args.board)
    image = args.image or str(Path("build") / board.name / "hello_combined.hex")
    options = Options(gdb=args.gdb, pyocd_script=Path(args.pyocd_script) if args.pyocd_script else None)
    job = plan(board, image, args.tool, options)
    if args.dry_run:
        print(job.describe())
        return 0
    print(f"spb: {board.name}: {job.describe()}", file=sys.stderr)
    job.run()
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    from .cliutil import check_container, check_output, write_output
    from .image import verify_sfb

    out = check_output(args.output)
    data = _read(args.file)
    vector_size = _board(args.board).vector_size if args.board else None
    box = check_container(data, args.file, vector_size)
    if box.kind != "image":
        raise SpbError(args.file, f"a {box.kind}, not a .sfb image (a patch decrypts with spb apply)")
    report = verify_sfb(data, _keys(args), box.vector_size, args.file)
    if not report.ok or report.plaintext is None:  # nothing is written from an image that does not verify
        for problem in report.problems:
            print(f"spb: {args.file}: {problem}", file=sys.stderr)
        return 1
    write_output(out, report.plaintext)
    print(
        f"wrote {out}: plaintext image, {len(report.plaintext)} bytes, version {report.header.version:#010x}, "
        "signature valid, tag matches"
    )
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from .cliutil import check_output, write_output
    from .extract import extract_slot0

    out = check_output(args.output)
    board = _board(args.board)
    image = extract_slot0(args.file, _read(args.file), board)
    problems = [] if image.tag_ok else ["the SLOT0 image does not match the installed header's SHA-256 tag"]
    checks_signature = args.keys or args.public_key or args.signing_key or args.signer
    if checks_signature and not image.header.signature_valid(_keys(args).public_key):
        problems.append("the installed header's signature does not verify with the public key")
    if problems:
        for problem in problems:
            print(f"spb: {args.file}: {problem}", file=sys.stderr)
        return 1
    write_output(out, image.data)
    parts = f", external part from offset {image.header.segoff:#x}" if image.header.segoff else ""
    version = image.header.version
    print(f"wrote {out}: SLOT0 image, {len(image.data)} bytes{parts}, version {version:#010x}, tag matches")
    return 0


def cmd_boards(args: argparse.Namespace) -> int:
    from . import REPO_ROOT
    from .boardtable import boards_in, summary_json, summary_text

    boards = boards_in(Path(args.boards) if args.boards else Path(REPO_ROOT) / "boards")
    if args.json:
        _print_json([summary_json(board) for board in boards])
    else:
        print(summary_text(boards))
    return 0


def parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="spb", description="Secure patching bootloader host tool")
    p.add_argument("--version", action="version", version=f"spb {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def with_version(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--version", help="x.y.z (default: from the git tag of --repo)")
        sp.add_argument("--repo", default=".", help="git repository for the version (default: .)")

    def with_keys(sp: argparse.ArgumentParser, signs: bool) -> None:
        g = sp.add_argument_group("keys (docs/keys.md)")
        g.add_argument(
            "--keys", help="keys directory: spb's (signing_key.pem, aes128_key.bin) or the original's folder"
        )
        g.add_argument("--signing-key", help="private key file, PEM (overrides the one in --keys)")
        g.add_argument("--aes-key", help="AES-128 key file, 16 raw bytes (overrides the one in --keys)")
        g.add_argument(
            "--signer",
            help="signing backend instead of a key file: 'pkcs11:token=LABEL;object=KEY' (module and PIN from "
            "SPB_PKCS11_MODULE / SPB_PKCS11_PIN) or 'detached'",
        )
        g.add_argument(
            "--public-key",
            help="public key file (PEM, DER, raw or hex): verify without the private key; the detached flow's key",
        )
        if signs:
            g.add_argument(
                "--signature",
                action="append",
                metavar="FILE",
                help="--signer detached, second step: a signature of a digest the first step wrote (raw r||s or "
                "DER); repeat for each",
            )
        sp.set_defaults(signs=signs)

    sp = sub.add_parser("keygen", help="create a signing key and an AES key")
    sp.add_argument("directory")
    sp.set_defaults(func=cmd_keygen)

    from .project import add_init_parser  # spb init: a new project (spb/project.py)

    add_init_parser(sub)

    sp = sub.add_parser("sign", help="make a .sfb from an application ELF (or plaintext .bin)")
    sp.add_argument("image")
    sp.add_argument("--board", required=True)
    with_keys(sp, signs=True)
    sp.add_argument("-o", "--output")
    with_version(sp)
    sp.set_defaults(func=cmd_sign)

    sp = sub.add_parser("inspect", help="print header fields")
    sp.add_argument("file")
    sp.add_argument("--json", action="store_true", help="one JSON object (keys: docs/cli.md)")
    sp.set_defaults(func=cmd_inspect)

    sp = sub.add_parser("verify", help="verify a .sfb (signature, decryption, tag) or a .sfbp")
    sp.add_argument("file")
    sp.add_argument("--board", help="board name or file (needed for .sfb)")
    with_keys(sp, signs=False)
    sp.add_argument("--from", dest="from_image", help=".sfbp: the FROM image (.sfb or plaintext .bin) to apply it to")
    sp.add_argument("--json", action="store_true", help="one JSON object (keys: docs/cli.md)")
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser("patch", help="make a .sfbp delta patch from OLD to NEW")
    sp.add_argument("old", help="FROM image: .sfb, or plaintext .bin / .elf with --from-version")
    sp.add_argument("new", help="TO image: .sfb, or plaintext .bin / .elf with --version")
    with_keys(sp, signs=True)
    sp.add_argument("--board", help="board (needed for .elf inputs)")
    sp.add_argument("--from-version", help="version of OLD when it is not a .sfb")
    sp.add_argument("--version", help="version of NEW when it is not a .sfb")
    sp.add_argument(
        "--encoding",
        choices=("compact", "compat"),
        default="compact",
        help="compact (default, smallest) or compat (JojoDiff, for the original v1.x bootloader)",
    )
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sp.add_argument("-o", "--output", required=True)
    sp.set_defaults(func=cmd_patch)

    sp = sub.add_parser("apply", help="apply a .sfbp to OLD on the host, writing the new plaintext image")
    sp.add_argument("old", help="FROM image: .sfb or plaintext .bin")
    sp.add_argument("patch")
    with_keys(sp, signs=False)
    sp.add_argument("-o", "--output", required=True)
    sp.set_defaults(func=cmd_apply)

    sp = sub.add_parser("version", help="print the version the build would use")
    with_version(sp)
    sp.set_defaults(func=cmd_version)

    sp = sub.add_parser("board", help="board file tools")
    bsub = sp.add_subparsers(dest="board_command", required=True)
    check = bsub.add_parser("check", help="validate board files")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=cmd_board)
    table = bsub.add_parser("table", help="the markdown table of every board (docs/boards.md)")
    table.add_argument("--boards", help="boards directory (default: spb's own boards/)")
    table.add_argument("--write", metavar="DOC", help="replace the table between its markers in DOC")
    table.set_defaults(func=cmd_board_table)

    sp = sub.add_parser("linker", help="write the generated linker scripts for a board")
    sp.add_argument("--board", required=True)
    sp.add_argument("-o", "--output", required=True)
    sp.set_defaults(func=cmd_linker)

    sp = sub.add_parser("combine", help="bootloader + installed header + app as one hex and bin")
    sp.add_argument("bootloader")
    sp.add_argument("application")
    sp.add_argument("--board", required=True)
    with_keys(sp, signs=True)
    sp.add_argument("-o", "--output", required=True, help="output path without extension")
    with_version(sp)
    sp.set_defaults(func=cmd_combine)

    sp = sub.add_parser("keys", help="key tools: export the public key, show where the keys come from")
    ksub = sp.add_subparsers(dest="keys_command", required=True)
    export = ksub.add_parser("export", help="write the public key (from a key file, a keys directory or a token)")
    with_keys(export, signs=False)
    export.add_argument(
        "--format",
        choices=("pem", "der", "raw", "hex"),
        default="pem",
        help="pem (default) / der: SubjectPublicKeyInfo; raw: X||Y, the 64 bytes the bootloader holds; hex: of raw",
    )
    export.add_argument("-o", "--output", help="output file (default: standard output, pem and hex only)")
    export.set_defaults(func=cmd_keys_export)
    show = ksub.add_parser("show", help="where the keys come from: layout, signer, public key (no secret)")
    with_keys(show, signs=False)
    show.set_defaults(func=cmd_keys_show)

    sp = sub.add_parser("send", help="send a .sfb or .sfbp to a device over YMODEM (docs/ymodem.md)")
    sp.add_argument("port", help="serial device (/dev/ttyACM0, COM3) or a pyserial URL such as socket://localhost:4321")
    sp.add_argument("file")
    sp.add_argument("--baud", type=int, default=115200, help="baud rate (default 115200)")
    sp.add_argument("--load", action="store_true", help="send 'load' until the bootloader starts its loader")
    sp.add_argument("--block-128", action="store_true", help="128-byte blocks only (default: 1024)")
    sp.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the receiver (default 60)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sp.set_defaults(func=cmd_send)

    sp = sub.add_parser("monitor", help="the device's console over a serial port or socket:// URL (Ctrl-] quits)")
    sp.add_argument("port", help="serial device or pyserial URL, as for send")
    sp.add_argument("--baud", type=int, default=115200, help="baud rate (default 115200)")
    sp.add_argument(
        "--for", dest="seconds", type=float, help="copy the output to stdout for this many seconds, then exit"
    )
    sp.set_defaults(func=cmd_monitor)

    sp = sub.add_parser("flash", help="program a board with its manufacturing image (docs/flashing.md)")
    sp.add_argument("image", nargs="?", help="Intel HEX image (default: build/<BOARD>/hello_combined.hex)")
    sp.add_argument("--board", help="board name or file: its [debug] table says how to program it")
    sp.add_argument(
        "--tool", help="pyocd (default where configured), openocd, stflash, or gdb (the emulator: QEMU's GDB stub)"
    )
    sp.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    sp.add_argument("--gdb", metavar="HOST:PORT", help="--tool gdb: the GDB stub (default: the board's [debug] gdb)")
    sp.add_argument(
        "--pyocd-script",
        metavar="FILE",
        help="--tool pyocd: a pyOCD user script (passed as --script), e.g. one giving the external flash's algorithm",
    )
    sp.add_argument("--table", action="store_true", help="print the command table of every board (docs/flashing.md)")
    sp.add_argument("--write", metavar="DOC", help="with --table: replace the table between its markers in DOC")
    sp.set_defaults(func=cmd_flash)

    sp = sub.add_parser("decrypt", help="a .sfb's plaintext image, written only once its signature and tag verify")
    sp.add_argument("file")
    sp.add_argument("--board", help="board name or file (default: the ciphertext starts after the 0xFF padding)")
    with_keys(sp, signs=False)
    sp.add_argument("-o", "--output", required=True)
    sp.set_defaults(func=cmd_decrypt)

    sp = sub.add_parser("extract", help="the SLOT0 image out of a combined .hex/.bin, checked against its header")
    sp.add_argument("file", help="combined image: .hex (any board) or .bin (internal flash only)")
    sp.add_argument("--board", required=True)
    with_keys(sp, signs=False)
    sp.add_argument("-o", "--output", required=True)
    sp.set_defaults(func=cmd_extract)

    sp = sub.add_parser("boards", help="list the boards: name, family, flash, slots, external flash")
    sp.add_argument("--boards", help="boards directory (default: spb's own boards/)")
    sp.add_argument("--json", action="store_true", help="a JSON array (keys: docs/cli.md)")
    sp.set_defaults(func=cmd_boards)

    from .ota.cli import register as register_ota  # spb repo publish|verify, spb serve (docs/ota.md)

    register_ota(sub, with_keys)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except SpbError as error:
        print(f"spb: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file problem no command foresaw: still one line naming the file
        where = f"{error.filename}: " if error.filename else ""
        print(f"spb: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
