# SPDX-License-Identifier: Apache-2.0
"""The QUADSPI / N25Q128A models alone (harness/quadspi.py, harness/nor_n25q.py) on the DISCO-F469I: the
registers driven from Python as a driver would, refusals reported as violations, the chip's commands,
status and flag status registers, protocols, erase units and power cuts, the memory-mapped window seen
by the CPU. No firmware is built."""

from __future__ import annotations

import random
import struct

import pytest
from unicorn import UcError
from unicorn import arm_const as A

from spb.board import load_board
from support.scons_project import REPO

from .harness import power as powermod
from .harness.machine import Machine
from .harness.nor_mx25lm import Frame
from .harness.nor_n25q import DIO, QIO, SPI

pytestmark = pytest.mark.silicon

BOARD = load_board(REPO / "boards" / "DISCO-F469I.toml")
BASE = 0x90000000
WRITE, READ, POLL, MM = 0, 1, 2, 3
I1, I2, I4 = 1 << 8, 2 << 8, 3 << 8
A1_24, A4_24 = (1 << 10) | (2 << 12), (3 << 10) | (2 << 12)
D1, D4 = 1 << 24, 3 << 24
SR_TCF, SR_SMF, SR_BUSY = 2, 8, 32
JEDEC = bytes((0x20, 0xBA, 0x18))


@pytest.fixture
def m():
    return Machine(BOARD)


def ext(m):
    return m.soc.externals[0]


def wire(m, *, gpio=True, clock=True, enable=True, prescaler=1):
    """QUADSPI clock, the board's pins in their alternate functions, 16 MiB (FSIZE 23), HCLK / 2, EN."""
    q, rcc = ext(m).qspi, m.rcc
    rcc.bus_write(0x30, 4, rcc.regs["AHB1ENR"] | 0x7FF)
    if clock:
        rcc.bus_write(0x38, 4, rcc.regs["AHB3ENR"] | 2)
    if gpio:
        for p in BOARD.external_flash.pins:
            g, n = m.soc.gpios[p.pin[1]], int(p.pin[2:])
            g.bus_write(0x00, 4, g.moder & ~(3 << 2 * n) | 2 << 2 * n)
            g.bus_write(0x20 + 4 * (n // 8), 4, g.afr[n // 8] & ~(0xF << 4 * (n % 8)) | p.af << 4 * (n % 8))
    if clock:
        q.bus_write(0x04, 4, 23 << 16 | 4 << 8)
        q.bus_write(0x00, 4, prescaler << 24 | 1 << 4 | (1 if enable else 0))
    return q


def frame(q, fmode, ccr, instruction, address=None, data=b"", read=0, dummy=0):
    """One indirect frame, registers in the order that makes the last write start it."""
    q.bus_write(0x0C, 4, SR_TCF)
    n = len(data) or read
    q.bus_write(0x10, 4, (n - 1) & 0xFFFFFFFF)
    dmode = D1 if n and not ccr >> 24 & 3 else 0
    q.bus_write(0x14, 4, instruction | ccr | dmode | dummy << 18 | fmode << 26)
    if address is not None:
        q.bus_write(0x18, 4, address)
    for b in data:
        q.bus_write(0x20, 1, b)
    return bytes(q.bus_read(0x20, 1) for _ in range(read))


def rdsr(q, lines=I1):
    return frame(q, READ, lines, 0x05, read=1)[0]


def wren(q):
    frame(q, WRITE, I1, 0x06)


def program(q, offset, data):
    wren(q)
    frame(q, WRITE, I1 | A1_24, 0x02, offset, data=data)


def erase(q, offset, opcode=0x20):
    wren(q)
    frame(q, WRITE, I1 | A1_24, opcode, offset)


def wait_ready(q, limit=5000):
    for n in range(limit):
        if not rdsr(q) & 1:
            return n
    raise AssertionError("WIP never cleared")


def mm_on(q, opcode=0x6B, ccr=I1 | A1_24 | D4, dummy=8):
    q.bus_write(0x14, 4, opcode | ccr | dummy << 18 | MM << 26)


def mm_off(q):
    q.bus_write(0x00, 4, q.cr | 2)
    assert not q.bus_read(0x08, 4) & SR_BUSY


def cpu_load(m, address):
    """The CPU executes LDR r0, [r1] with r1 = address (code in SRAM)."""
    m.uc.mem_write(0x20000000, struct.pack("<HH", 0x6808, 0xBF00))
    m.uc.reg_write(A.UC_ARM_REG_R1, address)
    m.uc.emu_start(0x20000001, 0x20000002)
    return m.uc.reg_read(A.UC_ARM_REG_R0)


def violations(m, text):
    return [v for v in m.violations if text in v]


# -- bus, pins, start of commands ----------------------------------------------------------------------------


def test_rdid_answers_when_everything_is_wired(m):
    q = wire(m)
    assert frame(q, READ, I1, 0x9F, read=3) == JEDEC
    assert q.bus_read(0x08, 4) & SR_TCF and not q.bus_read(0x08, 4) & SR_BUSY
    assert q.clock_hz() == pytest.approx(m.rcc.hclk_hz() / 2)
    assert m.violations == []


@pytest.mark.parametrize(("missing", "expect"), [("gpio", "not in alternate function"), ("clock", "bus clock")])
def test_unrouted_signals_reach_nothing(m, missing, expect):
    q = wire(m, **{missing: False})
    if missing == "clock":
        assert q.bus_read(0x00, 4) == 0 and violations(m, expect)  # register access ignored
        return
    assert frame(q, READ, I1, 0x9F, read=3) != JEDEC and violations(m, expect)


def test_command_while_disabled_is_not_sent(m):
    q = wire(m, enable=False)
    wren(q)
    assert violations(m, "CR.EN = 0") and not ext(m).chip.wel


def test_start_rules_and_registers_locked_while_busy(m):
    """An instruction-only command starts on the CCR write, an addressed one on the AR write (AR written
    first would send the old address), data from software on the DR writes."""
    q = wire(m)
    q.bus_write(0x14, 4, 0x06 | I1)  # WREN: CCR alone starts it
    assert ext(m).chip.wel
    q.bus_write(0x18, 4, 0x1000)
    q.bus_write(0x14, 4, 0x20 | I1 | A1_24)  # SSE: nothing yet
    assert ext(m).chip.busy is None
    q.bus_write(0x18, 4, 0x2000)  # the AR write starts it, at this address
    assert ext(m).chip.busy is not None and ext(m).chip.busy[1] == 0x2000
    wait_ready(q)
    mm_on(q)
    assert q.bus_read(0x08, 4) & SR_BUSY
    q.bus_write(0x14, 4, 0x05 | I1 | D1 | READ << 26)
    q.bus_write(0x00, 4, 2 << 24 | 1)  # prescaler change while BUSY
    assert len(violations(m, "while BUSY")) == 2
    m.violations.clear()
    mm_off(q)
    assert rdsr(q) == 0 and m.violations == []


# -- the chip -------------------------------------------------------------------------------------------------


def test_program_needs_wel_wraps_in_its_page_and_only_clears_bits(m):
    q = wire(m)
    frame(q, WRITE, I1 | A1_24, 0x02, 0x100, data=b"\x00" * 4)  # no WREN: ignored
    assert m.read(BASE + 0x100, 4) == b"\xff" * 4 and "PP without WEL" in "".join(m.events)
    program(q, 0x1FC, bytes(range(1, 9)))  # crosses the page end: wraps
    assert rdsr(q) & 3 == 1  # WIP, WEL cleared by the program
    wait_ready(q)
    assert m.read(BASE + 0x1FC, 4) == bytes((1, 2, 3, 4)) and m.read(BASE + 0x100, 4) == bytes((5, 6, 7, 8))
    assert m.read(BASE + 0x200, 4) == b"\xff" * 4
    program(q, 0x1FC, b"\xf0\x0f\xff\x00")
    wait_ready(q)
    assert m.read(BASE + 0x1FC, 4) == bytes((1 & 0xF0, 2 & 0x0F, 3, 0))
    assert m.violations == []


def test_busy_status_flag_status_and_time(m):
    q = wire(m)
    m.load(BASE + 0x3000, b"\x00" * 0x1000)
    start = m.cycles
    erase(q, 0x3123)  # address inside: the 4 KiB subsector erases
    assert rdsr(q) & 1 and not frame(q, READ, I1, 0x70, read=1)[0] & 0x80  # FSR: controller busy
    frame(q, READ, I1 | A1_24, 0x0B, 0x3000, read=4, dummy=8)  # refused while WIP
    assert violations(m, "while a program or erase is in progress")
    m.violations.clear()
    wait_ready(q)
    assert (m.cycles - start) / m.hclk_hz >= 0.2  # 0.25 s typical
    assert frame(q, READ, I1, 0x70, read=1)[0] == 0x80
    assert m.read(BASE + 0x3000, 0x1000) == b"\xff" * 0x1000 and m.read(BASE + 0x4000, 1) == b"\xff"


def test_erase_units(m):
    q = wire(m)
    m.load(BASE + 0x10000, b"\x12" * 0x20000)
    erase(q, 0x10000 + 0x5000)  # 4 KiB subsector
    wait_ready(q)
    assert m.read(BASE + 0x15000, 0x1000) == b"\xff" * 0x1000
    assert m.read(BASE + 0x14FFF, 1) == b"\x12" and m.read(BASE + 0x16000, 1) == b"\x12"
    erase(q, 0x1ABCD, opcode=0xD8)  # 64 KiB sector, address truncated
    wait_ready(q)
    assert m.read(BASE + 0x10000, 0x10000) == b"\xff" * 0x10000 and m.read(BASE + 0x20000, 1) == b"\x12"
    assert m.power.trace == [] or all(k == "erase" for k, *_ in m.power.trace)
    assert m.violations == []


def test_fast_reads_and_dummy_cycles(m):
    q = wire(m)
    m.load(BASE + 0x500, bytes(range(16)))
    assert frame(q, READ, I1 | A1_24, 0x0B, 0x500, read=4, dummy=8) == bytes(range(4))
    assert frame(q, READ, I1 | A1_24 | D4, 0x6B, 0x504, read=4, dummy=8) == bytes(range(4, 8))
    assert frame(q, READ, I1 | A4_24 | D4, 0xEB, 0x508, read=4, dummy=10) == bytes(range(8, 12))
    assert m.violations == []
    assert frame(q, READ, I1 | A1_24, 0x0B, 0x500, read=4, dummy=6) != bytes(range(4))
    assert violations(m, "dummy cycles")
    m.violations.clear()
    assert frame(q, READ, I1 | A1_24, 0x03, 0x500, read=4) == bytes(range(4))  # READ: HSI / 2 = 8 MHz here
    read_90 = Frame(0x03, 1, 1, address=0x500, alines=1, asize=3, dlines=1, read=4, clock_hz=90e6)
    assert ext(m).chip.command(read_90) != bytes(range(4)) and violations(m, "above 54 MHz")
    m.violations.clear()
    wren(q)
    frame(q, WRITE, I1, 0x81, data=b"\x6b")  # VCR: 6 dummy cycles, XIP off
    assert frame(q, READ, I1 | A1_24, 0x0B, 0x500, read=4, dummy=6) == bytes(range(4)) and m.violations == []


@pytest.mark.parametrize(("vecr", "mode", "lines"), [(0x5F, QIO, I4), (0x9F, DIO, I2)])
def test_protocols_survive_a_system_reset_until_a_reset_frame(m, vecr, mode, lines):
    q = wire(m)
    wren(q)
    frame(q, WRITE, I1, 0x61, data=bytes([vecr]))  # VECR: quad / dual I/O protocol
    assert ext(m).chip.protocol() == mode
    m.system_reset()  # MCU reset: the chip keeps its protocol
    q = wire(m)
    assert frame(q, READ, I1, 0x9F, read=3) != JEDEC and violations(m, mode)
    m.violations.clear()
    assert rdsr(q, lines | (lines >> 8) << 24) == 0  # the status in the chip's own framing: understood
    for framing in (I4, I2, I1):  # what the driver sends: only the chip's own pair acts
        frame(q, WRITE, framing, 0x66)
        frame(q, WRITE, framing, 0x99)
    assert ext(m).chip.protocol() == SPI and m.violations == []
    m.stall(1e-3)
    assert frame(q, READ, I1, 0x9F, read=3) == JEDEC
    wren(q)
    frame(q, WRITE, I1, 0x61, data=bytes([vecr]))
    m.power_on()
    assert ext(m).chip.protocol() == SPI


def test_reset_interrupts_a_running_erase(m):
    """The MCU was reset in the middle of an erase and the driver resets the chip: the erase stops with
    the cells torn, and the chip ignores frames until its recovery time has passed."""
    q = wire(m)
    m.load(BASE + 0x7000, b"\x00" * 0x1000)
    erase(q, 0x7000)
    frame(q, WRITE, I1, 0x66)
    frame(q, WRITE, I1, 0x99)
    cells = m.read(BASE + 0x7000, 0x1000)
    assert cells not in (b"\x00" * 0x1000, b"\xff" * 0x1000) and not ext(m).chip.busy
    assert frame(q, READ, I1, 0x9F, read=3) == b"\xff\xff\xff"  # still recovering
    while frame(q, READ, I1, 0x9F, read=3) != JEDEC:
        pass
    assert m.violations == []


def test_not_modelled_commands_are_reported(m):
    q = wire(m)
    wren(q)
    frame(q, WRITE, I1, 0xC7)  # bulk erase
    frame(q, WRITE, I1, 0x01, data=b"\x1c")  # status register write: block protection
    assert len(violations(m, "not modelled")) == 2


# -- power cuts ---------------------------------------------------------------------------------------------------


def _bits_between(old: bytes, target: bytes, now: bytes) -> bool:
    return all((n ^ o) & ~(o ^ t) == 0 for o, t, n in zip(old, target, now))


@pytest.mark.parametrize("seed", [1, 2])
def test_torn_program_and_erase(m, seed):
    q = wire(m)
    m.load(BASE + 0x20000, bytes(random.Random(seed).randbytes(0x10000)))
    old = m.read(BASE + 0x20000, 0x10000)
    m.power.arm(2, "torn", seed)  # op 1: the program, op 2: the 64 KiB erase (cut)
    program(q, 0x5000, b"\x00" * 256)
    wait_ready(q)
    erase(q, 0x20000, opcode=0xD8)
    assert m.power.dead and m.power.trace[0][:3] == ("program", BASE + 0x5000, 256)
    assert m.power.trace[1][:3] == ("erase", BASE + 0x20000, 0x10000)
    now = m.read(BASE + 0x20000, 0x10000)
    assert now not in (old, b"\xff" * 0x10000) and _bits_between(old, b"\xff" * 0x10000, now)
    fresh = Machine(BOARD)
    fresh.load(BASE + 0x20000, old)
    powermod.replay([fresh.soc.cells, *fresh.soc.externals], m.power.trace, 2, "torn", seed)
    assert fresh.read(BASE + 0x20000, 0x10000) == now and fresh.read(BASE + 0x5000, 256) == b"\x00" * 256
    m.power_on()  # a torn page program: every bit that moved had to move
    q = wire(m)
    m.power.arm(1, "torn", seed)
    before = m.read(BASE + 0x6000, 16)
    program(q, 0x6000, bytes(range(16)))
    now = m.read(BASE + 0x6000, 16)
    assert now not in (before, bytes(range(16))) and _bits_between(before, bytes(range(16)), now)


def test_cut_before_leaves_cells_alone(m):
    q = wire(m)
    m.load(BASE, b"\x55" * 0x1000)
    m.power.arm(1, "before")
    erase(q, 0)
    assert m.power.dead and m.read(BASE, 0x1000) == b"\x55" * 0x1000


# -- the memory-mapped window -----------------------------------------------------------------------------------


def test_window_follows_memory_mapped_mode(m):
    q = wire(m)
    m.load(BASE + 0x40, struct.pack("<I", 0xCAFEF00D))
    with pytest.raises(UcError):
        cpu_load(m, BASE + 0x40)  # not memory-mapped: bus error
    assert violations(m, "memory-mapped mode is off")
    m.violations.clear()
    mm_on(q)
    assert cpu_load(m, BASE + 0x40) == 0xCAFEF00D and m.violations == []
    m.load(BASE + 0x100, struct.pack("<HH", 0x202A, 0xBF00))  # code runs from the window: MOVS r0, #42
    m.uc.emu_start(BASE + 0x101, BASE + 0x102)
    assert m.uc.reg_read(A.UC_ARM_REG_R0) == 42
    mm_off(q)
    rdsr(q)  # a frame selects indirect mode: the window closes
    with pytest.raises(UcError):
        m.uc.emu_start(BASE + 0x101, BASE + 0x102)
    assert violations(m, "instruction fetch from")


@pytest.mark.parametrize(
    ("opcode", "ccr", "dummy", "why"),
    [
        (0x6B, I1 | A1_24 | D4, 6, "dummy cycles"),
        (0x6B, I1 | A1_24 | D1, 8, "data phase on 1 lines"),
        (0x05, I1 | D1, 0, "not an array read"),
    ],
)
def test_window_refuses_a_read_command_the_chip_does_not_answer(m, opcode, ccr, dummy, why):
    q = wire(m)
    mm_on(q, opcode, ccr, dummy)
    assert violations(m, "the window stays inaccessible") and violations(m, why)
    with pytest.raises(UcError):
        cpu_load(m, BASE)
    m.violations.clear()
    mm_off(q)
    mm_on(q)
    assert cpu_load(m, BASE) == 0xFFFFFFFF and m.violations == []
