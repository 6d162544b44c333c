# SPDX-License-Identifier: Apache-2.0
"""Programming a board with its manufacturing image: `spb flash`, `scons flash`; and `scons run` (docs/flashing.md).

One backend per tool. Each turns the board's `[debug]` table (spb.board.Debug) and the image into the command
it runs, and checks that its program is installed before running it:

    pyocd    pyocd flash --target T IMAGE                          (CMSIS-Pack targets: `pyocd pack install T`)
    openocd  openocd -f CFG [-f CFG...] -c "program {IMAGE} verify reset exit"
    stflash  st-flash --reset --format ihex write IMAGE
    gdb      no program: spb itself writes the image through a GDB stub (the remote serial protocol: X or M
             packets), reads it back, sets SP, PC and xPSR from the bootloader's vector table and detaches,
             which resumes the CPU. The emulator board's way: QEMU started with -S -gdb tcp::PORT. Plain
             memory writes program no STM32 flash, so STM32 boards have no `gdb` entry.

The image is checked first: every byte must lie in the board's internal or external flash (a hex built for
another board is refused), and bytes in external flash need a tool whose configuration programs it
(`[debug] external`, or pyOCD with a user script that gives the chip's flash algorithm).
"""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..board import FAMILIES, Board, Debug
from ..errors import SpbError, StrPath

TOOLS = ("pyocd", "openocd", "stflash", "gdb")
DEFAULT_IMAGE = "hello_combined.hex"  # in build/<BOARD>/: the example application's manufacturing image

#: Cortex-M register numbers of GDB's org.gnu.gdb.arm.m-profile feature (QEMU, pyOCD and OpenOCD use them)
REG_SP, REG_PC, REG_XPSR = 13, 15, 25
XPSR_THUMB = 1 << 24


@dataclass(frozen=True)
class Image:
    """The manufacturing image: its path and its bytes as (address, data) runs, ascending."""

    path: Path
    segments: tuple[tuple[int, bytes], ...]

    def read(self, address: int, size: int) -> bytes:
        for start, data in self.segments:
            if start <= address and address + size <= start + len(data):
                return data[address - start : address - start + size]
        raise SpbError(self.path, f"no data at {address:#010x}+{size:#x}")


def load_image(path: StrPath) -> Image:
    """An Intel HEX manufacturing image (`hello_combined.hex`)."""
    from intelhex import HexReaderError, IntelHex

    path = Path(path)
    if path.suffix.lower() != ".hex":
        raise SpbError(
            path, "not an Intel HEX file: give the manufacturing image <app>_combined.hex (a .bin has no addresses)"
        )
    try:
        ihex = IntelHex(str(path))
    except FileNotFoundError:
        raise SpbError(path, "file not found (build it first: scons BOARD=<board>)") from None
    except (OSError, HexReaderError) as error:
        raise SpbError(path, f"cannot read: {error}") from None
    segments = tuple((start, bytes(ihex.tobinstr(start=start, end=end - 1))) for start, end in ihex.segments())
    if not segments:
        raise SpbError(path, "empty image: nothing to program")
    return Image(path, segments)


@dataclass(frozen=True)
class Options:
    """What the user may add on the command line (spb flash) or as SCons options (scons flash)."""

    gdb: str | None = None  # host:port of the GDB stub (default: [debug] gdb)
    pyocd_script: Path | None = None  # a pyOCD user script (external flash: it gives the chip's flash algorithm)


def _debug(board: Board) -> Debug:
    if board.debug is None:
        raise SpbError(board.path, "no [debug] table: spb does not know how to program this board (docs/flashing.md)")
    return board.debug


def configured(board: Board) -> tuple[str, ...]:
    """The tools the board's [debug] table configures, the default first."""
    debug = _debug(board)
    have = {"pyocd": debug.pyocd, "openocd": debug.openocd, "stflash": debug.stflash, "gdb": debug.gdb}
    return tuple(tool for tool in TOOLS if have[tool])


def _external(board: Board, image: Image) -> tuple[int, int] | None:
    """The first run of the image in external flash, as (start, end); SpbError for bytes outside all flash."""
    found = None
    for start, data in image.segments:
        end = start + len(data)
        if board.flash.base <= start and end <= board.flash.end:
            continue
        ext = board.external_flash
        if ext is not None and ext.base <= start and end <= ext.end:
            found = found or (start, end)
            continue
        where = f"{board.name}'s flash [{board.flash.base:#010x}, {board.flash.end:#010x})"
        if ext is not None:
            where += f" and external flash [{ext.base:#010x}, {ext.end:#010x})"
        raise SpbError(
            image.path, f"data at {start:#010x}-{end - 1:#010x} lies outside {where}: built for another board?"
        )
    return found


class Backend(Protocol):
    """One programming tool."""

    @property
    def name(self) -> str: ...

    @property
    def executable(self) -> str | None:
        """The program it runs (None: spb does the work itself)."""
        ...

    @property
    def install(self) -> str:
        """How to get the program."""
        ...

    def command(self, board: Board, image: Image, options: Options) -> list[str]:
        """The argv it runs (empty for an in-process backend); SpbError when it cannot program this image."""
        ...

    def describe(self, board: Board, image: Image, options: Options) -> str:
        """One line for --dry-run and the docs: the shell command, or what the in-process backend does."""
        ...

    def check(self, board: Board) -> None:
        """SpbError naming the missing program and how to install it."""
        ...

    def run(self, board: Board, image: Image, options: Options) -> None: ...


class _Program:
    """A backend that runs an external program."""

    name = ""
    executable: str | None = ""
    install = ""

    def command(self, board: Board, image: Image, options: Options) -> list[str]:
        raise NotImplementedError

    def describe(self, board: Board, image: Image, options: Options) -> str:
        return shlex.join(self.command(board, image, options))

    def check(self, board: Board) -> None:
        assert self.executable, "a program backend names its program"
        if shutil.which(self.executable) is None:
            raise SpbError(self.executable, f"not found on the PATH: install it ({self.install})")

    def run(self, board: Board, image: Image, options: Options) -> None:
        argv = self.command(board, image, options)
        self.check(board)
        try:
            status = subprocess.run(argv, check=False).returncode
        except OSError as error:
            raise SpbError(argv[0], f"cannot run: {error.strerror}") from None
        if status != 0:
            raise SpbError(argv[0], f"failed with exit status {status} (command: {shlex.join(argv)})")


def _external_refusal(board: Board, image: Image, tool: str, how: str) -> SpbError | None:
    run = _external(board, image)
    if run is None or tool in _debug(board).external:
        return None
    ext = board.external_flash
    assert ext is not None, "_external: a run in external flash needs external flash"
    return SpbError(
        image.path,
        f"data at {run[0]:#010x}-{run[1] - 1:#010x} is in {board.name}'s external flash ({ext.chip}, "
        f"{ext.kind.upper()}), which {how}",
    )


class PyOCD(_Program):
    name = "pyocd"
    executable = "pyocd"
    install = "pip install pyocd; a CMSIS-Pack target also needs `pyocd pack install <target>`"

    def command(self, board: Board, image: Image, options: Options) -> list[str]:
        target = _debug(board).pyocd
        if target is None:
            raise _not_configured(board, self.name)
        if options.pyocd_script is None:
            refusal = _external_refusal(
                board,
                image,
                self.name,
                "pyOCD programs only with a user script that gives the chip's flash algorithm "
                "(--pyocd-script FILE, docs/flashing.md); or use --tool openocd",
            )
            if refusal is not None:
                raise refusal
        script = ["--script", str(options.pyocd_script)] if options.pyocd_script is not None else []
        return ["pyocd", "flash", "--target", target, *script, str(image.path)]


class OpenOCD(_Program):
    name = "openocd"
    executable = "openocd"
    install = "apt-get install openocd"

    def command(self, board: Board, image: Image, options: Options) -> list[str]:
        configs = _debug(board).openocd
        if not configs:
            raise _not_configured(board, self.name)
        refusal = _external_refusal(
            board,
            image,
            self.name,
            "its [debug] openocd configuration does not declare (no 'openocd' in [debug] external)",
        )
        if refusal is not None:
            raise refusal
        path = str(image.path)
        if any(c in path for c in "{}"):
            raise SpbError(image.path, "OpenOCD takes the path in Tcl braces: rename it without '{' or '}'")
        argv = ["openocd"]
        for config in configs:
            argv += ["-f", config]
        return argv + ["-c", f"program {{{path}}} verify reset exit"]


def _version(text: str) -> tuple[int, ...] | None:
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(g) for g in match.groups()) if match else None


class StFlash(_Program):
    name = "stflash"
    executable = "st-flash"
    install = "apt-get install stlink-tools"

    def command(self, board: Board, image: Image, options: Options) -> list[str]:
        if _debug(board).stflash is None:
            raise _not_configured(board, self.name)
        refusal = _external_refusal(board, image, self.name, "st-flash cannot program; use --tool openocd")
        if refusal is not None:
            raise refusal
        return ["st-flash", "--reset", "--format", "ihex", "write", str(image.path)]

    def check(self, board: Board) -> None:
        super().check(board)
        needed = _debug(board).stflash
        assert needed is not None, "command() checked it"
        try:
            said = subprocess.run(["st-flash", "--version"], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return  # it runs or fails below, with its own message
        have = _version(said.stdout + said.stderr)
        want = _version(needed)
        if have is not None and want is not None and have < want:
            raise SpbError(
                "st-flash",
                f"version {'.'.join(map(str, have))} does not know {board.mcu or board.name}: {board.name} needs "
                f"{needed} or later (or use --tool pyocd / openocd)",
            )


class GdbStub:
    """Loads the image through a GDB stub: the emulator board (QEMU -S -gdb tcp::PORT)."""

    name = "gdb"
    executable: str | None = None
    install = "nothing to install: start the stub, e.g. qemu-system-arm -M mps2-an385 -S -gdb tcp::1234"

    def address(self, board: Board, options: Options) -> str:
        address = options.gdb or _debug(board).gdb
        if address is None or _debug(board).gdb is None:
            raise _not_configured(board, self.name, " (plain memory writes program no flash of a real chip)")
        return address

    def command(self, board: Board, image: Image, options: Options) -> list[str]:
        self.address(board, options)
        _external(board, image)
        return []

    def describe(self, board: Board, image: Image, options: Options) -> str:
        self.command(board, image, options)
        alias = _debug(board).boot_alias
        also = f", the vector table also at {alias:#x}" if alias is not None else ""
        return (
            f"(GDB remote protocol to {self.address(board, options)}) write {image.path}{also}, "
            f"read it back, SP/PC from {board.flash.base:#010x}, detach"
        )

    def check(self, board: Board) -> None:
        return None  # no program: the stub is reached (or not) when it runs

    def run(self, board: Board, image: Image, options: Options) -> None:
        self.command(board, image, options)
        load_through_gdb(board, image, self.address(board, options))


_ALL: tuple[Backend, ...] = (PyOCD(), OpenOCD(), StFlash(), GdbStub())
BACKENDS: dict[str, Backend] = {b.name: b for b in _ALL}


def _not_configured(board: Board, tool: str, why: str = "") -> SpbError:
    tools = configured(board)
    return SpbError(
        board.path,
        f"[debug] has no {tool} entry{why}: {board.name} is programmed with {', '.join(tools) or 'no tool'}",
    )


def backend(board: Board, tool: str | None) -> Backend:
    """The backend for `tool`, or the board's default (pyOCD where configured, else its first tool)."""
    if tool is None or tool == "":
        tools = configured(board)
        if not tools:
            raise SpbError(board.path, "[debug] configures no tool (pyocd, openocd, stflash or gdb)")
        tool = tools[0]
    if tool not in BACKENDS:
        raise SpbError(tool, f"unknown flash tool (known: {', '.join(TOOLS)})")
    return BACKENDS[tool]


@dataclass(frozen=True)
class Plan:
    """What `spb flash` will do: the backend, its command (empty for gdb) and a one-line description."""

    backend: Backend
    board: Board
    image: Image
    options: Options = field(default_factory=Options)

    @property
    def argv(self) -> list[str]:
        return self.backend.command(self.board, self.image, self.options)

    def describe(self) -> str:
        return self.backend.describe(self.board, self.image, self.options)

    def run(self) -> None:
        self.backend.run(self.board, self.image, self.options)


def plan(board: Board, image: StrPath, tool: str | None = None, options: Options | None = None) -> Plan:
    """Everything checked but the tool's presence: unknown tool, board not configured for it, unreadable image,
    bytes outside the board's flash or in an external flash the tool cannot program."""
    chosen = backend(board, tool)
    result = Plan(chosen, board, load_image(image), options or Options())
    result.describe()  # raises what the backend refuses
    return result


# --------------------------------------------------------------------------------------------------
# The GDB remote serial protocol, the little of it a loader needs


class GdbRemote:
    """A client of a GDB stub over TCP: packets `$payload#checksum`, each acknowledged with '+'."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise SpbError(address, "not a GDB stub address (host:port)")
        self.address = address
        self.timeout = timeout
        deadline = time.monotonic() + timeout
        while True:  # the stub may still be starting (QEMU opens its port while it sets up the machine)
            try:
                self.sock = socket.create_connection((host, int(port)), timeout=timeout)
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise SpbError(address, f"no GDB stub answers: {error.strerror or error}") from None
                time.sleep(0.1)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self.packet_size = 0x400
        self.features: set[bytes] = set()
        self.binary_writes: bool | None = None  # whether the stub takes X packets (None: not tried yet)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> GdbRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- framing
    def _byte(self) -> int:
        while not self._buf:
            try:
                chunk = self.sock.recv(65536)
            except OSError as error:
                raise SpbError(self.address, f"connection lost: {error.strerror or error}") from None
            if not chunk:
                raise SpbError(self.address, "the GDB stub closed the connection")
            self._buf += chunk
        value = self._buf[0]
        del self._buf[0]
        return value

    def _send(self, payload: bytes) -> None:
        frame = b"$" + payload + b"#" + f"{sum(payload) & 0xFF:02x}".encode()
        for _ in range(3):
            self.sock.sendall(frame)
            ack = self._byte()
            while ack not in b"+-":  # stray bytes before the acknowledgement
                ack = self._byte()
            if ack == ord("+"):
                return
        raise SpbError(self.address, f"the GDB stub keeps rejecting packet {payload[:16]!r}...")

    def _receive(self) -> bytes:
        while True:
            while self._byte() != ord("$"):
                pass
            body = bytearray()
            byte = self._byte()
            while byte != ord("#"):
                body.append(byte)
                byte = self._byte()
            checksum = bytes([self._byte(), self._byte()])
            if f"{sum(body) & 0xFF:02x}".encode() == checksum.lower():
                self.sock.sendall(b"+")
                return _expand(bytes(body))
            self.sock.sendall(b"-")

    def request(self, payload: bytes, what: str) -> bytes:
        """Send a packet and return the reply; SpbError on an error reply (Exx)."""
        self._send(payload)
        reply = self._receive()
        while reply.startswith(b"O") and reply != b"OK":  # console output from the target: not the answer
            reply = self._receive()
        if re.fullmatch(rb"E[0-9a-fA-F]{2}", reply):
            raise SpbError(self.address, f"the GDB stub refused to {what}: {reply.decode()}")
        return reply

    # ---- commands
    def handshake(self) -> None:
        reply = self.request(b"qSupported:swbreak+;hwbreak+", "negotiate")
        for feature in reply.split(b";"):
            if feature.startswith(b"PacketSize="):
                self.packet_size = max(0x100, int(feature[11:], 16))
            self.features.add(feature)
        self.request(b"?", "report its stop reason")  # also makes sure the target is halted

    def _chunk(self) -> int:
        return (self.packet_size - 32) // 2  # an escaped X payload or an M/m hex payload is at most twice the data

    def write(self, address: int, data: bytes) -> None:
        what = f"write {len(data)} bytes at {address:#010x}"
        for offset in range(0, len(data), self._chunk()):
            chunk = data[offset : offset + self._chunk()]
            at = address + offset
            if self.binary_writes is not False:
                reply = self.request(f"X{at:x},{len(chunk):x}:".encode() + _escape(chunk), what)
                if reply == b"OK":
                    self.binary_writes = True
                    continue
                if self.binary_writes:
                    raise SpbError(self.address, f"unexpected answer to X: {reply[:40]!r}")
                self.binary_writes = False  # empty answer: X unsupported, hex from now on
            reply = self.request(f"M{at:x},{len(chunk):x}:{chunk.hex()}".encode(), what)
            if reply != b"OK":
                raise SpbError(self.address, f"unexpected answer to M: {reply[:40]!r}")

    def read(self, address: int, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            n = min(self._chunk(), size - len(out))
            reply = self.request(f"m{address + len(out):x},{n:x}".encode(), f"read {n} bytes at {address:#010x}")
            try:
                data = bytes.fromhex(reply.decode())
            except ValueError:
                raise SpbError(self.address, f"unexpected answer to m: {reply[:40]!r}") from None
            if not data:
                raise SpbError(self.address, f"no memory at {address + len(out):#010x}")
            out += data
        return bytes(out)

    def _document(self, name: str) -> str:
        """A target description document (qXfer:features:read), read in pieces."""
        text = b""
        while True:
            reply = self.request(f"qXfer:features:read:{name}:{len(text):x},{self._chunk():x}".encode(), f"send {name}")
            if not reply or reply[:1] not in b"lm":
                raise SpbError(self.address, f"unexpected answer to qXfer for {name}: {reply[:40]!r}")
            text += reply[1:]
            if reply[:1] == b"l":
                return text.decode(errors="replace")

    def register_numbers(self) -> dict[str, int]:
        """Register name -> number from the stub's target description (its features in order, numbers counting on
        from each explicit regnum). Reading it is also what lets some stubs (QEMU) accept P packets. Without one:
        GDB's M-profile numbers."""
        if b"qXfer:features:read+" not in self.features:
            return {"sp": REG_SP, "pc": REG_PC, "xpsr": REG_XPSR}
        numbers: dict[str, int] = {}
        following = 0
        pending = ["target.xml"]
        while pending:
            text = self._document(pending.pop(0))
            pending += re.findall(r'<xi:include\s+href="([^"]+)"', text)
            for attrs in re.findall(r"<reg\s([^>]*)>", text):
                name = re.search(r'name="([^"]+)"', attrs)
                regnum = re.search(r'regnum="(\d+)"', attrs)
                following = int(regnum.group(1)) if regnum else following
                if name:
                    numbers.setdefault(name.group(1).lower(), following)
                following += 1
        return numbers

    def set_register(self, number: int, value: int) -> None:
        reply = self.request(f"P{number:x}={value.to_bytes(4, 'little').hex()}".encode(), f"set register {number}")
        if reply != b"OK":
            raise SpbError(self.address, f"the GDB stub cannot set register {number} (answer {reply[:40]!r})")

    def detach(self) -> None:
        """Leave the target running (a stub resumes the CPU when its last client detaches)."""
        self.request(b"D", "detach")


def _escape(data: bytes) -> bytes:
    out = bytearray()
    for byte in data:
        if byte in b"#$}*":
            out += bytes([0x7D, byte ^ 0x20])
        else:
            out.append(byte)
    return bytes(out)


def _expand(body: bytes) -> bytes:
    """Undo run-length encoding (`c*N`: N - 29 more copies of c) in a reply."""
    if b"*" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i] == ord("*") and out and i + 1 < len(body):
            out += bytes([out[-1]]) * (body[i + 1] - 29)
            i += 2
        else:
            out.append(body[i])
            i += 1
    return bytes(out)


def load_through_gdb(
    board: Board, image: Image, address: str, log: Callable[[str], None] | None = None, timeout: float = 10.0
) -> dict[str, object]:
    """Write the image through the stub at `address`, verify it, start the bootloader from its vector table and
    detach. Returns what happened (bytes written, packet kind, SP, PC), for the caller's log."""
    say = log or (lambda text: print(text, file=sys.stderr))
    debug = _debug(board)
    vectors = image.read(board.flash.base, 8)
    sp, pc = int.from_bytes(vectors[:4], "little"), int.from_bytes(vectors[4:], "little")
    start = time.monotonic()
    with GdbRemote(address, timeout) as stub:
        stub.handshake()
        runs: list[tuple[int, bytes]] = list(image.segments)
        if debug.boot_alias is not None:  # where the CPU fetches its vectors at reset (QEMU -device loader, addr=0)
            runs.append((debug.boot_alias, image.read(board.flash.base, FAMILIES[board.family].vector_bytes)))
        total = 0
        for at, data in runs:
            stub.write(at, data)
            if stub.read(at, len(data)) != data:
                raise SpbError(
                    address, f"verify failed at {at:#010x}+{len(data):#x}: the memory did not take the image"
                )
            total += len(data)
        numbers = stub.register_numbers()
        for name, value in (("sp", sp), ("pc", pc & ~1), ("xpsr", XPSR_THUMB)):
            if name not in numbers:
                raise SpbError(address, f"the GDB stub's target description has no register {name}")
            stub.set_register(numbers[name], value)
        stub.detach()
        kind = "X" if stub.binary_writes else "M"
    seconds = time.monotonic() - start
    say(
        f"spb: {address}: wrote and verified {total} bytes of {image.path.name} ({kind} packets) in {seconds:.2f} s; "
        f"started at PC {pc:#010x}, SP {sp:#010x}"
    )
    return {"bytes": total, "packets": kind, "sp": sp, "pc": pc, "seconds": seconds}


# --------------------------------------------------------------------------------------------------
# scons run: the emulator board under QEMU, its console on the terminal


def run_command(board: Board, image: StrPath, bootloader_bin: StrPath, qemu: str = "qemu-system-arm") -> list[str]:
    """The QEMU command of `scons run`: the combined image in the emulated flash, the bootloader's vector table
    at the boot alias, UART0 on the terminal (-nographic: Ctrl-A x quits, Ctrl-A c is QEMU's monitor)."""
    debug = board.debug
    if debug is None or debug.qemu is None:
        raise SpbError(
            board.path,
            f"{board.name} is not an emulated board: `scons run` needs BOARD=EMU-MPS2-AN385; on a real board "
            "`scons flash` programs it and `scons monitor PORT=...` shows its console",
        )
    argv = [qemu, "-M", debug.qemu, "-nographic", "-device", f"loader,file={image}"]
    if debug.boot_alias is not None:
        argv += ["-device", f"loader,file={bootloader_bin},addr={debug.boot_alias:#x}"]
    return argv


def check_qemu(qemu: str = "qemu-system-arm") -> None:
    if shutil.which(qemu) is None:
        raise SpbError(qemu, "not found on the PATH: install it (apt-get install qemu-system-arm)")


# --------------------------------------------------------------------------------------------------
# The table of commands in docs/flashing.md

TABLE_START = "<!-- flash-table:start (generated by `spb flash --table --write`; do not edit) -->"
TABLE_END = "<!-- flash-table:end -->"


def render_table(boards: Sequence[Board]) -> str:
    """Markdown: per board, the command each configured tool runs (IMAGE: build/<BOARD>/hello_combined.hex)."""
    rows = [
        TABLE_START,
        "| board | pyOCD (the default) | OpenOCD | st-flash | notes |",
        "|---|---|---|---|---|",
    ]
    for board in boards:
        if board.debug is None:
            rows.append(f"| {board.name} | - | - | - | no [debug] table: spb flash refuses the board |")
            continue
        image = Image(Path("IMAGE"), ((board.flash.base, b"\0" * 8),))
        cells = []
        for tool in ("pyocd", "openocd", "stflash"):
            ok = tool in configured(board)
            cells.append(f"`{BACKENDS[tool].describe(board, image, Options())}`" if ok else "-")
        notes = []
        if board.debug.gdb:
            notes.append(f"`--tool gdb` (the default): {BACKENDS['gdb'].describe(board, image, Options())}")
        if board.debug.stflash:
            notes.append(f"st-flash {board.debug.stflash} or later")
        if board.external_flash is not None:
            ext = board.external_flash
            by = " and ".join(board.debug.external) or "no tool"
            notes.append(f"external flash ({ext.chip}, {ext.base:#010x}) programmed by {by}; pyOCD with --pyocd-script")
        rows.append(f"| {board.name} | " + " | ".join(cells) + " | " + "; ".join(notes).replace("|", "\\|") + " |")
    return "\n".join(rows + [TABLE_END])


def update_table(doc: Path, boards: Sequence[Board]) -> bool:
    text = doc.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SpbError(doc, f"no flash table markers ({TABLE_START} ... {TABLE_END})")
    before, rest = text.split(TABLE_START, 1)
    after = rest.split(TABLE_END, 1)[1]
    new = before + render_table(boards) + after
    if new != text:
        doc.write_text(new)
    return new != text
