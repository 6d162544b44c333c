# SPDX-License-Identifier: Apache-2.0
"""The bootloader's YMODEM loader on the emulator board (QEMU mps2-an385) against real senders: lrzsz `sb`
and `spb send` (site_scons/spb/transport), both over the board's console UART.

v1.0.0 runs from its manufacturing image; `load` typed in the boot window starts the loader; the sender
sends v1.1.0 as a .sfb or as a .sfbp (1024- or 128-byte blocks); the loader streams each block, once its
CRC is good, into the SE_PATCH engine, prints its verdict and resets into the install, and v1.1.0 runs.
Also: a file for other keys refused at its first block with SLOT1 left empty, a too-large file refused
at block 0, a cancel from the sender in the middle (SLOT1's header erased again), no sender (the board
boots on), an empty SLOT0 (the loader starts by itself), and `spb send` against lrzsz `rb`."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from support import qemu
from support.qemu import Emulator, create_flash_file, flash_file_from_hex, read_flash
from support.scons_project import REPO, make_keys, scons

BOARD = "EMU-MPS2-AN385"
pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(
        not qemu.qemu_available() or shutil.which("arm-none-eabi-gcc") is None,
        reason="needs qemu-system-arm and arm-none-eabi-gcc",
    ),
]
needs_lrzsz = pytest.mark.skipif(shutil.which("sb") is None, reason="needs lrzsz (sb, rb)")
SPB = [sys.executable, "-m", "spb.cli"]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "site_scons")}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """v1.0.0 and v1.1.0 of examples/hello (with the 1.0.0 -> 1.1.0 patch), and v1.1.0 signed with other keys."""
    from spb.board import load_board

    root = tmp_path_factory.mktemp("ymodem")
    keys = make_keys(root / "keys")
    out = {}
    for version in ("1.0.0", "1.1.0"):
        out[version] = root / version
        scons(
            REPO,
            f"BOARD={BOARD}",
            f"BUILD_DIR={out[version]}",
            f"KEYS={keys.directory}",
            f"VERSION={version}",
            f"RELEASES_DIR={root / 'releases'}",
        )
    out["board"] = load_board(REPO / "boards" / f"{BOARD}.toml")
    out["keys"] = keys
    out["root"] = root
    return out


def flashed(builds, tmp_path, version="1.0.0"):
    return flash_file_from_hex(tmp_path / "flash.img", builds[version] / "hello_combined.hex")


def started(builds, tmp_path, version="1.0.0"):
    flash = flashed(builds, tmp_path, version)
    return flash, Emulator(flash).start()


def enter_loader(emu):
    """Type `load` in the boot window (the boot waits for it right after printing the trigger line)."""
    emu.read_until("UART loader check trigger.", timeout=20)
    emu.write(b"load")
    emu.read_until("YMODEM loader ready.", timeout=5)


def report(what, nbytes, seconds):
    print(f"\n{what}: {nbytes} bytes in {seconds:.2f} s = {nbytes / 1024 / seconds:.1f} KiB/s")


# ---- lrzsz sb -------------------------------------------------------------------------------------------


@needs_lrzsz
@pytest.mark.parametrize("kind", ["sfb", "sfbp"])
@pytest.mark.parametrize("blocks", ["1k", "128"])
def test_sb_update_installs_and_runs(builds, tmp_path, kind, blocks):
    board = builds["board"]
    name = "hello.sfb" if kind == "sfb" else "hello_1.0.0_to_1.1.0.sfbp"
    path = builds["1.1.0"] / name
    new_plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    flash, emu = started(builds, tmp_path)
    with emu:
        emu.read_until("APP: hello version 1.0.0", timeout=20)
        emu.write(b"r")  # the example app's reset command
        enter_loader(emu)
        t = time.monotonic()
        run = emu.bridge(["sb", "--ymodem", *(["-k"] if blocks == "1k" else []), str(path)], timeout=60)
        report(f"sb {blocks} {name}", path.stat().st_size, time.monotonic() - t)
        assert run.returncode == 0, run.stderr.decode(errors="replace")
        log = emu.read_until("APP: hello version 1.1.0", timeout=60)
        # The verdict follows the sender's last ACK: bridge() may have passed it already.
        assert f"YMODEM: ready, {path.stat().st_size} bytes, status 1: Completed" in emu.log
        # installed: by exchange (trial boot, the emulator board's default) or by copy (TRIAL=0)
        assert "Slot 1 firmware 1.1.0 is newer." in log
        assert "Swap slots: 1.0.0 <-> 1.1.0." in log or "Slot 0 validated." in log
    assert read_flash(flash, board.app_vector_address, len(new_plain)) == new_plain


@needs_lrzsz
def test_sb_file_for_other_keys_refused_at_first_block(builds, tmp_path):
    """Signed with other keys: refused when its header is complete (byte 128 of block 1), CAN CAN to the
    sender, SLOT1 never written, and the board boots v1.0.0 again."""
    from spb.image import build_sfb

    board = builds["board"]
    other = make_keys(tmp_path / "other-keys")
    plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    wrong = tmp_path / "wrong.sfb"
    wrong.write_bytes(build_sfb(plain, 0x01010000, other, board.vector_size))
    flash, emu = started(builds, tmp_path)
    slot1_before = read_flash(flash, board.slot1.address, board.slot1.size)
    with emu:
        enter_loader(emu)
        run = emu.bridge(["sb", "--ymodem", "-k", str(wrong)], timeout=60)
        assert run.returncode != 0
        log = emu.read_until("APP: hello version 1.0.0", timeout=30)
        assert "YMODEM: failed, 128 bytes, status 3: Invalid image" in emu.log
        assert "Slot 1 is empty." in log
    assert read_flash(flash, board.slot1.address, board.slot1.size) == slot1_before


@needs_lrzsz
def test_sb_no_valid_slot0_starts_the_loader(builds, tmp_path):
    """Only the bootloader in flash: it says so and waits for a file; a .sfb makes the board whole."""
    boot_bin = (builds["1.1.0"] / "bootloader.bin").read_bytes()
    flash = create_flash_file(tmp_path / "flash.img", [(qemu.FLASH_BASE, boot_bin)])
    with Emulator(flash) as emu:
        emu.read_until("No valid firmware in slot 0", timeout=20)
        emu.read_until("YMODEM loader ready.", timeout=5)
        run = emu.bridge(["sb", "--ymodem", "-k", str(builds["1.1.0"] / "hello.sfb")], timeout=60)
        assert run.returncode == 0, run.stderr.decode(errors="replace")
        emu.read_until("APP: hello version 1.1.0", timeout=60)


# ---- protocol corners, driven with spb's sender -----------------------------------------------------------


class EmuLink:
    """The emulator's UART as a transport Link (spb.transport.ymodem)."""

    def __init__(self, emu):
        self.emu = emu

    def read(self, timeout):
        return self.emu.read(timeout=timeout)

    def write(self, data):
        self.emu.write(data)


class Stop(Exception):
    pass


def test_sender_cancel_mid_transfer_leaves_slot1_empty(builds, tmp_path):
    """The sender cancels (CAN CAN) after two data blocks, when SLOT1 already holds a header: the loader
    drops the session, SLOT1's header area is erased again and the board boots v1.0.0."""
    from spb.image import build_sfb
    from spb.transport.ymodem import Sender

    board = builds["board"]
    plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    big = build_sfb(plain + bytes(16 * 1024), 0x01010000, builds["keys"], board.vector_size)

    def stop_after_two_blocks(done, total):
        if done >= 2048:
            raise Stop

    flash, emu = started(builds, tmp_path)
    with emu:
        enter_loader(emu)
        sender = Sender(EmuLink(emu), progress=stop_after_two_blocks)
        with pytest.raises(Stop):
            sender.send("big.sfb", big)
        log = emu.read_until("APP: hello version 1.0.0", timeout=30)
        assert "YMODEM: cancelled, 2048 bytes" in log
        assert "Slot 1 is empty." in log
    assert read_flash(flash, board.slot1.address, board.vector_size) == b"\xff" * board.vector_size


def test_too_large_file_refused_at_block_0(builds, tmp_path):
    from spb.transport.ymodem import ReceiverCancelled, Sender

    board = builds["board"]
    emu = Emulator(flashed(builds, tmp_path)).start()
    with emu:
        enter_loader(emu)
        sender = Sender(EmuLink(emu))
        with pytest.raises(ReceiverCancelled, match="status 7: Image too large"):
            sender.send("huge.sfb", bytes(board.slot1.size + 1024))
        emu.read_until("APP: hello version 1.0.0", timeout=30)


def test_no_sender_times_out_and_boots_on(builds, tmp_path):
    """`load` typed but nothing sent: after 30 s of 'C' the loader gives up and the board boots as before."""
    emu = Emulator(flashed(builds, tmp_path)).start()
    with emu:
        enter_loader(emu)
        # Guest seconds: QEMU's SysTick falls behind the host clock on a loaded machine.
        log = emu.read_until("YMODEM: no sender", timeout=180)
        assert log.count("C") == 30  # one request a second
        emu.read_until("APP: hello version 1.0.0", timeout=30)


def test_boot_window_cost(builds, tmp_path):
    """What the `load` window costs at every boot: from the trigger line to the next line."""
    import re

    emu = Emulator(flashed(builds, tmp_path)).start()
    with emu:
        log = emu.read_until("Verify slot 1 header.", timeout=20)
    stamps = [
        int(s) * 1000 + int(ms) for s, ms in re.findall(r"\[\s*(\d+)\.(\d{3})\] (?:UART loader|Verify slot 1)", log)
    ]
    assert len(stamps) == 2
    window = stamps[1] - stamps[0]
    print(f"\nload window: {window} ms")
    assert 240 <= window <= 400


# ---- spb send ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def tcp_console(emu):
    """The emulator's UART on a local TCP port (what QEMU's -serial tcp:... gives): yields the port. Output
    still collects in the emulator's buffer too."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)
    conns = []

    def serve():
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            conns.append(conn)

            def forward(data):
                with contextlib.suppress(OSError):
                    conn.sendall(data)

            with emu._cond:
                pending = bytes(emu._buf[emu._pos :])
                emu._sink = forward
            if pending:
                conn.sendall(pending)
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                emu.write(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        with emu._cond:
            emu._sink = None  # the cursor stays: what the device printed meanwhile can still be awaited
        listener.close()
        for conn in conns:
            conn.close()
        thread.join(timeout=5)


@contextlib.contextmanager
def console_at_power_on(flash, client_argv):
    """Start `client_argv` (with {url} for the console) first, then power the board on once it has
    connected: what `spb send --load` does while the user presses reset. (A running example application
    would take `load` CR itself, examples/common/ymodem_rx.c.) Yields the client process and the board."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)
    url = f"socket://127.0.0.1:{listener.getsockname()[1]}"
    proc = subprocess.Popen(
        [a.format(url=url) for a in client_argv], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        conn, _ = listener.accept()
    finally:
        listener.close()
    emu = Emulator(flash).start()

    def forward(data):
        with contextlib.suppress(OSError):
            conn.sendall(data)

    def pump():
        with contextlib.suppress(OSError):
            while data := conn.recv(4096):
                emu.write(data)

    with emu._cond:
        emu._sink = forward
    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        with emu:
            yield proc, emu
    finally:
        with contextlib.suppress(OSError):
            conn.close()
        thread.join(timeout=5)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("kind", ["sfb", "sfbp"])
def test_spb_send_over_socket_url_installs(builds, tmp_path, kind):
    """`spb send socket://... FILE --load`: it types `load` itself while the board resets, waits for the
    loader, sends, and prints the loader's verdict; v1.1.0 runs. Progress is line-based (not a terminal)."""
    name = "hello.sfb" if kind == "sfb" else "hello_1.0.0_to_1.1.0.sfbp"
    path = builds["1.1.0"] / name
    with console_at_power_on(flashed(builds, tmp_path), [*SPB, "send", "{url}", str(path), "--load"]) as (proc, emu):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert f"sent {name}: {path.stat().st_size} bytes" in out
        assert "device: " in out and "YMODEM: ready" in out
        print("\n" + out.strip())
        assert f"{name}: 100%" in err and "\r" not in err
        emu.read_until("APP: hello version 1.1.0", timeout=60)
        assert "YMODEM loader ready." in emu.log and "APP: YMODEM" not in emu.log  # the bootloader's loader


def test_spb_send_refused_file_names_port_file_and_verdict(builds, tmp_path):
    old = builds["1.0.0"] / "hello.sfb"  # not newer than what runs
    emu = Emulator(flashed(builds, tmp_path)).start()
    with emu:
        enter_loader(emu)
        with tcp_console(emu) as port:
            url = f"socket://127.0.0.1:{port}"
            run = subprocess.run([*SPB, "send", url, str(old)], env=ENV, capture_output=True, text=True, timeout=120)
        assert run.returncode == 2
        line = run.stderr.strip().splitlines()[-1]
        assert line.startswith(f"spb: error: {url}: hello.sfb: the receiver cancelled the transfer")
        assert "status 12: Image version failure" in line


def test_spb_send_bad_port_is_one_line():
    run = subprocess.run(
        [*SPB, "send", "socket://127.0.0.1:1", str(REPO / "README.md")], env=ENV, capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("spb: error: socket://127.0.0.1:1: cannot open")


@needs_lrzsz
@pytest.mark.parametrize("block", ["1k", "128"])
def test_spb_send_to_lrzsz_rb(builds, tmp_path, block):
    """lrzsz `rb` as a second real receiver: it gets the file byte for byte, named as sent."""
    path = builds["1.1.0"] / "hello_1.0.0_to_1.1.0.sfbp"
    data = path.read_bytes() + bytes(range(256)) * 40  # more than one 1 KiB block, a short tail
    src = tmp_path / "payload.bin"
    src.write_bytes(data)
    dest = tmp_path / "rx"
    dest.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    sender = subprocess.Popen(
        [*SPB, "send", f"socket://127.0.0.1:{port}", str(src), *(["--block-128"] if block == "128" else [])],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.settimeout(30)
    conn, _ = listener.accept()
    listener.close()
    with conn:
        rb = subprocess.run(["rb", "--ymodem", "-q"], stdin=conn.fileno(), stdout=conn.fileno(), cwd=dest, timeout=60)
    _, err = sender.communicate(timeout=60)
    assert rb.returncode == 0
    assert sender.returncode == 0, err
    assert (dest / "payload.bin").read_bytes() == data
