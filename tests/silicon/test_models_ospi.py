# SPDX-License-Identifier: Apache-2.0
"""The OCTOSPI / OCTOSPIM / MX25LM51245G models alone (harness/octospi.py, harness/nor_mx25lm.py): the
registers driven from Python as a driver would, refusals reported as violations, power cuts tearing the
cells, the memory-mapped window seen by the CPU. No firmware is built."""

from __future__ import annotations

import random
import struct
import time

import pytest
from unicorn import UcError
from unicorn import arm_const as A

from spb.board import load_board
from support.scons_project import REPO

from .harness import power as powermod
from .harness.machine import Machine
from .harness.nor_mx25lm import DOPI, SOPI, SPI

pytestmark = pytest.mark.silicon

BOARD = load_board(REPO / "boards" / "DISCO-L4R9I.toml")
BASE = 0x90000000
WRITE, READ, POLL, MM = 0, 1, 2, 3
I1, A1_32, D1 = 1, (1 << 8) | (3 << 12), 1 << 24
I8_16, A8_32, D8, DTR = 4 | (1 << 4), (4 << 8) | (3 << 12), 4 << 24, (1 << 3) | (1 << 11) | (1 << 27)
SR_TCF, SR_SMF, SR_BUSY = 2, 8, 32


@pytest.fixture
def m():
    return Machine(BOARD)


def ext(m):
    return m.soc.externals[0]


def wire(m, *, gpio=True, iosv=True, ospim=True, enable=True):
    """Clocks, pins, VDDIO2, OCTOSPIM port 2 <- OCTOSPI1, 64 MiB device, prescaler /2, EN."""
    e, rcc = ext(m), m.rcc
    rcc.bus_write(0x4C, 4, rcc.regs["AHB2ENR"] | 0x1FF | 1 << 20)
    rcc.bus_write(0x50, 4, rcc.regs["AHB3ENR"] | 1 << 8)
    rcc.bus_write(0x58, 4, rcc.regs["APB1ENR1"] | 1 << 28)
    if iosv:
        m.soc.pwr.bus_write(0x04, 4, 1 << 9)
    if gpio:
        for p in BOARD.external_flash.pins:
            g, n = m.soc.gpios[p.pin[1]], int(p.pin[2:])
            g.bus_write(0x00, 4, g.moder & ~(3 << 2 * n) | 2 << 2 * n)
            g.bus_write(0x20 + 4 * (n // 8), 4, g.afr[n // 8] & ~(0xF << 4 * (n % 8)) | p.af << 4 * (n % 8))
    if ospim:
        e.ospim.bus_write(0x08, 4, 0x03010111)
        e.ospim.bus_write(0x04, 4, 0x07050333)
    e.ospi.bus_write(0x08, 4, 25 << 16 | 3 << 8 | 1 << 3)
    e.ospi.bus_write(0x0C, 4, 1)
    if enable:
        e.ospi.bus_write(0x00, 4, 1)
    return e.ospi


def frame(o, fmode, ccr, instruction, address=None, data=b"", read=0, dummy=0):
    """One indirect frame, registers in the order that makes the last write start it."""
    o.bus_write(0x00, 4, o.cr & ~(3 << 28) | fmode << 28)
    o.bus_write(0x24, 4, SR_TCF)
    n = len(data) or read
    o.bus_write(0x40, 4, (n - 1) & 0xFFFFFFFF)
    o.bus_write(0x100, 4, ccr | (D1 if n and not ccr >> 24 & 7 else 0))
    o.bus_write(0x108, 4, dummy)
    o.bus_write(0x110, 4, instruction)
    if address is not None:
        o.bus_write(0x48, 4, address)
    for b in data:
        o.bus_write(0x50, 1, b)
    return bytes(o.bus_read(0x50, 1) for _ in range(read))


def rdsr(o):
    return frame(o, READ, I1, 0x05, read=1)[0]


def wren(o):
    frame(o, WRITE, I1, 0x06)


def program(o, offset, data):
    wren(o)
    frame(o, WRITE, I1 | A1_32, 0x12, offset, data=data)


def erase(o, offset, opcode=0x21):
    wren(o)
    frame(o, WRITE, I1 | A1_32, opcode, offset)


def wait_ready(o, limit=2000):
    for n in range(limit):
        if not rdsr(o) & 1:
            return n
    raise AssertionError("WIP never cleared")


def mm_on(o, dummy=8, opcode=0x0C, ccr=I1 | A1_32 | D1):
    o.bus_write(0x00, 4, o.cr & ~(3 << 28))
    o.bus_write(0x100, 4, ccr)
    o.bus_write(0x108, 4, dummy)
    o.bus_write(0x110, 4, opcode)
    o.bus_write(0x00, 4, o.cr | MM << 28)


def mm_off(o):
    o.bus_write(0x00, 4, o.cr | 2)
    assert not o.bus_read(0x20, 4) & SR_BUSY
    o.bus_write(0x00, 4, o.cr & ~(3 << 28))


def cpu_load(m, address):
    """The CPU executes LDR r0, [r1] with r1 = address (code in SRAM)."""
    m.uc.mem_write(0x20000000, struct.pack("<HH", 0x6808, 0xBF00))
    m.uc.reg_write(A.UC_ARM_REG_R1, address)
    m.uc.emu_start(0x20000001, 0x20000002)
    return m.uc.reg_read(A.UC_ARM_REG_R0)


def violations(m, text):
    return [v for v in m.violations if text in v]


# -- bus, pins and routing ------------------------------------------------------------------------------------


def test_rdid_answers_when_everything_is_wired(m):
    o = wire(m)
    assert frame(o, READ, I1, 0x9F, read=3) == bytes((0xC2, 0x85, 0x3A))
    assert o.bus_read(0x20, 4) & SR_TCF and not o.bus_read(0x20, 4) & SR_BUSY
    assert m.violations == []


@pytest.mark.parametrize(
    "missing, expect",
    [
        ({"gpio": False}, "not in alternate function 5"),
        ({"iosv": False}, "VDDIO2 and PWR_CR2.IOSV is clear"),
        ({"ospim": False}, "OCTOSPIM port 2 does not route it from OCTOSPI1"),  # reset: port 2 <- OCTOSPI2
    ],
)
def test_unrouted_signals_reach_nothing(m, missing, expect):
    o = wire(m, **missing)
    assert frame(o, READ, I1, 0x9F, read=3) != bytes((0xC2, 0x85, 0x3A))
    assert violations(m, expect), m.violations


def test_command_while_disabled_is_not_sent(m):
    o = wire(m, enable=False)
    wren_before = ext(m).chip.wel
    frame(o, WRITE, I1, 0x06)
    assert ext(m).chip.wel == wren_before and violations(m, "CR.EN = 0")


def test_registers_written_while_busy_are_refused(m):
    o = wire(m)
    o.bus_write(0x00, 4, 1 | READ << 28)
    o.bus_write(0x40, 4, 3)
    o.bus_write(0x100, 4, I1 | D1)
    o.bus_write(0x110, 4, 0x9F)  # starts: 4 bytes wait in the FIFO
    assert o.bus_read(0x20, 4) & SR_BUSY and (o.bus_read(0x20, 4) >> 8 & 0x3F) == 4
    o.bus_write(0x100, 4, I1)
    o.bus_write(0x00, 4, 1)  # FMODE change while BUSY
    assert len(violations(m, "while BUSY")) == 2
    o.bus_write(0x00, 4, o.cr | 2)  # ABORT flushes
    assert not o.bus_read(0x20, 4) & SR_BUSY and o.bus_read(0x20, 4) & SR_TCF


def test_start_of_transfer_rules(m):
    o = wire(m)
    o.bus_write(0x00, 4, 1 | WRITE << 28)
    o.bus_write(0x100, 4, I1 | A1_32)
    o.bus_write(0x110, 4, 0x06)  # an address is needed: IR does not start the command
    assert not ext(m).chip.wel
    o.bus_write(0x100, 4, I1)
    o.bus_write(0x110, 4, 0x06)  # no address, no data: IR starts it
    assert ext(m).chip.wel
    # AR written before IR: the frame goes out with the instruction IR held at that moment
    o.bus_write(0x100, 4, I1 | A1_32)
    o.bus_write(0x48, 4, 0)
    assert violations(m, "WREN takes no address")


def test_wrong_width_frames_are_not_understood(m):
    o = wire(m)
    frame(o, WRITE, I8_16, 0x06F9)  # octal WREN to a chip in SPI: ignored, only an event
    assert not ext(m).chip.wel and m.violations == []
    frame(o, READ, I8_16 | A8_32 | D8, 0x05FA, 0, read=1, dummy=4)
    assert violations(m, "SPI mode")
    assert frame(o, READ, I1 | A1_32, 0x0C, 0, read=4, dummy=6) and violations(m, "6 dummy cycles")


# -- the chip -------------------------------------------------------------------------------------------------


def test_program_needs_wel_wraps_in_its_page_and_only_clears_bits(m):
    o = wire(m)
    frame(o, WRITE, I1 | A1_32, 0x12, 0x100, data=b"\x00" * 4)  # no WREN: ignored
    assert m.read(BASE + 0x100, 4) == b"\xff" * 4
    program(o, 0x1FC, bytes(range(1, 9)))  # crosses the page end: wraps
    wait_ready(o)
    assert m.read(BASE + 0x1FC, 4) == bytes((1, 2, 3, 4)) and m.read(BASE + 0x100, 4) == bytes((5, 6, 7, 8))
    assert m.read(BASE + 0x200, 4) == b"\xff" * 4
    program(o, 0x1FC, b"\xf0\x0f\xff\x00")
    wait_ready(o)
    assert m.read(BASE + 0x1FC, 4) == bytes((1 & 0xF0, 2 & 0x0F, 3, 0))
    assert m.violations == []


def test_wip_keeps_the_chip_busy_and_time_passes(m):
    o = wire(m)
    m.load(BASE + 0x3000, b"\x00" * 0x1000)
    start = m.cycles
    erase(o, 0x3123)  # address inside: the sector erases
    assert rdsr(o) & 1
    frame(o, READ, I1 | A1_32, 0x0C, 0x3000, read=4, dummy=8)  # refused while WIP
    assert violations(m, "while an operation is in progress")
    polls = wait_ready(o)
    assert polls >= 1 and (m.cycles - start) / m.hclk_hz >= 20e-3  # ~25 ms of erase
    assert m.read(BASE + 0x3000, 0x1000) == b"\xff" * 0x1000
    m.load(BASE + 0x10000, b"\x12" * 0x10000)
    erase(o, 0x10000, opcode=0xDC)  # 64 KiB block
    wait_ready(o)
    assert m.read(BASE + 0x10000, 0x10000) == b"\xff" * 0x10000


def test_automatic_status_polling_and_abort(m):
    o = wire(m)
    erase(o, 0)
    o.bus_write(0x00, 4, 1 | POLL << 28 | 1 << 22)  # APMS: stop at the match
    o.bus_write(0x40, 4, 0)
    o.bus_write(0x80, 4, 1)  # mask WIP
    o.bus_write(0x88, 4, 0)  # match WIP = 0
    o.bus_write(0x100, 4, I1 | D1)
    o.bus_write(0x110, 4, 0x05)
    reads = 0
    while not o.bus_read(0x20, 4) & SR_SMF:
        reads += 1
        assert reads < 1000
    assert reads >= 1 and not o.bus_read(0x20, 4) & SR_BUSY
    # polling without APMS runs until ABORT
    o.bus_write(0x00, 4, 1 | POLL << 28)
    o.bus_write(0x24, 4, SR_SMF)
    o.bus_write(0x110, 4, 0x05)
    assert o.bus_read(0x20, 4) & (SR_BUSY | SR_SMF) == SR_BUSY | SR_SMF
    o.bus_write(0x00, 4, o.cr | 2)
    assert not o.bus_read(0x20, 4) & SR_BUSY and m.violations == []


def test_octal_mode_survives_a_system_reset_until_a_reset_frame(m):
    o = wire(m)
    wren(o)
    frame(o, WRITE, I1 | A1_32, 0x72, 0, data=b"\x02")  # CR2: DOPI
    assert ext(m).chip.mode == DOPI
    m.system_reset()  # MCU reset: the chip keeps DOPI
    o = wire(m)
    assert ext(m).chip.mode == DOPI
    assert frame(o, READ, I1, 0x9F, read=3) != bytes((0xC2, 0x85, 0x3A)) and violations(m, "DOPI")
    m.violations.clear()
    for ccr in (I8_16, I8_16 | DTR):  # STR reset: not DOPI's frame; DTR: is
        frame(o, WRITE, ccr, 0x6699)
        frame(o, WRITE, ccr, 0x9966)
    assert ext(m).chip.mode == SPI and m.violations == []
    m.stall(1e-3)  # tREADY2
    assert frame(o, READ, I1, 0x9F, read=3) == bytes((0xC2, 0x85, 0x3A))
    wren(o)
    frame(o, WRITE, I1 | A1_32, 0x72, 0, data=b"\x01")  # SOPI; only power-on ends it
    m.power_on()
    assert ext(m).chip.mode == SPI
    assert SOPI != SPI


def test_reset_interrupts_a_running_erase(m):
    """A reset pair while WIP (the MCU was reset in the middle of an erase, then the driver resets the
    chip): the erase stops with the cells torn, and the chip ignores frames until tREADY2 has passed."""
    o = wire(m)
    m.load(BASE + 0x7000, b"\x00" * 0x1000)
    erase(o, 0x7000)
    frame(o, WRITE, I1, 0x66)
    frame(o, WRITE, I1, 0x99)
    cells = m.read(BASE + 0x7000, 0x1000)
    assert cells not in (b"\x00" * 0x1000, b"\xff" * 0x1000) and not ext(m).chip.busy
    assert frame(o, READ, I1, 0x9F, read=3) == b"\xff\xff\xff"  # still recovering: nobody drives IO1
    while frame(o, READ, I1, 0x9F, read=3) != bytes((0xC2, 0x85, 0x3A)):
        pass  # each ignored frame takes bus time
    assert m.violations == []


# -- power cuts ---------------------------------------------------------------------------------------------------


def _bits_between(old: bytes, target: bytes, now: bytes) -> bool:
    return all((n ^ o) & ~(o ^ t) == 0 for o, t, n in zip(old, target, now))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_torn_program_and_erase(m, seed):
    o = wire(m)
    m.load(BASE + 0x2000, bytes(random.Random(seed).randbytes(0x1000)))
    old = m.read(BASE + 0x2000, 0x1000)
    m.power.arm(2, "torn", seed)  # op 1: the program, op 2: the erase (cut)
    program(o, 0x5000, b"\x00" * 256)
    wait_ready(o)
    erase(o, 0x2000)
    assert m.power.dead and m.power.trace[0][:3] == ("program", BASE + 0x5000, 256)
    now = m.read(BASE + 0x2000, 0x1000)
    assert now not in (old, b"\xff" * 0x1000) and _bits_between(old, b"\xff" * 0x1000, now)
    # the replay of the trace gives the same cells (power.replay, used by the power-cut suite)
    fresh = Machine(BOARD)
    fresh.load(BASE + 0x2000, old)
    powermod.replay([fresh.soc.cells, *fresh.soc.externals], m.power.trace, 2, "torn", seed)
    assert fresh.read(BASE + 0x2000, 0x1000) == now and fresh.read(BASE + 0x5000, 256) == b"\x00" * 256
    # a torn page program: every bit that moved had to move
    m.power_on()
    o = wire(m)
    m.power.arm(1, "torn", seed)
    before = m.read(BASE + 0x6000, 16)
    program(o, 0x6000, bytes(range(16)))
    now = m.read(BASE + 0x6000, 16)
    assert now not in (before, bytes(range(16))) and _bits_between(before, bytes(range(16)), now)


def test_cut_before_leaves_cells_alone(m):
    o = wire(m)
    m.load(BASE, b"\x55" * 0x1000)
    m.power.arm(1, "before")
    erase(o, 0)
    assert m.power.dead and m.read(BASE, 0x1000) == b"\x55" * 0x1000


def test_storage_is_sparse_and_snapshots_are_cheap(m):
    e = ext(m)
    m.load(BASE + 0x3FF0000, b"\x01\x02")
    m.load(BASE + 0x123456, b"\x03")
    state = m.snapshot()
    assert len(e.chip.blocks) == 2 and e.read(BASE + 0x2000000, 4) == b"\xff" * 4
    o = wire(m)
    erase(o, 0x3FF0000)
    wait_ready(o)
    assert m.read(BASE + 0x3FF0000, 2) == b"\xff\xff"
    m.restore(state)
    assert m.read(BASE + 0x3FF0000, 2) == b"\x01\x02" and m.read(BASE + 0x123456, 1) == b"\x03"


# -- the memory-mapped window -----------------------------------------------------------------------------------


def test_window_follows_memory_mapped_mode(m):
    o = wire(m)
    m.load(BASE + 0x40, struct.pack("<I", 0xCAFEF00D))
    with pytest.raises(UcError):
        cpu_load(m, BASE + 0x40)  # not memory-mapped: bus error
    assert violations(m, "memory-mapped mode is off")
    m.violations.clear()
    mm_on(o)
    assert cpu_load(m, BASE + 0x40) == 0xCAFEF00D and m.violations == []
    assert o.bus_read(0x20, 4) & SR_BUSY
    # the mirror follows the cells (a programmer write here; the chip's own programs alike)
    m.load(BASE + 0x44, b"\x11\x22\x33\x44")
    assert cpu_load(m, BASE + 0x44) == 0x44332211
    # code runs from the window: MOVS r0, #42
    m.load(BASE + 0x100, struct.pack("<HH", 0x202A, 0xBF00))
    m.uc.emu_start(BASE + 0x101, BASE + 0x102)
    assert m.uc.reg_read(A.UC_ARM_REG_R0) == 42
    mm_off(o)
    with pytest.raises(UcError):
        m.uc.emu_start(BASE + 0x101, BASE + 0x102)
    assert violations(m, "instruction fetch from")


def test_window_refuses_a_read_command_the_chip_does_not_answer(m):
    o = wire(m)
    mm_on(o, dummy=0)  # FAST_READ4B needs 8 dummy cycles
    assert violations(m, "the window stays inaccessible")
    with pytest.raises(UcError):
        cpu_load(m, BASE)
    m.violations.clear()
    o.bus_write(0x00, 4, o.cr | 2)
    mm_on(o)
    assert cpu_load(m, BASE) == 0xFFFFFFFF and m.violations == []


def test_window_speed(m):
    """Memory-mapped mode on/off and page programs mirrored into the window cost little."""
    o = wire(m)
    t = time.perf_counter()
    for _ in range(500):
        mm_on(o)
        mm_off(o)
    toggles = (time.perf_counter() - t) / 500
    t = time.perf_counter()
    for page in range(200):
        program(o, 0x8000 + page * 256, bytes([page]) * 256)
        wait_ready(o)
    programs = (time.perf_counter() - t) / 200
    t = time.perf_counter()
    state = m.snapshot()
    m.restore(state)
    restore = time.perf_counter() - t
    print(
        f"mm on+off {toggles * 1e6:.0f} us, 256-byte program {programs * 1e6:.0f} us, snapshot+restore of "
        f"{len(state[1][0])} blocks {restore * 1e3:.1f} ms"
    )
    assert toggles < 2e-3 and programs < 10e-3 and restore < 0.5
    assert m.read(BASE + 0x8000 + 199 * 256, 256) == bytes([199]) * 256 and m.violations == []
