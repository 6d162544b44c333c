# SPDX-License-Identifier: Apache-2.0
"""spb.transport.ymodem on its own: framing, CRC, block cutting, and the sender against a scripted
receiver (cancel both ways). The real peers (the bootloader under QEMU and on the silicon harness, lrzsz)
are in tests/emulator/test_ymodem.py and tests/silicon/test_ymodem.py."""

from __future__ import annotations

import pytest

from spb.transport import ymodem
from spb.transport.ymodem import ACK, CAN, CRC_REQUEST, EOT, NAK, ReceiverCancelled, Sender


def test_crc16_xmodem_check_value():
    assert ymodem.crc16(b"123456789") == 0x31C3  # CRC-16/XMODEM check value


def test_packet_framing():
    p = ymodem.packet(1, bytes(range(128)))
    assert p[:3] == bytes([ymodem.SOH, 1, 0xFE]) and len(p) == 3 + 128 + 2
    assert int.from_bytes(p[-2:], "big") == ymodem.crc16(bytes(range(128)))
    assert ymodem.packet(256 + 7, bytes(1024))[:3] == bytes([ymodem.STX, 7, 0xF8])
    with pytest.raises(ValueError):
        ymodem.packet(1, bytes(100))


def test_blocks_and_header():
    blocks = ymodem.data_blocks(bytes(1024 + 100), 1024)
    assert [len(b) for b in blocks] == [1024, 128] and blocks[1][100:] == bytes([ymodem.PAD]) * 28
    assert [len(b) for b in ymodem.data_blocks(bytes(300), 1024)] == [1024]
    assert [len(b) for b in ymodem.data_blocks(bytes(300), 128)] == [128, 128, 128]
    assert ymodem.header_block("a.sfb", 1234) == b"a.sfb\x001234\x00".ljust(128, b"\0")
    assert ymodem.header_block("", 0) == bytes(128)


class Scripted:
    """A receiver that answers each write from a script (bytes per write); records what was written."""

    def __init__(self, first, answers):
        self.inbox = bytearray(first)
        self.answers = list(answers)
        self.written = []

    def read(self, timeout):
        out, self.inbox = bytes(self.inbox), bytearray()
        return out

    def write(self, data):
        self.written.append(bytes(data))
        if self.answers:
            self.inbox += self.answers.pop(0)


def test_send_with_one_nak_and_the_end_of_batch():
    c, ack, nak = bytes([CRC_REQUEST]), bytes([ACK]), bytes([NAK])
    link = Scripted(c, [ack + c, nak, ack, ack + c, ack])  # block 0; block 1 twice; EOT; end of batch
    Sender(link, ack_timeout=0.2).send("f.bin", b"x" * 200)
    kinds = [w[0] for w in link.written]
    assert kinds == [ymodem.SOH, ymodem.STX, ymodem.STX, EOT, ymodem.SOH]
    assert link.written[1] == link.written[2]  # resent after the NAK
    assert link.written[-1][3:131] == bytes(128)


def test_receiver_cancel_is_reported_with_its_words():
    c = bytes([CRC_REQUEST])
    link = Scripted(c, [bytes([ACK]) + c, bytes([CAN, CAN]) + b"\r\n[  1.000] YMODEM: failed, 128 bytes\r\n"])
    with pytest.raises(ReceiverCancelled, match="YMODEM: failed, 128 bytes"):
        Sender(link, ack_timeout=0.2).send("f.bin", b"x" * 200)


def test_an_exception_while_sending_cancels():
    c = bytes([CRC_REQUEST])
    link = Scripted(c, [bytes([ACK]) + c, bytes([ACK])])

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Sender(link, ack_timeout=0.2, progress=interrupt).send("f.bin", b"x" * 2000)
    assert link.written[-1] == bytes([CAN]) * 8


def test_no_receiver():
    with pytest.raises(ymodem.YmodemError, match="no YMODEM receiver"):
        Sender(Scripted(b"", []), start_timeout=0.2).send("f.bin", b"x")
