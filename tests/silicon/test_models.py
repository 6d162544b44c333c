# SPDX-License-Identifier: Apache-2.0
"""The models' refusals, one by one, with small guest programs (assembled here with arm-none-eabi-as):
each test shows that a model answers a wrong sequence as the reference manual says the silicon does."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import tempfile
from pathlib import Path

import pytest

from spb.board import Ram, load_board
from support.scons_project import REPO

from .harness.cortexm import NMI
from .harness.machine import Machine

_cache: dict = {}


def assemble(body: str, cpu: str = "cortex-m4", base: int = 0x08000000, stack: int = 0x20004000) -> bytes:
    """A vector table (SP, reset, NMI, HardFault, SVCall -> handlers below) and `body` at reset. The NMI
    handler counts into r11 and returns; the HardFault handler parks in `hardfault: b .`; the SVCall
    handler clobbers r0-r3 and r12 and returns."""
    source = f""".syntax unified
.thumb
.cpu {cpu}
.global _start
_start:
.word {stack}
.word reset + 1
.word nmi + 1
.word hardfault + 1
.word 0, 0, 0, 0, 0, 0, 0
.word svc + 1
.word 0, 0, 0, 0
.thumb_func
reset:
{body}
.thumb_func
nmi:
    push {{r0}}
    mov r0, r11
    adds r0, r0, #1
    mov r11, r0
    pop {{r0}}
    bx lr
.thumb_func
hardfault:
    b hardfault
.thumb_func
svc:
    movs r0, #0
    movs r1, #0
    movs r2, #0
    movs r3, #0
    mov r12, r0
    bx lr
.ltorg
"""
    key = hashlib.sha256((source + hex(base)).encode()).hexdigest()
    if key in _cache:
        return _cache[key]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "t.s").write_text(source)
        for cmd in (
            ["arm-none-eabi-as", f"-mcpu={cpu}", "-mthumb", "-o", "t.o", "t.s"],
            ["arm-none-eabi-ld", f"-Ttext={base:#x}", "-o", "t.elf", "t.o"],
            ["arm-none-eabi-objcopy", "-O", "binary", "t.elf", "t.bin"],
        ):
            subprocess.run(cmd, cwd=tmp, check=True, capture_output=True)
        _cache[key] = (tmp / "t.bin").read_bytes()
    return _cache[key]


def run(board_name: str, body: str, cycles: int = 100_000) -> Machine:
    board = load_board(REPO / "boards" / f"{board_name}.toml")
    m = Machine(board)
    cpu = "cortex-m0plus" if board.family == "stm32l0" else "cortex-m4"
    m.load(board.flash.base, assemble(body + "\n    b .\n", cpu))
    m.power_on()
    m.run(max_cycles=cycles, stop_at_app=False)
    return m


def reg(m: Machine, n: int) -> int:
    from unicorn import arm_const

    return m.uc.reg_read(getattr(arm_const, f"UC_ARM_REG_R{n}"))


def in_hardfault(m: Machine) -> bool:
    return 3 in m.core.active


UNLOCK_L4 = """
    ldr r0, =0x40022000
    ldr r1, =0x45670123
    str r1, [r0, #8]
    ldr r1, =0xCDEF89AB
    str r1, [r0, #8]
"""


def test_cpu_stores_into_flash_only_go_through_the_controller():
    """A plain store into flash with the controller locked changes nothing (PGSERR), including the very
    first store into a never-written page (a Unicorn quirk the machine works around)."""
    m = run(
        "NUCLEO-L452RE",
        """
    ldr r0, =0x08040000
    ldr r1, =0x12345678
    str r1, [r0]
    ldr r2, [r0]
""",
    )
    assert m.read(0x08040000, 4) == b"\xff" * 4 and reg(m, 2) == 0xFFFFFFFF
    assert m.soc.flash.sr & (1 << 7)  # PGSERR


def test_l4_programs_a_double_word_and_refuses_a_programmed_one():
    m = run(
        "NUCLEO-L452RE",
        UNLOCK_L4
        + """
    ldr r2, =0x08040000
    movs r1, #1
    str r1, [r0, #0x14]      @ CR.PG
    ldr r3, =0x11111111
    str r3, [r2]
    ldr r3, =0x22222222
    str r3, [r2, #4]
1:  ldr r4, [r0, #0x10]
    lsls r4, r4, #15         @ BSY (bit 16) -> carry/sign
    bmi 1b
    ldr r3, =0x33333333
    str r3, [r2]
    str r3, [r2, #4]
    ldr r5, [r0, #0x10]      @ SR after the second attempt
""",
    )
    assert m.read(0x08040000, 8) == bytes.fromhex("1111111122222222")
    assert reg(m, 5) & (1 << 3)  # PROGERR: the double word is not erased
    assert not m.violations


def test_l4_byte_store_is_a_size_error_and_wrong_key_a_bus_fault():
    m = run(
        "NUCLEO-L452RE",
        UNLOCK_L4
        + """
    movs r1, #1
    str r1, [r0, #0x14]
    ldr r2, =0x08040000
    movs r3, #0
    strb r3, [r2]
    ldr r5, [r0, #0x10]
    movs r1, #0x80
    lsls r1, r1, #24
    str r1, [r0, #0x14]      @ LOCK
    ldr r1, =0x11111111      @ a wrong key
    str r1, [r0, #8]
    nop
    nop
""",
    )
    assert reg(m, 5) & (1 << 6)  # SIZERR
    assert m.read(0x08040000, 8) == b"\xff" * 8
    assert in_hardfault(m), m.events[-5:]
    assert m.soc.flash.cr & (1 << 31)  # locked until reset


def test_l4_double_ecc_error_raises_the_nmi_after_the_read():
    """A torn double word: the read completes, FLASH_ECCR holds ECCD and the address, the NMI is taken
    with the next instruction as return address (the handler here counts in r11 and returns)."""
    board = load_board(REPO / "boards" / "NUCLEO-L452RE.toml")
    m = Machine(board)
    m.load(
        board.flash.base,
        assemble("""
    movs r0, #0
    mov r11, r0
    ldr r0, =0x08040008
    ldr r1, [r0]
    ldr r2, [r0, #4]
    movs r3, #7
    ldr r4, =0x40022018
    ldr r5, [r4]            @ ECCR
    b .
"""),
    )
    m.soc.cells.poisoned.add(0x08040008)
    m.power_on()
    m.run(max_cycles=50_000, stop_at_app=False)
    assert reg(m, 11) == 2  # both loads of the double word faulted, each NMI returned
    assert reg(m, 3) == 7  # execution continued after them
    eccr = reg(m, 5)
    assert eccr >> 31 & 1 and eccr & 0x7FFFF == 0x40008
    assert NMI not in m.core.active


def test_f4_size_must_match_psize_and_sector_numbers_skip_12_to_15():
    m = run(
        "NUCLEO-F429ZI",
        """
    ldr r0, =0x40023C00
    ldr r1, =0x45670123
    str r1, [r0, #4]
    ldr r1, =0xCDEF89AB
    str r1, [r0, #4]
    ldr r1, =0x201           @ PSIZE x32, PG
    str r1, [r0, #0x10]
    ldr r2, =0x08060000
    movs r3, #0
    strh r3, [r2]            @ half-word store with PSIZE x32
    ldr r5, [r0, #0x0C]
    ldr r1, =0x10062         @ SER, SNB = 12 (no such sector on a dual-bank part), STRT
    str r1, [r0, #0x10]
""",
    )
    assert reg(m, 5) & (1 << 6)  # PGPERR
    assert any("SNB = 0xc" in v for v in m.violations), m.violations


def test_l0_word_must_be_zero_before_programming():
    m = run(
        "NUCLEO-L073RZ",
        """
    ldr r0, =0x40022000
    ldr r1, =0x89ABCDEF
    str r1, [r0, #0x0C]
    ldr r1, =0x02030405
    str r1, [r0, #0x0C]
    ldr r1, =0x8C9DAEBF
    str r1, [r0, #0x10]
    ldr r1, =0x13141516
    str r1, [r0, #0x10]
    ldr r2, =0x08020000
    ldr r3, =0x0000A5A5
    str r3, [r2]
    ldr r3, =0x00005A5A
    str r3, [r2]
    ldr r5, [r0, #0x18]
""",
        cycles=2_000_000,
    )
    assert m.read(0x08020000, 4) == bytes.fromhex("a5a50000")
    assert reg(m, 5) & (1 << 16)  # NOTZEROERR


def test_pll_out_of_range_never_locks():
    """L4: VCO at 400 MHz (PLLN 100 from 4 MHz) is outside 64..344 MHz: PLLRDY stays clear."""
    m = run(
        "NUCLEO-L452RE",
        """
    ldr r0, =0x40021000
    ldr r1, =0x01006401     @ PLLSRC MSI, M = 1, N = 100, PLLREN
    str r1, [r0, #0x0C]
    ldr r1, [r0]
    movs r2, #1
    lsls r2, r2, #24
    orrs r1, r1, r2
    str r1, [r0]            @ PLLON
    ldr r3, [r0]
    ldr r3, [r0]
    ldr r3, [r0]
    ldr r3, [r0]
""",
    )
    assert not reg(m, 3) & (1 << 25)
    assert any("does not lock" in v for v in m.violations)


def test_peripheral_writes_without_its_clock_are_ignored():
    m = run(
        "NUCLEO-L452RE",
        """
    ldr r0, =0x48000000     @ GPIOA, clock still off (RCC_AHB2ENR = 0)
    movs r1, #0
    str r1, [r0]
""",
    )
    assert m.soc.gpios["A"].moder == 0xABFFFFFF
    assert any("bus clock is disabled" in v for v in m.violations)


def test_exception_entry_and_return_preserve_the_interrupted_context():
    """SVC from thread mode: the handler sees the stacked frame, the caller's registers come back."""
    body = """
    ldr r0, =0x20003000
    msr msp, r0
    movs r0, #10
    movs r1, #11
    movs r2, #12
    movs r3, #13
    ldr r4, =0x08000000
    ldr r5, [r4, #4]        @ any value in r12 and lr to check they are restored
    mov r12, r5
    svc #1
    adds r6, r0, r1         @ 21 if r0/r1 survived
    adds r6, r6, r2
    adds r6, r6, r3         @ 46
    mov r7, r12
    b .
"""
    m = run("NUCLEO-L452RE", body, cycles=10_000)
    code = assemble(body)
    assert reg(m, 6) == 46
    assert reg(m, 7) == int.from_bytes(code[4:8], "little")
    assert m.core.ipsr == 0 and not m.core.active


def test_pll_configuration_is_frozen_while_the_pll_runs():
    """RM0394 6.4.4: PLLCFGR "can be written only when the PLL is disabled" - the write is ignored."""
    m = run(
        "NUCLEO-L452RE",
        """
    ldr r0, =0x40021000
    ldr r1, =0x01002811     @ PLLSRC MSI, M = 2, N = 40 (VCO 80 MHz), PLLREN
    str r1, [r0, #0x0C]
    ldr r1, [r0]
    movs r2, #1
    lsls r2, r2, #24
    orrs r1, r1, r2
    str r1, [r0]            @ PLLON
    ldr r1, =0x01003011     @ N = 48: refused while the PLL runs
    str r1, [r0, #0x0C]
    ldr r3, [r0, #0x0C]
""",
    )
    assert reg(m, 3) == 0x01002811
    assert any("PLL fields written while the PLL is on" in v for v in m.violations)


def test_l4_port_g_pins_need_vddio2_validated():
    """PG2..PG15 of the L47x/L49x/L4+ are supplied by VDDIO2 and isolated until PWR_CR2.IOSV is set
    (RM0351 "Independent I/O supply rail"): the NUCLEO-L496ZG console (LPUART1 on PG7) stays silent
    before, and works after."""
    m = run(
        "NUCLEO-L496ZG",
        """
    ldr r0, =0x40021000      @ RCC
    ldr r1, [r0, #0x4C]
    movs r2, #0x40           @ AHB2ENR.GPIOGEN
    orrs r1, r2
    str r1, [r0, #0x4C]
    ldr r1, [r0, #0x5C]
    movs r2, #1              @ APB1ENR2.LPUART1EN
    orrs r1, r2
    str r1, [r0, #0x5C]
    ldr r3, =0x48001800      @ GPIOG: PG7 alternate function 8
    ldr r1, [r3, #0]
    ldr r2, =0xC000
    bics r1, r2
    ldr r2, =0x8000
    orrs r1, r2
    str r1, [r3, #0]
    ldr r1, [r3, #0x20]
    ldr r2, =0xF0000000
    bics r1, r2
    ldr r2, =0x80000000
    orrs r1, r2
    str r1, [r3, #0x20]
    ldr r4, =0x40008000      @ LPUART1: 115200 Bd from MSI 4 MHz (BRR = 256 * fck / baud)
    ldr r1, =8889
    str r1, [r4, #0x0C]
    movs r1, #9              @ UE | TE
    str r1, [r4, #0]
    movs r1, #0x41           @ 'A' with IOSV clear
    str r1, [r4, #0x28]
    ldr r1, [r0, #0x58]      @ PWR bus clock, then PWR_CR2.IOSV
    ldr r2, =0x10000000
    orrs r1, r2
    str r1, [r0, #0x58]
    ldr r5, =0x40007000
    ldr r1, [r5, #4]
    ldr r2, =0x200
    orrs r1, r2
    str r1, [r5, #4]
    ldr r1, [r4, #0x1C]      @ ISR: TXE
    movs r1, #0x42           @ 'B' with IOSV set
    str r1, [r4, #0x28]
""",
    )
    assert bytes(m.console) == b"B"
    assert [v for v in m.violations if "VDDIO2" in v and "PG7" in v], m.violations
    assert len(m.violations) == 1, m.violations


def test_board_ram_must_be_memory_the_part_has():
    """The harness maps the board's RAM only: a board claiming SRAM2 right after SRAM1 on an STM32L476
    (where SRAM2 sits at 0x1000_0000, RM0351 memory map) is refused instead of passing on a fiction."""
    board = load_board(REPO / "boards" / "NUCLEO-L476RG.toml")
    Machine(board)  # 96 KiB: SRAM1
    with pytest.raises(ValueError, match="contiguous SRAM"):
        Machine(dataclasses.replace(board, ram=Ram(0x20000000, 0x20000)))
