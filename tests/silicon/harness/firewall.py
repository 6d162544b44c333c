# SPDX-License-Identifier: Apache-2.0
"""The Firewall of the STM32L4 / L4+ and L0, and the SYSCFG bit that enables it (L4 CFGR1.FWDIS, L0
CFGR2.FWDISEN: the same address and bit).

Sources: RM0394 / RM0351 / RM0432 section 4 "Firewall (FW)" and "SYSCFG" (CFGR1.FWDIS), register offsets
and field masks as in cmsis_device_l4 (stm32l476xx.h: FW_CSSA_ADD 0x00FFFF00, FW_CSL_LENG 0x003FFF00,
FW_NVDSSA_ADD / FW_NVDSL_LENG the same, FW_VDSSA_ADD / FW_VDSL_LENG 0x0001FFC0 (L4+: 0x0003FFC0), FW_CR FPA b0,
VDS b1, VDE b2); L0: RM0367 section 5 "Firewall", stm32l073xx.h (VDSSA / VDSL [15:6]; LSSA/LSL 0x18/0x1C, the
library segment, not modelled); ../shared/reference/stm32-extflash-protection.md B4.

- FW block at 0x4001_1C00: CSSA 0x00 / CSL 0x04 (code segment, 256-byte granularity, in flash from
  0x0800_0000), NVDSSA 0x08 / NVDSL 0x0C (non-volatile data segment, the same), VDSSA 0x10 / VDSL 0x14
  (volatile data segment in SRAM1 from 0x2000_0000, 64-byte granularity), CR 0x20. A length of 0 leaves
  that segment unprotected. The segment registers can only be written while the firewall is disabled.
- SYSCFG at 0x4001_0000: CFGR1 0x04, FWDIS bit 0, 1 at reset (firewall disabled); software clears it to
  enable the firewall, "only a system reset can set it again". MEMRMP 0x00 and the other CFGR1 bits are
  plain storage here (no remapping is modelled).
- Enabled, the firewall starts closed. Closed: a data read or write into a protected segment (the code
  segment, the non-volatile data segment, the volatile data segment unless CR.VDS shares it) and an
  instruction fetch into the code segment anywhere but its call gate (CSSA + 4, the segment's second word)
  are violations: "a system reset is generated", no interrupt; RCC_CSR.FWRSTF records it (not modelled:
  the machine logs "FIREWALL"). Fetching the call gate opens it.
- Open: any access is allowed. Executing outside the code segment closes it when CR.FPA is set; with FPA
  clear it is a violation (the protected code must set FPA before it jumps out). An interrupt taken while
  open therefore resets unless FPA was set - protected code runs with interrupts masked.
- Not modelled: other bus masters (DMA), the VDE "executable volatile segment" option (reported), the
  requirement that the call gate's second and third words run without an intermediate fetch.
"""

from __future__ import annotations

from .bus import Peripheral

FW_BASE, SYSCFG_BASE = 0x40011C00, 0x40010000
FLASH_BASE, SRAM1_BASE = 0x08000000, 0x20000000
CR_FPA, CR_VDS, CR_VDE = 1, 2, 4


class Firewall(Peripheral):
    name = "FW"

    def __init__(self, vds_mask: int = 0x0001FFC0):
        super().__init__(FW_BASE)
        self.vds_mask = vds_mask  # L4 [16:6], L4+ [17:6], L0 [15:6]
        self.reset()

    def reset(self) -> None:
        self.regs = {0x00: 0, 0x04: 0, 0x08: 0, 0x0C: 0, 0x10: 0, 0x14: 0}
        self.cr = 0
        self.enabled = False
        self.open = False

    def read32(self, offset: int) -> int:
        if offset == 0x20:
            return self.cr
        if offset in self.regs:
            return self.regs[offset]
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x20:
            if value & CR_VDE and not value & CR_VDS:
                self.violation("FW_CR.VDE (executable volatile data segment) is not modelled")
            self.cr = value & 7
            return
        if offset in self.regs:
            if self.enabled:
                self.violation(f"FW register {offset:#04x} written while the firewall is enabled: ignored")
                return
            mask = self.vds_mask if offset in (0x10, 0x14) else (0x00FFFF00 if offset in (0x00, 0x08) else 0x003FFF00)
            self.regs[offset] = value & mask
            return
        super().write32(offset, value)

    # -- segments ----------------------------------------------------------------------------------------
    def code_segment(self) -> tuple[int, int]:
        start = FLASH_BASE + self.regs[0x00]
        return start, start + self.regs[0x04]

    def protected_ranges(self) -> list[tuple[int, int]]:
        """[start, end) of every protected segment (length 0: none)."""
        out = []
        for start_reg, length_reg, base in (
            (0x00, 0x04, FLASH_BASE),
            (0x08, 0x0C, FLASH_BASE),
            (0x10, 0x14, SRAM1_BASE),
        ):
            length = self.regs[length_reg]
            if length and not (start_reg == 0x10 and self.cr & CR_VDS):
                out.append((base + self.regs[start_reg], base + self.regs[start_reg] + length))
        return out


class Syscfg(Peripheral):
    """SYSCFG with the one bit the model acts on: bit 0 of the register at 0x04 (L4 CFGR1.FWDIS, L0
    CFGR2.FWDISEN); 0x00 (MEMRMP / CFGR1) is plain storage."""

    name = "SYSCFG"

    def __init__(self, firewall: Firewall, cfgr_reset: int):
        super().__init__(SYSCFG_BASE)
        self.firewall = firewall
        self.cfgr_reset = cfgr_reset  # FWDIS set; L4: the FPU interrupt enables 0x7C000000 too
        self.reset()

    def reset(self) -> None:
        self.memrmp = 0
        self.cfgr1 = self.cfgr_reset

    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.memrmp
        if offset == 0x04:
            return self.cfgr1
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            self.memrmp = value
            return
        if offset == 0x04:
            fwdis = self.cfgr1 & 1
            if not fwdis:
                value &= ~1  # only a reset sets FWDIS again
            self.cfgr1 = value
            if fwdis and not value & 1:
                self.firewall.enabled = True
                self.firewall.open = False
                self.log(
                    f"firewall enabled: segments {[(hex(a), hex(b)) for a, b in self.firewall.protected_ranges()]}"
                )
                assert self.machine is not None
                self.machine.firewall_enabled(self.firewall)
            return
        super().write32(offset, value)
