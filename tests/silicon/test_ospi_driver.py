# SPDX-License-Identifier: Apache-2.0
"""The L4 port's OCTOSPI driver (bootloader/port/stm32l4/ospi.c) on the DISCO-L4R9I models: the external
flash reached from a chip left in octal mode by an earlier run, a MultiSegment application executing
from the memory-mapped window after the hand-over, and the cost of a whole update through it."""

from __future__ import annotations

import struct
import time

import pytest
from unicorn import arm_const as A

from .harness.nor_mx25lm import DOPI, SOPI
from .support import V1, V2, expect_app, firmware, machine, manufacture, no_violations, send_update, tail, wait_app

BOARD = "DISCO-L4R9I"


@pytest.mark.parametrize("mode", [DOPI, SOPI])
def test_boot_with_the_chip_left_in_octal_mode(mode):
    """A system reset does not reset the chip: the driver must bring it back to SPI itself."""
    fw = firmware(BOARD)
    m = machine(fw)
    chip = m.soc.externals[0].chip
    chip.mode, chip.cr2[0] = mode, 2 if mode == DOPI else 1
    r = m.run()
    expect_app(m, r, fw.plain(V1), mode)
    assert "Slot 1 is empty." in m.console_text(), tail(m)
    assert chip.mode == "SPI"
    no_violations(m, mode)


def test_multisegment_application_runs_from_the_window():
    """The hand-over leaves memory-mapped mode on: code in SLOT0's external segment executes."""
    fw = firmware(BOARD)
    b = fw.board
    m = machine(fw)
    ext = b.slot0.external.address
    reset = b.app_vector_address + 8
    internal = struct.pack(
        "<IIHHI", b.ram.base + b.ram.size, reset | 1, 0x4800, 0x4700, ext | 1
    )  # ldr r0, [pc, #0]; bx r0; .word ext | 1
    external = struct.pack("<HH", 0x202A, 0xE7FE) + bytes(12)  # movs r0, #42; b .
    manufacture(m, fw, internal + external, "3.0.0", segoff=len(internal))
    m.power_on()
    r = m.run()
    assert r.reason == "app" and r.app.pc == reset, tail(m)
    m.run(stop_at_app=False, max_cycles=2_000_000)
    pc = m.uc.reg_read(A.UC_ARM_REG_PC)
    assert ext <= pc < ext + 4 and m.uc.reg_read(A.UC_ARM_REG_R0) == 42 and not m.core.lockup, tail(m)
    no_violations(m, "MultiSegment")


def test_update_cost():
    """1.0.0 -> 1.1.0 through SLOT1 in external flash; prints instructions, machine and host time."""
    fw = firmware(BOARD)
    m = machine(fw)
    m.count_instructions = True
    t0 = time.perf_counter()
    wait_app(m, V1)
    steps = [("boot 1.0.0", m.instructions, m.cycles, time.perf_counter())]
    r = send_update(m, fw.sfb(V2), "APP: update verified, installing at reset")
    assert r.reason == "console", tail(m)
    steps.append(("stream .sfb into SLOT1", m.instructions, m.cycles, time.perf_counter()))
    ops = m.power.ops
    r = m.run()
    expect_app(m, r, fw.plain(V2), "install")
    steps.append(("install + boot 1.1.0", m.instructions, m.cycles, time.perf_counter()))
    previous = (0, 0, t0)
    for name, instructions, cycles, t in steps:
        print(
            f"\n{name}: {(instructions - previous[0]) / 1e6:.1f} M instructions, "
            f"{(cycles - previous[1]) / 120e6 * 1e3:.0f} ms at 120 MHz, {t - previous[2]:.2f} s host"
        )
        previous = (instructions, cycles, t)
    print(f"flash operations: {ops} while streaming, {m.power.ops - ops} during the install")
    kinds = {}
    for kind, address, _length, _data in m.power.trace:
        where = "external" if address >= fw.board.external_flash.base else "internal"
        kinds[(where, kind)] = kinds.get((where, kind), 0) + 1
    print(f"operations of both phases by flash and kind: {kinds}")
    no_violations(m, "update")
