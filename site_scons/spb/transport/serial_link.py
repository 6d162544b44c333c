# SPDX-License-Identifier: Apache-2.0
"""A serial port, or anything pyserial opens by URL (`socket://host:port`, `rfc2217://...`), as a Link."""

from __future__ import annotations

import socket

from ..errors import SpbError


class SerialLink:
    """pyserial's serial_for_url() behind the two calls the YMODEM sender needs."""

    def __init__(self, port: str, baud: int = 115200) -> None:
        try:
            import serial
        except ImportError:  # pragma: no cover - a dependency of the package
            raise SpbError(port, "pyserial is not installed (pip install pyserial)") from None
        self.name = port
        self._serial = serial
        try:
            self.port = serial.serial_for_url(port, baudrate=baud, timeout=0, write_timeout=30)
        except (serial.SerialException, ValueError, OSError) as error:
            raise SpbError(port, f"cannot open: {str(error).splitlines()[0] if str(error) else error!r}") from None
        # socket://: YMODEM is a stop-and-wait protocol of one block and a one-byte answer; with Nagle's
        # algorithm each block waits for the TCP acknowledgement of the previous one (3x slower measured).
        sock = getattr(self.port, "_socket", None)
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read(self, timeout: float) -> bytes:
        try:
            self.port.timeout = max(0.0, timeout)
            first: bytes = self.port.read(1)
            if not first:
                return b""
            self.port.timeout = 0
            waiting = self.port.in_waiting
            rest: bytes = self.port.read(waiting) if waiting else b""
        except (self._serial.SerialException, OSError) as error:
            raise SpbError(self.name, f"connection lost: {error}") from None
        return first + rest

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except (self._serial.SerialException, OSError) as error:
            raise SpbError(self.name, f"connection lost: {error}") from None

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> SerialLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
