#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`spb serve` throughput on loopback (docs/ota.md): one file of --size bytes served by an `spb serve`
process, fetched by the reference client's transports block by block (CoAP Block2 and HTTP Range, one request
in flight per device, as a device does), by --devices of them at once, and by one plain HTTP GET.
Reports MiB/s and the server's resident memory.

Usage: .venv/bin/python bench/ota_throughput.py [--size 1048576] [--devices 1,8] [--szx 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "site_scons"), str(REPO / "tests")]

from spb.board import load_board  # noqa: E402
from spb.keys import DevKeyWarning, generate_keys  # noqa: E402
from spb.ota import client, repo  # noqa: E402
from spb.ota.coap import CoapTransport  # noqa: E402
from support.otadevice import Server, release_store  # noqa: E402

BOARD = "EMU-MPS2-AN385"


async def fetch_all(make, path: str, size: int, szx: int, devices: int) -> float:
    transports = [await make() for _ in range(devices)]

    async def one(transport) -> None:
        num, got = 0, 0
        while True:
            block = await transport.block(path, num, szx, 10.0)
            got += len(block.payload)
            if not block.more:
                break
            num += 1
        assert got == size, (got, size)

    start = time.monotonic()
    await asyncio.gather(*(one(t) for t in transports))
    seconds = time.monotonic() - start
    for t in transports:
        if hasattr(t, "close"):
            await t.close()
    return devices * size / seconds / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--devices", default="1,8")
    ap.add_argument("--szx", type=int, default=6)
    args = ap.parse_args()
    board = load_board(REPO / "boards" / f"{BOARD}.toml")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DevKeyWarning)
            keys = generate_keys(base / "keys")
        data = random.Random(1).randbytes(args.size)
        store = release_store(base / "store", board, {"1.0.0": data})
        repo.publish(base / "repo", [(board, store)], keys)
        path = f"{BOARD}/hello/hello_1.0.0.sfb"
        size = (base / "repo" / path).stat().st_size
        results: dict[str, float] = {}
        with Server(base / "repo") as srv:
            idle = srv.rss_kib()
            for n in (int(x) for x in args.devices.split(",")):
                results[f"coap_block{16 << args.szx}_x{n}"] = asyncio.run(
                    fetch_all(lambda: CoapTransport.create("127.0.0.1", srv.coap_port), path, size, args.szx, n)
                )
                base_url = f"http://127.0.0.1:{srv.http_port}/"

                async def http_transport(url: str = base_url) -> client.HttpTransport:
                    return client.HttpTransport(url)

                results[f"http_range{16 << args.szx}_x{n}"] = asyncio.run(
                    fetch_all(http_transport, path, size, args.szx, n)
                )
            start = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{srv.http_port}/{path}") as response:
                assert len(response.read()) == size
            results["http_get_x1"] = size / (time.monotonic() - start) / 2**20
            rss = srv.rss_kib()
    print(
        json.dumps(
            {
                "file_bytes": size,
                "MiB_per_s": {k: round(v, 2) for k, v in results.items()},
                "server_rss_kib": {"idle": idle[0], "after": rss[0], "peak": rss[1]},
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
