# SPDX-License-Identifier: Apache-2.0
"""`spb repo publish`, `spb repo verify` and `spb serve` (docs/ota.md); spb.cli registers them.

spb repo publish --board B [--board B2 ...] [--store DIR] [--app NAME] --keys DIR -o REPO
spb repo verify REPO --keys DIR
spb serve REPO [--host 127.0.0.1] [--coap-port 5683] [--http-port 8080] [--no-coap | --no-http]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

DEFAULT_STORE = "releases/{board}"  # the build's RELEASES_DIR default (#releases/${BOARD}), from the project


def cmd_repo_publish(args: argparse.Namespace) -> int:
    from ..cli import _board, _complete, _keys
    from .repo import publish

    keys = _keys(args)
    targets = [(_board(name), args.store.format(board=name)) for name in args.board]
    progress = None if args.quiet else (lambda what: print(f"  make {what}", flush=True))
    report = publish(args.output, targets, keys, args.app or (), args.encoding, progress)
    if not _complete(keys, f"{args.output}/manifest.json"):
        return 0
    files = len(report.manifest.files())
    print(
        f"published {files} files ({len(report.written)} made, {len(report.kept)} unchanged) for "
        f"{len(report.manifest.applications)} application(s) in {args.output} in {report.seconds:.2f} s"
    )
    return 0


def cmd_repo_verify(args: argparse.Namespace) -> int:
    from ..cli import _keys
    from .repo import verify

    problems = verify(args.repository, _keys(args))
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        return 1
    print(f"OK {args.repository}: manifest signature, every file's size and SHA-256, every image and patch")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ..keys import load_public_key
    from .server import serve

    try:
        serve(
            args.repository,
            args.host,
            None if args.no_coap else args.coap_port,
            None if args.no_http else args.http_port,
            args.quiet,
            load_public_key(args.public_key) if args.public_key else None,
        )
    except KeyboardInterrupt:
        print("spb serve: stopped", file=sys.stderr)
    return 0


def register(sub: Any, with_keys: Callable[[argparse.ArgumentParser, bool], None]) -> None:
    """Add `repo` and `serve` to spb's subparsers (`with_keys` is spb.cli's key options)."""
    from ..patch import DEFAULT_ENCODING, ENCODINGS

    sp = sub.add_parser("repo", help="update repository for a fleet: publish, verify (docs/ota.md)")
    rsub = sp.add_subparsers(dest="repo_command", required=True)
    pub = rsub.add_parser("publish", help="every .sfb and .sfbp of the release store, and the signed manifest")
    pub.add_argument("--board", action="append", required=True, help="board name or file; repeat for each board")
    pub.add_argument(
        "--store",
        default=DEFAULT_STORE,
        help="release store of each board, {board} replaced by its name (default: %(default)s)",
    )
    pub.add_argument("--app", action="append", help="only this application (repeatable; default: every one)")
    pub.add_argument("--encoding", choices=tuple(ENCODINGS), default=DEFAULT_ENCODING, help="patch encoding")
    pub.add_argument("-q", "--quiet", action="store_true", help="do not list the files made")
    pub.add_argument("-o", "--output", required=True, help="repository directory (created; kept files reused)")
    with_keys(pub, True)
    pub.set_defaults(func=cmd_repo_publish)
    ver = rsub.add_parser("verify", help="manifest signature, sizes and SHA-256, every image and patch")
    ver.add_argument("repository")
    with_keys(ver, False)
    ver.set_defaults(func=cmd_repo_verify)

    sp = sub.add_parser("serve", help="serve an update repository over HTTP and CoAP (docs/ota.md)")
    sp.add_argument("repository")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    sp.add_argument("--coap-port", type=int, default=5683, help="UDP port for CoAP (default: %(default)s)")
    sp.add_argument("--http-port", type=int, default=8080, help="TCP port for HTTP (default: %(default)s)")
    sp.add_argument("--no-coap", action="store_true", help="HTTP only (no aiocoap needed)")
    sp.add_argument("--no-http", action="store_true", help="CoAP only")
    sp.add_argument(
        "--public-key", help="refuse a repository whose manifest this key (PEM, DER, raw or hex) did not sign"
    )
    sp.add_argument("-q", "--quiet", action="store_true", help="no start-up line")
    sp.set_defaults(func=cmd_serve)
