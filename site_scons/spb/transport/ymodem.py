# SPDX-License-Identifier: Apache-2.0
"""YMODEM batch sender (CRC-16, 1024- or 128-byte blocks), as the bootloader's loader and the example
application receive it (docs/ymodem.md).

The protocol, from the sender's side: wait for the receiver's 'C'; block 0 carries "name NUL size"; after its
ACK the receiver asks with 'C' again and data blocks 1, 2, ... follow, each acknowledged (ACK) or asked for
again (NAK); EOT ends the file; an empty block 0 ends the batch. Two CAN bytes cancel, either way.

`send()` works on anything with `read(timeout) -> bytes` and `write(bytes)` (`Link`), so it is tested
against the real bootloader under QEMU and against lrzsz `rb`. Any exception raised while a transfer is
under way (Ctrl-C included) sends CAN CAN before it propagates, so the receiver drops the partial file.
"""

from __future__ import annotations

import binascii
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

SOH, STX, EOT, ACK, NAK, CAN = 0x01, 0x02, 0x04, 0x06, 0x15, 0x18
CRC_REQUEST = 0x43  # 'C'
PAD = 0x1A  # fills the last block (CP/M end of file)
LOAD_TRIGGER = b"load"
READY_TEXT = b"YMODEM loader ready."


class Link(Protocol):
    def read(self, timeout: float) -> bytes:
        """What has arrived, waiting up to `timeout` seconds for the first byte; b"" if nothing."""

    def write(self, data: bytes) -> None: ...


class YmodemError(Exception):
    """The transfer did not complete; the message says why (and what the device said, if anything)."""


class ReceiverCancelled(YmodemError):
    """The receiver sent CAN CAN: it refused the file or gave up."""


#: progress(bytes_sent, total_bytes), called after every acknowledged block.
Progress = Callable[[int, int], None]


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (polynomial 0x1021, initial 0) - what binascii calls crc_hqx."""
    return binascii.crc_hqx(data, 0)


def packet(seq: int, payload: bytes) -> bytes:
    """One block: SOH (128 bytes) or STX (1024 bytes), the block number and its complement, the data, CRC."""
    if len(payload) not in (128, 1024):
        raise ValueError(f"a YMODEM block holds 128 or 1024 bytes, not {len(payload)}")
    seq &= 0xFF
    start = SOH if len(payload) == 128 else STX
    return bytes([start, seq, 0xFF - seq]) + payload + crc16(payload).to_bytes(2, "big")


def header_block(name: str, size: int) -> bytes:
    """Block 0's data: file name, NUL, decimal size, NUL, padded with zeros (an empty name ends a batch)."""
    info = name.encode("utf-8") + b"\0" + (str(size).encode() + b"\0" if name else b"")
    if len(info) > 1024:
        raise ValueError(f"file name too long for YMODEM block 0: {name!r}")
    return info.ljust(128 if len(info) <= 128 else 1024, b"\0")


def data_blocks(data: bytes, block_size: int) -> list[bytes]:
    """The file cut into blocks: full blocks of block_size, the tail in 128-byte blocks when that is
    enough, padded with 0x1A."""
    blocks: list[bytes] = []
    pos = 0
    while pos < len(data):
        left = len(data) - pos
        size = block_size if left > 128 else 128
        blocks.append(data[pos : pos + size].ljust(size, bytes([PAD])))
        pos += size
    return blocks


@dataclass
class Sender:
    """One YMODEM batch of one file over `link`."""

    link: Link
    block_size: int = 1024
    start_timeout: float = 60.0  # for the receiver's first 'C'
    ack_timeout: float = 10.0  # for each ACK: the bootloader checks a header's signature before answering
    retries: int = 10
    progress: Progress | None = None
    #: Bytes from the device that were not protocol answers (its console text), for messages.
    text: bytearray = field(default_factory=bytearray)
    _pending: bytearray = field(default_factory=bytearray)

    # ---- input ----------------------------------------------------------------------------------------

    def _byte(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while not self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._pending += self.link.read(left)
        return self._pending.pop(0)

    def _quiet(self, seconds: float) -> bool:
        """True if nothing arrives within `seconds` (what arrives stays pending)."""
        if self._pending:
            return False
        self._pending += self.link.read(seconds)
        return not self._pending

    def _cancelled(self) -> bool:
        """After one CAN: a second one within a second means the receiver cancelled."""
        nxt = self._byte(1.0)
        if nxt == CAN:
            return True
        if nxt is not None:
            self._pending.insert(0, nxt)
        return False

    def device_said(self) -> str:
        """The last console line the device printed, e.g. the bootloader's YMODEM verdict."""
        text = bytes(b for b in self.text if b >= 0x20 or b in b"\r\n").decode("latin-1")  # no stray CAN/ACK
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        tagged = [ln for ln in lines if "YMODEM" in ln]
        return (tagged or lines or [""])[-1]

    def _receiver_cancelled(self) -> ReceiverCancelled:
        # The bootloader prints its verdict once the line has been quiet for 200 ms (its time; more of ours
        # on a slow or loaded emulator).
        self.collect_text(until=b"YMODEM:", timeout=6.0, quiet=3.0)
        said = self.device_said()
        return ReceiverCancelled("the receiver cancelled the transfer" + (f": {said}" if said else ""))

    def collect_text(self, until: bytes | None = None, timeout: float = 3.0, quiet: float = 1.0) -> None:
        """Read the device's console output into `text` until a line containing `until` is complete, the
        line is quiet for `quiet` seconds, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        start = len(self.text)
        while time.monotonic() < deadline:
            if until is not None:
                tail = bytes(self.text[start:])
                at = tail.find(until)
                if at >= 0 and b"\n" in tail[at:]:
                    return
            if self._pending:
                self.text += self._pending
                self._pending.clear()
                continue
            chunk = self.link.read(min(quiet, max(0.0, deadline - time.monotonic())))
            if not chunk:
                return
            self.text += chunk

    def wait_request(self, timeout: float) -> None:
        """Wait for the receiver's 'C': a 'C' followed by a moment of silence (a 'C' inside console text
        is followed by more text)."""
        deadline = time.monotonic() + timeout
        while True:
            byte = self._byte(max(0.0, deadline - time.monotonic()))
            if byte is None:
                raise YmodemError(f"no YMODEM receiver: no 'C' within {timeout:g} s")
            if byte == CRC_REQUEST and self._quiet(0.05):
                return
            if byte == CAN and self._cancelled():
                raise self._receiver_cancelled()
            self.text.append(byte)

    def trigger_loader(self, timeout: float) -> None:
        """Send `load` until the bootloader says its loader is ready (the user resets the board meanwhile)."""
        deadline = time.monotonic() + timeout
        seen = len(self.text)
        while time.monotonic() < deadline:
            self.link.write(LOAD_TRIGGER)
            end = time.monotonic() + 0.05
            while time.monotonic() < end:
                chunk = self.link.read(max(0.0, end - time.monotonic()))
                self.text += chunk
                if READY_TEXT in self.text[seen:]:
                    return
        raise YmodemError(f"the bootloader did not start its loader within {timeout:g} s (reset the board?)")

    # ---- output ---------------------------------------------------------------------------------------

    def _send(self, frame: bytes, what: str) -> None:
        """Send a block (or EOT) until it is acknowledged."""
        for _ in range(self.retries):
            self.link.write(frame)
            deadline = time.monotonic() + self.ack_timeout
            while True:
                byte = self._byte(max(0.0, deadline - time.monotonic()))
                if byte is None or byte == NAK:
                    break  # send again
                if byte == ACK:
                    return
                if byte == CAN and self._cancelled():
                    raise self._receiver_cancelled()
                if byte == CRC_REQUEST and frame[0] != EOT:
                    break  # the receiver asks again: it did not get the block
                self.text.append(byte)
        raise YmodemError(f"{what}: no acknowledgement after {self.retries} tries")

    def cancel(self) -> None:
        """CAN CAN (and more, for a receiver in the middle of a block)."""
        self.link.write(bytes([CAN]) * 8)

    def send(self, name: str, data: bytes) -> None:
        """Send one file as a YMODEM batch; raises YmodemError (ReceiverCancelled) on failure."""
        self.wait_request(self.start_timeout)
        try:
            self._send(packet(0, header_block(name, len(data))), "block 0")
            self.wait_request(self.ack_timeout)
            sent = 0
            for seq, block in enumerate(data_blocks(data, self.block_size), start=1):
                self._send(packet(seq, block), f"block {seq}")
                sent = min(len(data), sent + len(block))
                if self.progress is not None:
                    self.progress(sent, len(data))
            self._send(bytes([EOT]), "end of file")
            self.wait_request(self.ack_timeout)
            self._send(packet(0, header_block("", 0)), "end of batch")
        except ReceiverCancelled:
            raise
        except BaseException:
            with contextlib.suppress(Exception):  # the link may be what failed
                self.cancel()
            raise
