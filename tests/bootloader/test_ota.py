# SPDX-License-Identifier: Apache-2.0
"""Fleet updates (spb.ota, docs/ota.md): the published repository and its signed manifest, `spb serve` over
HTTP and CoAP, and devices that run the real bootloader core built for the host (support.otadevice): one
fetching block by block into SE_PATCH_Data and rebooting, then a crowd over a lossy link, a server restart
and a corrupting link. The crowd's size is SPB_OTA_LOAD (default 50; 1000 for the load figures)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import shutil
import socket
import sys
import time
import types
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_patch_engine import firmware_like, release

from spb.cli import main as spb_main
from spb.errors import SpbError
from spb.ota import client, repo
from spb.ota.coap import CoapTransport
from spb.ota.manifest import MANIFEST_NAME, SIGNATURE_NAME, QueryError, parse_manifest
from support.otadevice import DeferredEngine, HostEngine, LossyProxy, Server, free_port, release_store

if sys.version_info < (3, 10):  # aiocoap needs 3.10 (pyproject.toml, extra "ota"); ./setup installs it
    pytest.skip("CoAP (aiocoap) needs Python 3.10", allow_module_level=True)

BOARD = "EMU-MPS2-AN385"
VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]
LATEST = 0x02000000
LOAD = int(os.environ.get("SPB_OTA_LOAD", "50"))
RESULTS = Path(__file__).resolve().parents[2] / "build" / "ota"


def encoded(text: str) -> int:
    major, minor, patch = (int(x) for x in text.split("."))
    return major << 24 | minor << 8 | patch


@pytest.fixture(scope="module")
def images():
    rng = random.Random(0x07A)
    series = {VERSIONS[0]: firmware_like(rng, 8192)}
    for previous, version in zip(VERSIONS, VERSIONS[1:]):
        series[version] = release(rng, series[previous])
    return series


@pytest.fixture(scope="module")
def published(tmp_path_factory, images, dev_keys):
    """(store, repository, plaintexts as stored) for BOARD, published through the CLI."""
    from spb.board import find_board, load_board

    board = load_board(find_board(BOARD, Path(__file__).resolve().parents[2] / "boards"))
    base = tmp_path_factory.mktemp("ota")
    store = release_store(base / "store" / BOARD, board, images)
    out = base / "repo"
    argv = ["repo", "publish", "--board", BOARD, "--store", str(base / "store" / "{board}"), "-q", "-o", str(out)]
    assert spb_main([*argv, "--keys", str(dev_keys.directory)]) == 0
    plains = {v: (store / f"hello_{v}.bin").read_bytes() for v in VERSIONS}
    return store, out, plains


def test_publish_layout_manifest_and_verify(published, dev_keys, tmp_path, capsys):
    store, out, plains = published
    manifest = repo.load_manifest(out, dev_keys.public_key)
    (app,) = manifest.applications
    assert (app.board, app.app, str(app.latest.version)) == (BOARD, "hello", "2.0.0")
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted(
        [MANIFEST_NAME, SIGNATURE_NAME]
        + [f"{BOARD}/hello/hello_{v}.sfb" for v in VERSIONS]
        + [f"{BOARD}/hello/hello_{v}_to_2.0.0.sfbp" for v in VERSIONS[:-1]]
    )
    assert {r.tag for r in app.releases} == {hashlib.sha256(p).hexdigest() for p in plains.values()}
    assert spb_main(["repo", "verify", str(out), "--keys", str(dev_keys.directory)]) == 0

    # The rule a device gets: a patch only from its exact (version, tag); else the full image; nothing when
    # it runs the newest or a newer one.
    tag = hashlib.sha256(plains["1.1.0"]).hexdigest()
    assert app.resolve(encoded_version("1.1.0"), tag).path.endswith("hello_1.1.0_to_2.0.0.sfbp")
    assert app.resolve(encoded_version("1.1.0"), "0" * 64).kind == "sfb"
    assert app.resolve(encoded_version("1.1.0"), None).kind == "sfb"
    assert app.resolve(encoded_version("0.9.0"), tag).kind == "sfb"
    assert app.resolve(encoded_version("2.0.0"), None) is None
    assert app.resolve(encoded_version("3.0.0"), None) is None
    for params, status in [
        ({"b": BOARD, "a": "hello"}, 400),
        ({"b": BOARD, "a": "hello", "v": "1.x"}, 400),
        ({"b": BOARD, "a": "hello", "v": "1.0.0", "t": "zz"}, 400),
        ({"b": BOARD, "a": "hello", "v": "1.0.0", "x": "1"}, 400),
        ({"b": "NO-SUCH", "a": "hello", "v": "1.0.0"}, 404),
        ({"b": BOARD, "a": "other", "v": "1.0.0"}, 404),
    ]:
        with pytest.raises(QueryError) as error:
            manifest.query(params)
        assert error.value.status == status, params

    # Republishing makes nothing new; tampering with a file, the manifest or its signature is caught.
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    report = repo.publish(copy, [(load_board_for(BOARD), store)], dev_keys)
    assert report.written == [] and len(report.kept) == 7
    assert (copy / MANIFEST_NAME).read_bytes() == (out / MANIFEST_NAME).read_bytes()
    patch = copy / BOARD / "hello" / "hello_1.0.0_to_2.0.0.sfbp"
    patch.write_bytes(patch.read_bytes()[:-1] + bytes([patch.read_bytes()[-1] ^ 1]))
    assert any("SHA-256" in p for p in repo.verify(copy, dev_keys))
    capsys.readouterr()
    assert spb_main(["repo", "verify", str(copy), "--keys", str(dev_keys.directory)]) == 1
    assert "FAIL" in capsys.readouterr().out
    body = (out / MANIFEST_NAME).read_bytes()
    (copy / MANIFEST_NAME).write_bytes(body.replace(b'"latest": "2.0.0"', b'"latest": "1.2.0"'))
    assert any("signature" in p for p in repo.verify(copy, dev_keys))
    with pytest.raises(Exception, match="format_version"):
        parse_manifest(body.replace(b'"format_version": 1', b'"format_version": 2'))

    # A republished repository after a new release: patches to the new one, the old files kept.
    images = {**plains, "2.1.0": plains["2.0.0"][:-64] + bytes(64)}
    store2 = tmp_path / "store2"
    shutil.copytree(store, store2)
    (store2 / "hello_2.1.0.bin").write_bytes(images["2.1.0"])
    report = repo.publish(copy, [(load_board_for(BOARD), store2)], dev_keys)
    assert sorted(p.name for p in report.written) == sorted(
        ["hello_2.1.0.sfb"] + [f"hello_{v}_to_2.1.0.sfbp" for v in VERSIONS]
    )
    assert repo.verify(copy, dev_keys) == []

    # A stored release that no longer matches its manifest (spb.releases) is never published.
    (store2 / "hello_1.0.0.bin").write_bytes(plains["1.0.0"][:-16] + bytes(16))
    with pytest.raises(SpbError, match="does not match its manifest"):
        repo.publish(tmp_path / "never", [(load_board_for(BOARD), store2)], dev_keys)


def encoded_version(text: str):
    from spb.version import Version

    return Version.parse(text)


def load_board_for(name: str):
    from spb.board import find_board, load_board

    return load_board(find_board(name, Path(__file__).resolve().parents[2] / "boards"))


@pytest.fixture(scope="module")
def server(published):
    with Server(published[1]) as running:
        yield running


def http(server, path, headers=None, method="GET"):
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.http_port}/{path}", headers=headers or {}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def coap(server, path, block=None, etag=None, code=None):
    import aiocoap
    from aiocoap.optiontypes import BlockOption

    async def run():
        context = await aiocoap.Context.create_client_context()
        try:
            message = aiocoap.Message(code=code or aiocoap.GET, uri=f"coap://127.0.0.1:{server.coap_port}/{path}")
            if block is not None:
                message.opt.block2 = BlockOption.BlockwiseTuple(block[0], False, block[1])
            if etag is not None:
                message.opt.etags = [etag]
            return await asyncio.wait_for(context.request(message, handle_blockwise=False).response, 5)
        finally:
            await context.shutdown()

    return asyncio.run(run())


def test_a_flood_of_garbage_datagrams_never_stalls_the_server(published):
    """2,000 datagrams that are not CoAP, with the server's stderr a pipe nobody reads (as under a
    supervisor that does not drain it): it still answers, and said so in a line or two. (aiocoap logs a
    warning, and for some datagrams a traceback, per datagram: 600 of them filled a 64 KiB pipe and froze
    the server before spb serve counted them.)"""
    import subprocess

    from aiocoap.numbers.codes import Code

    out = published[1]
    coap_port, http_port = free_port(), free_port(socket.SOCK_STREAM)
    argv = [sys.executable, "-m", "spb.cli", "serve", str(out), "--coap-port", str(coap_port)]
    argv += ["--http-port", str(http_port)]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "site_scons"))
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout.readline().startswith(b"spb serve:")
        rng = random.Random(7)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for n in range(2000):
                garbage = rng.randbytes(rng.randrange(1, 64))
                udp.sendto(bytes([0x50, 0x01]) + garbage if n % 2 else garbage, ("127.0.0.1", coap_port))
                if n % 200 == 199:
                    time.sleep(0.05)  # let the server read them rather than the kernel drop them
        response = coap(types.SimpleNamespace(coap_port=coap_port), "manifest.json", (0, 6))
        assert response.code == Code.CONTENT
    finally:
        process.kill()
        _out, err = process.communicate(timeout=10)
    assert b"Traceback" not in err and len(err.splitlines()) <= 3, err[:300]


def test_server_answers_and_refuses(server, published):
    _store, out, plains = published
    sfb_path = f"{BOARD}/hello/hello_2.0.0.sfb"
    sfb = (out / sfb_path).read_bytes()
    tag = hashlib.sha256(plains["1.2.0"]).hexdigest()

    # HTTP: the file, its ETag, conditional and range requests, the query, and every refusal.
    status, body, headers = http(server, sfb_path)
    assert (status, body) == (200, sfb)
    etag = headers["ETag"]
    assert http(server, sfb_path, {"If-None-Match": etag})[0] == 304
    assert http(server, sfb_path, {"Range": "bytes=100-199"})[1] == sfb[100:200]
    assert http(server, sfb_path, {"Range": f"bytes={len(sfb)}-"})[0] == 416
    status, body, _ = http(server, f"q?b={BOARD}&a=hello&v=1.2.0&t={tag}")
    assert status == 200 and json.loads(body)["update"]["path"].endswith("hello_1.2.0_to_2.0.0.sfbp")
    assert json.loads(http(server, f"q?b={BOARD}&a=hello&v=0x02000000")[1])["update"] is None
    for path, expected in [
        ("q?b=&a=hello&v=1", 400),
        (f"q?b={BOARD}&a=hello&v=99999999999", 400),
        (f"q?b={BOARD}&a=hello&v=1.0.0&v=1.0.0", 400),
        ("q?b=NOPE&a=hello&v=1.0.0", 404),
        ("../../etc/passwd", 404),
        (f"{BOARD}/hello/none.sfb", 404),
    ]:
        assert http(server, path)[0] == expected, path
    assert http(server, sfb_path, method="POST")[0] == 405

    # CoAP: blocks of every size 16..1024 with the ETag, 2.03 for a known ETag, and every refusal.
    from aiocoap.numbers.codes import Code

    for szx in range(7):
        size = 16 << szx
        last = (len(sfb) - 1) // size
        for num in (0, last):
            response = coap(server, sfb_path, (num, szx))
            assert response.code == Code.CONTENT and response.payload == sfb[num * size : (num + 1) * size]
            assert response.opt.block2.more == (num < last) and response.opt.etag == bytes.fromhex(etag.strip('"'))
    assert coap(server, sfb_path, etag=bytes.fromhex(etag.strip('"'))).code == Code.VALID
    assert coap(server, sfb_path, (len(sfb) // 16 + 1, 0)).code == Code.BAD_OPTION
    response = coap(server, f"q?b={BOARD}&a=hello&v=1.2.0&t={tag}")
    assert response.code == Code.CONTENT and json.loads(response.payload)["update"]["kind"] == "sfbp"
    assert coap(server, "q?b=NOPE&a=hello&v=1.0.0").code == Code.NOT_FOUND
    assert coap(server, "q?b=x&v").code == Code.BAD_REQUEST
    assert coap(server, f"q?b={BOARD}&a=hello&v=1.0.0&t=00").code == Code.BAD_REQUEST
    assert coap(server, "nothing/here").code == Code.NOT_FOUND
    assert coap(server, sfb_path, code=Code.POST).code == Code.METHOD_NOT_ALLOWED
    rng = random.Random(3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:  # datagrams that are not CoAP, or barely
        for n in range(200):
            garbage = rng.randbytes(rng.randrange(1, 64))
            if n % 2:
                garbage = bytes([0x50, 0x01]) + garbage  # version 1, NON, GET: options and payload garbage
            udp.sendto(garbage, ("127.0.0.1", server.coap_port))
    for garbage, status in [
        (b"\x00\xff" * 100 + b"\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET /q HTTP/1.1\r\nRange: bytes=x\r\n" + b"X: y\r\n" * 200 + b"\r\n", b"431"),
    ]:
        with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as tcp:
            tcp.sendall(garbage)
            tcp.shutdown(socket.SHUT_WR)
            answer = b"".join(iter(lambda tcp=tcp: tcp.recv(4096), b""))
            assert b"Error code: " + status in answer, answer[:200]  # an error answer, not a dropped connection
    assert server.process.poll() is None  # still serving after all of that
    assert coap(server, sfb_path, (0, 6)).payload == sfb[:1024]
    assert http(server, sfb_path)[0] == 200
    # ...and it said so in a line, not in a traceback per datagram (those once filled the stderr pipe)
    log = server.stderr()
    assert "malformed or unexpected CoAP datagram" in log and "Traceback" not in log and len(log.splitlines()) <= 3, (
        log[:500]
    )


@pytest.mark.parametrize(
    ("protocol", "start", "kind", "szx"),
    [("coap", "1.1.0", "sfbp", 2), ("coap", "dev", "sfb", 6), ("http", "1.2.0", "sfbp", 4), ("coap", "dev", "sfb", 0)],
)
def test_device_updates_through_the_real_engine(server, published, host_bootloader, protocol, start, kind, szx):
    """server -> blocks -> SE_PATCH_Data (one call per block, as received) -> reboot -> the new version runs.
    "dev": a build of 1.1.0 that is not the released one (another tag): a patch would not apply, so the
    repository gives it the full image."""
    _store, _out, plains = published
    hb = host_bootloader(BOARD)
    plain = plains["1.1.0"][:-16] + bytes(16) if start == "dev" else plains[start]
    hb.manufacture(plain, encoded("1.1.0" if start == "dev" else start))
    _cut, vector, log = hb.boot()
    assert vector, log
    engine = HostEngine(hb)

    async def run():
        if protocol == "coap":
            transport = await CoapTransport.create("127.0.0.1", server.coap_port)
        else:
            transport = client.HttpTransport(f"http://127.0.0.1:{server.http_port}/")
        try:
            return await client.update(transport, engine, BOARD, "hello", client.Policy(szx=szx))
        finally:
            if protocol == "coap":
                await transport.close()

    outcome = asyncio.run(run())
    assert outcome.updated and outcome.kind == kind and outcome.to_version == LATEST
    assert engine.chunks == -(-outcome.bytes // (16 << szx))  # one SE_PATCH_Data per block, as received
    assert hb.slot0_valid_as(plains["2.0.0"], LATEST)
    # Up to date now: the next check fetches nothing.
    again = asyncio.run(run())
    assert not again.updated and again.kind is None and again.requests == 1


async def crowd(server_port, hb, plains, count, seed, proxy_options, policy, during=None):
    """`count` devices of mixed versions (every release, and builds the repository does not know) updating
    concurrently through one LossyProxy; returns (outcomes or exceptions, engines, proxy counts, seconds)."""
    proxy, port = await LossyProxy.start(("127.0.0.1", server_port), seed=seed, **proxy_options)
    rng = random.Random(seed)
    starts = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "dev"]
    engines = []
    for i in range(count):
        start = starts[i % len(starts)]
        plain = plains["1.0.0"][:-16] + rng.randbytes(16) if start == "dev" else plains[start]
        engines.append(DeferredEngine(hb, plain, encoded("1.0.0" if start == "dev" else start)))
    transports = [await CoapTransport.create("127.0.0.1", port) for _ in range(min(32, count))]
    ramp = count / 500  # the devices start within this many seconds (1000: 2 s), as a fleet's checks spread

    async def device(i, engine):
        await asyncio.sleep(rng.uniform(0, ramp))
        return await client.update(transports[i % len(transports)], engine, BOARD, "hello", policy, reboot=False)

    t0 = time.monotonic()
    try:
        tasks = [device(i, engine) for i, engine in enumerate(engines)]
        if during is not None:
            tasks.append(during(proxy))
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 300)
        seconds = time.monotonic() - t0
    finally:
        for transport in transports:
            await transport.close()
        proxy.close()
    # Then every device reboots: the real engine takes its blocks and the real boot installs (or refuses).
    t1 = time.monotonic()
    results = results[:count]
    for i, (outcome, engine) in enumerate(zip(results, engines)):
        if isinstance(outcome, client.Outcome) and outcome.pending:
            try:
                client.reboot_into(engine, outcome)
            except client.UpdateFailed as failed:
                results[i] = failed
    return results, engines, proxy.counts, seconds, time.monotonic() - t1


def check_fleet(results, engines, plains, hb):
    """Every device runs 2.0.0 (those that ran it fetched nothing), authentic: the engine verified it
    (the reboot installed it) and its tag is the release's."""
    latest_tag = hashlib.sha256(plains["2.0.0"]).digest()
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    for outcome, engine in zip(results, engines):
        if engine.version == LATEST:
            assert not outcome.updated
            continue
        assert outcome.updated and engine.final == (LATEST, latest_tag), outcome.log


def test_fleet_over_a_lossy_link(published, host_bootloader, capsys):
    """SPB_OTA_LOAD devices (default 50) from one spb serve process over CoAP through a proxy that drops,
    duplicates and reorders datagrams both ways; measured: devices/min, MiB/s, server memory."""
    _store, out, plains = published
    hb = host_bootloader(BOARD)
    options = {"drop": 0.05, "duplicate": 0.05, "reorder": 0.1}
    policy = client.Policy(szx=6, attempts=10, timeout=0.5 if LOAD <= 100 else 2.0, backoff=0.05, max_backoff=0.5)
    with Server(out) as srv:
        idle = srv.rss_kib()[0]
        results, engines, counts, seconds, engine_seconds = asyncio.run(
            crowd(srv.coap_port, hb, plains, LOAD, 7, options, policy)
        )
        rss, hwm = srv.rss_kib()
    check_fleet(results, engines, plains, hb)
    payload = sum(r.bytes for r in results)
    figures = {
        "devices": LOAD,
        "seconds": round(seconds, 2),  # every device: query, blocks, installation mark
        "engine_seconds": round(engine_seconds, 2),  # then every reboot: SE_PATCH_* on the blocks, the boot
        "devices_per_min": round(LOAD / seconds * 60),
        "MiB_per_s": round(payload / seconds / 2**20, 3),
        "payload_bytes": payload,
        "requests": sum(r.requests for r in results),
        "retries": sum(r.retries for r in results),
        "kinds": {k: sum(1 for r in results if r.kind == k) for k in ("sfb", "sfbp")},
        "proxy": counts,
        "server_rss_kib": {"idle": idle, "after": rss, "peak": hwm},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"load-{LOAD}.json").write_text(json.dumps(figures, indent=1) + "\n")
    with capsys.disabled():
        print(f"\nOTA load: {json.dumps(figures)}")
    assert figures["kinds"]["sfbp"] and figures["kinds"]["sfb"] and counts["dropped"] and counts["duplicated"]
    assert seconds < (60 if LOAD <= 100 else 600)


def test_server_restart_corruption_and_timeouts(published, host_bootloader):
    """The server stops in the middle of the transfers and comes back on the same port; the link also
    corrupts answers' payloads. Devices resume (the same file, the same ETag) or start over, and nothing but
    2.0.0 gets installed. With the server gone for good, a device gives up after its retries and keeps
    running its own, verified image."""
    _store, out, plains = published
    hb = host_bootloader(BOARD)
    srv = Server(out).start()
    policy = client.Policy(szx=4, attempts=40, timeout=0.2, max_timeout=0.4, backoff=0.05, max_backoff=0.2, restarts=12)
    seen = {}

    async def restart(proxy):
        for _ in range(2000):  # until the transfers are under way (each full image is ~40 blocks)
            if proxy.counts["forwarded"] >= 150:
                break
            await asyncio.sleep(0.005)
        seen["at"] = proxy.counts["forwarded"]
        await asyncio.to_thread(srv.stop)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(srv.start)

    options = {"corrupt": 0.02, "corrupt_limit": 10}
    try:
        results, engines, counts, _seconds, _engine = asyncio.run(
            crowd(srv.coap_port, hb, plains, 20, 11, options, policy, during=restart)
        )
    finally:
        srv.stop()
    assert seen and counts["corrupted"]
    check_fleet(results, engines, plains, hb)
    # The outage cost retries (nothing else drops here), the corrupted blocks a fresh start each, caught
    # before anything was installed; the transfers went on after the restart.
    assert sum(r.retries for r in results) > 0 and sum(r.restarts for r in results) > 0
    assert counts["forwarded"] > seen["at"] + 100

    # No server at all: timeouts, retries, then failure; the device still runs 1.0.0, verified.
    hb.erase_all()
    hb.manufacture(plains["1.0.0"], encoded("1.0.0"))
    engine = HostEngine(hb)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
        hole.bind(("127.0.0.1", 0))  # a port that swallows every request

        async def lonely():
            transport = await CoapTransport.create("127.0.0.1", hole.getsockname()[1])
            try:
                return await client.update(
                    transport, engine, BOARD, "hello", client.Policy(attempts=3, timeout=0.05, backoff=0.01)
                )
            finally:
                await transport.close()

        with pytest.raises(client.UpdateFailed) as failed:
            asyncio.run(lonely())
    assert failed.value.outcome.retries == 2
    _cut, vector, log = hb.boot()
    assert vector and hb.slot0_valid_as(plains["1.0.0"], encoded("1.0.0")), log


def test_a_forged_repository_installs_nothing(published, host_bootloader, dev_keys, tmp_path):
    """A repository published from the same store with another key (a consistent manifest, sizes and hashes:
    the client's own checks pass): the real engine refuses every file, the device gives up after its
    restarts, and it still runs its own image."""
    import warnings

    from spb.keys import DevKeyWarning, export_public_key, generate_keys

    store, _out, plains = published
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        forger = generate_keys(tmp_path / "forger")
    repo.publish(tmp_path / "forged", [(load_board_for(BOARD), store)], forger)
    (tmp_path / "ours.pem").write_bytes(export_public_key(dev_keys.public_key, "pem"))
    with pytest.raises(RuntimeError, match="signature does not verify"):  # a server told which key to trust
        Server(tmp_path / "forged", args=["--public-key", str(tmp_path / "ours.pem")]).start()
    hb = host_bootloader(BOARD)
    with Server(tmp_path / "forged") as srv:
        for start in ("1.1.0", "dev"):  # a patch, then a full image
            hb.erase_all()
            plain = plains["1.1.0"][:-16] + bytes(16) if start == "dev" else plains[start]
            hb.manufacture(plain, encoded("1.1.0"))
            engine = HostEngine(hb)

            async def run(engine=engine):
                transport = await CoapTransport.create("127.0.0.1", srv.coap_port)
                try:
                    return await client.update(transport, engine, BOARD, "hello", client.Policy(restarts=2))
                finally:
                    await transport.close()

            with pytest.raises(client.UpdateFailed, match="gave up after 3 restarts") as failed:
                asyncio.run(run())
            assert failed.value.outcome.kind == ("sfbp" if start == "1.1.0" else "sfb")
            _cut, vector, log = hb.boot()
            assert vector and hb.slot0_valid_as(plain, encoded("1.1.0")), log
