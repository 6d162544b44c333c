# SPDX-License-Identifier: Apache-2.0
"""Instruction-skip fault injection on the real bootloader's header authentication.

The bootloader verifies a header's ECDSA signature once (bootloader/src/image.c, crypto/p256.c): the
final comparison is made twice, the verification returns the difference itself rather than a constant,
and the callers test a verdict that no single skipped instruction can forge (docs/security.md, "Fault
injection"). This test checks that claim on the board's own cross-compiled code: it calls
`image_header_check` of build/<BOARD>/bootloader.elf on plain Unicorn (code and constants from the ELF,
the key compiled in; nothing else runs) with a forged header, and replays the run once per executed
instruction of the window, from the verification's final comparison (first entry into x_differs) to
image_header_check's return, with that one instruction replaced by a NOP (the usual model of a clock or
voltage glitch: the instruction has no effect, whatever it is, including a branch or an IT-block
member). Every one of those runs must still return a refusal (not IMAGE_OK) or fault. A valid header
must be accepted. The callers' tests of that verdict are outside the window (docs/security.md).

Cortex-M4 (NUCLEO-L452RE: 4,348 instructions in the window, about 15 s for both variants) and, with
--silicon-exhaustive, Cortex-M0+ (NUCLEO-L073RZ: 18,722 instructions, about 50 s per variant).
"""

from __future__ import annotations

import re
import struct

import pytest
from elftools.elf.elffile import ELFFile
from unicorn import UC_ARCH_ARM, UC_HOOK_CODE, UC_MODE_MCLASS, UC_MODE_THUMB, UC_PROT_EXEC, UC_PROT_READ, Uc, UcError
from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_SP

from spb import image

from .support import REPO, firmware

_IMAGE_H = (REPO / "bootloader" / "src" / "image.h").read_text()
IMAGE_AUTHENTIC = int(re.search(r"IMAGE_AUTHENTIC (0x[0-9A-Fa-f]+)u", _IMAGE_H)[1], 16)

RETURN = 0x0FFF0000  # LR of the call: a mapped address nothing executes
IMAGE_OK = 0
PROTOCOL_FULL = 1
NOP16 = b"\x00\xbf"
NOP32 = b"\xaf\xf3\x00\x80"


class Probe:
    def __init__(self, elf_path, ram_base: int, ram_size: int):
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self.symbols: dict[str, int] = {}
        with open(elf_path, "rb") as f:
            elf = ELFFile(f)
            for sym in elf.get_section_by_name(".symtab").iter_symbols():
                if sym["st_info"]["type"] == "STT_FUNC":
                    self.symbols[sym.name.split(".")[0]] = sym["st_value"] & ~1
            segments = [
                (s["p_paddr"], s.data()) for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_filesz"]
            ]
        lo = min(a for a, _ in segments) & ~0xFFFF
        hi = max(a + len(d) for a, d in segments)
        # Flash is read-only as on silicon (a store there without the unlock sequence is a bus error),
        # so that a faulted run cannot change the code or constants the following runs use.
        self.uc.mem_map(lo, (hi - lo + 0xFFFF) & ~0xFFFF, UC_PROT_READ | UC_PROT_EXEC)
        for address, data in segments:
            self.uc.mem_write(address, data)
        self.uc.mem_map(RETURN, 0x1000)
        self.ram_base, self.ram_size = ram_base, ram_size
        self.uc.mem_map(ram_base, ram_size)
        self.header_at = ram_base + ram_size - 0x400  # image_header_t, below the stack top
        self.raw_at = self.header_at + 0x100
        self.sp = self.header_at - 0x10

    def start(self, raw: bytes, stale: int) -> None:
        """image_header_check(h, raw, IMAGE_PROTOCOL_FULL) about to run. The RAM below the arguments is
        filled with `stale` words: what an earlier check left there (IMAGE_AUTHENTIC, IMAGE_OK) must not
        stand in for a store that a fault skips."""
        uc = self.uc
        uc.mem_write(self.ram_base, struct.pack("<I", stale) * ((self.header_at - self.ram_base) // 4))
        uc.mem_write(self.raw_at, raw)
        uc.reg_write(UC_ARM_REG_SP, self.sp)
        uc.reg_write(UC_ARM_REG_R0, self.header_at)
        uc.reg_write(UC_ARM_REG_R1, self.raw_at)
        uc.reg_write(UC_ARM_REG_R2, PROTOCOL_FULL)
        uc.reg_write(UC_ARM_REG_LR, RETURN | 1)
        uc.reg_write(UC_ARM_REG_PC, self.symbols["image_header_check"] | 1)

    def resume(self) -> None:
        self.uc.emu_start(self.uc.reg_read(UC_ARM_REG_PC) | 1, RETURN)

    def accepted(self) -> bool:
        return self.uc.reg_read(UC_ARM_REG_PC) == RETURN and self.uc.reg_read(UC_ARM_REG_R0) == IMAGE_OK

    def run_past(self, lo: int, hi: int) -> None:
        """Run until the first instruction outside [lo, hi) is about to execute (or the call returns)."""

        def hook(uc, address, _size, _):
            if not lo <= address < hi:
                uc.emu_stop()

        h = self.uc.hook_add(UC_HOOK_CODE, hook)
        self.uc.ctl_flush_tb()  # blocks translated before a hook exists do not call it
        try:
            self.resume()
        finally:
            self.uc.hook_del(h)
            self.uc.ctl_flush_tb()


def it_length(code: bytes) -> int:
    """How many instructions an IT instruction at the start of `code` conditions (0 if it is not one)."""
    hw = code[0] | code[1] << 8
    mask = hw & 0xF
    if hw & 0xFF00 != 0xBF00 or mask == 0:  # 0xBFx0: NOP, YIELD, WFE, WFI, SEV
        return 0
    return 4 - (mask & -mask).bit_length() + 1


@pytest.mark.parametrize("stale", [IMAGE_AUTHENTIC, IMAGE_OK], ids=["stale-authentic", "stale-zero"])
@pytest.mark.parametrize("board_name", ["NUCLEO-L452RE", "NUCLEO-L073RZ"])
def test_no_single_skipped_instruction_accepts_a_forged_header(board_name, stale, exhaustive):
    if board_name == "NUCLEO-L073RZ" and not exhaustive:
        pytest.skip("the Cortex-M0+ window (18,722 instructions, about 50 s per variant): --silicon-exhaustive")
    fw = firmware(board_name)
    plain = fw.plain("1.0.0")
    good = image.image_header(plain, 0x02000000, fw.keys).pack()
    forged = bytearray(good)
    forged[0x14] ^= 0x01  # another version under the same signature
    ram = fw.board.ram
    p = Probe(fw.bootloader_elf(), ram.base, 0x8000)

    p.start(good, stale)
    p.resume()
    assert p.accepted(), "a valid header is refused"

    # The window starts at the first entry into the final comparison.
    p.start(bytes(forged), stale)
    entry = p.symbols["x_differs"]
    hit = []

    def stop_at_entry(uc, address, size, _):
        hit.append(address)
        uc.emu_stop()

    h = p.uc.hook_add(UC_HOOK_CODE, stop_at_entry, begin=entry, end=entry)
    p.uc.ctl_flush_tb()  # blocks translated before a hook exists do not call it
    p.resume()
    p.uc.hook_del(h)
    assert hit, "x_differs never ran"
    context = p.uc.context_save()
    ram_image = bytes(p.uc.mem_read(ram.base, 0x8000))

    trace: list[tuple[int, int]] = []

    def record(uc, address, size, _):
        trace.append((address, size))

    h = p.uc.hook_add(UC_HOOK_CODE, record)
    p.uc.ctl_flush_tb()
    p.resume()
    p.uc.hook_del(h)
    assert p.uc.reg_read(UC_ARM_REG_PC) == RETURN and not p.accepted(), "the forged header was accepted"
    assert 500 < len(trace) < 40_000, len(trace)

    # Walk the window once, an instruction at a time, or an IT instruction with the instructions it
    # conditions at a time (Unicorn cannot stop inside an IT block and resume it): at each step save the
    # state; for each instruction of the step, run the rest with that instruction replaced by a NOP and
    # take the verdict; restore the state; execute the step for real and go on.
    p.uc.context_restore(context)
    p.uc.mem_write(ram.base, ram_image)
    accepted = []
    crashed = 0
    i = 0
    while i < len(trace):
        address = trace[i][0]
        assert p.uc.reg_read(UC_ARM_REG_PC) == address, (i, hex(address))
        group = trace[i : i + 1 + it_length(p.uc.mem_read(address, 2))]
        end = group[-1][0] + group[-1][1]
        here = p.uc.context_save()
        ram_here = bytes(p.uc.mem_read(ram.base, 0x8000))
        for j, (at, size) in enumerate(group):
            original = bytes(p.uc.mem_read(at, size))
            p.uc.mem_write(at, NOP16 if size == 2 else NOP32)
            try:
                p.run_past(address, end)
                p.uc.mem_write(at, original)
                p.uc.ctl_flush_tb()
                p.resume()
                if p.accepted():
                    accepted.append(f"#{i + j} {at:#010x}")
            except UcError:
                crashed += 1  # a fault exception on silicon: no header accepted
            finally:
                p.uc.mem_write(at, original)
                p.uc.ctl_flush_tb()
            p.uc.context_restore(here)
            p.uc.mem_write(ram.base, ram_here)
        p.run_past(address, end)
        i += len(group)
    assert not accepted, f"{board_name}: a skipped instruction accepts a forged header at {accepted[:8]}"
    print(f"{board_name}: {len(trace)} instructions skipped one at a time, none accepted ({crashed} crashed)")
