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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

SOH, STX, EOT, ACK, NAK, CAN = 0x01, 0x02, 0x04, 0x06, 0x15, 0x18
CRC_REQUEST = 0x43  # 'C'
PAD = 0x1A  # fills the last block (CP/M end of file)
#: What `--load` sends: the bootloader starts its loader on `load`, the example application its receiver
#: on `load` CR (docs/ymodem.md).
LOAD_TRIGGER = b"load\r"
READY_TEXT = b"YMODEM loader ready."
#: "YMODEM loader ready." (bootloader) or "YMODEM receiver ready." (application), also when one character
#: of it was dropped, changed or doubled on a noisy line (one of the three alternatives is left intact).
READY_PATTERN = re.compile(rb"YMODEM (?:loader|receiver)|(?:loader|receiver) ready|YMODEM \S+ ready")
#: The receiver's verdict line (bootloader and example application): the session is over.
VERDICT_PATTERN = re.compile(rb"YMODEM: [a-z ]+, \d+ bytes[^\n]*\n")
#: A 1024-byte block that needs this many sends makes the rest of the file go in 128-byte blocks; the block
#: itself too when every send so far was answered by a prompt NAK (the receiver has certainly not taken it).
FALLBACK_AFTER = 3
#: A NAK within this many seconds of a send answers that send (a bad packet: the receiver NAKs after the
#: line has been quiet, within about 1.2 s); a receiver that has taken the block and lost our ACK NAKs
#: only when its 5 s wait for the next block runs out.
PROMPT_NAK = 3.0


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
    """One YMODEM batch of one file over `link`.

    On a noisy line: input left over from an earlier answer is dropped before each block is sent, so a
    duplicated ACK cannot acknowledge the next block; an answer that arrives garbled (a byte that is not
    ACK, NAK, 'C' or CAN, then silence) has the block sent again, which a receiver whose ACK it was
    acknowledges again without using it twice; a lost 'C' after block 0 or after EOT is replaced by the
    receiver's NAK or by waiting; one CAN among the next bytes after a CAN is a cancel; after a 1024-byte
    block needed FALLBACK_AFTER sends, the rest goes in 128-byte blocks (that block too, when the receiver
    certainly has not taken it: PROMPT_NAK). Every wait is bounded: `retries` sends of each block,
    `ack_timeout` for each answer.
    """

    link: Link
    block_size: int = 1024
    start_timeout: float = 60.0  # for the receiver's first 'C'
    ack_timeout: float = 10.0  # for each ACK: the bootloader checks a header's signature before answering
    retries: int = 10
    progress: Progress | None = None
    #: Bytes from the device that were not protocol answers (its console text), for messages.
    text: bytearray = field(default_factory=bytearray)
    #: Blocks (and EOT) sent again, over the whole transfer.
    resent: int = 0
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
        """After one CAN: another CAN among the next two bytes, within a second, is the receiver's cancel
        (it sends three, and one may be garbled)."""
        seen = []
        for _ in range(2):
            nxt = self._byte(1.0)
            if nxt is None:
                break
            if nxt == CAN:
                return True
            seen.append(nxt)
        self._pending[:0] = bytes(seen)
        return False

    def _drain(self) -> None:
        """Drop what has arrived but answers nothing we are about to send (a duplicated ACK, the rest of a
        garbled answer); console text is kept for messages, a cancel is still a cancel."""
        self._pending += self.link.read(0)
        while self._pending:
            byte = self._pending.pop(0)
            if byte == CAN and self._cancelled():
                raise self._receiver_cancelled()
            self.text.append(byte)

    def _verdict(self, since: int) -> bytes | None:
        """The receiver's verdict line, if it printed one after text[since:]: the session is over."""
        m = VERDICT_PATTERN.search(bytes(self.text[since:]))
        return m.group(0) if m else None

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

    def _next_request(self) -> None:
        """After block 0 and after EOT the receiver asks for the next block with 'C'. A garbled or lost
        'C' is followed by the receiver's NAK (it timed out waiting) or by nothing: after `ack_timeout`
        the next block goes anyway, and the receiver takes it or asks for it again."""
        deadline = time.monotonic() + self.ack_timeout
        since = len(self.text)
        while True:
            byte = self._byte(max(0.0, deadline - time.monotonic()))
            if byte is None or byte in (CRC_REQUEST, NAK):
                return
            if byte == CAN and self._cancelled():
                raise self._receiver_cancelled()
            self.text.append(byte)
            said = self._verdict(since)
            if said is not None:
                raise ReceiverCancelled(f"the receiver ended the session: {said.decode('latin-1').strip()}")

    def trigger_loader(self, timeout: float) -> None:
        """Send `load` CR until the bootloader's loader (the user resets the board meanwhile) or the running
        application's receiver says it is ready."""
        deadline = time.monotonic() + timeout
        seen = len(self.text)
        while time.monotonic() < deadline:
            self.link.write(LOAD_TRIGGER)
            end = time.monotonic() + 0.05
            while time.monotonic() < end:
                chunk = self.link.read(max(0.0, end - time.monotonic()))
                self.text += chunk
                if READY_PATTERN.search(bytes(self.text[seen:])):
                    return
        raise YmodemError(
            f"neither the bootloader's loader nor an application's receiver started within {timeout:g} s"
            " (reset the board?)"
        )

    # ---- output ---------------------------------------------------------------------------------------

    def _send(
        self, frame: bytes, what: str, end_of_batch: bool = False, smaller: bytes | None = None
    ) -> tuple[int, bytes]:
        """Send a block (or EOT) until it is acknowledged; returns how many sends it took and the frame
        that was acknowledged: `smaller` (the same block number, fewer bytes) replaces `frame` after
        FALLBACK_AFTER - 1 sends that were all answered by a prompt NAK. An EOT is also acknowledged by
        the receiver's next 'C' (its ACK was lost); the end of the batch also by the receiver's verdict
        line (it has closed the session)."""
        since = len(self.text)
        refused = 0  # sends answered by a prompt NAK
        for attempt in range(1, self.retries + 1):
            if smaller is not None and refused == attempt - 1 >= FALLBACK_AFTER - 1:
                frame, smaller = smaller, None
            self._drain()
            if attempt > 1:
                self.resent += 1
            self.link.write(frame)
            sent = time.monotonic()
            deadline = sent + self.ack_timeout
            while True:
                byte = self._byte(max(0.0, deadline - time.monotonic()))
                if byte == NAK and time.monotonic() - sent < PROMPT_NAK:
                    refused += 1
                if byte is None or byte == NAK:
                    break  # send again
                if byte == ACK:
                    return attempt, frame
                if byte == CAN and self._cancelled():
                    raise self._receiver_cancelled()
                if byte == CRC_REQUEST:
                    if frame[0] == EOT:
                        self._pending.insert(0, byte)  # the request for the end of the batch
                        return attempt, frame
                    break  # the receiver asks again: it did not get the block
                self.text.append(byte)
                said = self._verdict(since)
                if said is not None:
                    if end_of_batch and said.startswith(b"YMODEM: ready"):
                        return attempt, frame
                    raise ReceiverCancelled(f"the receiver ended the session: {said.decode('latin-1').strip()}")
                if self._quiet(0.3):
                    break  # a garbled answer, then silence: the receiver waits for this block again
        raise YmodemError(f"{what}: no acknowledgement after {self.retries} tries")

    def cancel(self) -> None:
        """CAN CAN (and more, for a receiver in the middle of a block)."""
        self.link.write(bytes([CAN]) * 8)

    def send(self, name: str, data: bytes) -> None:
        """Send one file as a YMODEM batch; raises YmodemError (ReceiverCancelled) on failure."""
        self.wait_request(self.start_timeout)
        try:
            self._send(packet(0, header_block(name, len(data))), "block 0")
            self._next_request()
            size, pos, seq = self.block_size, 0, 1
            while pos < len(data):
                n = size if len(data) - pos > 128 else 128
                frame = packet(seq, data[pos : pos + n].ljust(n, bytes([PAD])))
                smaller = packet(seq, data[pos : pos + 128].ljust(128, bytes([PAD]))) if n == 1024 else None
                sends, sent = self._send(frame, f"block {seq}", smaller=smaller)
                if n == 1024 and sends >= FALLBACK_AFTER:
                    size = 128
                    n = len(sent) - 5
                pos, seq = min(len(data), pos + n), seq + 1
                if self.progress is not None:
                    self.progress(pos, len(data))
            self._send(bytes([EOT]), "end of file")
            self._next_request()
            self._send(packet(0, header_block("", 0)), "end of batch", end_of_batch=True)
        except ReceiverCancelled:
            raise
        except BaseException:
            with contextlib.suppress(Exception):  # the link may be what failed
                self.cancel()
            raise
