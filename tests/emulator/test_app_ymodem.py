# SPDX-License-Identifier: Apache-2.0
"""YMODEM into the running example application (examples/common/ymodem_rx.c) and over a noisy line, on the
emulator board (QEMU mps2-an385).

The app takes the bootloader's trigger, `load` CR, and receives the file itself through the bootloader's
API (SE_PATCH_*), so `spb send --load` and lrzsz `sb` update a running board without a reset: v1.0.0 runs,
v1.1.0 arrives, the app prints its verdict and resets into the install. Also: a file for other keys is
cancelled at its first data block with SLOT0 and SLOT1 untouched and the app running on; a cancel from the
sender mid-transfer drops the partial download.

Noisy line (tests/support/noisyline.py between the sender and the console): bytes dropped, flipped,
duplicated and delayed at a seeded rate in both directions, into the app's receiver and into the
bootloader's loader, with `spb send` and `sb`. Whatever happens, the transfer either completes (v1.1.0
runs) or ends cleanly (sender: an error, device: a verdict), and SLOT0 holds an authentic image that
boots (old or new). The default run has four fixed cases that must complete; SPB_NOISY_SWEEP=1 runs the
sweep over senders, receivers, rates and seeds (80 transfers, about 20 minutes; run with -s to see one line
per transfer; results in docs/ymodem.md).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time

import pytest
from test_ymodem import (  # the same module-scoped builds: v1.0.0, v1.1.0 and the 1.0.0 -> 1.1.0 patch
    ENV,
    SPB,
    EmuLink,
    Stop,
    enter_loader,
    flashed,
    needs_lrzsz,
    report,
    tcp_console,
)
from test_ymodem import builds as builds  # the fixture, for this module too

from support.noisyline import Noise, NoisyLine
from support.qemu import Emulator, read_flash
from support.scons_project import make_keys

RECEIVER_READY = "APP: YMODEM receiver ready."
VERDICT = re.compile(rb"(?:APP: )?YMODEM: (ready|no sender|cancelled|failed)[^\n]*\n")
VERSION = re.compile(rb"APP: hello version (\d+\.\d+\.\d+)")


def running_app(builds, tmp_path):
    flash = flashed(builds, tmp_path)
    emu = Emulator(flash).start()
    emu.read_until("APP: hello version 1.0.0", timeout=20)
    return flash, emu


def start_receiver(emu):
    emu.write(b"load\r")
    emu.read_until(RECEIVER_READY, timeout=10)


def slots(flash, board):
    return read_flash(flash, board.slot0.address, board.slot0.size), read_flash(
        flash, board.slot1.address, board.slot1.size
    )


# ---- clean line -------------------------------------------------------------------------------------------


def test_spb_send_load_updates_the_running_app(builds, tmp_path):
    """`spb send --load` to a board running v1.0.0: the app's receiver takes the .sfb (no reset, the
    bootloader's loader is not involved), prints the verdict, resets, and the bootloader installs v1.1.0."""
    board = builds["board"]
    path = builds["1.1.0"] / "hello.sfb"
    new_plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    flash, emu = running_app(builds, tmp_path)
    with emu:
        with tcp_console(emu) as port:
            t = time.monotonic()
            run = subprocess.run(
                [*SPB, "send", f"socket://127.0.0.1:{port}", str(path), "--load", "-q"],
                env=ENV,
                capture_output=True,
                text=True,
                timeout=120,
            )
            report("spb send --load into the app", path.stat().st_size, time.monotonic() - t)
        assert run.returncode == 0, run.stderr
        assert f"device: APP: YMODEM: ready, {path.stat().st_size} bytes, status 1: Completed" in run.stdout
        log = emu.read_until("APP: hello version 1.1.0", timeout=60)
        # installed: by exchange (trial boot, the emulator board's default) or by copy (TRIAL=0)
        assert "Slot 1 firmware 1.1.0 is newer." in log
        assert "Swap slots: 1.0.0 <-> 1.1.0." in log or "Slot 0 validated." in log
        assert RECEIVER_READY in emu.log and "YMODEM loader ready." not in emu.log
    assert read_flash(flash, board.app_vector_address, len(new_plain)) == new_plain


@needs_lrzsz
@pytest.mark.parametrize("kind", ["sfbp-128", "sfb-1k"])
def test_sb_into_the_running_app(builds, tmp_path, kind):
    """lrzsz `sb` after `load` CR typed on the console: a .sfbp in 128-byte blocks (the engine regenerates
    v1.1.0 from SLOT0) and a .sfb in 1024-byte blocks."""
    board = builds["board"]
    path = builds["1.1.0"] / ("hello_1.0.0_to_1.1.0.sfbp" if kind.startswith("sfbp") else "hello.sfb")
    new_plain = (builds["1.1.0"] / "hello.bin").read_bytes()
    flash, emu = running_app(builds, tmp_path)
    with emu:
        start_receiver(emu)
        t = time.monotonic()
        run = emu.bridge(["sb", "--ymodem", *(["-k"] if kind.endswith("1k") else []), str(path)], timeout=60)
        report(f"sb {kind} into the app", path.stat().st_size, time.monotonic() - t)
        assert run.returncode == 0, run.stderr.decode(errors="replace")
        emu.read_until("APP: hello version 1.1.0", timeout=60)
        assert f"APP: YMODEM: ready, {path.stat().st_size} bytes, status 1: Completed" in emu.log
    assert read_flash(flash, board.app_vector_address, len(new_plain)) == new_plain


def test_app_cancels_a_file_for_other_keys_at_its_first_block(builds, tmp_path):
    """The engine refuses the header at byte 128 of data block 1: the app cancels at once (the sender has
    no block acknowledged after block 0), SLOT0 and SLOT1 are bit for bit what they were, the app runs on."""
    from spb.image import build_sfb
    from spb.transport.ymodem import ReceiverCancelled, Sender

    board = builds["board"]
    other = make_keys(tmp_path / "other-keys")
    wrong = build_sfb((builds["1.1.0"] / "hello.bin").read_bytes(), 0x01010000, other, board.vector_size)
    flash, emu = running_app(builds, tmp_path)
    before = slots(flash, board)
    acked = []
    with emu:
        start_receiver(emu)
        sender = Sender(EmuLink(emu), progress=lambda done, total: acked.append(done))
        with pytest.raises(ReceiverCancelled, match="APP: YMODEM: failed, 128 bytes, status 3: Invalid image"):
            sender.send("wrong.sfb", wrong)
        assert acked == [] and sender.resent == 0
        emu.write(b"i")
        emu.read_until("APP: hello version 1.0.0", timeout=10)
        assert slots(flash, board) == before


def test_sender_cancel_mid_transfer_into_the_app(builds, tmp_path):
    """CAN CAN from the sender after two data blocks (SLOT1 already has a header): the app drops the
    download, SLOT1's header area is erased again, the app runs on and the next boot has nothing to install."""
    from spb.image import build_sfb
    from spb.transport.ymodem import Sender

    board = builds["board"]
    big = build_sfb(
        (builds["1.1.0"] / "hello.bin").read_bytes() + bytes(16 * 1024), 0x01010000, builds["keys"], board.vector_size
    )

    def stop_after_two_blocks(done, total):
        if done >= 2048:
            raise Stop

    flash, emu = running_app(builds, tmp_path)
    with emu:
        start_receiver(emu)
        with pytest.raises(Stop):
            Sender(EmuLink(emu), progress=stop_after_two_blocks).send("big.sfb", big)
        emu.read_until("APP: YMODEM: cancelled, 2048 bytes", timeout=10)
        assert read_flash(flash, board.slot1.address, board.vector_size) == b"\xff" * board.vector_size
        emu.write(b"r")
        log = emu.read_until("APP: hello version 1.0.0", timeout=30)
        assert "Slot 1 is empty." in log


# ---- noisy line -------------------------------------------------------------------------------------------

#: (receiver, sender, fault rate per byte and direction, seed): the default run; each must complete.
NOISY = [
    ("app", "spb", 0.002, 1),
    ("loader", "spb", 0.002, 2),
    ("app", "sb", 0.0005, 3),
    ("loader", "sb -k", 0.0005, 4),
]
#: SPB_NOISY_SWEEP=1 (opt-in, about 20 minutes): every receiver, sender and rate, two seeds each.
SWEEP = [
    (receiver, sender, rate, seed)
    for receiver in ("app", "loader")
    for sender in ("spb", "spb-128", "sb", "sb -k")
    for rate in (0.0005, 0.001, 0.002, 0.005, 0.01)
    for seed in (11, 12)
]


def noisy_transfer(builds, tmp_path, receiver, sender, rate, seed):
    """One transfer of v1.1.0's .sfb through the noisy line; checks the safety properties whatever the
    outcome and returns (completed, seconds, what the sender said, line statistics)."""
    if sender.startswith("sb") and shutil.which("sb") is None:
        pytest.skip("needs lrzsz (sb)")
    board = builds["board"]
    path = builds["1.1.0"] / "hello.sfb"
    plains = {v: (builds[v] / "hello.bin").read_bytes() for v in ("1.0.0", "1.1.0")}
    noise = Noise(rate, delay_rate=rate, max_delay=0.05)
    flash, emu = running_app(builds, tmp_path)
    with emu:
        if receiver == "loader":
            emu.write(b"r")
            enter_loader(emu)
        elif sender.startswith("sb"):
            start_receiver(emu)  # sb cannot type the trigger; spb send --load does, through the noise
        with tcp_console(emu) as port, NoisyLine(("127.0.0.1", port), noise, noise, seed=seed) as line:
            url = f"socket://127.0.0.1:{line.port}"
            t = time.monotonic()
            if sender.startswith("spb"):
                argv = [*SPB, "send", url, str(path), "-q", "--timeout", "30"]
                argv += ["--load"] if receiver == "app" else []
                argv += ["--block-128"] if sender == "spb-128" else []
                run = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=300)
                ok, said = run.returncode == 0, (run.stdout + run.stderr).strip()
                if not ok:  # a clean failure: one line naming the port and the file, after the --load notice
                    lines = run.stderr.splitlines()
                    assert run.returncode == 2 and len(lines) == (2 if receiver == "app" else 1), run.stderr
                    assert lines[-1].startswith(f"spb: error: {url}: hello.sfb: "), run.stderr
            else:
                with socket.create_connection(("127.0.0.1", line.port)) as sock:
                    argv = ["sb", "--ymodem", *(["-k"] if sender == "sb -k" else []), str(path)]
                    run = subprocess.run(
                        argv, stdin=sock.fileno(), stdout=sock.fileno(), stderr=subprocess.PIPE, timeout=300
                    )
                ok, said = run.returncode == 0, run.stderr.decode(errors="replace").strip().splitlines()[-1:]
            seconds = time.monotonic() - t
            stats = f"to device {line.down}; to host {line.up}"
        # The device's side: a verdict (the receiver gives up by itself within its error limit) ...
        verdict = VERDICT.search(emu.read_until(VERDICT, timeout=120).encode("latin-1")).group(0).decode().strip()
        ready = "YMODEM: ready" in verdict
        if ready:
            assert "1: Completed" in verdict
        if receiver == "app" and not ready:
            assert "APP: YMODEM:" in verdict
            emu.write(b"r")  # the app runs on after a failed transfer: reset to see what boots
        # ... then a boot into an authentic image: the new one after a complete transfer, else the old one.
        m = VERSION.search(emu.read_until(VERSION, timeout=60).encode("latin-1"))
        version = m.group(1).decode()
    assert version == ("1.1.0" if ready else "1.0.0"), verdict
    assert read_flash(flash, board.app_vector_address, len(plains[version])) == plains[version]
    if ok:
        assert ready, f"the sender succeeded but the device said {verdict!r}"
    print(
        f"\nnoisy {receiver:6} {sender:7} rate {rate:.4f} seed {seed}: "
        f"{'completed' if ok else 'failed cleanly'} in {seconds:.1f} s (device: {verdict}); {stats}; {said}"
    )
    return ok, seconds, said, stats


@pytest.mark.parametrize(("receiver", "sender", "rate", "seed"), NOISY)
def test_noisy_line_transfer_completes(builds, tmp_path, receiver, sender, rate, seed):
    ok, _, said, stats = noisy_transfer(builds, tmp_path, receiver, sender, rate, seed)
    assert ok, f"{said}; {stats}"


@pytest.mark.parametrize(("receiver", "sender", "rate", "seed"), SWEEP if os.environ.get("SPB_NOISY_SWEEP") else [])
def test_noisy_line_sweep(builds, tmp_path, receiver, sender, rate, seed):
    noisy_transfer(builds, tmp_path, receiver, sender, rate, seed)
