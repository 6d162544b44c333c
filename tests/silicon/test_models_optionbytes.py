# SPDX-License-Identifier: Apache-2.0
"""Option bytes in the flash models (harness/flash_l4.py, flash_g0g4wl.py, flash_f4.py, flash_l0.py): the unlock
sequences, the refusal of a wrong key, write protection refusing program/erase with WRPERR, values taking effect only
at the next option-byte load (OBL_LAUNCH or a reset), persistence across power cuts, the RDP regression mass erase
and RDP level 2 freezing the option bytes. The registers are driven as the CPU's bus accesses reach them (the
models' bus interface, the flash store hook), plus one guest program that goes through OBL_LAUNCH's reset."""

from __future__ import annotations

import struct

import pytest

from spb.board import load_board
from support.scons_project import REPO

from .harness.cortexm import HARDFAULT
from .harness.machine import Machine
from .test_models import assemble, reg

KEYS = (0x45670123, 0xCDEF89AB)
OPTKEYS = (0x08192A3B, 0x4C5D6E7F)
WRPERR_L4, OPTVERR_L4, EOP = 1 << 4, 1 << 15, 1
OPTSTRT_L4, OBL_LAUNCH_L4, OPTLOCK_L4 = 1 << 17, 1 << 27, 1 << 30
L4_CLASS = ["NUCLEO-L452RE", "NUCLEO-G0B1RE", "NUCLEO-G474RE", "NUCLEO-WL55JC"]


class Bus:
    """Register and flash accesses as the CPU's loads and stores deliver them to the models."""

    def __init__(self, m: Machine):
        self.m, self.flash = m, m.soc.flash

    def w(self, offset: int, value: int, size: int = 4) -> None:
        self.flash.bus_write(offset, size, value)

    def r(self, offset: int) -> int:
        return self.flash.bus_read(offset, 4)

    def store(self, address: int, value: int, size: int = 4) -> None:
        self.m._flash_store(None, None, address, size, value, None)

    def wait(self, sr: int, busy: int) -> int:
        for _ in range(10):
            value = self.r(sr)
            if not value & busy:
                return value
        raise AssertionError("BSY never cleared")


def machine(name: str) -> Machine:
    board = load_board(REPO / "boards" / f"{name}.toml")
    m = Machine(board)
    base = board.flash.base
    m.load(base, struct.pack("<II", board.ram.base + 0x1000, base + 9))  # a vector table; nothing runs
    m.power_on()
    return m


# -- L4 / L4+ / G0 / G4 / WL ----------------------------------------------------------------------------------------
def l4_unlock(b: Bus, options: bool = True) -> None:
    for k in KEYS:
        b.w(0x08, k)
    if options:
        for k in OPTKEYS:
            b.w(0x0C, k)


def l4_options(b: Bus, busy: bool = True, **regs: int) -> int:
    """Write option registers, OPTSTRT, wait for BSY; returns FLASH_SR."""
    offsets = {name: off for off, name in b.flash.option_offsets.items()}
    for name, value in regs.items():
        b.w(offsets[name], value)
    b.w(0x14, b.r(0x14) | OPTSTRT_L4 | (1 << 24))  # with EOPIE
    assert bool(b.r(0x10) & (1 << 16)) == busy, "BSY while the option bytes are programmed"
    return b.wait(0x10, 1 << 16)


def l4_obl_launch(b: Bus) -> None:
    b.w(0x14, b.r(0x14) | OBL_LAUNCH_L4)
    assert b.m.core.reset_request, "OBL_LAUNCH resets the device"
    b.m.core.reset_request = False
    b.m.system_reset()


def l4_page(b: Bus, bank: int, page: int) -> tuple:
    """(address, FLASH_CR value selecting the page) of `page` inside `bank`."""
    f = b.flash
    size = f.cells.sectors[0][1]
    if bank == 2:
        return f.bank2_base + page * size, f.cr_bker | (page + f.bank2_first_page) << 3
    return f.cells.base + page * size, page << 3


def l4_erase(b: Bus, bank: int, page: int) -> int:
    b.w(0x10, 0xC3FB)  # clear the flags
    _, cr = l4_page(b, bank, page)
    b.w(0x14, cr | 2)
    b.w(0x14, cr | 2 | (1 << 16))
    sr = b.wait(0x10, 1 << 16)
    b.w(0x14, 0)
    return sr


def l4_program(b: Bus, bank: int, page: int) -> int:
    b.w(0x10, 0xC3FB)
    address, _ = l4_page(b, bank, page)
    b.w(0x14, 1)
    b.store(address, 0x11111111)
    b.store(address + 4, 0x22222222)
    sr = b.wait(0x10, 1 << 16)
    b.w(0x14, 0)
    return sr


def test_factory_option_bytes_are_the_manuals_reset_values_and_protect_nothing():
    expected = {
        "NUCLEO-L452RE": {"OPTR": 0xFFEFF8AA, "WRP1AR": 0xFF00FFFF, "WRP1BR": 0xFF00FFFF},
        "NUCLEO-G0B1RE": {"OPTR": 0xFFEFFEAA | 1 << 21, "WRP2AR": 0xFF00FFFF},
        "NUCLEO-F429ZI": {"OPTCR": 0x0FFFAAED, "OPTCR1": 0x0FFF0000},
        "NUCLEO-L073RZ": {"RDP": 0xFF5500AA, "USER": 0x7F8F8070, "WRP01": 0xFFFF0000},
    }
    for name, values in expected.items():
        m = machine(name)
        stored = m.option_bytes()
        for reg_name, value in values.items():
            assert stored[reg_name] == value, (name, reg_name, hex(stored[reg_name]))
        flash = m.soc.flash
        units = range(len(m.soc.cells.sectors)) if name == "NUCLEO-F429ZI" else [s[0] for s in m.soc.cells.sectors]
        assert not any(flash.write_protected(unit) for unit in units)
    with pytest.raises(ValueError, match="no option register"):
        m.set_option_bytes(OPTR=0)


@pytest.mark.parametrize("board", L4_CLASS)
def test_l4_class_wrp_takes_effect_at_obl_launch_and_refuses_program_and_erase(board):
    m = machine(board)
    b = Bus(m)
    two_banks = m.soc.flash.bank2_base is not None
    # OPTKEYR before KEYR: ignored (reported), options stay locked
    b.w(0x0C, OPTKEYS[0])
    assert b.r(0x14) & OPTLOCK_L4 and m.violations
    m.violations.clear()
    l4_unlock(b)
    # before: pages 2..3 erasable and programmable
    assert not l4_program(b, 1, 2) & WRPERR_L4 and m.read(l4_page(b, 1, 2)[0], 4) == b"\x11\x11\x11\x11"
    assert not b.r(0x14) & OPTLOCK_L4
    regs = {"WRP1AR": 3 << 16 | 2}  # pages 2..3 of bank 1
    if two_banks:
        regs["WRP2BR"] = 1 << 16 | 1  # page 1 of bank 2
    sr = l4_options(b, **regs)
    assert sr & EOP and not sr & 0xC3FA, hex(sr)
    assert m.option_bytes()["WRP1AR"] & 0x7F007F == 0x30002
    # stored, not yet loaded: the pages are still writable
    assert not l4_erase(b, 1, 3) & WRPERR_L4
    l4_obl_launch(b)
    assert b.r(0x2C) & 0x7F007F == 0x30002 and b.r(0x14) & OPTLOCK_L4
    m.load(l4_page(b, 1, 2)[0], b"\x00" * 8)
    l4_unlock(b, options=False)
    assert l4_erase(b, 1, 2) & WRPERR_L4 and m.read(l4_page(b, 1, 2)[0], 8) == bytes(8)
    assert l4_program(b, 1, 3) & WRPERR_L4 and m.read(l4_page(b, 1, 3)[0], 8) == b"\xff" * 8
    assert not l4_erase(b, 1, 4) & WRPERR_L4 and not l4_program(b, 1, 4) & WRPERR_L4
    assert m.read(l4_page(b, 1, 4)[0], 4) == b"\x11\x11\x11\x11"
    if two_banks:
        assert l4_program(b, 2, 1) & WRPERR_L4 and m.read(l4_page(b, 2, 1)[0], 8) == b"\xff" * 8
        assert not l4_program(b, 2, 2) & WRPERR_L4  # bank 2 page 2, and bank 1 page 1, unprotected
        assert not l4_program(b, 1, 1) & WRPERR_L4
    # power cut and power-on: still protected; so is a machine restored from the non-volatile state
    m.power_on()
    l4_unlock(b, options=False)
    assert l4_erase(b, 1, 2) & WRPERR_L4
    fresh = machine(board)
    fresh.restore(m.snapshot())
    fresh.power_on()
    assert fresh.soc.flash.write_protected(l4_page(b, 1, 3)[0])
    assert not fresh.soc.flash.write_protected(l4_page(b, 1, 4)[0])
    assert not m.violations, m.violations


def test_l4_wrong_option_key_is_a_bus_fault_and_locks_until_reset():
    m = machine("NUCLEO-L452RE")
    b = Bus(m)
    l4_unlock(b, options=False)
    b.w(0x0C, OPTKEYS[0])
    b.w(0x0C, 0x12345678)
    assert HARDFAULT in m.core.pending
    m.core.pending.clear()
    for k in OPTKEYS:  # the right keys no longer work
        b.w(0x0C, k)
    assert b.r(0x14) & OPTLOCK_L4 and HARDFAULT in m.core.pending
    b.w(0x2C, 0)  # option register writes are ignored while OPTLOCK is set
    assert b.r(0x2C) == 0xFF00FFFF
    m.violations.clear()
    m.system_reset()
    l4_unlock(b)
    assert not b.r(0x14) & OPTLOCK_L4


@pytest.mark.parametrize("board", ["NUCLEO-L452RE", "NUCLEO-G474RE"])
def test_l4_rdp_levels_regression_mass_erases_and_level_2_freezes(board):
    m = machine(board)
    b = Bus(m)
    optr = m.option_bytes()["OPTR"]
    m.load(0x08010000, b"\x5a" * 16)
    l4_unlock(b)
    l4_options(b, OPTR=optr & ~0xFF | 0xBB)
    assert m.soc.flash.rdp_level() == 0  # until the load
    l4_obl_launch(b)
    assert m.soc.flash.rdp_level() == 1 and b.r(0x20) & 0xFF == 0xBB
    assert m.read(0x08010000, 16) == b"\x5a" * 16  # level 1 leaves the flash to the code running from it
    # level 1 -> 0: mass erase before the option bytes change
    l4_unlock(b)
    l4_options(b, OPTR=optr)
    assert m.read(0x08010000, 16) == b"\xff" * 16 and m.read(0x08000000, 8) == b"\xff" * 8
    assert m.option_bytes()["OPTR"] == optr
    # level 2: no option change any more, after any reset
    m.set_option_bytes(OPTR=optr & ~0xFF | 0xCC)
    m.power_on()
    assert m.soc.flash.rdp_level() == 2
    l4_unlock(b)
    sr = l4_options(b, busy=False, WRP1AR=0, OPTR=optr)
    assert sr & WRPERR_L4
    assert m.option_bytes()["OPTR"] & 0xFF == 0xCC and m.option_bytes()["WRP1AR"] == 0xFF00FFFF
    m.power_on()
    assert m.soc.flash.rdp_level() == 2 and not m.soc.flash.write_protected(0x08000000)


@pytest.mark.parametrize("mode", ["before", "torn"])
def test_l4_power_cut_during_option_programming(mode):
    m = machine("NUCLEO-G0B1RE")
    b = Bus(m)
    before = m.option_bytes()
    l4_unlock(b)
    m.power.arm(1, mode)
    b.w(0x2C, 0x00000000)
    b.w(0x14, b.r(0x14) | OPTSTRT_L4)
    assert m.power.dead and m.power.trace[0][0] == "option"
    m.power_on()
    if mode == "before":
        assert m.option_bytes() == before and not b.r(0x10) & OPTVERR_L4
        assert m.soc.flash.rdp_level() == 0
    else:  # value and complement disagree: OPTVERR, a locked configuration [U] (RDP level 1)
        assert b.r(0x10) & OPTVERR_L4 and m.soc.flash.rdp_level() == 1


def test_l4_obl_launch_from_code_reloads_through_a_reset():
    """A guest program protects page 0 and launches the option load; after the reset it finds WRP1AR set and its
    erase of page 0 is refused with WRPERR."""
    body = f"""
    ldr r0, =0x40022000
    ldr r1, [r0, #0x2C]
    uxtb r1, r1
    cmp r1, #0
    beq protected
    ldr r1, ={KEYS[0]:#x}
    str r1, [r0, #8]
    ldr r1, ={KEYS[1]:#x}
    str r1, [r0, #8]
    ldr r1, ={OPTKEYS[0]:#x}
    str r1, [r0, #0xC]
    ldr r1, ={OPTKEYS[1]:#x}
    str r1, [r0, #0xC]
    movs r1, #0
    str r1, [r0, #0x2C]       @ WRP1AR: page 0 .. page 0
    ldr r1, ={OPTSTRT_L4:#x}
    str r1, [r0, #0x14]
1:  ldr r4, [r0, #0x10]
    lsrs r4, r4, #17
    bcs 1b
    ldr r1, ={OBL_LAUNCH_L4:#x}
    str r1, [r0, #0x14]
    b .
protected:
    ldr r1, ={KEYS[0]:#x}
    str r1, [r0, #8]
    ldr r1, ={KEYS[1]:#x}
    str r1, [r0, #8]
    movs r1, #2               @ PER, page 0
    str r1, [r0, #0x14]
    ldr r1, =0x10002
    str r1, [r0, #0x14]       @ STRT
2:  ldr r4, [r0, #0x10]
    lsrs r4, r4, #17
    bcs 2b
    ldr r5, [r0, #0x10]
    b .
"""
    board = load_board(REPO / "boards" / "NUCLEO-L452RE.toml")
    m = Machine(board)
    image = assemble(body)
    m.load(board.flash.base, image)
    m.power_on()
    r = m.run(max_cycles=400_000, stop_at_app=False)
    assert r.resets == 1, m.events[-8:]
    assert reg(m, 5) & WRPERR_L4
    assert m.read(board.flash.base, len(image)) == image
    assert not m.violations, m.violations


# -- F4 -------------------------------------------------------------------------------------------------------------
def f4_sector_op(b: Bus, sector: int, program: int | None = None) -> int:
    """Erase `sector` (0..23), or program a word at `program`; returns FLASH_SR."""
    b.w(0x0C, 0xF3)
    if program is None:
        snb = sector if sector < 12 else 16 + sector - 12
        b.w(0x10, 2 | snb << 3 | 2 << 8)
        b.w(0x10, 2 | snb << 3 | 2 << 8 | 1 << 16)
    else:
        b.w(0x10, 1 | 2 << 8)
        b.store(program, 0xA5A5A5A5)
    sr = b.wait(0x0C, 1 << 16)
    b.w(0x10, 0)
    return sr


def test_f4_nwrp_refuses_program_and_erase_after_reset_and_rdp_2_freezes():
    m = machine("NUCLEO-F429ZI")
    b = Bus(m)
    for k in KEYS:
        b.w(0x04, k)
    b.w(0x14, 0x0FFDAAED)  # OPTLOCK set: ignored (reported)
    assert b.r(0x14) == 0x0FFFAAED and m.violations
    m.violations.clear()
    for k in OPTKEYS:
        b.w(0x08, k)
    assert not b.r(0x14) & 1
    b.w(0x16, 0x0FFD, size=2)  # nWRP1 = 0: sector 1 (as ST's HAL writes OPTCR byte 2-3)
    b.w(0x18, 0x0FFD0000)  # OPTCR1 nWRP1 = 0: sector 13
    b.w(0x14, b.r(0x14) | 2)  # OPTSTRT
    assert b.r(0x0C) & (1 << 16)
    b.wait(0x0C, 1 << 16)
    assert m.option_bytes() == {"OPTCR": 0x0FFDAAEC, "OPTCR1": 0x0FFD0000}
    assert not f4_sector_op(b, 1) & (1 << 4)  # not loaded yet [U]: still erasable
    m.system_reset()
    assert b.r(0x14) == 0x0FFDAAED
    for k in KEYS:
        b.w(0x04, k)
    m.load(0x08004000, b"\x00" * 4)
    assert f4_sector_op(b, 1) & (1 << 4) and m.read(0x08004000, 4) == bytes(4)
    assert f4_sector_op(b, 1, program=0x08004004) & (1 << 4) and m.read(0x08004004, 4) == b"\xff" * 4
    assert f4_sector_op(b, 13, program=0x08104000) & (1 << 4)
    assert not f4_sector_op(b, 2, program=0x08008000) & (1 << 4) and m.read(0x08008000, 4) == b"\xa5" * 4
    assert not f4_sector_op(b, 2) & (1 << 4) and m.read(0x08008000, 4) == b"\xff" * 4
    # a wrong option key: bus fault, OPTCR locked until reset
    b.w(0x08, 0x1)
    assert HARDFAULT in m.core.pending
    m.core.pending.clear()
    # power cut: the option bytes persist; RDP 2 then refuses changes
    m.power_on()
    assert m.soc.flash.write_protected(1) and not m.soc.flash.write_protected(0)
    m.set_option_bytes(OPTCR=0x0FFDCCEC)
    m.power_on()
    for k in OPTKEYS:
        b.w(0x08, k)
    b.w(0x14, 0x0FFFAAEC)
    b.w(0x14, 0x0FFFAAEE)
    b.wait(0x0C, 1 << 16)
    m.power_on()
    assert m.option_bytes()["OPTCR"] == 0x0FFDCCEC and m.soc.flash.rdp_level() == 2
    assert not m.violations, m.violations


def test_f4_rdp_regression_mass_erases():
    m = machine("NUCLEO-F429ZI")
    b = Bus(m)
    m.set_option_bytes(OPTCR=0x0FFF55EC)  # level 1
    m.power_on()
    m.load(0x08100000, b"\x12" * 8)
    for k in OPTKEYS:
        b.w(0x08, k)
    b.w(0x15, 0xAA, size=1)  # RDP byte (OPTCR byte 1, as ST's HAL writes it)
    b.w(0x14, b.r(0x14) | 2)
    b.wait(0x0C, 1 << 16)
    assert m.read(0x08100000, 8) == b"\xff" * 8 and m.read(0x08000000, 8) == b"\xff" * 8
    assert m.option_bytes()["OPTCR"] == 0x0FFFAAEC


# -- L0 -------------------------------------------------------------------------------------------------------------
PEKEYS, PRGKEYS, OPTKEYS_L0 = (0x89ABCDEF, 0x02030405), (0x8C9DAEBF, 0x13141516), (0xFBEAD9C8, 0x24252627)
WRPERR_L0, OPTVERR_L0 = 1 << 8, 1 << 11


def l0_option_word(m: Machine, offset: int, value: int) -> None:
    ob = next(p for p in m.soc.peripherals if p.name == "OPTION_BYTES")
    ob.bus_write(offset, 4, value)


def l0_unlock(b: Bus, keys: tuple, offset: int) -> None:
    for k in keys:
        b.w(offset, k)


def l0_op(b: Bus, address: int, erase: bool = False) -> int:
    b.w(0x18, 0x30F00)
    if erase:
        b.w(0x04, (1 << 9) | (1 << 3))
    b.store(address, 0 if erase else 0x5A5A5A5A)
    sr = b.wait(0x18, 1)
    b.w(0x04, 0)
    return sr


def test_l0_wrprot_option_words_with_complements():
    m = machine("NUCLEO-L073RZ")
    b = Bus(m)
    l0_option_word(m, 0x08, 0xFFFD0002)  # locked: WRPERR, nothing stored
    assert b.r(0x18) & WRPERR_L0 and m.option_bytes()["WRP01"] == 0xFFFF0000
    l0_unlock(b, PEKEYS, 0x0C)
    l0_unlock(b, OPTKEYS_L0, 0x14)
    assert not b.r(0x04) & 4  # OPTLOCK clear
    l0_option_word(m, 0x08, 0xFFFD0002)  # WRPROT1 bit 1: sector 1 (0x0800_1000..0x0800_1FFF)
    b.wait(0x18, 1)
    l0_option_word(m, 0x0C, 0x00000004)  # WRPROT1 [31:16] without its complement
    b.wait(0x18, 1)
    assert b.r(0x20) == 0  # not loaded yet
    l0_unlock(b, PRGKEYS, 0x10)
    assert not l0_op(b, 0x08001000) & WRPERR_L0 and m.read(0x08001000, 4) == b"\x5a" * 4
    b.w(0x04, b.r(0x04) | 1 << 18)  # OBL_LAUNCH
    assert m.core.reset_request
    m.core.reset_request = False
    m.system_reset()
    sr = b.r(0x18)
    assert sr & OPTVERR_L0  # the word without complement fails its check: loads as 0xFFFF [U]
    assert b.r(0x20) == 0xFFFF0002
    l0_unlock(b, PEKEYS, 0x0C)
    l0_unlock(b, PRGKEYS, 0x10)
    assert l0_op(b, 0x08001000, erase=True) & WRPERR_L0 and m.read(0x08001000, 4) == b"\x5a" * 4
    assert l0_op(b, 0x08001080) & WRPERR_L0 and m.read(0x08001080, 4) == bytes(4)
    assert not l0_op(b, 0x08002000) & WRPERR_L0 and m.read(0x08002000, 4) == b"\x5a" * 4
    assert not l0_op(b, 0x08002000, erase=True) & WRPERR_L0 and m.read(0x08002000, 4) == bytes(4)
    m.power_on()  # a power cut keeps them
    assert b.r(0x20) == 0xFFFF0002
    # RDP level 2: option words are read-only
    l0_unlock(b, PEKEYS, 0x0C)
    l0_unlock(b, OPTKEYS_L0, 0x14)
    l0_option_word(m, 0x00, 0xFF3300CC)
    b.wait(0x18, 1)
    m.power_on()
    assert b.r(0x1C) & 0xFF == 0xCC
    l0_unlock(b, PEKEYS, 0x0C)
    l0_unlock(b, OPTKEYS_L0, 0x14)
    l0_option_word(m, 0x08, 0xFFFF0000)
    l0_option_word(m, 0x00, 0xFF5500AA)
    assert b.r(0x18) & WRPERR_L0
    m.power_on()
    assert b.r(0x1C) & 0xFF == 0xCC and b.r(0x20) == 0xFFFF0002
    assert not m.violations, m.violations


def test_l0_rdp_regression_mass_erases_and_wrong_option_key_faults():
    m = machine("NUCLEO-L073RZ")
    b = Bus(m)
    m.set_option_bytes(RDP=0xFF4400BB)
    m.power_on()
    assert m.soc.flash.rdp_level() == 1
    m.load(0x08010000, b"\x77" * 8)
    l0_unlock(b, PEKEYS, 0x0C)
    l0_unlock(b, OPTKEYS_L0, 0x14)
    l0_option_word(m, 0x00, 0xFF5500AA)
    b.wait(0x18, 1)
    assert m.read(0x08010000, 8) == bytes(8) and m.read(0x08000000, 8) == bytes(8)
    assert m.option_bytes()["RDP"] == 0xFF5500AA
    m.system_reset()
    l0_unlock(b, PEKEYS, 0x0C)
    b.w(0x14, OPTKEYS_L0[0])
    b.w(0x14, 0)
    assert HARDFAULT in m.core.pending and b.r(0x04) & 4


# -- L5 (TrustZone disabled) ------------------------------------------------------------------------------------------
def test_l5_wrp_areas_through_the_non_secure_registers_and_tzen_not_modelled():
    m = machine("DISCO-L562E")
    b = Bus(m)

    def unlock(options: bool) -> None:
        for k in KEYS:
            b.w(0x08, k)
        for k in OPTKEYS if options else ():
            b.w(0x10, k)

    def erase(page: int) -> int:
        b.w(0x20, 0xA0FB)
        cr = 2 | 1 << 11 | page << 3  # NSPER, NSBKER (bank 2)
        b.w(0x28, cr)
        b.w(0x28, cr | 1 << 16)
        sr = b.wait(0x20, 1 << 16)
        b.w(0x28, 0)
        return sr

    unlock(options=True)
    assert not b.r(0x28) & OPTLOCK_L4
    b.w(0x68, 5 << 16 | 4)  # WRP2AR: bank 2 pages 4..5
    b.w(0x28, OPTSTRT_L4)
    b.wait(0x20, 1 << 16)
    assert m.option_bytes()["WRP2AR"] & 0x7F007F == 0x50004
    b.w(0x28, OBL_LAUNCH_L4)
    assert m.core.reset_request
    m.core.reset_request = False
    m.system_reset()
    bank2 = m.soc.flash.bank2_base
    m.load(bank2 + 4 * 0x800, b"\x00" * 8)
    unlock(options=False)
    assert erase(4) & WRPERR_L4 and m.read(bank2 + 4 * 0x800, 8) == bytes(8)
    assert not erase(6) & WRPERR_L4
    assert not m.violations, m.violations
    unlock(options=True)
    b.w(0x40, b.r(0x40) | 1 << 31)  # TZEN: refused as not modelled, nothing stored
    b.w(0x28, OPTSTRT_L4)
    assert any("TZEN" in v for v in m.violations)
    assert not m.option_bytes()["OPTR"] & 1 << 31
