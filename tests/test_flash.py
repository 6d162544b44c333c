# SPDX-License-Identifier: Apache-2.0
"""`spb flash` / `scons flash` / `scons run` / `scons monitor` without hardware (docs/flashing.md): the exact
command each backend runs for every board, the errors, the st-flash version check and a real run through a
stand-in program, the GDB remote-protocol loader against a scripted stub, the docs table, the SCons targets.
The loader's run on QEMU is tests/emulator/test_flash_gdb.py."""

from __future__ import annotations

import os
import re
import select
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest
from intelhex import IntelHex

from spb import cli
from spb.board import list_boards, load_board
from spb.errors import SpbError
from spb.transport import flash
from support.scons_project import REPO, scons

BOARDS = REPO / "boards"
ST = ["interface/stlink.cfg"]
# The expected commands, written out here independently of the board files: per board, the pyOCD target, the
# OpenOCD configuration files and the oldest st-flash that knows the part (pyOCD names: its board table).
EXPECTED = {
    "B-L072Z-LRWAN1": ("stm32l072cztx", ST + ["target/stm32l0_dual_bank.cfg"], "1.7.0"),
    "B-L4S5I-IOT01A": ("stm32l4s5vitx", ST + ["target/stm32l4x.cfg"], "1.7.0"),
    "DISCO-F469I": ("stm32f469nihx", ["board/stm32f469i-disco.cfg"], "1.7.0"),
    "DISCO-F769I": ("stm32f769nihx", ["board/stm32f769i-disco.cfg"], "1.7.0"),
    "DISCO-H745I": ("stm32h745xihx", ["board/stm32h745i-disco.cfg"], "1.7.0"),
    "DISCO-L476G": ("stm32l476vgtx", ST + ["target/stm32l4x.cfg"], "1.7.0"),
    "DISCO-L496G": ("stm32l496agix", ST + ["target/stm32l4x.cfg"], "1.7.0"),
    "DISCO-L4R9I": ("stm32l4r9aiix", ["board/stm32l4r9i-disco.cfg"], "1.7.0"),
    "DISCO-L562E": ("stm32l562qeixq", ST + ["target/stm32l5x.cfg"], "1.8.0"),
    "LORA-E5-DEV": ("stm32wle5jcix", ST + ["target/stm32wlx.cfg"], "1.8.0"),
    "NUCLEO-F429ZI": ("stm32f429xi", ST + ["target/stm32f4x.cfg"], "1.7.0"),
    "NUCLEO-G0B1RE": ("stm32g0b1retx", ST + ["target/stm32g0x.cfg"], "1.8.0"),
    "NUCLEO-G474RE": ("stm32g474retx", ST + ["target/stm32g4x.cfg"], "1.7.0"),
    "NUCLEO-L073RZ": ("stm32l073rztx", ST + ["target/stm32l0_dual_bank.cfg"], "1.7.0"),
    "NUCLEO-L412KB": ("stm32l412kbtx", ST + ["target/stm32l4x.cfg"], "1.7.0"),
    "NUCLEO-L452RE": ("stm32l452retx", ST + ["target/stm32l4x.cfg"], "1.7.0"),
    "NUCLEO-L476RG": ("stm32l476rgtx", ST + ["target/stm32l4x.cfg"], "1.7.0"),
    "NUCLEO-L496ZG": ("stm32l496zgtx", ST + ["target/stm32l4x.cfg"], "1.7.0"),
    "NUCLEO-WL55JC": ("stm32wl55jcix", ST + ["target/stm32wlx.cfg"], "1.8.0"),
}
EMULATOR = "EMU-MPS2-AN385"


def write_hex(path, runs):
    ihex = IntelHex()
    for address, data in runs:
        ihex.puts(address, data)
    ihex.write_hex_file(str(path))
    return path


def board_hex(tmp_path, board, external=False):
    """A small image at the board's flash base (and in its external flash when asked)."""
    runs = [(board.flash.base, bytes(range(64)))]
    if external:
        runs.append((board.external_flash.base, b"\x5a" * 32))
    return write_hex(tmp_path / f"{board.name}{'_ext' if external else ''}.hex", runs)


# --------------------------------------------------------------------------------------------------
# The command of every backend for every board


@pytest.mark.parametrize("name", list_boards(BOARDS))
def test_commands_of_every_board(name, tmp_path):
    board = load_board(BOARDS / f"{name}.toml")
    image = board_hex(tmp_path, board)
    if name == EMULATOR:
        assert flash.configured(board) == ("gdb",)
        job = flash.plan(board, image)
        assert job.backend.name == "gdb" and job.argv == []
        assert "localhost:1234" in job.describe() and "0x21000000" in job.describe()
        for tool in ("pyocd", "openocd", "stflash"):
            with pytest.raises(SpbError, match=rf"\[debug\] has no {tool} entry: {name} is programmed with gdb"):
                flash.plan(board, image, tool)
        return
    if name not in EXPECTED:  # a board added without [debug] (its values: docs/flashing.md, "A new board")
        assert board.debug is None
        with pytest.raises(SpbError, match=r"no \[debug\] table"):
            flash.plan(board, image)
        return
    target, configs, stflash_version = EXPECTED[name]
    assert flash.plan(board, image).backend.name == "pyocd"  # the default
    assert flash.plan(board, image, "pyocd").argv == ["pyocd", "flash", "--target", target, str(image)]
    openocd = (
        ["openocd"] + [arg for cfg in configs for arg in ("-f", cfg)] + ["-c", f"program {{{image}}} verify reset exit"]
    )
    assert flash.plan(board, image, "openocd").argv == openocd
    assert flash.plan(board, image, "stflash").argv == ["st-flash", "--reset", "--format", "ihex", "write", str(image)]
    assert board.debug.stflash == stflash_version
    with pytest.raises(SpbError, match=r"\[debug\] has no gdb entry \(plain memory writes program no flash"):
        flash.plan(board, image, "gdb")
    with pytest.raises(SpbError, match=r"is not an emulated board: `scons run` needs BOARD=EMU-MPS2-AN385"):
        flash.run_command(board, image, tmp_path / "bootloader.bin")


@pytest.mark.skipif(shutil.which("openocd") is None, reason="OpenOCD is not installed (apt-get install openocd)")
def test_openocd_reads_every_board_configuration():
    """The installed OpenOCD finds and runs every board's configuration files (`-c shutdown` stops before it
    looks for a probe)."""
    for name in EXPECTED:
        configs = load_board(BOARDS / f"{name}.toml").debug.openocd
        argv = ["openocd"] + [arg for cfg in configs for arg in ("-f", cfg)] + ["-c", "shutdown"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{name}: {result.stderr}"


@pytest.mark.parametrize("name", ["DISCO-F469I", "DISCO-F769I", "DISCO-H745I", "DISCO-L4R9I"])
def test_external_flash_needs_a_tool_that_programs_it(name, tmp_path):
    board = load_board(BOARDS / f"{name}.toml")
    image = board_hex(tmp_path, board, external=True)
    ext = f"{board.external_flash.base:#010x}"
    assert flash.plan(board, image, "openocd").argv[:3] == ["openocd", "-f", EXPECTED[name][1][0]]
    with pytest.raises(
        SpbError, match=rf"data at {ext}-.* external flash .*pyOCD programs only with a user script.*--pyocd-script"
    ):
        flash.plan(board, image)
    with pytest.raises(SpbError, match=r"st-flash cannot program; use --tool openocd"):
        flash.plan(board, image, "stflash")
    script = tmp_path / "ext_flash.py"
    job = flash.plan(board, image, "pyocd", flash.Options(pyocd_script=script))
    assert job.argv == ["pyocd", "flash", "--target", EXPECTED[name][0], "--script", str(script), str(image)]
    # the same board with an image in internal flash only: every tool
    inside = board_hex(tmp_path, board)
    assert [flash.plan(board, inside, t).backend.name for t in ("pyocd", "stflash")] == ["pyocd", "stflash"]


def test_image_errors(tmp_path):
    board = load_board(BOARDS / "NUCLEO-L452RE.toml")
    with pytest.raises(SpbError, match=r"missing\.hex: file not found \(build it first"):
        flash.plan(board, tmp_path / "missing.hex")
    with pytest.raises(SpbError, match=r"x\.bin: not an Intel HEX file"):
        flash.plan(board, tmp_path / "x.bin")
    (tmp_path / "bad.hex").write_text("this is not hex\n")
    with pytest.raises(SpbError, match=r"bad\.hex: cannot read"):
        flash.plan(board, tmp_path / "bad.hex")
    other = board_hex(tmp_path, load_board(BOARDS / f"{EMULATOR}.toml"))
    with pytest.raises(
        SpbError, match=r"data at 0x21000000-0x2100003f lies outside NUCLEO-L452RE's flash .*another board"
    ):
        flash.plan(board, other)
    with pytest.raises(SpbError, match=r"^bogus: unknown flash tool \(known: pyocd, openocd, stflash, gdb\)$"):
        flash.plan(board, board_hex(tmp_path, board), "bogus")
    braces = write_hex(tmp_path / "a{b}.hex", [(board.flash.base, b"\0" * 16)])
    with pytest.raises(SpbError, match=r"OpenOCD takes the path in Tcl braces"):
        flash.plan(board, braces, "openocd")


def fake_tool(directory, name, script):
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(
    ("tool", "program", "install"),
    [
        ("pyocd", "pyocd", "pip install pyocd"),
        ("openocd", "openocd", "apt-get install openocd"),
        ("stflash", "st-flash", "apt-get install stlink-tools"),
    ],
)
def test_missing_tool_names_it_and_how_to_install(tool, program, install, tmp_path, monkeypatch):
    board = load_board(BOARDS / "NUCLEO-L452RE.toml")
    job = flash.plan(board, board_hex(tmp_path, board), tool)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SpbError, match=rf"^{program}: not found on the PATH: install it \({re.escape(install)}"):
        job.run()


def test_tool_runs_with_the_planned_command_and_its_failure_is_reported(tmp_path, monkeypatch):
    board = load_board(BOARDS / "NUCLEO-L452RE.toml")
    image = board_hex(tmp_path, board)
    bin_dir = tmp_path / "bin"
    log = tmp_path / "argv.txt"
    fake_tool(bin_dir, "openocd", f'for a in "$@"; do echo "$a"; done > {log}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    job = flash.plan(board, image, "openocd")
    job.run()
    assert log.read_text().splitlines() == job.argv[1:]
    fake_tool(bin_dir, "openocd", "exit 3\n")
    with pytest.raises(
        SpbError, match=r"^openocd: failed with exit status 3 \(command: openocd -f interface/stlink.cfg"
    ):
        job.run()


def test_stflash_too_old_for_the_part(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    log = tmp_path / "argv.txt"
    fake_tool(bin_dir, "st-flash", f'[ "$1" = --version ] && {{ echo v1.7.0; exit 0; }}\necho "$@" > {log}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    wl = load_board(BOARDS / "NUCLEO-WL55JC.toml")
    with pytest.raises(
        SpbError, match=r"^st-flash: version 1\.7\.0 does not know STM32WL55JCI7: NUCLEO-WL55JC needs 1\.8\.0"
    ):
        flash.plan(wl, board_hex(tmp_path, wl), "stflash").run()
    assert not log.exists()
    l452 = load_board(BOARDS / "NUCLEO-L452RE.toml")
    image = board_hex(tmp_path, l452)
    flash.plan(l452, image, "stflash").run()
    assert log.read_text().split() == ["--reset", "--format", "ihex", "write", str(image)]


def test_emulator_run_command(tmp_path):
    board = load_board(BOARDS / f"{EMULATOR}.toml")
    assert flash.run_command(board, "b/hello_combined.hex", "b/bootloader.bin") == [
        "qemu-system-arm",
        "-M",
        "mps2-an385",
        "-nographic",
        "-device",
        "loader,file=b/hello_combined.hex",
        "-device",
        "loader,file=b/bootloader.bin,addr=0x0",
    ]


# --------------------------------------------------------------------------------------------------
# [debug] in board files


def board_with_debug(tmp_path, debug_text):
    text = (BOARDS / "NUCLEO-L452RE.toml").read_text().split("\n[debug]")[0]
    path = tmp_path / "NUCLEO-L452RE.toml"
    path.write_text(text + "\n[debug]\n" + debug_text)
    return path


@pytest.mark.parametrize(
    ("debug", "message"),
    [
        ('pyocd = "x"\nopenocd = []\n', r"debug\.openocd: give at least one configuration file"),
        (
            'pyocd = "x"\nexternal = ["openocd"]\n',
            r"debug\.external: 'openocd' is not a tool configured in \[debug\] \(configured: pyocd\)",
        ),
        ('stflash = "1.7"\n', r"debug\.stflash: '1\.7' is not an st-flash version"),
        ('gdb = "localhost"\n', r"debug\.gdb: 'localhost' is not a GDB stub address"),
        ('pyocd = "stm32 l452"\n', r"debug\.pyocd: 'stm32 l452' is not a pyOCD target type"),
        ('pyocdd = "x"\n', r"debug\.pyocdd: unknown key; did you mean 'pyocd'\?"),
        ('openocd = "target/stm32l4x.cfg"\n', r"debug\.openocd: must be an array of names"),
    ],
)
def test_bad_debug_table(debug, message, tmp_path):
    with pytest.raises(SpbError, match=message):
        load_board(board_with_debug(tmp_path, debug))


def test_board_without_debug_table(tmp_path):
    path = tmp_path / "NUCLEO-L452RE.toml"
    path.write_text((BOARDS / "NUCLEO-L452RE.toml").read_text().split("\n[debug]")[0])
    board = load_board(path)
    with pytest.raises(SpbError, match=r"NUCLEO-L452RE\.toml: no \[debug\] table: spb does not know how to program"):
        flash.plan(board, board_hex(tmp_path, board))


# --------------------------------------------------------------------------------------------------
# The GDB remote-protocol loader against a scripted stub (the real one, QEMU's: tests/emulator)


class ScriptedStub:
    """A GDB stub on a local port: memory in a dict, registers by number, X packets, run-length encoded replies
    to m, a target description split over two documents, and optionally an error for one address."""

    TARGET = '<target><xi:include href="core.xml"/></target>'
    CORE = (
        '<feature name="org.gnu.gdb.arm.m-profile"><reg name="r0" bitsize="32" regnum="0"/>'
        + "".join(f'<reg name="r{i}" bitsize="32"/>' for i in range(1, 13))
        + '<reg name="sp" bitsize="32"/><reg name="lr" bitsize="32"/><reg name="pc" bitsize="32"/>'
        '<reg name="xpsr" bitsize="32" regnum="25"/></feature>'
    )

    def __init__(self, refuse_at=None):
        self.memory = {}
        self.registers = {}
        self.packets = []
        self.refuse_at = refuse_at
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.listener.accept()
        data = b""
        while True:
            while b"#" not in data or len(data) < data.index(b"#") + 3:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            start, end = data.index(b"$"), data.index(b"#")
            payload, data = data[start + 1 : end], data[end + 3 :]
            reply = self.answer(payload)
            conn.sendall(b"+$" + reply + b"#" + f"{sum(reply) & 0xFF:02x}".encode())  # one segment: no Nagle wait
            if payload == b"D":
                return

    def answer(self, p):
        self.packets.append(p[:1])
        if p.startswith(b"qSupported"):
            return b"PacketSize=200;qXfer:features:read+"
        if p.startswith(b"qXfer:features:read:"):
            name, span = p[20:].decode().split(":")
            offset, length = (int(x, 16) for x in span.split(","))
            doc = (self.TARGET if name == "target.xml" else self.CORE).encode()
            part = doc[offset : offset + length]
            return (b"l" if offset + length >= len(doc) else b"m") + part
        if p == b"?":
            return b"S05"
        if p.startswith(b"X"):
            head, body = p[1:].split(b":", 1)
            address, length = (int(x, 16) for x in head.split(b","))
            if address == self.refuse_at:
                return b"E0e"
            raw, i = bytearray(), 0
            while i < len(body):
                if body[i] == 0x7D:
                    raw.append(body[i + 1] ^ 0x20)
                    i += 2
                else:
                    raw.append(body[i])
                    i += 1
            assert len(raw) == length
            for k, byte in enumerate(raw):
                self.memory[address + k] = byte
            return b"OK"
        if p.startswith(b"m"):
            address, length = (int(x, 16) for x in p[1:].split(b","))
            text = bytes(self.memory.get(address + k, 0) for k in range(length)).hex().encode()
            return re.sub(rb"(0{5,90})", lambda m: b"0*" + bytes([len(m.group(1)) - 1 + 29]), text)  # RLE, as stubs may
        if p.startswith(b"P"):
            number, value = p[1:].split(b"=")
            self.registers[int(number, 16)] = int.from_bytes(bytes.fromhex(value.decode()), "little")
            return b"OK"
        if p == b"D":
            return b"OK"
        return b""


def test_gdb_loader_against_a_scripted_stub(tmp_path):
    board = load_board(BOARDS / f"{EMULATOR}.toml")
    vectors = (0x20020000).to_bytes(4, "little") + (0x21000101).to_bytes(4, "little")
    payload = vectors + bytes(range(256)) * 3 + b"#$}*" * 40 + bytes(300)  # every byte X must escape, long zero runs
    image = flash.load_image(write_hex(tmp_path / "emu.hex", [(board.flash.base, payload)]))
    stub = ScriptedStub()
    said = []
    result = flash.load_through_gdb(board, image, stub.address, log=said.append)
    stub.thread.join(5)
    assert bytes(stub.memory[board.flash.base + k] for k in range(len(payload))) == payload
    vector_bytes = 48 * 4  # the mps2 family's vector table, copied to the boot alias at 0
    assert bytes(stub.memory[k] for k in range(vector_bytes)) == payload[:vector_bytes]
    assert stub.registers == {13: 0x20020000, 15: 0x21000100, 25: 1 << 24}
    assert result["packets"] == "X" and result["bytes"] == len(payload) + vector_bytes
    assert stub.packets[-1] == b"D" and b"M" not in stub.packets
    assert "wrote and verified" in said[0] and "PC 0x21000101" in said[0]


def test_gdb_loader_errors(tmp_path):
    board = load_board(BOARDS / f"{EMULATOR}.toml")
    image = flash.load_image(write_hex(tmp_path / "emu.hex", [(board.flash.base, bytes(256))]))
    stub = ScriptedStub(refuse_at=board.flash.base)
    refused = rf"^{stub.address}: the GDB stub refused to write 256 bytes at 0x21000000: E0e$"
    with pytest.raises(SpbError, match=refused):
        flash.load_through_gdb(board, image, stub.address, log=lambda _: None)
    listener = socket.create_server(("127.0.0.1", 0))  # a port nobody answers on once closed
    free = listener.getsockname()[1]
    listener.close()
    with pytest.raises(SpbError, match=rf"^127\.0\.0\.1:{free}: no GDB stub answers"):
        flash.load_through_gdb(board, image, f"127.0.0.1:{free}", log=lambda _: None, timeout=0.3)
    with pytest.raises(SpbError, match=r"^nowhere: not a GDB stub address \(host:port\)$"):
        flash.GdbRemote("nowhere")


# --------------------------------------------------------------------------------------------------
# CLI, docs table, SCons


def test_cli_dry_run_and_errors(tmp_path, capsys, monkeypatch):
    board = load_board(BOARDS / "NUCLEO-L452RE.toml")
    image = board_hex(tmp_path, board)
    assert cli.main(["flash", "--board", "NUCLEO-L452RE", "--tool", "stflash", "--dry-run", str(image)]) == 0
    assert capsys.readouterr().out == f"st-flash --reset --format ihex write {image}\n"
    assert cli.main(["flash", "--board", "NUCLEO-L452RE", "--tool", "jlink", "--dry-run", str(image)]) == 2
    assert capsys.readouterr().err == "spb: error: jlink: unknown flash tool (known: pyocd, openocd, stflash, gdb)\n"
    assert cli.main(["flash", str(image)]) == 2
    assert "spb flash needs --board NAME" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)  # the default image: build/<BOARD>/hello_combined.hex, here absent
    assert cli.main(["flash", "--board", "NUCLEO-L452RE", "--dry-run"]) == 2
    assert capsys.readouterr().err.startswith("spb: error: build/NUCLEO-L452RE/hello_combined.hex: file not found")


def test_flash_table_in_the_docs_is_up_to_date(tmp_path, capsys):
    boards = [load_board(BOARDS / f"{name}.toml") for name in list_boards(BOARDS)]
    doc = (REPO / "docs" / "flashing.md").read_text()
    table = doc[doc.index(flash.TABLE_START) : doc.index(flash.TABLE_END) + len(flash.TABLE_END)]
    assert table == flash.render_table(boards), (
        "docs/flashing.md: out of date: spb flash --table --write docs/flashing.md"
    )
    assert "| NUCLEO-L452RE | `pyocd flash --target stm32l452retx IMAGE` |" in table
    copy = tmp_path / "flashing.md"
    copy.write_text(doc.replace(table, f"{flash.TABLE_START}\nstale\n{flash.TABLE_END}"))
    assert cli.main(["flash", "--table", "--write", str(copy)]) == 0
    assert copy.read_text() == doc and "updated" in capsys.readouterr().out


def test_scons_help_and_device_target_errors():
    help_text = scons(REPO, "-Q", "--help").stdout
    for option in ("FLASH_TOOL", "GDB", "PORT"):
        assert re.search(rf"^{option}:", help_text, re.M), option
    for target in ("flash", "run", "monitor"):
        assert re.search(rf"^{target}: ", help_text, re.M), target
    # named together with -k: both fail at once, nothing is built for a real board's `run`
    result = scons(REPO, "-Q", "-k", "BOARD=NUCLEO-L452RE", "run", "monitor", check=False)
    assert result.returncode != 0
    assert "NUCLEO-L452RE is not an emulated board: `scons run` needs BOARD=EMU-MPS2-AN385" in result.stderr
    assert "scons monitor needs PORT=" in result.stderr
    assert not re.search(r"^(CC|LINK|COMBINE)\s", result.stdout, re.M), result.stdout
    # scons monitor is spb monitor on PORT: a console prints a line; it hangs up once scons has shown it
    console = socket.create_server(("127.0.0.1", 0))
    console.settimeout(30)
    port = f"socket://127.0.0.1:{console.getsockname()[1]}"
    env = {**os.environ, "PYTHONPATH": str(REPO / "site_scons")}
    argv = [sys.executable, "-m", "SCons", "-Q", "BOARD=NUCLEO-L452RE", f"PORT={port}", "monitor"]
    # stdin: nothing (the monitor forwards its standard input to the console)
    proc = subprocess.Popen(
        argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        conn, _ = console.accept()
        out, deadline = b"", time.monotonic() + 30
        while b"Bootloader starting up." not in out and time.monotonic() < deadline:
            # again and again: pyserial empties its input when it opens a socket:// port, so what arrives before
            # that is lost
            conn.sendall(b"[  0.000] Bootloader starting up.\r\n")
            if select.select([proc.stdout], [], [], 0.3)[0]:
                out += os.read(proc.stdout.fileno(), 4096) or b"(end)"
        conn.close()
        err = proc.communicate(timeout=30)[1].decode()
    finally:
        console.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"[  0.000] Bootloader starting up." in out, out
    assert proc.returncode != 0 and f"spb: error: {port}: connection lost" in err, err
    result = scons(REPO, "-Q", "FLASH_TOOL=jlink", "flash", check=False)
    assert (
        result.returncode != 0
        and "FLASH_TOOL=jlink: unknown flash tool (known: pyocd, openocd, stflash, gdb)" in result.stderr
    )
