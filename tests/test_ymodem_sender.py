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


# ---- a noisy line: the sender resynchronises (tests/emulator/test_app_ymodem.py runs it through real noise) ----


def kinds(link):
    return [w[0] for w in link.written]


def test_garbled_ack_has_the_block_sent_again():
    """A byte that is no answer, then silence: the block goes again (a receiver whose ACK it was
    acknowledges the repeat without using it twice)."""
    c, ack = bytes([CRC_REQUEST]), bytes([ACK])
    link = Scripted(c, [ack + c, b"\x07", ack, ack + c, ack])
    sender = Sender(link, ack_timeout=5.0)
    sender.send("f.bin", b"x" * 200)
    assert kinds(link) == [ymodem.SOH, ymodem.STX, ymodem.STX, EOT, ymodem.SOH] and sender.resent == 1


def test_a_duplicated_ack_does_not_acknowledge_the_next_block():
    c, ack, nak = bytes([CRC_REQUEST]), bytes([ACK]), bytes([NAK])
    link = Scripted(c, [ack + c, ack + ack, nak, ack, ack + c, ack])  # block 1's ACK arrives twice
    Sender(link, ack_timeout=0.5).send("f.bin", b"x" * 2000)
    assert kinds(link) == [ymodem.SOH, ymodem.STX, ymodem.STX, ymodem.STX, EOT, ymodem.SOH]
    assert link.written[2] == link.written[3] != link.written[1]  # block 2, again after its NAK


def test_a_lost_request_after_block_0_is_replaced_by_the_receivers_nak():
    c, ack, nak = bytes([CRC_REQUEST]), bytes([ACK]), bytes([NAK])
    link = Scripted(c, [ack + nak, ack, ack + c, ack])  # no 'C' after block 0: the receiver timed out
    Sender(link, ack_timeout=30.0).send("f.bin", b"x" * 100)
    assert kinds(link) == [ymodem.SOH, ymodem.SOH, EOT, ymodem.SOH]


def test_a_lost_eot_ack_is_replaced_by_the_next_request():
    c, ack = bytes([CRC_REQUEST]), bytes([ACK])
    link = Scripted(c, [ack + c, ack, c, ack])
    Sender(link, ack_timeout=30.0).send("f.bin", b"x" * 100)
    assert kinds(link) == [ymodem.SOH, ymodem.SOH, EOT, ymodem.SOH]


def test_a_cancel_with_one_garbled_can_is_a_cancel():
    c = bytes([CRC_REQUEST])
    link = Scripted(c, [bytes([ACK]) + c, bytes([CAN, 0x5A, CAN]) + b"\r\nAPP: YMODEM: failed, 128 bytes\r\n"])
    with pytest.raises(ReceiverCancelled, match="APP: YMODEM: failed, 128 bytes"):
        Sender(link, ack_timeout=5.0).send("f.bin", b"x" * 200)


def test_a_verdict_line_ends_the_wait():
    """The receiver closed the session (its CANs lost): its verdict line ends the wait at once."""
    c = bytes([CRC_REQUEST])
    link = Scripted(c, [bytes([ACK]) + c, b"\r\n[  1.000] YMODEM: failed, 0 bytes, status 0: None\r\n"])
    with pytest.raises(ReceiverCancelled, match="ended the session: YMODEM: failed"):
        Sender(link, ack_timeout=30.0).send("f.bin", b"x" * 200)


def test_a_1k_block_refused_twice_goes_again_in_128_bytes_and_so_does_the_rest():
    """Two prompt NAKs: the receiver certainly has not taken block 1, so it goes again as 128 bytes."""
    c, ack, nak = bytes([CRC_REQUEST]), bytes([ACK]), bytes([NAK])
    link = Scripted(c, [ack + c, nak, nak] + [ack] * 24 + [ack + c, ack])
    sender = Sender(link, ack_timeout=0.5)
    sender.send("f.bin", b"x" * 3000)
    assert [len(w) for w in link.written[1:3]] == [1029] * 2
    assert link.written[3][:3] == bytes([ymodem.SOH, 1, 0xFE])  # block 1 again, 128 bytes
    assert [len(w) for w in link.written[3:-2]] == [133] * 24  # 3000 bytes in 128-byte blocks
    assert kinds(link)[-2:] == [EOT, ymodem.SOH] and sender.resent == 2


def test_a_1k_block_that_may_have_been_taken_is_not_cut():
    """A garbled answer may have been the ACK: block 1 goes again whole; the rest in 128-byte blocks."""
    c, ack, nak = bytes([CRC_REQUEST]), bytes([ACK]), bytes([NAK])
    link = Scripted(c, [ack + c, b"\x07", nak, ack] + [ack] * 16 + [ack + c, ack])
    Sender(link, ack_timeout=5.0).send("f.bin", b"x" * 3000)
    assert [len(w) for w in link.written[1:4]] == [1029] * 3
    assert [len(w) for w in link.written[4:-2]] == [133] * 16  # 1976 bytes left


@pytest.mark.parametrize(
    "said",
    [
        b"[  0.131] YMODEM loader ready.\r\n",
        b"APP: YMODEM receiver ready.\r\n",
        b"APP: YMODEM receier ready.\r\n",  # one byte dropped
        b"APP: YMODEM recEiver ready.\r\n",  # one bit flipped
        b"APP: YMODEM receiverr ready.\r\n",  # one byte doubled
        b"APP: YMODEM receiver rea\xe4y.\r\n",
        b"APP: YMOEM receiver ready.\r\n",
    ],
)
def test_trigger_recognises_the_ready_line_with_one_garbled_byte(said):
    link = Scripted(b"", [b"", said])
    Sender(link).trigger_loader(timeout=5.0)
    assert link.written == [ymodem.LOAD_TRIGGER] * 2


def test_trigger_ignores_the_boot_log():
    link = Scripted(b"", [b"[  0.006] UART loader check trigger.\r\n", b"Slot 1 is ready.\r\n"])
    with pytest.raises(ymodem.YmodemError, match="neither the bootloader's loader nor an application's receiver"):
        Sender(link).trigger_loader(timeout=0.3)
