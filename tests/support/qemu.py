# SPDX-License-Identifier: Apache-2.0
"""Run one emulated board (EMU-MPS2-AN385) under qemu-system-arm and talk to its console UART.

The board's "flash" is the MPS2 PSRAM at 0x21000000 (16 MiB), backed by a host file through
`memory-backend-file,share=on`: everything the guest writes lands in the file at once (MAP_SHARED), so it
survives guest resets, `stop()` and `power_cut()` (SIGKILL) alike. Only the first FLASH_SIZE bytes are
flash; bootloader/port/mps2/port_mps2.c keeps its write-once bitmap ("ECC shadow") at SHADOW_ADDR in the
same file.

The Cortex-M3 fetches its reset SP/PC from address 0 (SSRAM1). `-device loader,file=ALIAS,addr=0` puts
the first bytes of the bootloader there as a "boot alias" (like an STM32 boot remap); QEMU re-copies
loader blobs at every system reset, so a SYSRESETREQ boots through the alias again while the file keeps
its content. The reset vector holds an absolute address inside 0x21000000 and the bootloader sets VTOR to
its own table. No -kernel is needed (verified with QEMU 7.2).

The console is UART0 (CMSDK APB UART) on a chardev unix socket. Python listens first and QEMU connects
as the client, so there is no start-up race and no byte is lost; a reader thread collects everything.

Command line (see Emulator.command()):
  qemu-system-arm -M mps2-an385 -nodefaults -display none -monitor none
    -object memory-backend-file,id=flash,size=16M,mem-path=FLASH_FILE,share=on
    -machine memory-backend=flash
    -device loader,file=ALIAS_BIN,addr=0
    -chardev socket,id=con,path=SOCKET -serial chardev:con
    [-icount shift=N,sleep=off]

Guest instruction counts: QEMU 7.2 from Debian ships no TCG plugins (no libinsn.so, no qemu-plugin.h), so
counting is done with `-icount shift=0` (Emulator(icount=0)): the virtual clock then advances exactly 1 ns
per executed guest instruction, and every guest timer runs on that clock. SysTick on the processor clock
(25 MHz on AN385) therefore decrements once per 40 instructions: guest code reads SYST_CVR (0xE000E018)
before and after the code under test, instructions = 40 * elapsed ticks (+-40; take wraps of the 24-bit
counter into account, or use SysTick milliseconds: 1 ms = 1,000,000 instructions). DWT CYCCNT is not
modelled by QEMU (reads 0). With icount the guest clock no longer follows the host clock: 1 guest second =
1e9 instructions (measured: about 38 M instructions per host second while polling the UART, so a
guest second lasts ~25 host seconds; shift=3 gives ~0.3 guest s per host s), so guest timeouts become
slower; without icount (default) guest milliseconds follow host time. `sleep=off` makes runs deterministic
as long as the input timing is the same (QEMU does not advance the clock while the guest waits for
nothing).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

QEMU = os.environ.get("SPB_QEMU", "qemu-system-arm")
MACHINE = "mps2-an385"

FLASH_BASE = 0x21000000  # PSRAM base on AN385 = board flash base
BACKEND_SIZE = 16 * 1024 * 1024  # the whole PSRAM is file-backed
FLASH_SIZE = 0x100000  # bytes used as flash (board file)
SHADOW_ADDR = 0x21F00000  # port_mps2.c write-once bitmap (1 bit per 8-byte unit), zero = none recorded
ERASED = 0xFF
DEFAULT_ALIAS_SIZE = 0x400  # boot alias taken from the flash file when none is given


class EmulatorError(RuntimeError):
    pass


class EmulatorTimeout(EmulatorError):
    pass


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


# --------------------------------------------------------------------------------------------------
# Flash files


def create_flash_file(
    path, images=(), *, hex_file=None, flash_base=FLASH_BASE, flash_size=FLASH_SIZE, backend_size=BACKEND_SIZE
) -> Path:
    """Write a fresh backing file: [flash_base, +flash_size) erased (0xFF), the rest of the PSRAM zero
    (an all-zero ECC shadow). `images` is an iterable of (address, bytes | path-to-.bin); `hex_file` an
    Intel HEX file whose records must lie inside the flash."""
    path = Path(path)
    buf = bytearray(backend_size)
    buf[:flash_size] = bytes([ERASED]) * flash_size
    placed = []
    for addr, data in images:
        if not isinstance(data, (bytes, bytearray)):
            data = Path(data).read_bytes()
        placed.append((addr, bytes(data)))
    if hex_file is not None:
        from intelhex import IntelHex

        ih = IntelHex(str(hex_file))
        for start, end in ih.segments():
            placed.append((start, ih.tobinstr(start=start, end=end - 1)))
    for addr, data in placed:
        off = addr - flash_base
        if off < 0 or off + len(data) > flash_size:
            raise EmulatorError(
                f"image at {addr:#x} (+{len(data):#x}) is outside the flash "
                f"{flash_base:#x}..{flash_base + flash_size:#x}"
            )
        buf[off : off + len(data)] = data
    path.write_bytes(bytes(buf))
    return path


def flash_file_from_bin(path, bin_file, address=FLASH_BASE, **kw) -> Path:
    return create_flash_file(path, [(address, bin_file)], **kw)


def flash_file_from_hex(path, hex_file, **kw) -> Path:
    return create_flash_file(path, hex_file=hex_file, **kw)


def read_flash(path, address, size, *, flash_base=FLASH_BASE) -> bytes:
    """`size` bytes at guest `address` (any PSRAM address) from a backing file."""
    with open(path, "rb") as f:
        f.seek(address - flash_base)
        data = f.read(size)
    if len(data) != size:
        raise EmulatorError(f"{path}: {address:#x}+{size:#x} is beyond the file")
    return data


def write_flash(path, address, data, *, flash_base=FLASH_BASE) -> None:
    """Patch the backing file (QEMU must not be running on it), e.g. to corrupt a slot."""
    with open(path, "r+b") as f:
        f.seek(address - flash_base)
        f.write(bytes(data))


def make_boot_alias(path, image, size=None) -> Path:
    """Write the boot alias (bytes loaded at address 0): the first `size` bytes (all by default) of
    `image` (bytes or a .bin path). At least the vector table is needed (reset SP/PC, and the handlers
    used before the bootloader sets VTOR)."""
    data = image if isinstance(image, (bytes, bytearray)) else Path(image).read_bytes()
    if size is not None:
        data = data[:size]
    Path(path).write_bytes(bytes(data))
    return Path(path)


# --------------------------------------------------------------------------------------------------
# The emulator


class Emulator:
    """One QEMU mps2-an385 process with a file-backed flash.

        emu = Emulator("flash.img")              # alias = first 0x400 bytes of the flash file
        emu.start()
        emu.read_until("SMOKE boot 1")
        emu.write(b"t")
        out = emu.read_until("DONE", timeout=5)
        emu.power_cut()                           # or emu.stop()

    Output handling: every byte from the UART is appended to `raw` (text view: `log`). A cursor marks
    what read_until()/read() have consumed; read_until() returns the text from the cursor to the end of
    the match and moves the cursor there. Usable as a context manager (stop() on exit).
    """

    def __init__(
        self,
        flash_file,
        boot_alias=None,
        *,
        alias_size=DEFAULT_ALIAS_SIZE,
        icount=None,
        extra_args=(),
        qemu=QEMU,
        start_timeout=10.0,
    ):
        self.flash_file = Path(flash_file)
        self.boot_alias = Path(boot_alias) if boot_alias is not None else None
        self.alias_size = alias_size
        self.icount = icount
        self.extra_args = list(extra_args)
        self.qemu = qemu
        self.start_timeout = start_timeout
        self.proc = None
        self.returncode = None
        self._tmp = None
        self._sock = None
        self._reader = None
        self._buf = bytearray()
        self._pos = 0
        self._cond = threading.Condition()
        self._closed = False
        self._sink = None  # bridge(): forward guest output to a process instead of only buffering

    # ---- lifecycle --------------------------------------------------------------------------------

    def command(self, alias_path, socket_path):
        cmd = [
            self.qemu,
            "-M",
            MACHINE,
            "-nodefaults",
            "-display",
            "none",
            "-monitor",
            "none",
            "-object",
            f"memory-backend-file,id=flash,size={BACKEND_SIZE // (1024 * 1024)}M,mem-path={self.flash_file},share=on",
            "-machine",
            "memory-backend=flash",
            "-device",
            f"loader,file={alias_path},addr=0",
            "-chardev",
            f"socket,id=con,path={socket_path}",
            "-serial",
            "chardev:con",
        ]
        if self.icount is not None:
            cmd += ["-icount", f"shift={self.icount},sleep=off"]
        return cmd + self.extra_args

    def start(self):
        if self.proc is not None:
            raise EmulatorError("already started")
        if not self.flash_file.is_file() or self.flash_file.stat().st_size != BACKEND_SIZE:
            raise EmulatorError(f"{self.flash_file}: missing or not {BACKEND_SIZE} bytes (use create_flash_file)")
        self._tmp = tempfile.mkdtemp(prefix="spb-qemu-")
        if self.boot_alias is None:
            alias = Path(self._tmp) / "alias.bin"
            alias.write_bytes(read_flash(self.flash_file, FLASH_BASE, self.alias_size))
        else:
            alias = self.boot_alias
        sock_path = os.path.join(self._tmp, "uart0.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(sock_path)
        listener.listen(1)
        listener.settimeout(0.2)
        self.cmdline = self.command(alias, sock_path)
        self._stderr_path = os.path.join(self._tmp, "qemu.stderr")
        self._stderr = open(self._stderr_path, "wb")  # noqa: SIM115 - QEMU writes into it until _cleanup()
        self.proc = subprocess.Popen(self.cmdline, stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr)
        deadline = time.monotonic() + self.start_timeout
        try:
            while True:
                try:
                    conn, _ = listener.accept()
                    break
                except socket.timeout:
                    if self.proc.poll() is not None:
                        raise EmulatorError(f"QEMU exited with {self.proc.returncode}: {self.stderr}") from None
                    if time.monotonic() > deadline:
                        raise EmulatorError("QEMU did not connect its UART") from None
        except BaseException:
            self._kill()
            raise
        finally:
            listener.close()
        conn.settimeout(None)
        self._sock = conn
        self._reader = threading.Thread(target=self._read_loop, name="qemu-uart", daemon=True)
        self._reader.start()
        return self

    def _read_loop(self):
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._closed = True
                    self._cond.notify_all()
                    return
                self._buf += data
                self._cond.notify_all()
                sink = self._sink
            if sink is not None:
                sink(data)

    def _kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.returncode = self.proc.returncode
        self._cleanup()

    def _cleanup(self):
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        if self._reader is not None:
            self._reader.join(timeout=2)
        if getattr(self, "_stderr", None) is not None and not self._stderr.closed:
            self._stderr.close()
            self._stderr_text = Path(self._stderr_path).read_text(errors="replace")
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def power_cut(self):
        """SIGKILL: no QEMU shutdown code runs; the file keeps exactly what the guest had written."""
        self._kill(signal.SIGKILL)

    def stop(self):
        """Terminate QEMU (SIGTERM) and wait for it."""
        self._kill(signal.SIGTERM)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def stderr(self) -> str:
        if getattr(self, "_stderr_text", None) is not None:
            return self._stderr_text
        try:
            return Path(self._stderr_path).read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- UART ------------------------------------------------------------------------------------

    @property
    def raw(self) -> bytes:
        with self._cond:
            return bytes(self._buf)

    @property
    def log(self) -> str:
        return self.raw.decode("latin-1")

    def write(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        if self._sock is None:
            raise EmulatorError("not started")
        self._sock.sendall(data)

    def read_until(self, pattern, timeout=10.0) -> str:
        """Wait until `pattern` (str, bytes or compiled bytes/str regex) appears after the cursor; return
        the text from the cursor through the match and move the cursor past it. Raises EmulatorTimeout
        (with the unread text) if it does not appear in time or QEMU goes away."""
        if isinstance(pattern, str):
            rx = re.compile(re.escape(pattern.encode("latin-1")))
        elif isinstance(pattern, (bytes, bytearray)):
            rx = re.compile(re.escape(bytes(pattern)))
        elif isinstance(pattern.pattern, str):
            rx = re.compile(pattern.pattern.encode("latin-1"), pattern.flags & ~re.UNICODE)
        else:
            rx = pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._buf, self._pos)
                if m:
                    out = bytes(self._buf[self._pos : m.end()])
                    self._pos = m.end()
                    return out.decode("latin-1")
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    unread = bytes(self._buf[self._pos :]).decode("latin-1")
                    why = "QEMU closed the UART" if self._closed else f"timeout after {timeout}s"
                    raise EmulatorTimeout(
                        f"{why} waiting for {rx.pattern!r}; unread output:\n{unread}\nQEMU stderr: {self.stderr}"
                    )
                self._cond.wait(left)

    def read(self, n=None, timeout=1.0) -> bytes:
        """Up to n bytes (all available when n is None) after the cursor, waiting at most `timeout` for
        the first one; b"" on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._buf) == self._pos and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return b""
                self._cond.wait(left)
            end = len(self._buf) if n is None else min(len(self._buf), self._pos + n)
            out = bytes(self._buf[self._pos : end])
            self._pos = end
            return out

    def bridge(self, argv, timeout=60.0, **popen_kw) -> subprocess.CompletedProcess:
        """Connect the UART to a host program's stdin/stdout (e.g. `sz --ymodem file`) until it exits.
        Guest output produced meanwhile is still appended to `raw`, and the cursor skips it."""
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen_kw)

        def to_proc(data):
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass

        def from_proc():
            while True:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    return
                try:
                    self.write(chunk)
                except OSError:
                    return

        with self._cond:
            pending = bytes(self._buf[self._pos :])
            self._pos = len(self._buf)
            self._sink = to_proc
            if pending:
                to_proc(pending)
        pump = threading.Thread(target=from_proc, daemon=True)
        pump.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            with self._cond:
                self._sink = None
                self._pos = len(self._buf)
            pump.join(timeout=2)
        err = proc.stderr.read()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(BrokenPipeError, OSError):
                f.close()
        return subprocess.CompletedProcess(argv, proc.returncode, b"", err)
